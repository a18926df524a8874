"""Each message once, as far as Telegram allows: a slow answer is waited for and a timed-out one
not sent again, a send keeps its short lease by a heartbeat however long it takes, a dead
dispatcher's or worker's rows are free again within seconds, and a chat's waiting notices
leave as one message (a digest) that says what the separate ones would."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot import models
from bot.dispatcher import MAX_DIGEST_CHARS, READ_TIMEOUT, Dispatcher
from bot.worker import Inbox
from schedule import outbox, services
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit
from tests.bot.test_outbox import NOW, THURSDAY, book, client, delivered, rows
from tests.fake_telegram import MAX_TEXT, plain_text
from tests.fixtures_bot import ALICE, BORIS, COACH, running_clock


def run_in_thread(dispatcher: Dispatcher) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.run, args=(stop, 0.02), daemon=True)
    thread.start()
    return stop, thread


def make(bot_config, bot_sessions, clock, made: list, **options) -> Dispatcher:
    options.setdefault("chat_interval", 0)
    dispatcher = Dispatcher(bot_config, bot_sessions, clock=running_clock(clock), **options)
    made.append(dispatcher)
    return dispatcher


def book_for(bot_sessions, user: dict, minute: int, rules) -> int:
    """The trainer books `user` a training: the client is told, with a cancel button."""
    with bot_sessions() as session:
        person = services.upsert_user(session, user)
        unit = Unit(session, rules, Actor.trainer(), now=NOW)
        booking = services.book(unit, person, THURSDAY, minute, source="admin")
        return booking.id


def named(texts: list[str], count: int) -> list[int]:
    """How many times each of `count` numbered clients is named in `texts`."""
    return [sum(len(re.findall(rf"Client {n}\b", t)) for t in texts) for n in range(count)]


# --- a slow Telegram ---------------------------------------------------------------------


# The deployed dispatcher has a 10 s lease and waits 60 s for an answer; Telegram answering 17 s
# late is past the lease and well inside the wait. The test keeps those proportions in less
# time (the lease and the wait are the dispatcher's own options).
LATE_SCALE = 0.1


def test_telegram_answering_late_past_the_lease_delivers_once_and_holds_no_other_chat(
    bot_sessions, bot_config, rules, fake_telegram, clock
):
    """Telegram delivers at once and answers 17 s later, scaled (it can take tens of seconds):
    the dispatcher, as deployed, waits for the answer, so the message is not sent again; other
    chats' messages go meanwhile."""
    made: list[Dispatcher] = []
    options = {
        "lease": outbox.DEFAULT_LEASE * LATE_SCALE,
        "read_timeout": READ_TIMEOUT * LATE_SCALE,
    }
    assert options["lease"].total_seconds() < 17 * LATE_SCALE < options["read_timeout"]
    fake_telegram.hang(ALICE["id"], seconds=17 * LATE_SCALE)
    book_for(bot_sessions, ALICE, 600, replace(bot_config.settings, admin_ids=frozenset()))
    stop, thread = run_in_thread(make(bot_config, bot_sessions, clock, made, **options))
    try:
        fake_telegram.wait_for(lambda: fake_telegram.arrivals("sendMessage", ALICE["id"]))
        sent_at = time.monotonic()
        book_for(bot_sessions, BORIS, 600, replace(bot_config.settings, admin_ids=frozenset()))
        fake_telegram.wait_for(lambda: delivered(fake_telegram, BORIS["id"]), 5)
        boris_waited = time.monotonic() - sent_at
        alice_answered_before_boris = bool(delivered(fake_telegram, ALICE["id"]))
        fake_telegram.wait_for(lambda: delivered(fake_telegram, ALICE["id"]), 25)
        fake_telegram.wait_for(lambda: {r.status for r in rows(bot_sessions)} == {outbox.SENT})
    finally:
        stop.set()
        thread.join(30)
        for dispatcher in made:
            dispatcher.close()

    assert len(fake_telegram.arrivals("sendMessage", ALICE["id"])) == 1
    assert [r.last_error for r in rows(bot_sessions)] == [None, None]  # answered: confirmed
    assert boris_waited < 5, boris_waited  # not held behind Alice's chat:
    assert not alice_answered_before_boris  # Boris was told while Alice's send still waited


