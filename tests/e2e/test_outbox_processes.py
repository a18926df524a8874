"""Messages survive real processes dying, and webhook floods stay off the web's threads:
waitress, `python bot_main.py` and `flask --app webapp worker` as the production runs them,
against the fake Bot API server on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bot.models import HANDLED, WebhookUpdate, record_update
from schedule import Settings, outbox, services
from schedule.models import utcnow
from schedule.outbox import OutboxMessage
from schedule.timegrid import local_date
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, COACH, PUBLIC_URL
from tests.fixtures_web import TRAINER, auth
from webapp.webhook import SECRET_HEADER, WEBHOOK_PREFIX

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(bot_config, fake_telegram, tmp_path, **extra) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": bot_config.token,
        "TELEGRAM_API_URL": fake_telegram.url,
        "DATABASE_URL": bot_config.database_url,
        "PUBLIC_URL": PUBLIC_URL,
        "ADMIN_IDS": f"{COACH['id']},{TRAINER['id']}",
        "LOG_DIR": str(tmp_path / "logs"),
        "SECRET_KEY": "processes-test",
        "REMINDER_MINUTES": "",
        "RATE_LIMIT_WRITES": "",
        "RATE_LIMIT_READS": "",
        "RATE_LIMIT_ANONYMOUS": "",
        **extra,
    }


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


def serve_web(env: dict, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    return web_ready(*launch_web(env, tmp_path), tmp_path)


def launch_web(env: dict, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """Start waitress serving wsgi:app (not yet answering: see web_ready)."""
    port = free_port()
    process = start(
        [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "wsgi:app"],
        env,
        tmp_path / "web.log",
    )
    return process, f"http://127.0.0.1:{port}"


def web_ready(process: subprocess.Popen, url: str, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """Wait until the web process answers /healthz."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError((tmp_path / "web.log").read_text())


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def texts_to(fake_telegram, chat_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in fake_telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == str(chat_id) and c.status == 200
    ]


def test_a_trainers_cancel_reaches_the_client_though_the_web_process_was_killed(
    bot_config, bot_sessions, fake_telegram, tmp_path
):
    """SIGKILL right after the 200, Telegram failing for that chat meanwhile; then the
    project starts again and the client hears the reason exactly once after Telegram recovers."""
    settings = Settings()
    tomorrow = local_date(utcnow(), settings) + timedelta(days=1)
    with bot_sessions() as session:
        alice = services.upsert_user(session, ALICE)
        booking = services.book(Unit(session, settings, Actor.client(alice)), alice, tomorrow, 600)
    env = environment(bot_config, fake_telegram, tmp_path)
    web, url = serve_web(env, tmp_path)
    fake_telegram.outage(500, seconds=3600, chat_id=ALICE["id"])
    try:
        response = requests.post(
            f"{url}/api/admin/bookings/{booking.id}/cancel",
            json={"reason": "The hall is flooded"},
            headers=auth(TRAINER),
            timeout=10,
        )
        web.kill()  # SIGKILL: nothing in the process gets to run
        assert response.status_code == 200, response.text
        web.wait(10)

        bot = start([sys.executable, "bot_main.py"], env, tmp_path / "bot.log")
        try:
            # The bot tries, Telegram refuses that chat for now (the row waits, growing pauses).
            fake_telegram.wait_for(
                lambda: [c for c in fake_telegram.calls_of("sendMessage") if c.status == 500],
                timeout=60,
            )
            fake_telegram.end_outages()
            recovered = time.monotonic()
            fake_telegram.wait_for(lambda: texts_to(fake_telegram, ALICE["id"]), timeout=30)
            delay = time.monotonic() - recovered
        finally:
            fake_telegram.release_polls()  # its stop need not wait out the long poll
            stop(bot)  # SIGTERM: whatever it was sending is finished first, so a duplicate shows
    finally:
        if web.poll() is None:
            web.kill()

    [told] = texts_to(fake_telegram, ALICE["id"])
    assert "cancelled by the trainer" in told and "The hall is flooded" in told
    assert delay < 10, delay
    print(f"\ndelivered {delay:.1f} s after Telegram recovered")


def post_update(url: str, update: dict, config) -> tuple[int, float]:
    started = time.monotonic()
    response = requests.post(
        f"{url}{WEBHOOK_PREFIX}/{config.webhook_path}",
        json=update,
        headers={SECRET_HEADER: config.webhook_secret_token},
        timeout=10,
    )
    return response.status_code, time.monotonic() - started


# The flooding chat's updates: each answer waits out the 429s, then Telegram's pace for one
# chat (about 1 a second), so they take seconds to answer while the calm chat takes none.
FLOOD = 10


