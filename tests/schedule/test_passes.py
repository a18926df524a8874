"""The pass and attendance rules in schedule, on SQLite and PostgreSQL: which pass a booking
takes, what a move, a cancel, the waitlist and the end of the day do to it, and the
"expires soon" claim that any number of workers share."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from schedule import ScheduleError, Settings, attendance, passes, services, waitlist
from schedule.models import Booking
from schedule.passes import Standing
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN, TWO = 10 * 60, 14 * 60


@pytest.fixture
def strict(settings):
    return replace(settings, pass_required=True)


def remaining(session, settings, user, now) -> list[int]:
    """Visits left on each of the user's passes, valid ones first."""
    return [view.remaining for view in passes.client_passes(session, settings, user, now)]


def test_a_booking_takes_the_pass_expiring_first_and_a_cancel_returns_it(
    session, settings, make_user, now
):
    anna = make_user("Anna")
    later = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=3, valid_days=30
    )
    sooner = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=3, valid_days=5
    )

    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    assert booking.pass_id == sooner.id
    assert remaining(session, settings, anna, now) == [2, 3]

    services.cancel(Unit(session, settings, Actor.client(anna), now=now), booking.id)
    assert booking.pass_id is None
    assert remaining(session, settings, anna, now) == [3, 3]
    assert later.id != sooner.id


def test_the_trainers_cancel_gives_the_visit_back_too(session, settings, make_user, now):
    anna = make_user("Anna")
    passes.record(Unit(session, settings, Actor.trainer(), now=now), anna, visits=1, valid_days=30)
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    services.cancel(Unit(session, settings, Actor.trainer(), now=now), booking.id, reason="ill")
    assert remaining(session, settings, anna, now) == [1]


def test_a_move_keeps_its_pass_or_takes_one_valid_on_the_new_date(session, strict, make_user, now):
    anna = make_user("Anna")
    short = passes.record(
        Unit(session, strict, Actor.trainer(), now=now), anna, visits=1, valid_days=2
    )  # to 26 Nov
    booking = services.book(Unit(session, strict, Actor.client(anna), now=now), anna, DAY, TEN)
    assert booking.pass_id == short.id

    # The same day: the visit stays on its pass (the move does not need a second one).
    services.reschedule(Unit(session, strict, Actor.client(anna), now=now), booking.id, DAY, TWO)
    assert booking.pass_id == short.id

    # A date the pass does not cover: refused, and the booking stays as it was.
    with pytest.raises(ScheduleError) as refused:
        services.reschedule(
            Unit(session, strict, Actor.client(anna), now=now),
            booking.id,
            DAY + timedelta(days=3),
            TEN,
        )
    assert refused.value.code == "no_pass"
    session.refresh(booking)
    assert booking.pass_id == short.id

    # With a pass for that date the move takes it and gives the short one's visit back.
    long = passes.record(
        Unit(session, strict, Actor.trainer(), now=now), anna, visits=1, valid_days=30
    )
    services.reschedule(
        Unit(session, strict, Actor.client(anna), now=now), booking.id, DAY + timedelta(days=3), TEN
    )
    assert booking.pass_id == long.id
    assert remaining(session, strict, anna, now) == [1, 0]


def test_the_waitlist_books_with_a_pass_and_passes_over_who_has_none(
    session, strict, make_user, now
):
    holders = [make_user(f"Holder {n}") for n in range(4)]
    for user in holders:
        passes.record(
            Unit(session, strict, Actor.trainer(), now=now), user, visits=1, valid_days=30
        )
        services.book(Unit(session, strict, Actor.client(user), now=now), user, DAY, TEN)
    without, paid = make_user("No pass"), make_user("Paid")
    paid_pass = passes.record(
        Unit(session, strict, Actor.trainer(), now=now), paid, visits=1, valid_days=30
    )
    # Both joined while they could book (the pass-less one lost their pass afterwards).
    passes.record(Unit(session, strict, Actor.trainer(), now=now), without, visits=1, valid_days=30)
    waitlist.join(Unit(session, strict, Actor.client(without), now=now), without, DAY, TEN)
    waitlist.join(Unit(session, strict, Actor.client(paid), now=now), paid, DAY, TEN)
    sold = passes.client_passes(session, strict, without, now)[0].sold
    passes.adjust(
        Unit(session, Settings(), Actor.trainer(), now=now), sold.id, visits=-1, reason="refunded"
    )

    services.cancel(
        Unit(session, strict, Actor.client(holders[0]), now=now),
        services.upcoming_bookings(session, holders[0], now)[0].id,
    )

    promoted = services.upcoming_bookings(session, paid, now)
    assert [b.pass_id for b in promoted] == [paid_pass.id]
    assert services.upcoming_bookings(session, without, now) == []


def test_a_pass_recorded_later_pays_for_the_bookings_not_yet_started(
    session, settings, make_user, now
):
    anna, boris = make_user("Anna"), make_user("Boris")
    started = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY - timedelta(days=1), TEN
    )
    first = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    second = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=1), TEN
    )
    beyond = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=4), TEN
    )
    others = services.book(Unit(session, settings, Actor.client(boris), now=now), boris, DAY, TEN)
    assert [b.pass_id for b in (started, first, second, beyond, others)] == [None] * 5

    later = now + timedelta(hours=2)  # the 25th's training has started by now
    sold = passes.record(
        Unit(session, settings, Actor.trainer(), now=later), anna, visits=2, valid_days=4
    )  # to 28 Nov

    assert (first.pass_id, second.pass_id) == (sold.id, sold.id)  # earliest first
    assert started.pass_id is None  # it has started: no longer the pass's to pay
    assert beyond.pass_id is None  # after the pass's last day
    assert others.pass_id is None  # someone else's
    assert remaining(session, settings, anna, later) == [0]
    # A visit given back goes to nobody else on its own: the next booking takes it.
    services.cancel(Unit(session, settings, Actor.client(anna), now=later), first.id)
    assert remaining(session, settings, anna, later) == [1]