# --- leases and heartbeats ---------------------------------------------------------------


def test_a_send_longer_than_its_lease_keeps_it_by_the_heartbeat(
    bot_sessions, bot_config, rules, fake_telegram, clock
):
    """A 1 s lease, a send answered after 1.8 s, a second dispatcher looking all along: the
    heartbeat renews the lease, so nobody takes the message over and sends it again."""
    made: list[Dispatcher] = []
    fake_telegram.hang(COACH["id"], seconds=1.8)
    book(bot_sessions, ALICE, rules=rules)
    lease = timedelta(seconds=1)
    runners = [run_in_thread(make(bot_config, bot_sessions, clock, made, lease=lease))]
    fake_telegram.wait_for(lambda: fake_telegram.arrivals("sendMessage", COACH["id"]))
    runners.append(run_in_thread(make(bot_config, bot_sessions, clock, made, lease=lease)))
    try:
        fake_telegram.wait_for(lambda: {r.status for r in rows(bot_sessions)} == {outbox.SENT})
    finally:
        for stop, thread in runners:
            stop.set()
            thread.join(10)
        for dispatcher in made:
            dispatcher.close()

    assert len(fake_telegram.arrivals("sendMessage", COACH["id"])) == 1
    [row] = rows(bot_sessions)
    assert (row.attempts, row.last_error) == (1, None)


def test_a_dead_dispatchers_message_goes_again_when_its_short_lease_runs_out(
    bot_sessions, bot_config, rules, fake_telegram, clock
):
    made: list[Dispatcher] = []
    book(bot_sessions, ALICE, rules=rules)
    with bot_sessions() as session:  # a dispatcher claims it, sends, and is killed
        [claimed] = outbox.claim(session, 10, NOW)
    assert claimed.lease_until == NOW + timedelta(seconds=10)
    dispatcher = make(bot_config, bot_sessions, clock, made)
    try:
        clock.now = NOW + timedelta(seconds=9)
        assert dispatcher.pass_once() == 0  # still leased
        clock.now = NOW + timedelta(seconds=11)  # seconds later, not a minute
        assert dispatcher.pass_once() == 1
        assert dispatcher.flush()
    finally:
        dispatcher.close()

    [row] = rows(bot_sessions)
    assert (row.status, row.attempts) == (outbox.SENT, 2)
    assert len(fake_telegram.calls_of("sendMessage")) == 1


def test_renewing_leases_keeps_only_the_claims_own_rows_in_work(bot_sessions, rules):
    book(bot_sessions, ALICE, rules=rules)
    book(bot_sessions, BORIS, minute=660, rules=rules)  # the trainer's second news
    with bot_sessions() as session:
        [first] = outbox.claim(session, 10, NOW)
        first_claim = first.claimed_by
        outbox.retry_later(session, [first], NOW, "500", whole_chat=False)  # settled
        later = NOW + timedelta(seconds=30)
        [again] = outbox.claim(session, 10, later)  # the same row, claimed again
        assert outbox.renew_leases(session, OutboxMessage, {first_claim}, later) == 0
        until = later + timedelta(seconds=10)
        assert outbox.renew_leases(session, OutboxMessage, {again.claimed_by}, until) == 1
        assert session.get(OutboxMessage, again.id).lease_until == until


# --- the webhook inbox -------------------------------------------------------------------


def dead_worker_takes(bot_sessions, update: dict, at) -> models.WebhookUpdate:
    """A worker claims `update`, takes its update_id on, starts handling, and is killed."""
    with bot_sessions() as session:
        [row] = models.claim_updates(session, 1, at, set())
        models.claim_update(session, update["update_id"])
    return row


