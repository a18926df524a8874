"""The waitlist: joining a full start, and a freed place going to the first in line."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from schedule import ScheduleError, services, waitlist
from schedule.events import BookingMade
from schedule.models import ACTIVE, Booking, User, WaitlistEntry
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN = 10 * 60


@pytest.fixture
def users(session):
    return [
        services.upsert_user(session, {"id": 500 + n, "first_name": f"Client {n}"})
        for n in range(10)
    ]


@pytest.fixture
def full_ten(session, settings, users, now):
    """10:00 tomorrow booked by users 0-3: full."""
    return [
        services.book(Unit(session, settings, Actor.client(u), now=now), u, DAY, TEN)
        for u in users[:4]
    ]


def active_at_ten(session) -> list[int]:
    return sorted(
        session.scalars(
            select(Booking.user_id).where(
                Booking.status == ACTIVE, Booking.starts_at == full_start()
            )
        )
    )


def full_start():
    from schedule.settings import Settings
    from schedule.timegrid import start_instant

    return start_instant(DAY, TEN, Settings())


def test_joining_a_full_start_gives_places_in_line(session, settings, users, full_ten, now):
    first = waitlist.join(
        Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN
    )
    second = waitlist.join(
        Unit(session, settings, Actor.client(users[5]), now=now), users[5], DAY, TEN
    )
    again = waitlist.join(
        Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN
    )
    assert (first.position, second.position) == (1, 2)
    assert again.entry.id == first.entry.id and again.position == 1


def test_a_start_with_free_places_or_closed_has_no_waitlist(session, settings, users, now):
    with pytest.raises(ScheduleError) as free:
        waitlist.join(Unit(session, settings, Actor.client(users[0]), now=now), users[0], DAY, TEN)
    with pytest.raises(ScheduleError) as closed:
        waitlist.join(
            Unit(session, settings, Actor.client(users[0]), now=now), users[0], DAY, 7 * 60
        )
    assert (free.value.code, closed.value.code) == ("not_full", "after_hours")


def test_a_cancellation_books_the_first_in_line(session, settings, users, full_ten, now):
    waitlist.join(Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN)
    waitlist.join(Unit(session, settings, Actor.client(users[5]), now=now), users[5], DAY, TEN)
    events = []
    services.cancel(
        Unit(session, settings, Actor.client(users[0]), now=now, observe=events.append),
        full_ten[0].id,
    )

    assert active_at_ten(session) == sorted(u.id for u in users[1:5])
    made = [e for e in events if isinstance(e, BookingMade)]
    assert [(e.booking.user_id, e.from_waitlist) for e in made] == [(users[4].id, True)]
    assert [p.position for p in waitlist.user_entries(session, users[5], now)] == [1]
    assert waitlist.user_entries(session, users[4], now) == []


def test_no_promotion_inside_the_cancel_deadline(session, settings, users, full_ten, now):
    waitlist.join(Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN)
    late = full_start() - timedelta(minutes=settings.cancel_deadline_minutes - 1)
    services.cancel(
        Unit(session, settings, Actor.trainer(), now=late), full_ten[0].id, reason="ill"
    )
    assert users[4].id not in active_at_ten(session)
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.user_id == users[4].id))
    assert entry.status == "expired"


def test_rescheduling_away_frees_the_place(session, settings, users, full_ten, now):
    waitlist.join(Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN)
    services.reschedule(
        Unit(session, settings, Actor.client(users[0]), now=now), full_ten[0].id, DAY, 14 * 60
    )
    assert users[4].id in active_at_ten(session)


def test_who_left_the_line_is_not_booked(session, settings, users, full_ten, now):
    joined = waitlist.join(
        Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN
    )
    waitlist.leave(session, joined.entry.id, users[4])
    services.cancel(Unit(session, settings, Actor.client(users[0]), now=now), full_ten[0].id)
    assert users[4].id not in active_at_ten(session)
    with pytest.raises(ScheduleError):
        waitlist.leave(session, joined.entry.id, users[4])


def test_someone_else_cannot_take_you_off_the_line(session, settings, users, full_ten, now):
    joined = waitlist.join(
        Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN
    )
    with pytest.raises(ScheduleError) as error:
        waitlist.leave(session, joined.entry.id, users[5])
    assert error.value.code == "not_found"


def test_places_in_line_mark_the_grid(session, settings, users, full_ten, now):
    waitlist.join(Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN)
    waitlist.join(Unit(session, settings, Actor.client(users[5]), now=now), users[5], DAY, TEN)
    assert waitlist.places_in_line(session, settings, users[4].id, DAY, now) == {full_start(): 1}
    assert waitlist.places_in_line(session, settings, users[5].id, DAY, now) == {full_start(): 2}
    assert waitlist.places_in_line(session, settings, users[6].id, DAY, now) == {}


def test_two_places_freeing_at_once_promote_two_distinct_clients(
    session_factory, settings, users, full_ten, now, session
):
    for user in users[4:7]:
        waitlist.join(Unit(session, settings, Actor.client(user), now=now), user, DAY, TEN)
    barrier = threading.Barrier(2)

    def cancel(booking, owner):
        with session_factory() as own:
            barrier.wait()
            services.cancel(
                Unit(own, settings, Actor.client(own.get(User, owner.id)), now=now), booking.id
            )

    threads = [threading.Thread(target=cancel, args=(full_ten[n], users[n])) for n in (0, 1)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    session.expire_all()
    assert active_at_ten(session) == sorted(u.id for u in (*users[2:4], *users[4:6]))
    promoted = session.scalar(select(func.count()).where(WaitlistEntry.status == "promoted"))
    assert promoted == 2


def test_leaving_an_entry_promoted_since_it_was_read_is_refused(
    session_factory, settings, users, full_ten, now, session
):
    joined = waitlist.join(
        Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN
    )  # held by `session`
    with session_factory() as other:  # another process frees a place meanwhile
        services.cancel(
            Unit(other, settings, Actor.client(other.get(User, users[0].id)), now=now),
            full_ten[0].id,
        )

    with pytest.raises(ScheduleError):
        waitlist.leave(session, joined.entry.id, users[4])

    session.expire_all()
    assert session.get(WaitlistEntry, joined.entry.id).status == "promoted"
    assert users[4].id in active_at_ten(session)


def test_leaving_while_being_promoted_is_one_or_the_other(
    session_factory, settings, users, full_ten, now, session
):
    joined = waitlist.join(
        Unit(session, settings, Actor.client(users[4]), now=now), users[4], DAY, TEN
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def leave():
        with session_factory() as own:
            barrier.wait()
            try:
                waitlist.leave(own, joined.entry.id, own.get(User, users[4].id))
                outcomes.append("left")
            except ScheduleError:
                outcomes.append("too late to leave")

    def cancel():
        with session_factory() as own:
            barrier.wait()
            services.cancel(
                Unit(own, settings, Actor.client(own.get(User, users[0].id)), now=now),
                full_ten[0].id,
            )

    threads = [threading.Thread(target=leave), threading.Thread(target=cancel)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    session.expire_all()
    entry = session.get(WaitlistEntry, joined.entry.id)
    booked = users[4].id in active_at_ten(session)
    if outcomes == ["left"]:
        assert entry.status == "left" and not booked
    else:
        assert entry.status == "promoted" and booked
