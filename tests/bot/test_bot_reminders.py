"""Reminders sent by the bot: at the configured offsets, in the client's language, with a cancel
button while the deadline allows; written to the outbox and sent exactly once across worker
processes, however slow Telegram is; in every run mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.reminders import ReminderSender, run_reminders
from bot.runner import run_polling
from bot.worker import start_background
from schedule import Booking, Settings, User, outbox, services
from schedule.models import ReminderClaim, ScheduleLock, utcnow
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit
from tests.conftest import forked
from tests.fixtures_bot import ALICE, BORIS, COACH, FIRST_RETRY, PUBLIC_URL, answers, running_clock

THURSDAY = date(2026, 11, 26)
TEN = 10 * 60
NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow, the `now` fixture
START = datetime(2026, 11, 26, 7, 0)  # Thursday 10:00 in Moscow
DAY_BEFORE = START - timedelta(hours=24)
TWO_HOURS_BEFORE = START - timedelta(hours=2)
EPOCH = datetime(2000, 1, 1)


def book(session_factory, telegram_user: dict, minute: int = TEN, now: datetime = NOW) -> Booking:
    with session_factory() as session:
        user = services.upsert_user(session, telegram_user)
        return services.book(
            Unit(session, Settings(), Actor.client(user), now=now), user, THURSDAY, minute
        )


def sent_to(fake_telegram, telegram_id: int) -> list[dict]:
    """The messages the bot managed to send to `telegram_id` (HTML text and markup)."""
    return [
        c.params
        for c in fake_telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == str(telegram_id) and c.status == 200
    ]


def button_texts(params: dict) -> list[str]:
    rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


def wait_until(condition, timeout: float = 20.0, what: str = "the condition"):
    """Poll `condition` until it holds (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
    return result


class OnePass:
    """One pass of what a worker runs: queue the reminders due now, then send the outbox."""

    def __init__(self, reminders: ReminderSender, dispatcher: Dispatcher, fake_telegram) -> None:
        self.reminders, self.dispatcher, self.fake = reminders, dispatcher, fake_telegram

    def send_due(self) -> int:
        """How many reminders reached Telegram in this pass."""
        before = len(self.fake.calls_of("sendMessage"))
        self.reminders.queue_due()
        assert self.dispatcher.flush()
        return sum(c.status == 200 for c in self.fake.calls_of("sendMessage")[before:])


def make_pass(config, bot_sessions, clock, fake_telegram) -> OnePass:
    dispatcher = Dispatcher(
        config, bot_sessions, clock=running_clock(clock), chat_interval=0, first_retry=FIRST_RETRY
    )
    reminders = ReminderSender(config, bot_sessions, clock=clock, worker="test-worker")
    return OnePass(reminders, dispatcher, fake_telegram)


@pytest.fixture
def sender(bot_config, bot_sessions, clock, fake_telegram) -> OnePass:
    one_pass = make_pass(bot_config, bot_sessions, clock, fake_telegram)
    yield one_pass
    one_pass.dispatcher.close()


def test_a_reminder_a_day_before_and_two_hours_before(sender, bot_sessions, clock, fake_telegram):
    book(bot_sessions, ALICE)

    clock.now = DAY_BEFORE - timedelta(minutes=1)
    assert sender.send_due() == 0
    clock.now = DAY_BEFORE
    assert sender.send_due() == 1
    clock.now = DAY_BEFORE + timedelta(minutes=1)
    assert sender.send_due() == 0
    clock.now = TWO_HOURS_BEFORE
    assert sender.send_due() == 1
    clock.now = START
    assert sender.send_due() == 0

    day_before, two_hours_before = sent_to(fake_telegram, ALICE["id"])
    assert day_before["text"] == (
        "⏰ Reminder: your training is on <b>Thu 26 Nov 10:00–11:30</b>.\n"
        "You can cancel until Thu 26 Nov 08:00."
    )
    assert button_texts(day_before) == [
        "✖ Cancel Thu 26 Nov 10:00",
        "↔️ Move Thu 26 Nov 10:00",
        "Open the app",
        "My trainings",
    ]
    app_button = day_before["reply_markup"]["inline_keyboard"][2][0]
    assert app_button["web_app"] == {"url": PUBLIC_URL}
    assert two_hours_before["text"].startswith("⏰ Reminder: your training is on <b>Thu 26 Nov")
    assert sent_to(fake_telegram, COACH["id"]) == []


def test_the_client_reads_the_reminder_in_their_language(
    sender, bot_sessions, clock, fake_telegram
):
    book(bot_sessions, BORIS)
    clock.now = DAY_BEFORE

    sender.send_due()

    [reminder] = sent_to(fake_telegram, BORIS["id"])
    assert reminder["text"] == (
        "⏰ Напоминание: ваша тренировка <b>Чт 26 ноября 10:00–11:30</b>.\n"
        "Отменить можно до Чт 26 ноября 08:00."
    )
    assert "✖ Отменить Чт 26 ноября 10:00" in button_texts(reminder)


def test_without_an_https_public_url_a_reminder_has_no_app_button(
    bot_config, bot_sessions, clock, fake_telegram
):
    config = replace(bot_config, public_url="http://localhost:5000")
    sender = make_pass(config, bot_sessions, clock, fake_telegram)
    book(bot_sessions, ALICE)
    clock.now = DAY_BEFORE

    assert sender.send_due() == 1

    [reminder] = sent_to(fake_telegram, ALICE["id"])
    assert button_texts(reminder) == [
        "✖ Cancel Thu 26 Nov 10:00",
        "↔️ Move Thu 26 Nov 10:00",
        "My trainings",
    ]


def test_past_the_cancel_deadline_a_reminder_has_no_cancel_button(
    sender, bot_sessions, clock, fake_telegram
):
    book(bot_sessions, ALICE)
    clock.now = TWO_HOURS_BEFORE + timedelta(seconds=30)  # the loop came round a little late

    assert sender.send_due() == 1

    [reminder] = sent_to(fake_telegram, ALICE["id"])
    assert reminder["text"] == "⏰ Reminder: your training is on <b>Thu 26 Nov 10:00–11:30</b>."
    assert button_texts(reminder) == ["Open the app", "My trainings"]


def test_none_for_a_booking_made_inside_the_window(sender, bot_sessions, clock, fake_telegram):
    book(bot_sessions, ALICE, now=DAY_BEFORE + timedelta(hours=1))  # after the day-before moment
    # 14:00, booked at 12:30: inside the two hours before it.
    book(bot_sessions, BORIS, minute=14 * 60, now=START + timedelta(hours=2, minutes=30))

    for moment in (DAY_BEFORE, DAY_BEFORE + timedelta(hours=2), START - timedelta(minutes=150)):
        clock.now = moment
        assert sender.send_due() == 0
    clock.now = TWO_HOURS_BEFORE
    assert sender.send_due() == 1  # Alice's two-hour reminder; Boris booked inside it
    clock.now = START + timedelta(hours=4) - timedelta(minutes=1)  # a minute before 14:00
    assert sender.send_due() == 0

    assert len(sent_to(fake_telegram, ALICE["id"])) == 1
    assert sent_to(fake_telegram, BORIS["id"]) == []


def test_none_after_the_start_and_only_the_latest_after_an_outage(
    sender, bot_sessions, clock, fake_telegram
):
    book(bot_sessions, ALICE)
    book(bot_sessions, BORIS)

    clock.now = START - timedelta(hours=1)  # no worker ran since before the day-before moment
    assert sender.send_due() == 2
    clock.now = START + timedelta(minutes=1)
    assert sender.send_due() == 0

    for client in (ALICE, BORIS):  # the two-hour reminder, not both
        assert len(sent_to(fake_telegram, client["id"])) == 1


def test_the_cancel_button_of_a_reminder_cancels_through_my(
    alice, sender, bot_sessions, clock, fake_telegram
):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    clock.now = DAY_BEFORE
    sender.send_due()
    reminder = alice.screen
    assert reminder["text"].startswith("⏰ Reminder")

    alice.tap("Cancel", message=reminder)
    assert alice.now_showing(reminder)["text"] == (
        "Cancel your training on Thu 26 Nov 10:00–11:30?\n"
        "• No pass paid for it, so no visit returns to a pass."
    )
    calls = alice.tap("Yes, cancel")

    assert answers(calls)[0]["text"] == "Cancelled"
    with bot_sessions() as session:
        assert [b.status for b in session.scalars(select(Booking))] == ["cancelled"]


def test_a_reminders_cancel_button_past_the_deadline_is_refused(
    alice, sender, bot_sessions, clock, fake_telegram
):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    clock.now = DAY_BEFORE  # the day-before reminder offers cancelling...
    sender.send_due()
    reminder = alice.screen
    assert "✖ Cancel Thu 26 Nov 10:00" in [b["text"] for b in alice.buttons(reminder)]

    clock.now = TWO_HOURS_BEFORE + timedelta(minutes=1)  # ...but the client taps it too late
    asked = alice.button("Cancel", reminder)["callback_data"]  # 1|C|<id>
    alice.tap_data(asked, message=reminder)
    assert "it can no longer be cancelled" in alice.now_showing(reminder)["text"]
    assert button_texts(alice.now_showing(reminder)) == ["« Back"]  # the confirm offers no Yes
    yes = asked.replace("|C|", "|X|")  # a Yes kept from before: refused all the same
    calls = alice.tap_data(yes, message=alice.now_showing(reminder))

    [reply] = answers(calls)
    assert reply["show_alert"] is True
    assert reply["text"] == "It is too late to change this booking."
    assert alice.now_showing(reminder)["text"] == "Your trainings:\n• Thu 26 Nov 10:00–11:30"
    with bot_sessions() as session:
        assert [b.status for b in session.scalars(select(Booking))] == ["active"]


def test_a_pass_with_nothing_due_writes_nothing(sender, bot_sessions, clock):
    """The grid's cache lasts while schedule_lock's version stays; reminders leave it alone."""
    book(bot_sessions, ALICE)

    def version() -> int:
        with bot_sessions() as session:
            return session.scalar(select(ScheduleLock.version))

    before = version()
    for moment in (NOW, DAY_BEFORE - timedelta(minutes=1)):
        clock.now = moment
        sender.send_due()
    assert version() == before
    clock.now = DAY_BEFORE
    sender.send_due()
    assert version() > before  # the claim and the mark were written under the lock
    clock.advance(minutes=1)
    after = version()
    sender.send_due()
    assert version() == after


def test_a_client_who_blocked_the_bot_is_skipped_and_not_retried(
    sender, bot_sessions, clock, fake_telegram
):
    book(bot_sessions, ALICE)
    booking = book(bot_sessions, BORIS)
    with bot_sessions() as session:
        session.get(Booking, booking.id).user.blocked_bot = True
        session.commit()
    fake_telegram.fail(ALICE["id"], 403)  # Alice blocked it without the bot hearing of it
    clock.now = DAY_BEFORE

    assert sender.send_due() == 0
    clock.advance(minutes=10)  # long after a claim in the hands of a dead worker is taken over
    assert sender.send_due() == 0

    attempts = fake_telegram.calls_of("sendMessage")
    assert [(c.params["chat_id"], c.status) for c in attempts] == [(str(ALICE["id"]), 403)]
    with bot_sessions() as session:
        assert session.scalar(select(User.blocked_bot).where(User.telegram_id == ALICE["id"]))
        claims = session.scalars(select(ReminderClaim)).all()
        assert len(claims) == 2 and all(c.sent_at is not None for c in claims)


def test_a_reminder_telegram_failed_to_take_is_tried_again_and_sent_once(
    sender, bot_sessions, clock, fake_telegram
):
    book(bot_sessions, ALICE)
    fake_telegram.fail(ALICE["id"], 500, times=2)  # Telegram had a bad moment
    clock.now = DAY_BEFORE

    assert sender.send_due() == 1  # after two growing pauses

    attempts = [c.status for c in fake_telegram.calls_of("sendMessage")]
    assert attempts == [500, 500, 200]
    assert len(sent_to(fake_telegram, ALICE["id"])) == 1
    assert sender.send_due() == 0


def test_a_reminder_of_a_booking_cancelled_before_it_went_out_is_dropped(
    sender, bot_sessions, clock, fake_telegram
):
    booking = book(bot_sessions, ALICE)
    clock.now = DAY_BEFORE
    sender.reminders.queue_due()
    with bot_sessions() as session:
        services.cancel(Unit(session, Settings(), Actor.trainer(), now=clock.now), booking.id)

    assert sender.dispatcher.flush()

    [told] = sent_to(fake_telegram, ALICE["id"])  # the trainer's cancel, not the reminder
    assert "cancelled by the trainer" in told["text"]
    with bot_sessions() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert (row.status, row.last_error) == (outbox.DROPPED, "no longer relevant")


def test_reminders_run_beside_polling(bot_config, bot_sessions, clock, fake_telegram):
    book(bot_sessions, ALICE)
    clock.now = DAY_BEFORE
    stop, ready = threading.Event(), threading.Event()
    runner = threading.Thread(
        target=run_polling,
        args=(bot_config, stop),
        kwargs={
            "session_factory": bot_sessions,
            "clock": clock,
            "poll_timeout": 1,
            "ready": ready,
            "reminder_interval": 0.05,
        },
    )
    runner.start()
    try:
        assert ready.wait(10)
        fake_telegram.wait_for(lambda: sent_to(fake_telegram, ALICE["id"]))
        clock.now = TWO_HOURS_BEFORE
        fake_telegram.wait_for(lambda: len(sent_to(fake_telegram, ALICE["id"])) == 2)
    finally:
        stop.set()
        fake_telegram.release_polls()
        runner.join(15)
    assert not runner.is_alive()
    assert not [t for t in threading.enumerate() if t.name == "reminders"]


def test_the_loop_stops_when_asked_and_survives_a_failing_pass(
    bot_config, bot_sessions, clock, fake_telegram, caplog
):
    book(bot_sessions, ALICE)
    clock.now = DAY_BEFORE
    calls = []

    def failing_once_clock():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database is out of reach")
        return clock()

    stop = threading.Event()
    loop = threading.Thread(
        target=run_reminders,
        args=(bot_config, stop),
        kwargs={"session_factory": bot_sessions, "clock": failing_once_clock, "interval": 0.05},
    )
    loop.start()

    def queued() -> list[OutboxMessage]:
        with bot_sessions() as session:
            return session.scalars(select(OutboxMessage)).all()

    try:
        wait_until(queued, what="the reminder in the outbox")
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert "sending reminders failed" in caplog.text


def _reminder_worker(config, now_seconds, ticks, stop) -> None:
    """One worker process: the reminder loop and the dispatcher, on a clock the test moves
    (shared memory)."""
    from schedule.db import make_session_factory

    def clock() -> datetime:
        with ticks.get_lock():
            ticks.value += 1
        return EPOCH + timedelta(seconds=now_seconds.value)

    sessions = make_session_factory(config.database_url)
    inner_stop = threading.Event()
    threads = start_background(
        config,
        sessions,
        inner_stop,
        clock=clock,
        reminder_interval=0.02,
        dispatcher_options={"chat_interval": 0},
    )
    stop.wait()
    inner_stop.set()
    for thread in threads:
        thread.join()


def in_flight(bot_sessions) -> int:
    """Outbox rows still pending (queued, or sent and not yet written down)."""
    with bot_sessions() as session:
        pending = select(OutboxMessage.id).where(OutboxMessage.status == outbox.PENDING)
        return len(session.scalars(pending).all())


def test_three_worker_processes_send_each_reminder_once_though_telegram_is_slow(
    bot_config, bot_sessions, fake_telegram
):
    fake_telegram.send_delay = 0.15  # each send outlasts many passes of every worker
    clients = [{"id": 4000 + n, "first_name": f"Client {n}"} for n in range(12)]
    starts = [TEN, 12 * 60, 14 * 60]
    for n, client in enumerate(clients):
        book(bot_sessions, client, minute=starts[n % 3])
    moments = sorted(
        START + timedelta(minutes=minute - TEN) - timedelta(minutes=offset)
        for minute in starts
        for offset in (1440, 120)
    )
    processes = forked()
    now_seconds = processes.Value("d", (NOW - EPOCH).total_seconds())
    ticks = [processes.Value("q", 0) for _ in range(3)]
    stop = processes.Event()
    workers = [
        processes.Process(target=_reminder_worker, args=(bot_config, now_seconds, count, stop))
        for count in ticks
    ]

    def sends():
        return fake_telegram.calls_of("sendMessage")

    def passes_since(seen: list[int]) -> int:
        """How many passes each worker has at least begun since `seen`."""
        return min(count.value - before for count, before in zip(ticks, seen, strict=True))

    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: all(count.value for count in ticks), 60, "the workers to start")
        for step, moment in enumerate(moments, start=1):
            now_seconds.value = (moment - EPOCH).total_seconds()
            expected = 4 * step
            fake_telegram.wait_for(lambda n=expected: len(sends()) >= n, timeout=30)
            # Every worker looks again after the last reminder went: a duplicate would show now.
            seen = [count.value for count in ticks]
            wait_until(lambda seen=seen: passes_since(seen) >= 2)
            assert len(sends()) == expected
            # Every send recorded before the clock jumps hours ahead: a row whose sender is still
            # writing it down would look, at the new time, like the lease of a dead worker.
            wait_until(lambda: not in_flight(bot_sessions))
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0, 0, 0]

    sends = [c.params["chat_id"] for c in fake_telegram.calls_of("sendMessage")]
    assert sorted(sends) == sorted(str(client["id"]) for client in clients for _ in range(2))
    with bot_sessions() as session:
        claims = session.scalars(select(ReminderClaim)).all()
        assert len(claims) == 24 and all(claim.sent_at for claim in claims)


