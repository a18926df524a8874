"""Properties over random sequences of bookings: capacity and overlaps hold, and the grid
tells the truth about what booking would do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from schedule import Booking, Closure, ScheduleError, Settings
from schedule.availability import Snapshot, Span, day_availability
from schedule.services import add_closure, book, cancel, reschedule, upsert_user
from schedule.settings import parse_opening_hours
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED

NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
DAYS = [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]
# A short day and two places make "full", "overlapping" and "closed" common.
STUDIO = Settings(
    capacity=2, opening_hours=parse_opening_hours("08:00-10:00,10:30-13:00"), **UNLIMITED
)
STARTS = list(range(8 * 60, 13 * 60, 30))
USERS = 4

PROPERTY = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# PostgreSQL runs the same properties on fewer examples: SQLite's run covers the breadth of
# random sequences; what PostgreSQL's run adds is its own locking and SQL, which every example
# exercises.
POSTGRES_EXAMPLES = 10


@pytest.fixture(autouse=True)
def fewer_examples_on_postgres(request) -> Iterator[None]:
    test = request.function
    own = getattr(test, "_hypothesis_internal_use_settings", None)  # what @settings gave it
    callspec = getattr(request.node, "callspec", None)
    if own is None or callspec is None or callspec.params.get("database_url") != "postgres":
        yield
        return
    test._hypothesis_internal_use_settings = hypothesis_settings(
        own, max_examples=min(own.max_examples, POSTGRES_EXAMPLES)
    )
    try:
        yield
    finally:
        test._hypothesis_internal_use_settings = own


user_index = st.integers(0, USERS - 1)
day = st.sampled_from(DAYS)
start = st.sampled_from(STARTS)
booking_pick = st.integers(0, 1000)

# Operations aim at a few neighbouring starts, so that trainings collide often.
busy_day = st.sampled_from(DAYS[1:])
busy_start = st.sampled_from(STARTS[5:])
operation = st.one_of(
    st.tuples(st.just("book"), user_index, busy_day, busy_start),
    st.tuples(st.just("book"), user_index, busy_day, busy_start),
    st.tuples(st.just("cancel"), user_index, booking_pick, st.booleans()),
    st.tuples(st.just("reschedule"), user_index, booking_pick, busy_day, busy_start),
)


def fresh_studio(session) -> list:
    """Forget the previous example's bookings and closures; the same users every time."""
    session.execute(delete(Booking))
    session.execute(delete(Closure))
    session.commit()
    return [upsert_user(session, {"id": 9000 + n, "first_name": f"U{n}"}) for n in range(USERS)]


def apply(session, users, op) -> None:
    """Run one operation; a refusal is a fine outcome here, the invariants are checked after."""
    kind, who = op[0], users[op[1]]
    active = session.scalars(
        select(Booking).where(Booking.status == "active").order_by(Booking.id)
    ).all()
    try:
        if kind == "book":
            book(Unit(session, STUDIO, Actor.client(who), now=NOW), who, op[2], op[3])
        elif active and kind == "cancel":
            target = active[op[2] % len(active)]
            as_admin = op[3]
            cancel(
                Unit(session, STUDIO, Actor.trainer() if as_admin else Actor.client(who), now=NOW),
                target.id,
            )
        elif active and kind == "reschedule":
            target = active[op[2] % len(active)]
            reschedule(
                Unit(session, STUDIO, Actor.client(users_by_id(users)[target.user_id]), now=NOW),
                target.id,
                op[3],
                op[4],
            )
    except ScheduleError:
        pass


def users_by_id(users):
    return {user.id: user for user in users}


def assert_invariants(session) -> None:
    spans = session.execute(
        select(Booking.user_id, Booking.starts_at, Booking.ends_at).where(
            Booking.status == "active"
        )
    ).all()
    for _, cell_start, _ in spans:
        present = [s for s in spans if s.starts_at <= cell_start < s.ends_at]
        assert len(present) <= STUDIO.capacity, f"over capacity at {cell_start}"
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a.user_id == b.user_id:
                assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (a, b)


@PROPERTY
@given(operations=st.lists(operation, min_size=8, max_size=30))
def test_random_operations_never_exceed_capacity_or_overlap_a_user(session, operations):
    users = fresh_studio(session)

    for op in operations:
        apply(session, users, op)
        assert_invariants(session)


