"""Fair use per client: bookings a day, upcoming bookings and waitlists, on SQLite and
PostgreSQL; the rules, the grid and the services refuse alike, and the trainer is not limited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from schedule import ConfigError, ScheduleError, Settings, services, waitlist
from schedule.availability import day_availability
from schedule.limits import ACTIVE_BOOKINGS, PER_DAY, WAITLIST, LimitReached
from schedule.models import ACTIVE, Booking
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN, TWO = 10 * 60, 14 * 60

LIMITED = Settings(
    **{**UNLIMITED, "max_bookings_per_day": 1, "max_active_bookings": 4, "max_waitlist_entries": 3}
)


@pytest.fixture
def clients(make_user):
    return [make_user(f"Client {n}") for n in range(8)]


def refused(call) -> ScheduleError:
    with pytest.raises(ScheduleError) as error:
        call()
    return error.value


def refusals(session, settings, user, day, now) -> dict[str, str | None]:
    view = day_availability(session, settings, day, user.id, now)
    return {slot.start: slot.refusal for slot in view.slots}


def test_the_defaults_are_one_a_day_four_upcoming_three_waitlists():
    settings = Settings()
    assert (
        settings.max_bookings_per_day,
        settings.max_active_bookings,
        settings.max_waitlist_entries,
    ) == (1, 4, 3)


def test_a_second_booking_on_one_day_is_limit_reached_saying_which(session, clients, now):
    me = clients[0]
    services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TEN)

    error = refused(
        lambda: services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TWO)
    )

    assert isinstance(error, LimitReached) and error.code == "limit_reached"
    assert error.limit == PER_DAY and error.http_status == 409
    assert "1 booking on one day" in error.message("en")
    assert "на один день" in error.message("ru")
    assert services.book(
        Unit(session, LIMITED, Actor.client(me), now=now), me, DAY + timedelta(days=1), TWO
    )


def test_the_grid_shows_the_limit_where_the_service_refuses(session, clients, now):
    me, other = clients[0], clients[1]
    services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TEN)

    mine = refusals(session, LIMITED, me, DAY, now)
    view = day_availability(session, LIMITED, DAY, me.id, now)

    assert mine["14:00"] == "limit_reached" and mine["10:30"] == "overlapping"
    assert view.limit == PER_DAY
    assert refusals(session, LIMITED, other, DAY, now)["14:00"] is None
    assert refusals(session, LIMITED, me, DAY + timedelta(days=1), now)["14:00"] is None
    # The trainer's picture of the day (no viewer) knows no limits.
    assert day_availability(session, LIMITED, DAY, None, now).limit is None


def test_upcoming_bookings_are_limited_until_one_is_cancelled_or_over(session, clients, now):
    me = clients[0]
    held = [
        services.book(
            Unit(session, LIMITED, Actor.client(me), now=now), me, DAY + timedelta(days=n), TEN
        )
        for n in range(4)
    ]
    fifth_day = DAY + timedelta(days=4)

    error = refused(
        lambda: services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, fifth_day, TEN)
    )
    assert (error.code, error.limit) == ("limit_reached", ACTIVE_BOOKINGS)
    assert "4 upcoming" in error.message("en")
    assert refusals(session, LIMITED, me, fifth_day, now)["10:00"] == "limit_reached"

    services.cancel(Unit(session, LIMITED, Actor.client(me), now=now), held[0].id)
    assert (
        services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, fifth_day, TEN).status
        == ACTIVE
    )
    # Once a training is over it no longer counts.
    after_first = held[1].ends_at + timedelta(minutes=1)
    sixth_day = DAY + timedelta(days=5)
    assert refusals(session, LIMITED, me, sixth_day, after_first)["10:00"] is None


def test_the_trainer_booking_for_a_client_is_not_limited(session, clients, now):
    me = clients[0]
    services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TEN)

    booking = services.book(
        Unit(session, LIMITED, Actor.trainer(), now=now), me, DAY, TWO, source="admin"
    )

    assert booking.status == ACTIVE
    for source in ("miniapp", "bot"):
        error = refused(
            lambda source=source: services.book(
                Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, 16 * 60, source=source
            )
        )
        assert error.code == "limit_reached"


def test_moving_a_booking_counts_it_once(session, clients, now):
    me = clients[0]
    first = services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TEN)
    other_day = services.book(
        Unit(session, LIMITED, Actor.client(me), now=now), me, DAY + timedelta(days=1), TEN
    )

    moved = services.reschedule(
        Unit(session, LIMITED, Actor.client(me), now=now), first.id, DAY, TWO
    )
    assert moved.starts_at.hour == 11  # 14:00 in Moscow

    error = refused(
        lambda: services.reschedule(
            Unit(session, LIMITED, Actor.client(me), now=now),
            first.id,
            DAY + timedelta(days=1),
            TWO,
        )
    )
    assert (error.code, error.limit) == ("limit_reached", PER_DAY)
    assert session.get(Booking, first.id, populate_existing=True).starts_at == moved.starts_at
    # The trainer may move it there all the same.
    services.reschedule(
        Unit(session, LIMITED, Actor.trainer(), now=now), first.id, DAY + timedelta(days=1), TWO
    )
    assert other_day.status == ACTIVE


def fill(session, settings, users, day, minute, now):
    for user in users:
        services.book(
            Unit(session, settings, Actor.trainer(), now=now), user, day, minute, source="admin"
        )


def test_waitlists_are_limited_too(session, clients, now):
    me, others = clients[0], clients[1:5]
    for n in range(4):
        fill(session, LIMITED, others, DAY + timedelta(days=n), TEN, now)
    for n in range(3):
        waitlist.join(
            Unit(session, LIMITED, Actor.client(me), now=now), me, DAY + timedelta(days=n), TEN
        )

    error = refused(
        lambda: waitlist.join(
            Unit(session, LIMITED, Actor.client(me), now=now), me, DAY + timedelta(days=3), TEN
        )
    )
    assert (error.code, error.limit) == ("limit_reached", WAITLIST)
    assert "3 waitlists" in error.message("en")
    # Joining one already joined is no new entry.
    again = waitlist.join(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TEN)
    assert again.position == 1


def test_a_client_at_a_booking_limit_may_not_wait_for_that_day(session, clients, now):
    me, others = clients[0], clients[1:5]
    fill(session, LIMITED, others, DAY, TEN, now)
    services.book(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, 15 * 60)

    error = refused(
        lambda: waitlist.join(Unit(session, LIMITED, Actor.client(me), now=now), me, DAY, TEN)
    )

    assert (error.code, error.limit) == ("limit_reached", PER_DAY)


def test_a_freed_place_skips_a_waiting_client_now_at_a_limit(session, clients, now):
    first, second, others = clients[0], clients[1], clients[2:6]
    fill(session, LIMITED, others, DAY, TEN, now)
    waitlist.join(Unit(session, LIMITED, Actor.client(first), now=now), first, DAY, TEN)
    waitlist.join(Unit(session, LIMITED, Actor.client(second), now=now), second, DAY, TEN)
    # Meanwhile the first in line booked another training that day (the trainer did it for them).
    services.book(
        Unit(session, LIMITED, Actor.trainer(), now=now), first, DAY, 15 * 60, source="admin"
    )

    cancelled = session.scalar(select(Booking).where(Booking.user_id == others[0].id))
    services.cancel(Unit(session, LIMITED, Actor.trainer(), now=now), cancelled.id)

    holders = session.scalars(
        select(Booking.user_id).where(
            Booking.status == ACTIVE, Booking.starts_at == start_instant(DAY, TEN, LIMITED)
        )
    ).all()
    assert second.id in holders and first.id not in holders


def test_limits_come_from_the_environment_and_zero_turns_one_off():
    settings = Settings.from_env(
        {"MAX_BOOKINGS_PER_DAY": "2", "MAX_ACTIVE_BOOKINGS": "0", "MAX_WAITLIST_ENTRIES": " 5 "}
    )
    assert (
        settings.max_bookings_per_day,
        settings.max_active_bookings,
        settings.max_waitlist_entries,
    ) == (2, 0, 5)
    with pytest.raises(ConfigError, match="MAX_ACTIVE_BOOKINGS"):
        Settings.from_env({"MAX_ACTIVE_BOOKINGS": "-1"})
    with pytest.raises(ConfigError, match="MAX_BOOKINGS_PER_DAY"):
        Settings.from_env({"MAX_BOOKINGS_PER_DAY": "many"})


def test_rate_limits_come_from_the_environment_and_empty_turns_one_off():
    settings = Settings.from_env(
        {"RATE_LIMIT_WRITES": "5/second", "RATE_LIMIT_READS": "", "RATE_LIMIT_STORAGE": "redis://h"}
    )
    assert (settings.rate_limit_writes, settings.rate_limit_reads) == ("5/second", "")
    assert settings.rate_limit_anonymous == "600/minute"
    assert settings.rate_limit_storage == "redis://h"
    with pytest.raises(ConfigError, match="RATE_LIMIT_READS"):
        Settings.from_env({"RATE_LIMIT_READS": "lots"})
    with pytest.raises(ConfigError, match="RATE_LIMIT_STORAGE"):
        Settings.from_env({"RATE_LIMIT_STORAGE": "memcached://h"})
