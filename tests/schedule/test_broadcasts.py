"""The trainer's broadcasts in schedule, on SQLite and PostgreSQL: whom each audience reaches,
a client's /stop honoured for rows already queued, and the counts read from the outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from schedule import InvalidInput, ScheduleError, broadcasts, outbox, services
from schedule.broadcasts import BROADCAST, Audience
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN, TWO = 10 * 60, 14 * 60
TRAINER_ID = 555


@pytest.fixture
def rules(settings):
    return replace(settings, admin_ids=frozenset({TRAINER_ID}))


def as_client(session, rules, user, now) -> Unit:
    return Unit(session, rules, Actor.client(user), now)


def rows(session, broadcast_id: int) -> list[OutboxMessage]:
    """The broadcast's outbox rows, by chat (make_user's ids grow: in the users' order)."""
    found = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .order_by(OutboxMessage.chat_id)
        )
    )
    session.rollback()
    return found


def test_all_reaches_every_client_but_trainers_those_who_stopped_and_those_who_blocked(
    session, rules, make_user, now
):
    anna, boris, vera, gleb = (make_user(n) for n in ("Anna", "Boris", "Vera", "Gleb"))
    make_user("Trainer", id=TRAINER_ID)
    broadcasts.stop(session, vera, now)
    gleb.blocked_bot = True
    session.commit()

    assert broadcasts.count(session, rules, Audience("all")) == 2
    sent = broadcasts.send(session, rules, "  Hall closed on Friday \n", Audience("all"), now=now)

    assert (sent.recipients, sent.text, sent.audience) == (2, "Hall closed on Friday", "all")
    queued = rows(session, sent.id)
    assert [(r.chat_id, r.kind, r.status) for r in queued] == [
        (anna.telegram_id, BROADCAST, outbox.PENDING),
        (boris.telegram_id, BROADCAST, outbox.PENDING),
    ]
    assert all(r.facts == {"broadcast": sent.id} and r.expires_at > now for r in queued)


def test_a_date_reaches_those_with_an_active_booking_that_day(session, rules, make_user, now):
    anna, boris, vera, dima = (make_user(n) for n in ("Anna", "Boris", "Vera", "Dima"))
    services.book(as_client(session, rules, anna, now), anna, DAY, TEN)
    services.book(as_client(session, rules, anna, now), anna, DAY, TWO)  # two bookings: one message
    cancelled = services.book(as_client(session, rules, boris, now), boris, DAY, TEN)
    services.cancel(as_client(session, rules, boris, now), cancelled.id)
    services.book(as_client(session, rules, vera, now), vera, DAY + timedelta(days=1), TEN)
    services.book(as_client(session, rules, dima, now), dima, DAY, TWO)

    audience = broadcasts.parse_audience(session, f"date:{DAY.isoformat()}")
    assert audience == Audience("date", day=DAY)
    assert broadcasts.count(session, rules, audience) == 2
    sent = broadcasts.send(session, rules, "Bring water", audience, now=now)
    assert [r.chat_id for r in rows(session, sent.id)] == [anna.telegram_id, dima.telegram_id]
    assert sent.audience == "date:2026-11-26"


def test_the_default_kind_is_every_booked_client_and_another_kind_is_refused(
    session, rules, make_user, now
):
    anna, _boris = make_user("Anna"), make_user("Boris")
    services.book(as_client(session, rules, anna, now), anna, DAY, TEN)

    audience = broadcasts.parse_audience(session, "kind:1")
    assert broadcasts.count(session, rules, audience) == 1
    with pytest.raises(InvalidInput) as refused:
        broadcasts.parse_audience(session, "kind:2")
    assert refused.value.detail == "broadcast_unknown_kind"
    assert "2" in refused.value.message("en")


@pytest.mark.parametrize(
    "audience", ["", "everyone", "date:", "date:2026-13-01", "kind:", "kind:x", "ALL", None, 5]
)
def test_an_audience_that_does_not_read_is_invalid_input(session, audience):
    with pytest.raises(InvalidInput):
        broadcasts.parse_audience(session, audience)