def _gather_state(session, users, bookings, closure):
    for who, when_day, when_start in bookings:
        with contextlib.suppress(ScheduleError):
            book(
                Unit(session, STUDIO, Actor.client(users[who]), now=NOW),
                users[who],
                when_day,
                when_start,
            )
    if closure is not None:
        closure_day, closure_start, length = closure
        with contextlib.suppress(ScheduleError):
            add_closure(
                Unit(session, STUDIO, Actor.trainer(), now=NOW),
                closure_day,
                start_minute=closure_start,
                end_minute=closure_start + length,
                cancel_bookings=True,
            )


@PROPERTY
@given(
    bookings=st.lists(st.tuples(user_index, day, start), max_size=15),
    closure=st.none() | st.tuples(day, st.integers(8 * 60, 12 * 60), st.integers(1, 120)),
    viewer=user_index,
    viewed_day=day,
    minutes_later=st.integers(0, 6 * 60),
)
def test_can_start_is_true_exactly_when_booking_would_succeed(
    session, bookings, closure, viewer, viewed_day, minutes_later
):
    users = fresh_studio(session)
    _gather_state(session, users, bookings, closure)
    now = NOW + timedelta(minutes=minutes_later)
    user = users[viewer]

    view = day_availability(session, STUDIO, viewed_day, user.id, now)

    assert [slot.cell.minute for slot in view.slots] == STARTS[:4] + STARTS[5:]
    for slot in view.slots:
        try:
            made = book(
                Unit(session, STUDIO, Actor.client(user), now=now),
                user,
                viewed_day,
                slot.cell.minute,
            )
        except ScheduleError as error:
            assert not slot.can_start, f"{slot.start} shown bookable but refused: {error.code}"
        else:
            assert slot.can_start, f"{slot.start} shown unbookable but booking succeeded"
            session.execute(delete(Booking).where(Booking.id == made.id))
            session.commit()


@PROPERTY
@given(
    bookings=st.lists(st.tuples(user_index, day, start), min_size=1, max_size=15),
    pick=booking_pick,
    viewed_day=day,
)
def test_can_start_ignoring_a_booking_is_true_exactly_when_it_could_move_there(
    session, bookings, pick, viewed_day
):
    users = fresh_studio(session)
    _gather_state(session, users, bookings, None)
    active = session.scalars(select(Booking).where(Booking.status == "active")).all()
    if not active:
        return
    moving = active[pick % len(active)]
    home = (moving.starts_at, moving.ends_at)

    view = day_availability(session, STUDIO, viewed_day, moving.user_id, NOW, moving.id)

    for slot in view.slots:
        try:
            reschedule(
                Unit(session, STUDIO, Actor.trainer(), now=NOW),
                moving.id,
                viewed_day,
                slot.cell.minute,
            )
        except ScheduleError as error:
            assert not slot.can_start, f"{slot.start} shown open but refused: {error.code}"
        else:
            assert slot.can_start, f"{slot.start} shown closed but the move succeeded"
            moving.starts_at, moving.ends_at = home
            session.commit()


_instant = st.integers(0, 3 * 24 * 60).map(lambda m: datetime(2026, 11, 25) + timedelta(minutes=m))
_span = st.builds(
    lambda start, minutes, user: Span(start, start + timedelta(minutes=minutes), user, 0),
    _instant,
    st.integers(1, 24 * 60),
    user_index,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(spans=st.lists(_span, max_size=30), starts_at=_instant, minutes=st.integers(1, 240))
def test_the_snapshot_finds_the_same_overlapping_bookings_as_a_full_scan(spans, starts_at, minutes):
    spans = [replace(span, booking_id=n) for n, span in enumerate(spans, start=1)]
    ends_at = starts_at + timedelta(minutes=minutes)
    snapshot = Snapshot(STUDIO, STUDIO.opening_hours, (), tuple(spans))

    found = snapshot.bookings_overlapping(starts_at, ends_at)

    assert sorted(found, key=repr) == sorted(
        (s for s in spans if s.starts_at < ends_at and starts_at < s.ends_at), key=repr
    )
    assert snapshot.booked_at(starts_at) == sum(1 for s in spans if s.covers(starts_at))