@pytest.mark.parametrize("flood_seconds", [1])
def test_a_chat_under_flood_control_slows_neither_the_web_nor_other_chats(
    flood_seconds, bot_config, fake_telegram, tmp_path
):
    """Webhook mode: one chat floods /start while Telegram makes it wait; every webhook POST
    answers at once, /api/slots stays fast for others, and the worker answers the flooding
    chat's updates once Telegram lets it through, and other chats' updates meanwhile."""
    env = environment(bot_config, fake_telegram, tmp_path)
    web, url = serve_web(env, tmp_path)
    flooder = {**ALICE, "id": 7001, "first_name": "Flood"}
    calm = {**ALICE, "id": 7002, "first_name": "Calm"}
    fake_telegram.fail(flooder["id"], 429, times=3, retry_after=flood_seconds)
    worker = start(
        [sys.executable, "-m", "flask", "--app", "webapp", "worker"], env, tmp_path / "worker.log"
    )
    post_times, read_times = [], []
    try:
        updates = [fake_telegram.message_update(flooder, "/start") for _ in range(FLOOD)]
        with ThreadPoolExecutor(8) as pool:
            posts = list(pool.map(lambda u: post_update(url, u, bot_config), updates))
            reading = threading.Event()

            def read_slots() -> None:
                while not reading.is_set():
                    started = time.monotonic()
                    answer = requests.get(
                        f"{url}/api/slots", params={"date": "2026-12-01"}, headers=auth(ALICE)
                    )
                    read_times.append((answer.status_code, time.monotonic() - started))
                    reading.wait(0.05)  # a client's pace, leaving the cores to the worker

            readers = [pool.submit(read_slots) for _ in range(2)]
            status, _ = post_update(url, fake_telegram.message_update(calm, "/start"), bot_config)
            assert status == 200
            # The calm chat is answered while the flooding chat still waits out its 429s.
            fake_telegram.wait_for(lambda: texts_to(fake_telegram, calm["id"]), timeout=30)
            calm_answered_while_flooded = len(texts_to(fake_telegram, flooder["id"])) < FLOOD
            fake_telegram.wait_for(lambda: len(texts_to(fake_telegram, flooder["id"])) == FLOOD, 90)
            reading.set()
            for reader in readers:
                reader.result()
        post_times = [seconds for _, seconds in posts]
        assert {status for status, _ in posts} == {200}
    finally:
        stop(worker)
        stop(web)

    assert max(post_times) < 5, max(post_times)
    assert read_times and {status for status, _ in read_times} == {200}
    assert max(seconds for _, seconds in read_times) < 2
    assert calm_answered_while_flooded
    assert "Worker stopped" in (tmp_path / "worker.log").read_text()
    print(
        f"\nwebhook POST max {max(post_times) * 1000:.0f} ms, "
        f"/api/slots max {max(s for _, s in read_times) * 1000:.0f} ms over {len(read_times)} reads"
    )


def test_a_calendar_link_made_by_one_process_works_in_another_and_after_a_restart(
    bot_config, bot_sessions, fake_telegram, tmp_path
):
    """SECRET_KEY unset: the key is made once in the instance folder and shared."""
    settings = Settings()
    tomorrow = local_date(utcnow(), settings) + timedelta(days=1)
    with bot_sessions() as session:
        alice = services.upsert_user(session, ALICE)
        services.book(Unit(session, settings, Actor.client(alice)), alice, tomorrow, 600)
    env = environment(bot_config, fake_telegram, tmp_path, SECRET_KEY="")
    launched = [launch_web(env, tmp_path) for _ in range(2)]  # two start-ups side by side
    (first, first_url), (second, second_url) = [web_ready(*w, tmp_path) for w in launched]
    try:
        page = requests.get(f"{first_url}/app/my", headers=auth(ALICE), timeout=10).text
        link = page.split('href="/app/calendar/', 1)[1].split('"', 1)[0]
        assert requests.get(f"{second_url}/app/calendar/{link}", timeout=10).status_code == 200
        stop(first)
        first, first_url = serve_web(env, tmp_path)  # a restart
        assert requests.get(f"{first_url}/app/calendar/{link}", timeout=10).status_code == 200
    finally:
        stop(first)
        stop(second)


# --- a worker killed in the middle of its work ----------------------------------------------


# The workers' lease in the kill tests (WORKER_LEASE_SECONDS; 10 by default): what a killed
# worker held is taken up after this long.
LEASE = 2


def start_worker(env: dict, tmp_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "flask", "--app", "webapp", "worker"]
    return start(command, env, tmp_path / "worker.log")


def news_for(bot_sessions, chat_ids: list[int]) -> None:
    """A trainer's news waiting in the outbox for each of `chat_ids`."""
    now = utcnow() - timedelta(seconds=1)
    facts = {
        "kind": "booked",
        "starts_at": now + timedelta(hours=3),
        "ends_at": now + timedelta(hours=4, minutes=30),
        "client_id": ALICE["id"],
        "client_name": "Alice",
        "client_username": None,
        "client_phone": None,
        "client_language": "en",
        "source": "miniapp",
    }
    with bot_sessions() as session:
        for chat_id in chat_ids:
            outbox.enqueue(session, chat_id, "news", facts, now=now)
        session.commit()