def test_the_text_is_not_empty_and_fits_one_telegram_message(session, rules, make_user, now):
    for empty in ("", "   \n ", None):
        with pytest.raises(InvalidInput) as refused:
            broadcasts.check_text(empty)
        assert refused.value.detail == "broadcast_empty"
    assert broadcasts.check_text("x" * 4096) == "x" * 4096
    for too_long in ("x" * 4097, "🙂" * 2049):  # an emoji is two of Telegram's characters
        with pytest.raises(InvalidInput) as refused:
            broadcasts.check_text(too_long)
        assert refused.value.detail == "broadcast_too_long"
    make_user("Anna")
    with pytest.raises(InvalidInput):
        broadcasts.send(session, rules, " ", Audience("all"), now=now)
    assert broadcasts.recent(session) == []  # nothing written


def test_stop_drops_the_clients_queued_broadcasts_but_not_their_booking_messages(
    session, rules, make_user, now
):
    anna, boris = make_user("Anna"), make_user("Boris")
    first = broadcasts.send(session, rules, "One", Audience("all"), now=now)
    second = broadcasts.send(session, rules, "Two", Audience("all"), now=now)
    notice = outbox.enqueue(session, anna.telegram_id, "client", {"event": "x"}, now=now)
    session.commit()

    assert broadcasts.stop(session, anna, now) == 2
    assert anna.broadcasts_stopped_at == now
    for broadcast in (first, second):
        states = {r.chat_id: (r.status, r.last_error) for r in rows(session, broadcast.id)}
        assert states == {
            anna.telegram_id: (outbox.DROPPED, broadcasts.STOPPED),
            boris.telegram_id: (outbox.PENDING, None),
        }
    assert session.get(OutboxMessage, notice.id, populate_existing=True).status == outbox.PENDING
    assert broadcasts.stopped(session, anna.telegram_id)
    assert not broadcasts.stopped(session, boris.telegram_id)

    later = broadcasts.send(session, rules, "Three", Audience("all"), now=now)
    assert [r.chat_id for r in rows(session, later.id)] == [boris.telegram_id]

    assert broadcasts.resume(session, anna) is True
    assert broadcasts.resume(session, anna) is False
    again = broadcasts.send(session, rules, "Four", Audience("all"), now=now)
    assert {r.chat_id for r in rows(session, again.id)} == {anna.telegram_id, boris.telegram_id}


def test_a_row_a_dispatcher_holds_is_left_to_its_check_at_send_time(session, rules, make_user, now):
    anna = make_user("Anna")
    sent = broadcasts.send(session, rules, "One", Audience("all"), now=now)
    [claimed] = outbox.claim(session, 10, now)  # a dispatcher holds it, mid-send

    assert broadcasts.stop(session, anna, now) == 0
    assert session.get(OutboxMessage, claimed.id, populate_existing=True).status == outbox.PENDING
    assert broadcasts.stopped(session, anna.telegram_id)  # what the dispatcher checks
    assert broadcasts.progress(session, sent.id).pending == 1


def test_progress_counts_the_rows_states(session, rules, make_user, now):
    for name in ("Anna", "Boris", "Vera", "Gleb", "Dima"):
        make_user(name)
    sent = broadcasts.send(session, rules, "Hello", Audience("all"), now=now)
    assert broadcasts.progress(session, sent.id) == broadcasts.Progress(sent.id, 5, 0, 0, 5)

    a, b, c, d, _e = outbox.claim(session, 10, now)
    outbox.mark_sent(session, [a], now)
    outbox.mark_sent(session, [b], now, unconfirmed="no answer")  # delivered, as far as known
    outbox.give_up(session, [c], outbox.FAILED, "403 Forbidden: bot was blocked by the user")
    outbox.give_up(session, [d], outbox.DROPPED, broadcasts.STOPPED)

    progress = broadcasts.progress(session, sent.id)
    assert (progress.recipients, progress.sent, progress.failed, progress.pending) == (5, 2, 2, 1)
    assert not progress.done
    outbox.expire_overdue(session, now + timedelta(days=2))
    progress = broadcasts.progress(session, sent.id)
    assert (progress.sent, progress.failed, progress.pending, progress.done) == (2, 3, 0, True)

    # Settled rows may be purged later (flask purge): the tally stays.
    session.execute(delete(OutboxMessage).where(OutboxMessage.broadcast_id == sent.id))
    session.commit()
    assert broadcasts.progress(session, sent.id) == progress


def test_an_unknown_broadcast_is_not_found(session):
    for missing in (1, 0, -1, 2**40):
        with pytest.raises(ScheduleError) as refused:
            broadcasts.progress(session, missing)
        assert refused.value.http_status == 404