def test_pass_required_refuses_and_the_trainer_books_unpaid(session, strict, make_user, now):
    anna = make_user("Anna")
    with pytest.raises(ScheduleError) as refused:
        services.book(Unit(session, strict, Actor.client(anna), now=now), anna, DAY, TEN)
    assert refused.value.code == "no_pass"
    booking = services.book(
        Unit(session, strict, Actor.trainer(), now=now), anna, DAY, TEN, source="admin"
    )
    assert booking.pass_id is None


def test_attendance_waits_for_the_start_and_unmarked_visits_settle_once(
    session, settings, make_user, now
):
    anna, boris = make_user("Anna"), make_user("Boris")
    first = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    second = services.book(Unit(session, settings, Actor.client(boris), now=now), boris, DAY, TEN)
    with pytest.raises(ScheduleError) as early:
        attendance.mark(Unit(session, Settings(), Actor.trainer(), now=now), first.id, "attended")
    assert early.value.code == "not_started"

    during = now + timedelta(days=1, hours=1, minutes=10)
    attendance.mark(Unit(session, Settings(), Actor.trainer(), now=during), first.id, "no_show")
    assert attendance.settle_past_days(session, settings, during) == 0  # the day is not over

    next_day = now + timedelta(days=2)
    assert attendance.settle_past_days(session, settings, next_day) == 1
    assert attendance.settle_past_days(session, settings, next_day) == 0
    session.expire_all()
    assert (
        session.get(Booking, first.id).attendance,
        session.get(Booking, second.id).attendance,
    ) == (
        "no_show",
        "attended",
    )
    no_show_default = replace(settings, attendance_default="no_show")
    third = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=1), TEN
    )
    attendance.settle_past_days(session, no_show_default, now + timedelta(days=3))
    session.refresh(third)
    assert third.attendance == "no_show"


def test_no_shows_in_thirty_days_block_until_unblocked(session, settings, make_user, now):
    strict = replace(settings, no_show_limit=2)
    anna = make_user("Anna")
    missed = [
        services.book(
            Unit(session, strict, Actor.client(anna), now=now), anna, DAY + timedelta(days=n), TEN
        )
        for n in range(2)
    ]
    later = now + timedelta(days=3)
    for booking in missed:
        attendance.mark(
            Unit(session, Settings(), Actor.trainer(), now=later), booking.id, "no_show"
        )
    target = DAY + timedelta(days=4)
    with pytest.raises(ScheduleError) as refused:
        services.book(Unit(session, strict, Actor.client(anna), now=later), anna, target, TEN)
    assert refused.value.code == "no_show_limit"

    # Thirty days on, the no-shows no longer count.
    month = now + timedelta(days=32)
    assert not passes.standing(session, strict, anna.id, month).blocked(month)

    attendance.unblock(Unit(session, Settings(), Actor.trainer(), now=later), anna)
    assert (
        services.book(
            Unit(session, strict, Actor.client(anna), now=later), anna, target, TEN
        ).pass_id
        is None
    )


def test_standing_is_a_pure_rule():
    from schedule import Settings

    held = passes.PassHeld(1, DAY, DAY + timedelta(days=9), 2, (11, 12))
    standing = Standing(Settings(pass_required=True), (held,), ())
    assert standing.refusal(DAY, None) == "no_pass"  # both visits used
    assert standing.refusal(DAY, None, ignore_booking=11) is None  # the one being moved
    assert standing.refusal(DAY + timedelta(days=10), None, 11) == "no_pass"  # expired by then
    assert Standing(Settings(), (held,), ()).refusal(DAY, None) is None  # not required


def test_expiry_notices_are_claimed_once_by_racing_workers(session_factory, settings, now):
    with session_factory() as session:
        anna = services.upsert_user(session, {"id": 700, "first_name": "Anna"})
        boris = services.upsert_user(session, {"id": 701, "first_name": "Boris"})
        soon = passes.record(
            Unit(session, settings, Actor.trainer(), now=now), anna, visits=2, valid_days=3
        )
        passes.record(
            Unit(session, settings, Actor.trainer(), now=now), boris, visits=2, valid_days=30
        )
        used_up = passes.record(
            Unit(session, settings, Actor.trainer(), now=now), boris, visits=1, valid_days=2
        )
        services.book(Unit(session, settings, Actor.client(boris), now=now), boris, DAY, TEN)

    claimed: list[int] = []

    def worker() -> None:
        with session_factory() as own:
            found = passes.claim_expiring(own, settings, now)
            claimed.extend(view.sold.id for view in found)

    import threading

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claimed == [soon.id]  # the used-up pass and the long one are not told of
    assert used_up.id not in claimed
    with session_factory() as session:
        assert passes.claim_expiring(session, settings, now + timedelta(hours=1)) == []
        # Extended, it is told of again when the new expiry nears.
        passes.adjust(
            Unit(session, Settings(), Actor.trainer(), now=now),
            soon.id,
            extend_days=10,
            reason="holiday",
        )
        later = now + timedelta(days=10)
        assert [v.sold.id for v in passes.claim_expiring(session, settings, later)] == [soon.id]