def statuses(bot_sessions, chat_id: int) -> list[str]:
    with bot_sessions() as session:
        query = select(OutboxMessage.status).where(OutboxMessage.chat_id == chat_id)
        return list(session.scalars(query))


def wait_until(condition, timeout: float = 10.0) -> None:
    """Poll `condition` (another process changes the database) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        time.sleep(0.05)


def holder(workers: list[subprocess.Popen], claimed_by: str) -> subprocess.Popen:
    """The worker whose claim (schedule.outbox.claimer_id: host-pid-random) this is."""
    pid = int(claimed_by.split("-")[-2])
    [process] = [w for w in workers if w.pid == pid]
    return process


def claim_of(bot_sessions, model, **where) -> str | None:
    with bot_sessions() as session:
        return session.scalar(select(model.claimed_by).filter_by(**where))


def test_a_worker_killed_mid_send_leaves_only_that_message_to_repeat_within_seconds(
    bot_config, bot_sessions, fake_telegram, tmp_path
):
    """Two workers; SIGKILL to the one whose send Telegram takes its time to answer: the other
    sends that message again within seconds (the killed one's lease is no longer renewed),
    once; what was sent before is not sent again."""
    slow, quick = ALICE["id"], COACH["id"]
    fake_telegram.hang(slow, seconds=30)
    news_for(bot_sessions, [quick, slow])
    env = environment(bot_config, fake_telegram, tmp_path, WORKER_LEASE_SECONDS=str(LEASE))
    workers = [start_worker(env, tmp_path) for _ in range(2)]
    try:
        fake_telegram.wait_for(lambda: fake_telegram.arrivals("sendMessage", slow), 60)
        wait_until(lambda: statuses(bot_sessions, quick) == [outbox.SENT])
        sending = holder(workers, claim_of(bot_sessions, OutboxMessage, chat_id=slow))
        sending.kill()  # SIGKILL mid-send: nothing in the process gets to run
        killed = time.monotonic()
        fake_telegram.wait_for(lambda: len(fake_telegram.arrivals("sendMessage", slow)) == 2, 60)
        again_after = time.monotonic() - killed
        fake_telegram.wait_for(lambda: texts_to(fake_telegram, slow), 10)
    finally:
        for worker in workers:
            stop(worker)  # SIGTERM: what it sends is finished and recorded first

    assert len(fake_telegram.arrivals("sendMessage", slow)) == 2  # repeated once, no more
    assert len(fake_telegram.arrivals("sendMessage", quick)) == 1
    # The lease's seconds and a poll, not the minute of the old lease.
    assert again_after < LEASE + 8, again_after
    with bot_sessions() as session:
        assert {m.status for m in session.scalars(select(OutboxMessage))} == {outbox.SENT}
    print(f"\nthe killed worker's message went again {again_after:.1f} s after the SIGKILL")


def test_a_worker_killed_mid_update_frees_the_chat_within_seconds(
    bot_config, bot_sessions, fake_telegram, tmp_path
):
    """Two workers; SIGKILL to the one whose handler of a webhook update waits on Telegram:
    the other handles the update once more within seconds (not 5 minutes)."""
    update = fake_telegram.message_update(ALICE, "/start")
    with bot_sessions() as session:
        record_update(session, update)
    fake_telegram.hang(ALICE["id"], seconds=30)  # the handler's answer hangs
    env = environment(bot_config, fake_telegram, tmp_path, WORKER_LEASE_SECONDS=str(LEASE))
    workers = [start_worker(env, tmp_path) for _ in range(2)]
    try:
        fake_telegram.wait_for(lambda: fake_telegram.arrivals("sendMessage", ALICE["id"]), 60)
        holder(workers, claim_of(bot_sessions, WebhookUpdate)).kill()
        killed = time.monotonic()
        fake_telegram.wait_for(lambda: texts_to(fake_telegram, ALICE["id"]), 60)
        handled_after = time.monotonic() - killed
    finally:
        for worker in workers:
            stop(worker)

    assert len(fake_telegram.arrivals("sendMessage", ALICE["id"])) == 2  # once more, no more
    assert texts_to(fake_telegram, ALICE["id"])[0].startswith("Hello, Alice")
    with bot_sessions() as session:
        assert session.scalar(select(WebhookUpdate.status)) == HANDLED
    assert handled_after < LEASE + 8, handled_after  # not the 5 minutes of the old lease
    print(f"\nthe update was handled again {handled_after:.1f} s after the SIGKILL")