def test_flask_worker_sends_reminders_until_sigterm(
    bot_config, bot_sessions, fake_telegram, tmp_path
):
    real_now = utcnow()
    with bot_sessions() as session:  # booked yesterday for three hours from now (any time of day)
        user = services.upsert_user(session, ALICE)
        starts_at = real_now.replace(microsecond=0) + timedelta(hours=3)
        session.add(
            Booking(
                user_id=user.id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=90),
                created_at=real_now - timedelta(days=1),
                updated_at=real_now - timedelta(days=1),
            )
        )
        session.commit()
    env = {
        **os.environ,
        "BOT_TOKEN": bot_config.token,
        "TELEGRAM_API_URL": fake_telegram.url,
        "DATABASE_URL": bot_config.database_url,
        "PUBLIC_URL": PUBLIC_URL,
        "REMINDER_MINUTES": "1440,240",
        "LOG_DIR": str(tmp_path / "logs"),
    }
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "flask", "--app", "webapp", "worker"]
    with open(tmp_path / "out.log", "wb") as out:
        process = subprocess.Popen(
            [*command, "--reminder-interval", "0.2"], cwd=root, env=env, stdout=out, stderr=out
        )
        try:
            fake_telegram.wait_for(lambda: sent_to(fake_telegram, ALICE["id"]), timeout=60)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
    output = (tmp_path / "out.log").read_text()
    assert "Worker stopped" in output, output
    [reminder] = sent_to(fake_telegram, ALICE["id"])
    assert reminder["text"].startswith("⏰ Reminder: your training is on")
    assert "✖ Cancel" in button_texts(reminder)[0]
