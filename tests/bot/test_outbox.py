"""The outbox and its dispatcher against the fake Bot API: nothing lost while Telegram fails,
hangs or floods, each message sent once by any number of dispatchers, one chat's backlog never
holding up another, paced per chat and overall, and trainer news folded when a client undoes a
booking at once."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.dispatcher import Dispatcher, backoff
from schedule import Booking, ScheduleError, outbox, services
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, BORIS, COACH, FIRST_RETRY, running_clock

THURSDAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 6, 0)


def book(session_factory, telegram_user: dict, minute: int = 600, *, rules, now=NOW):
    with session_factory() as session:
        user = services.upsert_user(session, telegram_user)
        return services.book(
            Unit(session, rules, Actor.client(user), now=now), user, THURSDAY, minute
        )


def cancel(session_factory, booking: Booking, *, rules, by_trainer=False, now=NOW, reason=""):
    with session_factory() as session:
        owner = session.get(Booking, booking.id).user
        actor = Actor.trainer() if by_trainer else Actor.client(owner)
        services.cancel(Unit(session, rules, actor, now=now), booking.id, reason=reason)


def client(n: int) -> dict:
    return {"id": 5000 + n, "first_name": f"Client {n}", "language_code": "en"}


def delivered(fake_telegram, chat_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in fake_telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == str(chat_id) and c.status == 200
    ]


def told_of(fake_telegram, chat_id: int, clients: int) -> list[int]:
    """How many times each of `clients` numbered clients was named to `chat_id` (a digest
    names several in one message)."""
    texts = delivered(fake_telegram, chat_id)
    return [sum(len(re.findall(rf"Client {n}\b", text)) for text in texts) for n in range(clients)]


def rows(bot_sessions) -> list[OutboxMessage]:
    with bot_sessions() as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


@pytest.fixture
def make_dispatcher(bot_config, bot_sessions, clock):
    made = []

    def make(**options) -> Dispatcher:
        options.setdefault("chat_interval", 0)
        options.setdefault("first_retry", FIRST_RETRY)
        dispatcher = Dispatcher(bot_config, bot_sessions, clock=running_clock(clock), **options)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.close()


def run_in_thread(dispatcher: Dispatcher) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.run, args=(stop, 0.02), daemon=True)
    thread.start()
    return stop, thread


# --- in the change's transaction ---------------------------------------------------------


def test_messages_are_rows_committed_with_the_change(bot_sessions, rules, fake_telegram):
    booking = book(bot_sessions, ALICE, rules=rules)
    cancel(bot_sessions, booking, rules=rules, by_trainer=True, reason="Ill")

    written = [(m.chat_id, m.kind, m.facts["kind"], m.status) for m in rows(bot_sessions)]
    assert written == [
        (COACH["id"], "news", "booked", "pending"),
        (COACH["id"], "news", "cancelled", "pending"),
        (ALICE["id"], "client", "cancelled", "pending"),
    ]
    assert rows(bot_sessions)[2].facts["reason"] == "Ill"
    assert fake_telegram.calls == []  # nothing is sent by the change itself


def test_a_refused_change_writes_no_message(bot_sessions, rules):
    book(bot_sessions, ALICE, rules=rules)
    with pytest.raises(ScheduleError):
        book(bot_sessions, ALICE, rules=rules)  # overlapping: refused

    assert len(rows(bot_sessions)) == 1


# --- what Telegram answers --------------------------------------------------------------


def test_telegram_failing_for_a_while_delays_messages_and_loses_none(
    bot_sessions, rules, fake_telegram, make_dispatcher
):
    fake_telegram.outage(502, seconds=0.5)  # past the first retry (0.25 s): tried again after
    fake_telegram.hang(COACH["id"], seconds=0.5, times=2)  # and slow answers, waited for
    for n in range(6):
        book(bot_sessions, client(n), minute=480 + 90 * n, rules=rules)
    fake_telegram.fail(COACH["id"], 500)  # and a plain 500 once, after the outage
    dispatcher = make_dispatcher(read_timeout=3)
    stop, thread = run_in_thread(dispatcher)
    try:
        fake_telegram.wait_for(lambda: told_of(fake_telegram, COACH["id"], 6) == [1] * 6, 20)
    finally:
        stop.set()
        thread.join(10)

    assert told_of(fake_telegram, COACH["id"], 6) == [1] * 6  # none twice, none lost
    assert {c.status for c in fake_telegram.calls_of("sendMessage")} >= {502, 200}
    assert {m.status for m in rows(bot_sessions)} == {outbox.SENT}


def test_a_send_whose_answer_times_out_is_not_sent_again(
    bot_sessions, rules, fake_telegram, make_dispatcher
):
    """Telegram delivered it and answered too late: recorded as sent, unconfirmed, once."""
    fake_telegram.hang(COACH["id"], seconds=1)
    book(bot_sessions, ALICE, rules=rules)
    dispatcher = make_dispatcher(read_timeout=0.5)

    assert dispatcher.flush(timeout=15)
    fake_telegram.wait_for(lambda: delivered(fake_telegram, COACH["id"]))  # the late answer
    assert dispatcher.flush(timeout=2)  # and nothing is pending after it

    [row] = rows(bot_sessions)
    assert (row.status, row.attempts) == (outbox.SENT, 1)
    assert row.last_error == "unconfirmed: no answer within 0.5 s"
    assert len(fake_telegram.calls_of("sendMessage")) == 1
    with bot_sessions() as session:
        assert outbox.stats(session).unconfirmed == 1


def test_a_429_holds_that_chat_for_retry_after_and_no_other(
    bot_sessions, rules, fake_telegram, make_dispatcher, bot_config
):
    fake_telegram.fail(ALICE["id"], 429, retry_after=1)
    booking = book(bot_sessions, ALICE, rules=rules)
    cancel(bot_sessions, booking, rules=rules, by_trainer=True, reason="Ill")
    dispatcher = make_dispatcher()

    assert dispatcher.flush(timeout=15)

    to_alice = [c for c in fake_telegram.calls_of("sendMessage") if c.params["chat_id"] == "2001"]
    to_coach = [c for c in fake_telegram.calls_of("sendMessage") if c.params["chat_id"] == "2900"]
    assert [c.status for c in to_alice] == [429, 200]
    assert to_alice[1].at - to_alice[0].at >= 1.0
    assert to_coach[-1].at < to_alice[1].at  # the trainer's news did not wait for Alice's chat


def test_a_message_telegram_refuses_fails_for_good_with_the_reason(
    bot_sessions, rules, fake_telegram, make_dispatcher
):
    fake_telegram.fail(COACH["id"], 400)
    book(bot_sessions, ALICE, rules=rules)

    assert make_dispatcher().flush()

    [row] = rows(bot_sessions)
    assert (row.status, row.last_error) == (outbox.FAILED, "400 Bad Request")
    assert len(fake_telegram.calls_of("sendMessage")) == 1


def test_backoff_grows_to_a_minute():
    seconds = [backoff(n).total_seconds() for n in (1, 2, 3, 6, 20)]
    assert 1.6 <= seconds[0] <= 2.4 and 3.2 <= seconds[1] <= 4.8 and 6.4 <= seconds[2] <= 9.6
    assert 48 <= seconds[3] <= 72 and seconds[4] <= 72
    quick = [backoff(n, FIRST_RETRY).total_seconds() for n in (1, 2, 3)]  # the tests' steps
    assert 0.2 <= quick[0] <= 0.3 and 0.4 <= quick[1] <= 0.6 and 0.8 <= quick[2] <= 1.2


# --- fairness, pacing, rate --------------------------------------------------------------


def test_one_chats_backlog_never_delays_another_chat(
    bot_sessions, rules, fake_telegram, make_dispatcher, bot_config
):
    """A client's book/cancel loop floods the trainer's chat; another client's message still
    goes out at once."""
    quick_news = replace(bot_config.settings, trainer_news_delay=0)
    for minute in range(480, 960, 30):
        booking = book(bot_sessions, ALICE, minute=minute, rules=quick_news)
        cancel(bot_sessions, booking, rules=quick_news)
    backlog = len(rows(bot_sessions))
    dispatcher = make_dispatcher(chat_interval=0.2, digest_rows=1)  # one message a row
    stop, thread = run_in_thread(dispatcher)
    try:
        fake_telegram.wait_for(lambda: len(delivered(fake_telegram, COACH["id"])) >= 3)
        booking = book(bot_sessions, BORIS, rules=quick_news, minute=540)
        written = time.monotonic()
        cancel(bot_sessions, booking, rules=quick_news, by_trainer=True, reason="Ill")
        fake_telegram.wait_for(lambda: delivered(fake_telegram, BORIS["id"]), 10)
        waited = time.monotonic() - written
        still_queued = backlog - len(delivered(fake_telegram, COACH["id"]))
    finally:
        stop.set()
        thread.join(10)

    assert waited < 1.0, waited
    assert still_queued > 10  # the trainer's backlog was far from done
    print(f"\nanother chat's message waited {waited * 1000:.0f} ms behind a {backlog} backlog")


def test_messages_to_one_chat_go_in_order_about_one_a_chat_interval(
    bot_sessions, rules, fake_telegram, make_dispatcher
):
    for n in range(4):
        book(bot_sessions, client(n), minute=480 + 30 * n, rules=rules)

    assert make_dispatcher(chat_interval=0.15, digest_rows=1).flush()  # one message a row

    sends = [c for c in fake_telegram.calls_of("sendMessage") if c.params["chat_id"] == "2900"]
    assert [f"Client {n}" in c.params["text"] for n, c in enumerate(sends)] == [True] * 4
    gaps = [later.at - earlier.at for earlier, later in zip(sends, sends[1:], strict=False)]
    assert min(gaps) >= 0.14, gaps


def clients_to_tell(bot_sessions, bot_config, count: int) -> None:
    """`count` clients booked by the trainer: `count` chats with one message each."""
    quick_news = replace(bot_config.settings, admin_ids=frozenset())
    with bot_sessions() as session:
        for n in range(count):
            user = services.upsert_user(session, client(n))
            minute = 480 + 30 * (n % 16)
            day = THURSDAY + timedelta(days=n // 16)
            unit = Unit(session, quick_news, Actor.trainer(), now=NOW)
            services.book(unit, user, day, minute, source="admin")


def test_the_overall_rate_is_kept_under_per_second(
    bot_sessions, bot_config, fake_telegram, make_dispatcher
):
    clients_to_tell(bot_sessions, bot_config, 10)
    started = time.monotonic()

    assert make_dispatcher(per_second=5).flush(timeout=20)

    elapsed = time.monotonic() - started
    assert len(fake_telegram.calls_of("sendMessage")) == 10
    assert elapsed >= 0.8, elapsed  # 5 at once, then 5 a second (unpaced: 10 at once)


def test_the_shared_budget_refills_at_its_rate_and_takes_back_what_is_unused(bot_sessions):
    now = [datetime(2026, 11, 25, 6, 0)]
    pace = outbox.Pace(30, clock=lambda: now[0])
    with bot_sessions() as session:
        assert pace.take(session, 100) == 30  # a second's worth at once
        assert pace.take(session, 5) == 0
        now[0] += timedelta(seconds=0.5)
        assert pace.take(session, 100) == 15
        pace.give_back(session, 10)
        assert pace.take(session, 4) == 4
        session.commit()
    another = outbox.Pace(30, clock=lambda: now[0])  # another process: the same bucket
    with bot_sessions() as session:
        assert another.take(session, 100) == 6
        now[0] += timedelta(seconds=10)
        assert another.take(session, 100) == 30  # never more than a second's worth
        now[0] -= timedelta(seconds=5)  # a clock set back refills nothing
        assert another.take(session, 100) == 0


def test_dispatchers_together_keep_under_per_second(
    bot_sessions, bot_config, fake_telegram, make_dispatcher
):
    """Telegram counts the bot's messages, not a process's: two dispatchers of 5 a second
    each send 10 messages in about a second (5 at once, then 5 a second), not at once (each
    with a budget of its own, 5 and 5 at once)."""
    clients_to_tell(bot_sessions, bot_config, 10)
    started = time.monotonic()
    runners = [run_in_thread(make_dispatcher(per_second=5)) for _ in range(2)]
    try:
        fake_telegram.wait_for(lambda: len(fake_telegram.calls_of("sendMessage")) >= 10, 20)
        elapsed = time.monotonic() - started
        time.sleep(0.3)  # a duplicate would show now
    finally:
        for stop, thread in runners:
            stop.set()
            thread.join(10)

    chats = [c.params["chat_id"] for c in fake_telegram.calls_of("sendMessage")]
    assert len(chats) == 10 == len(set(chats))
    assert elapsed >= 0.8, elapsed


# --- leases: any number of dispatchers ---------------------------------------------------


def test_two_dispatchers_send_each_message_once(
    bot_sessions, bot_config, fake_telegram, make_dispatcher
):
    quick_news = bot_config.settings
    for n in range(12):
        booking = book(bot_sessions, client(n), minute=480 + 30 * (n % 4), rules=quick_news)
        cancel(bot_sessions, booking, rules=quick_news, by_trainer=True, reason=f"r{n}")
    fake_telegram.send_delay = 0.02
    runners = [run_in_thread(make_dispatcher()) for _ in range(2)]
    try:
        fake_telegram.wait_for(lambda: told_of(fake_telegram, COACH["id"], 12) == [2] * 12, 20)
        fake_telegram.wait_for(lambda: all(delivered(fake_telegram, 5000 + n) for n in range(12)))
        time.sleep(0.3)  # a duplicate would show now
    finally:
        for stop, thread in runners:
            stop.set()
            thread.join(10)

    assert told_of(fake_telegram, COACH["id"], 12) == [2] * 12  # booked, cancelled: once each
    assert [len(delivered(fake_telegram, 5000 + n)) for n in range(12)] == [1] * 12
    assert {m.status for m in rows(bot_sessions)} == {outbox.SENT}


def test_a_lease_of_a_dispatcher_that_died_is_taken_over(
    bot_sessions, rules, fake_telegram, make_dispatcher, clock
):
    book(bot_sessions, ALICE, rules=rules)
    with bot_sessions() as session:  # a dispatcher claims it, then dies before sending
        [claimed] = outbox.claim(session, 10, NOW, lease=timedelta(seconds=60))
    dispatcher = make_dispatcher()

    assert dispatcher.pass_once() == 0  # leased: nobody else takes it
    clock.now = NOW + timedelta(seconds=61)
    assert dispatcher.flush()

    [row] = rows(bot_sessions)
    assert (row.status, row.attempts) == (outbox.SENT, 2)
    assert len(fake_telegram.calls_of("sendMessage")) == 1

    with bot_sessions() as session:  # the dead claim's late outcome changes nothing
        outbox.retry_later(session, [claimed], NOW, "late", whole_chat=True)
    assert rows(bot_sessions)[0].status == outbox.SENT


def test_a_message_not_delivered_while_it_mattered_expires_unsent(
    bot_sessions, rules, fake_telegram, make_dispatcher, clock
):
    booking = book(bot_sessions, ALICE, rules=rules)
    clock.now = booking.ends_at + timedelta(days=2)  # Telegram was out of reach all along

    assert make_dispatcher().flush()

    assert [row.status for row in rows(bot_sessions)] == [outbox.EXPIRED]
    assert fake_telegram.calls_of("sendMessage") == []


# --- the trainer is not flooded ------------------------------------------------------------


def test_a_booking_cancelled_within_the_hold_is_no_news_for_the_trainer(
    bot_sessions, bot_config, fake_telegram, make_dispatcher, clock
):
    held = replace(bot_config.settings, trainer_news_delay=60)
    for _ in range(5):  # a client's book/cancel loop
        booking = book(bot_sessions, ALICE, rules=held)
        cancel(bot_sessions, booking, rules=held)
    kept = book(bot_sessions, ALICE, rules=held)

    assert make_dispatcher().flush(timeout=0.5) is False  # the last news is still held
    assert delivered(fake_telegram, COACH["id"]) == []
    clock.now = NOW + timedelta(seconds=61)
    assert make_dispatcher().flush()

    [news] = delivered(fake_telegram, COACH["id"])
    assert news.startswith("🆕 New booking: Alice")
    assert [r.status for r in rows(bot_sessions)].count(outbox.DROPPED) == 5
    assert kept.is_active


def test_a_clients_message_is_never_held_and_a_trainers_cancel_folds_the_news_too(
    bot_sessions, bot_config, fake_telegram, make_dispatcher
):
    held = replace(bot_config.settings, trainer_news_delay=60)
    booking = book(bot_sessions, ALICE, rules=held)
    cancel(bot_sessions, booking, rules=held, by_trainer=True, reason="Ill")

    assert make_dispatcher().flush(timeout=5)

    [told] = delivered(fake_telegram, ALICE["id"])  # at once
    assert "cancelled by the trainer" in told and "Ill" in told
    assert delivered(fake_telegram, COACH["id"]) == []  # booked and cancelled: no news


def test_a_trainers_booking_for_a_client_is_news_at_once(
    bot_sessions, bot_config, fake_telegram, make_dispatcher
):
    held = replace(bot_config.settings, trainer_news_delay=60)
    with bot_sessions() as session:
        user = services.upsert_user(session, ALICE)
        services.book(
            Unit(session, held, Actor.trainer(), now=NOW), user, THURSDAY, 600, source="admin"
        )

    assert make_dispatcher().flush(timeout=5)

    assert delivered(fake_telegram, ALICE["id"]) and delivered(fake_telegram, COACH["id"])


def test_an_unreachable_bot_api_is_retried_and_the_token_never_logged(
    bot_sessions, bot_config, rules, clock, caplog
):
    book(bot_sessions, ALICE, rules=rules)
    unreachable = replace(bot_config, api_url="http://127.0.0.1:9")  # nothing listens there
    dispatcher = Dispatcher(unreachable, bot_sessions, clock=running_clock(clock))
    try:
        assert dispatcher.flush(timeout=0.5) is False  # still pending, waiting to try again
    finally:
        dispatcher.close()

    [row] = rows(bot_sessions)
    assert (row.status, row.last_error) == (outbox.PENDING, "network error: ConnectionError")
    assert "not sent (network error" in caplog.text
    assert bot_config.token not in caplog.text


def test_a_poll_with_nothing_due_writes_nothing(bot_sessions, make_dispatcher, rules):
    """Dispatchers poll twice a second: with nothing due they only read (on SQLite any write
    takes the database's write lock from the app's bookings)."""
    from sqlalchemy import event

    book(bot_sessions, ALICE, rules=rules)
    dispatcher = make_dispatcher()
    assert dispatcher.flush()
    engine = bot_sessions.kw["bind"]
    writes = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        dispatcher._next_expiry = datetime.max  # the expiry sweep is not what is counted
        for _ in range(5):
            assert dispatcher.pass_once() == 0
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert writes == []
