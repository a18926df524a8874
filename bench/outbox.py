"""Benchmark of the outbox dispatcher against a fake Bot API server on loopback.

    python bench/outbox.py [--messages 600] [--chats 200] [--morning 320] [--one-by-one]
                           [--database-url URL]

Writes `--messages` messages spread over `--chats` chats into a fresh SQLite file (or the given
database), then lets one dispatcher send them to the fake Bot API (tests/fake_telegram.py, a
threaded HTTP server on loopback) and prints messages per second, side by side in one run:

- unpaced: no per-chat interval and no overall cap, what the claim-send-record loop sustains
  (these first three send each row as a message of its own, digests off);
- as deployed: one message a second per chat and at most 30 a second overall (Telegram's
  limits), which the figure should come close to without exceeding;
- one chat's backlog: the time the first message of a second chat waits behind a backlog of
  `--messages` messages to the trainer's chat (as deployed);
- a busy morning: `--morning` bookings' news waiting for the trainer's one chat, as deployed:
  how long until the trainer has read of every booking, in how many messages (digests).
  `--one-by-one` sends each as a message of its own instead (as before digests: about one a
  second, so 320 take over five minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bot.config import BotConfig  # noqa: E402
from bot.dispatcher import MAX_DIGEST_ROWS, Dispatcher  # noqa: E402
from schedule import outbox  # noqa: E402
from schedule.db import create_schema, make_engine, make_session_factory  # noqa: E402
from schedule.models import utcnow  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.initdata import TEST_BOT_TOKEN  # noqa: E402


def fill(sessions, messages: int, chats: int, first_chat: int = 1) -> None:
    now = utcnow() - timedelta(seconds=1)
    with sessions() as session:
        for n in range(messages):
            facts = {
                "kind": "booked",
                "starts_at": now.isoformat(),
                "ends_at": now.isoformat(),
                "client_id": 1,
                "client_name": f"Client {n}",
                "client_username": None,
                "client_phone": None,
                "client_language": "en",
                "source": "miniapp",
            }
            outbox.enqueue(session, first_chat + n % chats, "news", facts, now=now)
        session.commit()


def drain(config, sessions, messages: int, fake: FakeTelegram, **options) -> float:
    """Seconds one dispatcher takes to send `messages` (already in the outbox)."""
    before = len(fake.calls_of("sendMessage"))
    dispatcher = Dispatcher(config, sessions, digest_rows=1, **options)
    started = time.monotonic()
    try:
        while len(fake.calls_of("sendMessage")) - before < messages:
            if not dispatcher.pass_once():
                dispatcher.pool.wait(0.01)
    finally:
        dispatcher.close()
    return time.monotonic() - started


def behind_a_backlog(config, sessions, backlog: int, fake: FakeTelegram) -> float:
    """Seconds the first message to another chat waits behind `backlog` messages to one chat."""
    from threading import Event, Thread

    fill(sessions, backlog, chats=1, first_chat=900)
    dispatcher = Dispatcher(config, sessions, digest_rows=1)
    stop = Event()
    runner = Thread(target=dispatcher.run, args=(stop, 0.05))
    runner.start()
    try:
        fake.wait_for(lambda: any(c.params["chat_id"] == "900" for c in fake.calls), 10)
        fill(sessions, 1, chats=1, first_chat=901)
        written = time.monotonic()
        fake.wait_for(lambda: any(c.params["chat_id"] == "901" for c in fake.calls), 30)
        return time.monotonic() - written
    finally:
        stop.set()
        runner.join()


def busy_morning(
    config, sessions, bookings: int, fake: FakeTelegram, *, one_by_one: bool
) -> tuple[float, int]:
    """Seconds until all `bookings` news rows to one trainer's chat are sent, and in how many
    messages."""
    trainer = 700
    fill(sessions, bookings, chats=1, first_chat=trainer)
    before = len(fake.calls_of("sendMessage"))
    dispatcher = Dispatcher(config, sessions, digest_rows=1 if one_by_one else MAX_DIGEST_ROWS)
    started = time.monotonic()
    try:
        while True:
            with sessions() as session:
                left = session.scalar(
                    select(func.count()).where(
                        outbox.OutboxMessage.chat_id == trainer,
                        outbox.OutboxMessage.status == outbox.PENDING,
                    )
                )
            if not left:
                break
            if not dispatcher.pass_once():
                dispatcher.pool.wait(0.05)
    finally:
        dispatcher.close()
    messages = [c for c in fake.calls_of("sendMessage")[before:] if c.params["chat_id"] == "700"]
    return time.monotonic() - started, len(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--morning", type=int, default=320)
    parser.add_argument("--one-by-one", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    fake = FakeTelegram().start()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        engine = make_engine(url)
        outbox.OutboxMessage.__table__.drop(engine, checkfirst=True)
        create_schema(engine)
        engine.dispose()
        sessions = make_session_factory(url)
        config = BotConfig(token=TEST_BOT_TOKEN, api_url=fake.url, database_url=url)

        fill(sessions, args.messages, args.chats)
        seconds = drain(config, sessions, args.messages, fake, chat_interval=0, per_second=1e9)
        unpaced = args.messages / seconds
        print(f"unpaced:        {unpaced:7.1f} messages/s ({args.messages} in {seconds:.2f} s)")

        paced = min(args.messages, 300)
        fill(sessions, paced, args.chats, first_chat=10_000)
        seconds = drain(config, sessions, paced, fake)
        print(f"as deployed:    {paced / seconds:7.1f} messages/s (cap 30/s, 1/s per chat)")

        waited = behind_a_backlog(config, sessions, args.messages, fake)
        print(f"behind backlog: {waited * 1000:7.0f} ms for another chat's first message")

        seconds, messages = busy_morning(
            config, sessions, args.morning, fake, one_by_one=args.one_by_one
        )
        how = "one message each" if args.one_by_one else "digests"
        print(
            f"busy morning:   {seconds:7.1f} s until the trainer read of all {args.morning} "
            f"bookings, in {messages} messages ({how})"
        )
        print(f"database: {url.split(':', 1)[0]}")
        sessions.kw["bind"].dispose()
    fake.stop()


if __name__ == "__main__":
    main()