def test_a_dead_workers_update_is_handled_again_within_seconds_once(
    bot_sessions, telegram_bot, fake_telegram, clock
):
    update = fake_telegram.message_update(ALICE, "/start")
    with bot_sessions() as session:
        models.record_update(session, update, NOW)
    dead_worker_takes(bot_sessions, update, NOW)
    inbox = Inbox(telegram_bot, bot_sessions, clock=lambda: clock.now)
    try:
        clock.now = NOW + timedelta(seconds=9)
        assert inbox.pass_once() == 0  # the chat is still held
        clock.now = NOW + timedelta(seconds=11)  # seconds later, not five minutes
        assert inbox.drain()
        clock.now = NOW + timedelta(minutes=10)
        assert inbox.drain()
    finally:
        inbox.pool.close()

    [answer] = [c for c in fake_telegram.calls_of("sendMessage")]
    assert answer.params["text"].startswith("Hello, Alice")
    with bot_sessions() as session:
        row = session.scalar(select(models.WebhookUpdate))
        assert (row.status, row.attempts) == (models.HANDLED, 2)


def test_an_update_that_two_workers_died_handling_is_not_handled_a_third_time(
    bot_sessions, telegram_bot, fake_telegram, clock
):
    update = fake_telegram.message_update(ALICE, "/start")
    with bot_sessions() as session:
        models.record_update(session, update, NOW)
    dead_worker_takes(bot_sessions, update, NOW)
    dead_worker_takes(bot_sessions, update, NOW + timedelta(seconds=11))
    inbox = Inbox(telegram_bot, bot_sessions, clock=lambda: NOW + timedelta(seconds=22))
    try:
        assert inbox.drain()
    finally:
        inbox.pool.close()

    assert fake_telegram.calls_of("sendMessage") == []
    with bot_sessions() as session:
        row = session.scalar(select(models.WebhookUpdate))
        assert (row.status, row.last_error) == (models.FAILED, outbox.INTERRUPTED_AGAIN)


