"""Standing bookings in schedule (schedule/series.py): the horizon rolling forward, each
occurrence an ordinary booking, settled exactly once whatever number of workers run."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schedule import ScheduleError, series, services
from schedule.models import ACTIVE, WAITING, Booking, WaitlistEntry
from schedule.series import OccurrenceSettled, SeriesOccurrence, SeriesStopped
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit

THU = date(2026, 11, 26)  # the day after `now` (Wednesday 2026-11-25, 09:00 in Moscow)
TEN = 600


@pytest.fixture
def rules(settings):
    """A 21-day horizon: Thursdays 26 Nov, 3 and 10 Dec are inside, 17 Dec opens at midnight
    of 26 Nov (Moscow)."""
    return replace(settings, booking_horizon_days=21)


def active_starts(session: Session, user) -> list[datetime]:
    session.rollback()
    return list(
        session.scalars(
            select(Booking.starts_at)
            .where(Booking.user_id == user.id, Booking.status == ACTIVE)
            .order_by(Booking.starts_at)
        )
    )


def thursday(weeks: int) -> datetime:
    return datetime(2026, 11, 26, 7, 0) + timedelta(weeks=weeks)  # 10:00 in Moscow


def test_a_four_week_series_books_inside_the_horizon_at_once_and_the_rest_as_days_pass(
    session, rules, now, make_user
):
    anna = make_user("Anna")
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    assert [b.starts_at for b in made.bookings] == [thursday(0), thursday(1), thursday(2)]
    assert made.skipped == [] and made.waiting == []
    assert made.series.until == date(2026, 12, 17)

    # 22:59 in Moscow: 17 Dec is not yet due; from 23:00 (an hour before it opens) it is.
    assert (
        series.book_due(
            Unit(session, rules, Actor.system(), now=now + timedelta(hours=13, minutes=59))
        )
        == []
    )
    settled = series.book_due(Unit(session, rules, Actor.system(), now=now + timedelta(hours=14)))
    assert [(o.occurs_on, o.outcome) for o in settled] == [(date(2026, 12, 17), "booked")]
    assert active_starts(session, anna) == [thursday(n) for n in range(4)]
    # Nothing more, ever: the series has four weeks.
    assert series.book_due(Unit(session, rules, Actor.system(), now=now + timedelta(days=30))) == []
    assert len(active_starts(session, anna)) == 4


def test_the_regular_holds_the_place_before_the_date_opens_to_everyone(
    session, rules, now, make_user
):
    anna, boris = make_user("Anna"), make_user("Boris")
    series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    evening = now + timedelta(hours=14, minutes=30)  # 23:30 in Moscow
    with pytest.raises(ScheduleError) as refused:
        services.book(
            Unit(session, rules, Actor.client(boris), now=evening), boris, date(2026, 12, 17), TEN
        )
    assert refused.value.code == "too_far"
    series.book_due(Unit(session, rules, Actor.system(), now=evening))
    midnight = now + timedelta(hours=15)
    snapshot_places = services.book(
        Unit(session, rules, Actor.client(boris), now=midnight), boris, date(2026, 12, 17), TEN
    )
    assert snapshot_places.starts_at == thursday(3)
    assert thursday(3) in active_starts(session, anna)


def test_an_open_ended_series_keeps_booking_week_after_week(session, rules, now, make_user):
    anna = make_user("Anna")
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, None)
    assert made.series.until is None and len(made.bookings) == 3
    for week in range(1, 4):
        series.book_due(Unit(session, rules, Actor.system(), now=now + timedelta(weeks=week)))
    assert active_starts(session, anna) == [thursday(n) for n in range(6)]


def test_a_closed_date_is_skipped_and_the_client_told(session, rules, now, make_user):
    anna = make_user("Anna")
    services.add_closure(
        Unit(session, rules, Actor.trainer(), now=now), date(2026, 12, 17), reason="Holiday"
    )
    told = []
    series.start(
        Unit(session, rules, Actor.client(anna), now=now, observe=told.append), anna, THU, TEN, 4
    )
    assert not [e for e in told if isinstance(e, OccurrenceSettled)]  # she read the answer
    settled = series.book_due(
        Unit(session, rules, Actor.system(), now=now + timedelta(days=1), observe=told.append)
    )
    assert [(o.outcome, o.reason) for o in settled] == [("skipped", "closed")]
    notices = [e for e in told if isinstance(e, OccurrenceSettled)]
    assert [(n.occurrence.occurs_on, n.occurrence.reason) for n in notices] == [
        (date(2026, 12, 17), "closed")
    ]
    assert thursday(3) not in active_starts(session, anna)


def test_a_full_date_joins_the_waitlist_and_a_freed_place_goes_to_it(
    session, rules, now, make_user
):
    anna = make_user("Anna")
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    day = date(2026, 12, 17)
    # 17 Dec already full (booked while the horizon was longer).
    longer = replace(rules, booking_horizon_days=30)
    others = [make_user(f"Other{n}") for n in range(rules.capacity)]
    for other in others:
        services.book(Unit(session, longer, Actor.client(other), now=now), other, day, TEN)
    told = []
    settled = series.book_due(
        Unit(session, rules, Actor.system(), now=now + timedelta(days=1), observe=told.append)
    )
    assert [o.outcome for o in settled] == ["waiting"]
    assert [type(e).__name__ for e in told] == ["OccurrenceSettled"]
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.user_id == anna.id))
    assert entry.status == WAITING and entry.starts_at == thursday(3)
    later = series.picture(session, rules, made.series, now + timedelta(days=1))
    assert [o.occurs_on for o in later.waiting] == [day]

    first = session.scalar(select(Booking).where(Booking.user_id == others[0].id))
    services.cancel(
        Unit(session, rules, Actor.client(others[0]), now=now + timedelta(days=2)), first.id
    )
    assert thursday(3) in active_starts(session, anna)
    later = series.picture(session, rules, made.series, now + timedelta(days=2))
    assert later.bookings[-1].starts_at == thursday(3) and later.waiting == []


def test_a_series_from_a_booked_training_adopts_it(session, rules, now, make_user):
    anna = make_user("Anna")
    booking = services.book(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN)
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 2)
    assert [b.id for b in made.bookings][0] == booking.id
    assert active_starts(session, anna) == [thursday(0), thursday(1)]


def test_none_can_be_had_refuses_with_the_first_refusal_and_keeps_nothing(
    session, rules, now, make_user
):
    anna = make_user("Anna")
    for week in range(3):
        services.add_closure(
            Unit(session, rules, Actor.trainer(), now=now), THU + timedelta(weeks=week)
        )
    with pytest.raises(ScheduleError) as refused:
        series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 3)
    assert refused.value.code == "closed"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(series.Series)) == 0
    assert session.scalar(select(func.count()).select_from(SeriesOccurrence)) == 0


@pytest.mark.parametrize("weeks", [0, 13, -1, "4", 2.5, True])
def test_weeks_out_of_bounds_is_invalid(session, rules, now, make_user, weeks):
    with pytest.raises(ScheduleError) as refused:
        series.start(
            Unit(session, rules, Actor.client(make_user()), now=now), make_user(), THU, TEN, weeks
        )
    assert refused.value.code == "invalid" and refused.value.http_status == 400


def test_the_same_weekday_and_start_twice_is_refused(session, rules, now, make_user):
    anna = make_user("Anna")
    series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 2)
    with pytest.raises(ScheduleError) as refused:
        series.start(
            Unit(session, rules, Actor.client(anna), now=now),
            anna,
            THU + timedelta(weeks=1),
            TEN,
            2,
        )
    assert refused.value.code == "series_exists"


def test_capacity_holds_for_series_and_clients_alike(session, rules, now, make_user):
    regulars = [make_user(f"Regular{n}") for n in range(rules.capacity + 2)]
    outcomes = []
    for regular in regulars:
        try:
            made = series.start(
                Unit(session, rules, Actor.client(regular), now=now), regular, THU, TEN, 4
            )
        except ScheduleError as error:
            outcomes.append(error.code)
        else:
            outcomes.append("waiting" if made.waiting else "booked")
    assert outcomes == ["booked"] * rules.capacity + ["waiting"] * 2
    series.book_due(Unit(session, rules, Actor.system(), now=now + timedelta(days=1)))
    session.rollback()
    most = session.execute(
        select(Booking.starts_at, func.count())
        .where(Booking.status == ACTIVE)
        .group_by(Booking.starts_at)
    ).all()
    assert {start: n for start, n in most} == {thursday(n): rules.capacity for n in range(4)}


def test_stopping_cancels_what_the_client_still_may(session, rules, now, make_user):
    anna = make_user("Anna")
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    late = thursday(0) - timedelta(minutes=rules.cancel_deadline_minutes - 1)
    stopped = series.stop(Unit(session, rules, Actor.client(anna), now=late), made.series.id)
    assert stopped.status == "stopped" and stopped.stopped_by == "client"
    assert active_starts(session, anna) == [thursday(0)]  # past its deadline: kept
    assert series.book_due(Unit(session, rules, Actor.system(), now=now + timedelta(days=2))) == []
    assert series.active_series(session, rules, late, anna) == []


def test_only_the_owner_may_stop(session, rules, now, make_user):
    anna, boris = make_user("Anna"), make_user("Boris")
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 2)
    for series_id in (made.series.id, 10**6, 2**40, -1):
        with pytest.raises(ScheduleError) as refused:
            series.stop(Unit(session, rules, Actor.client(boris), now=now), series_id)
        assert refused.value.http_status == 404


def test_the_trainer_stops_with_a_reason_told_once(session, rules, now, make_user):
    anna = make_user("Anna")
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    with pytest.raises(ScheduleError):
        series.stop(Unit(session, rules, Actor.trainer(), now=now), made.series.id, reason="  ")
    told = []
    series.stop(
        Unit(session, rules, Actor.trainer(), now=now, observe=told.append),
        made.series.id,
        reason="Moving",
    )
    stops = [e for e in told if isinstance(e, SeriesStopped)]
    assert len(stops) == 1 and stops[0].series.stop_reason == "Moving"
    assert stops[0].cancelled == (thursday(0), thursday(1), thursday(2))
    assert [type(e).__name__ for e in told] == ["SeriesStopped"]  # no message per booking
    assert active_starts(session, anna) == []


def test_two_workers_book_the_next_occurrence_exactly_once(
    session_factory, rules, now, make_user, session
):
    anna = make_user("Anna")
    series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    due = now + timedelta(hours=14)
    barrier = threading.Barrier(4)
    told: list = []
    results: list = []

    def worker() -> None:
        with session_factory() as own:
            barrier.wait()
            results.extend(
                series.book_due(Unit(own, rules, Actor.system(), now=due, observe=told.append))
            )

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [o.occurs_on for o in results] == [date(2026, 12, 17)]
    assert len([e for e in told if isinstance(e, OccurrenceSettled)]) == 1
    assert active_starts(session, anna) == [thursday(n) for n in range(4)]
    assert start_instant(date(2026, 12, 17), TEN, rules) == thursday(3)


class Crash(Exception):
    """The process dies half-way through a stop (here: while its second cancel is told)."""


def test_a_stop_is_one_unit_of_work_a_crash_half_way_changes_nothing(
    session, rules, now, make_user
):
    anna = make_user("Anna")
    full = THU + timedelta(weeks=1)  # full before the series: that date waits
    for other in [make_user(f"Other{n}") for n in range(rules.capacity)]:
        services.book(Unit(session, rules, Actor.client(other), now=now), other, full, TEN)
    made = series.start(Unit(session, rules, Actor.client(anna), now=now), anna, THU, TEN, 4)
    assert [o.occurs_on for o in made.waiting] == [full] and len(made.bookings) == 2
    cancels: list = []

    def crash_on_the_second_cancel(event) -> None:
        if type(event).__name__ == "BookingCancelled":
            cancels.append(event)
            if len(cancels) == 2:
                raise Crash

    with pytest.raises(Crash):
        series.stop(
            Unit(session, rules, Actor.client(anna), now=now, observe=crash_on_the_second_cancel),
            made.series.id,
        )

    session.rollback()
    assert session.get(series.Series, made.series.id, populate_existing=True).status == ACTIVE
    assert active_starts(session, anna) == [thursday(0), thursday(2)]
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.user_id == anna.id))
    assert entry.status == WAITING

    stopped = series.stop(Unit(session, rules, Actor.client(anna), now=now), made.series.id)
    assert stopped.status == "stopped" and active_starts(session, anna) == []
    session.refresh(entry)
    assert entry.status == "left"