def test_the_inbox_heartbeat_keeps_a_long_update_held(bot_sessions, make_bot, fake_telegram):
    """A handler that waits on Telegram longer than the lease keeps its chat: no other worker
    handles the update meanwhile."""
    fake_telegram.hang(ALICE["id"], seconds=1.8)
    update = fake_telegram.message_update(ALICE, "/start")
    with bot_sessions() as session:
        models.record_update(session, update)
    bot = make_bot(lease_seconds=1)  # WORKER_LEASE_SECONDS=1: renewed every third of a second
    workers = [Inbox(bot, bot_sessions) for _ in range(2)]
    assert workers[0].pool.renew_every < 0.5
    stops = [threading.Event() for _ in workers]
    threads = [
        threading.Thread(target=w.run, args=(s, 0.02), daemon=True)
        for w, s in zip(workers, stops, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        fake_telegram.wait_for(lambda: delivered(fake_telegram, ALICE["id"]), 10)
        # Without the heartbeat the other worker would have taken the update when the lease ran
        # out (1 s) and sent at once (only the first send hangs), before this answer (1.8 s);
        # half a second more for a loaded machine.
        time.sleep(0.5)
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(10)

    assert len(fake_telegram.arrivals("sendMessage", ALICE["id"])) == 1


# --- digests -----------------------------------------------------------------------------


def test_a_chats_waiting_notices_leave_as_one_message_saying_the_same(
    bot_sessions, rules, fake_telegram, dispatcher
):
    for n in range(5):
        book(bot_sessions, client(n), minute=480 + 90 * n, rules=rules)
    with bot_sessions() as session:  # each notice as it would read alone
        alone = [dispatcher._render(session, row, "en")[0] for row in rows(bot_sessions)]

    assert dispatcher.flush()

    [digest] = [c.params["text"] for c in fake_telegram.calls_of("sendMessage")]
    assert digest == "\n\n".join(alone)  # in order, word for word
    assert {r.status for r in rows(bot_sessions)} == {outbox.SENT}


def test_messages_with_buttons_go_alone(bot_sessions, bot_config, fake_telegram, dispatcher):
    """Alice: two bookings made for her (each with its cancel button), then both cancelled by
    the trainer: three messages, the two cancels in one."""
    quiet = replace(bot_config.settings, admin_ids=frozenset())
    first = book_for(bot_sessions, ALICE, 480, quiet)
    second = book_for(bot_sessions, ALICE, 600, quiet)
    for booking_id in (first, second):
        with bot_sessions() as session:
            services.cancel(
                Unit(session, quiet, Actor.trainer(), now=NOW), booking_id, reason="Ill"
            )

    assert dispatcher.flush()

    sends = [c.params for c in fake_telegram.calls_of("sendMessage")]
    assert [bool(s.get("reply_markup")) for s in sends] == [True, True, False]
    assert sends[2]["text"].count("cancelled by the trainer") == 2
    assert {r.status for r in rows(bot_sessions)} == {outbox.SENT}


def busy_morning(bot_sessions, bookings: int) -> None:
    """`bookings` clients booked this morning: as many news rows to the trainer, due now."""
    with bot_sessions() as session:
        for n in range(bookings):
            facts = {
                "kind": "booked",
                "starts_at": NOW + timedelta(hours=4),
                "ends_at": NOW + timedelta(hours=5, minutes=30),
                "client_id": 5000 + n,
                "client_name": f"Client {n}",
                "client_username": f"client_{n}",
                "client_phone": "+7 900 000-00-00",
                "client_language": "en",
                "source": "miniapp",
            }
            outbox.enqueue(session, COACH["id"], "news", facts, now=NOW)
        session.commit()


def test_a_busy_mornings_320_notices_leave_in_a_few_messages_each_within_telegrams_limit(
    bot_sessions, fake_telegram, dispatcher
):
    busy_morning(bot_sessions, 320)

    assert dispatcher.flush(timeout=30)

    texts = delivered(fake_telegram, COACH["id"])
    assert named(texts, 320) == [1] * 320  # each once, none lost
    assert len(texts) <= 320 // 20, len(texts)
    assert max(len(plain_text(t)) for t in texts) <= MAX_TEXT
    assert max(len(plain_text(t)) for t in texts) > MAX_DIGEST_CHARS - 300  # filled
    assert {c.status for c in fake_telegram.calls_of("sendMessage")} == {200}
    assert {r.status for r in rows(bot_sessions)} == {outbox.SENT}


def test_a_digest_telegram_refuses_is_sent_again_message_by_message(
    bot_sessions, rules, fake_telegram, dispatcher
):
    for n in range(3):
        book(bot_sessions, client(n), minute=480 + 90 * n, rules=rules)
    fake_telegram.fail(COACH["id"], 400)  # the digest

    assert dispatcher.flush()

    statuses = [c.status for c in fake_telegram.calls_of("sendMessage")]
    assert statuses == [400, 200, 200, 200]
    assert named(delivered(fake_telegram, COACH["id"]), 3) == [1, 1, 1]
    assert {r.status for r in rows(bot_sessions)} == {outbox.SENT}


def test_a_held_notice_keeps_its_place(bot_sessions, bot_config, fake_telegram, dispatcher):
    """A notice held back (the trainer's news of a client's booking) is not jumped by the
    chat's later notices: the digest before it stops there."""
    at_once, held = bot_config.settings, replace(bot_config.settings, trainer_news_delay=60)
    book_for(bot_sessions, client(0), 480, at_once)  # news at once
    book(bot_sessions, ALICE, rules=held)  # news held for a minute
    book_for(bot_sessions, BORIS, 720, at_once)  # news at once, after the held one

    assert dispatcher.flush(timeout=1) is False  # Alice's news still held

    [told] = delivered(fake_telegram, COACH["id"])
    assert "Client 0" in told and "Alice" not in told and "Борис" not in told
