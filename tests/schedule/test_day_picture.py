"""The picture of a day (schedule.availability.view_day) as pure functions: a snapshot built
by hand, no database. What each start means to a viewer: its refusal, places, whether they may
wait, their place in line, their own booking."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from schedule import Settings
from schedule.availability import REFUSALS, Snapshot, Span, horizon_days, unchanged_until, view_day
from schedule.limits import Held, Holdings
from schedule.settings import parse_opening_hours
from schedule.timegrid import start_instant
from tests.conftest import UNLIMITED

NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
TODAY = date(2026, 11, 25)
DAY = date(2026, 11, 26)
VIEWER, OTHERS = 1, (11, 12, 13, 14)
SETTINGS = Settings(**UNLIMITED)


def at(hhmm: str, day: date = DAY) -> datetime:
    return start_instant(day, int(hhmm[:2]) * 60 + int(hhmm[3:]), SETTINGS)


def booking(hhmm: str, user_id: int, booking_id: int, day: date = DAY) -> Span:
    starts_at = at(hhmm, day)
    return Span(starts_at, starts_at + timedelta(minutes=90), user_id, booking_id)


def snapshot(*bookings: Span, closures: tuple[Span, ...] = (), settings=SETTINGS) -> Snapshot:
    return Snapshot(settings, settings.opening_hours, closures, tuple(bookings))


def picture(snap: Snapshot, user_id: int | None = VIEWER, day: date = DAY, **kwargs) -> dict:
    return {s.start: s for s in view_day(snap, day, user_id, NOW, **kwargs).slots}


def scenario() -> Snapshot:
    """Four others at 10:30, the viewer at 14:00."""
    return snapshot(
        *(booking("10:30", user, 100 + user) for user in OTHERS), booking("14:00", VIEWER, 1)
    )


def test_a_full_later_cell_makes_every_start_reaching_it_full_and_waitable():
    slots = picture(scenario())
    for start in ("09:30", "10:00", "10:30", "11:00", "11:30"):
        slot = slots[start]
        assert (slot.refusal, slot.places, slot.can_wait) == ("full", 0, True), start
    assert slots["09:30"].free == 4  # its own cell is empty: places, not free, decide
    for start in ("09:00", "12:00"):
        slot = slots[start]
        assert (slot.refusal, slot.places, slot.can_start, slot.can_wait) == (None, 4, True, False)


def test_a_start_overlapping_the_viewers_booking_says_which():
    slots = picture(scenario())
    assert slots["13:00"].refusal == "overlapping"
    assert slots["13:00"].clash.starts_at == at("14:00")
    assert slots["12:30"].refusal is None  # ends at 14:00, as the booking starts
    assert [s for s, slot in slots.items() if slot.own] == ["14:00", "14:30", "15:00"]
    assert slots["14:00"].own.booking_id == 1 and slots["14:00"].mine
    assert picture(scenario(), user_id=OTHERS[0])["13:00"].refusal is None


def test_a_start_running_past_the_opening_hours_says_where_they_end():
    slots = picture(scenario())
    assert (slots["17:00"].refusal, slots["17:30"].refusal) == ("after_hours", "after_hours")
    assert slots["17:00"].closes_at == at("18:00")
    assert slots["16:30"].refusal is None


def test_a_closure_is_closed_whoever_asks_and_marks_its_cells():
    closure = Span(at("12:00"), at("13:00"))
    slots = picture(snapshot(closures=(closure,)))
    assert [s for s, slot in slots.items() if slot.refusal == "closed"] == [
        "11:00",
        "11:30",
        "12:00",
        "12:30",
    ]
    assert [s for s, slot in slots.items() if slot.closed] == ["12:00", "12:30"]
    assert not any(slot.can_wait for slot in slots.values())  # closed is not full


def test_the_clock_decides_too_soon_past_and_too_far():
    slots = picture(snapshot(), day=TODAY)
    assert slots["09:00"].refusal == "too_soon" and slots["09:00"].past
    assert slots["09:30"].refusal is None and not slots["09:30"].past
    far = picture(snapshot(), day=TODAY + timedelta(days=SETTINGS.booking_horizon_days + 1))
    assert {slot.refusal for slot in far.values()} == {"too_far"}


def test_waiting_past_the_promotion_cutoff_is_not_offered():
    settings = Settings(**{**UNLIMITED, "cancel_deadline_minutes": 120})
    full_today = snapshot(*(booking("10:30", u, u, TODAY) for u in OTHERS), settings=settings)
    slots = picture(full_today, day=TODAY)
    assert slots["10:30"].refusal == "full" and not slots["10:30"].can_wait  # 11:00 cutoff
    assert slots["11:00"].refusal == "full" and slots["11:00"].can_wait


def test_the_viewers_place_in_line_and_no_second_offer():
    slots = picture(scenario(), in_line={at("10:30"): 2})
    assert (slots["10:30"].in_line, slots["10:30"].can_wait) == (2, False)
    assert (slots["10:00"].in_line, slots["10:00"].can_wait) == (None, True)


def test_nobody_in_particular_may_not_wait_and_owns_nothing():
    slots = picture(scenario(), user_id=None)
    assert slots["10:30"].refusal == "full" and not slots["10:30"].can_wait
    assert slots["13:00"].refusal is None and not any(slot.own for slot in slots.values())


def test_fair_use_limits_refuse_as_limit_reached_and_waiting_has_its_own():
    settings = Settings(**{**UNLIMITED, "max_bookings_per_day": 1, "max_waitlist_entries": 1})
    snap = snapshot(
        *(booking("10:30", u, 100 + u) for u in OTHERS),
        booking("14:00", VIEWER, 1),
        settings=settings,
    )
    holds = (Held(1, DAY, at("15:30")),)
    elsewhere = (at("12:00", DAY + timedelta(days=1)),)
    slots = picture(snap, holdings=Holdings(settings, VIEWER, holds, waiting=()))
    assert slots["09:00"].refusal == "limit_reached"  # one booking that day already
    assert slots["10:30"].refusal == "limit_reached" and not slots["10:30"].can_wait
    slots = picture(snap, holdings=Holdings(settings, VIEWER, (), waiting=elsewhere))
    assert slots["09:00"].refusal is None
    assert slots["10:30"].refusal == "full" and not slots["10:30"].can_wait  # waits once already
    slots = picture(snap, holdings=Holdings(settings, VIEWER, (), waiting=()))
    assert slots["10:30"].can_wait


def test_every_refusal_is_one_of_the_documented_codes():
    slots = picture(scenario())
    assert {slot.refusal for slot in slots.values()} - {None} <= set(REFUSALS)
    assert REFUSALS.index("full") == len(REFUSALS) - 1  # full only when nothing else refuses


@pytest.mark.parametrize("booked", [0, 1, 3, 4])
def test_places_are_capacity_minus_the_busiest_cell(booked):
    snap = snapshot(*(booking("11:00", 20 + n, 200 + n) for n in range(booked)))
    slots = picture(snap)
    assert slots["10:00"].places == max(4 - booked, 0)  # its 11:00 cell
    assert slots["08:00"].places == 4


# What the clock alone changes (schedule.availability.unchanged_until, the first paint's lifetime)


def everyones_horizon(snap: Snapshot, now: datetime) -> list:
    """The horizon as the first paint draws it: for nobody in particular."""
    return [view_day(snap, day, None, now) for day in horizon_days(snap.settings, now)]


@pytest.mark.parametrize(
    ("notice", "moscow", "until"),
    [
        (30, "09:10", "09:30"),  # 10:00 enters the notice just after 09:30
        (30, "09:00", "09:00"),  # 09:30 enters it just after now
        (45, "09:59", "10:00"),  # 10:00 comes before 10:45 enters the notice (at 10:00 too)
        (45, "09:31", "09:45"),  # 10:30 enters the notice just after 09:45, before 10:00 comes
        (45, "23:40", "23:45"),
        (120, "23:50", "00:00"),  # tomorrow enters the horizon
    ],
)
def test_the_clock_changes_the_picture_at_the_next_start_or_notice_or_midnight(
    notice, moscow, until
):
    settings = Settings(**{**UNLIMITED, "min_notice_minutes": notice})
    hour, minute = int(moscow[:2]), int(moscow[3:])
    now = datetime(2026, 11, 25, 6, 0) + timedelta(hours=hour - 9, minutes=minute)
    expected = datetime(2026, 11, 25, 6, 0) + timedelta(
        hours=int(until[:2]) - 9, minutes=int(until[3:])
    )
    if until < moscow:
        expected += timedelta(days=1)
    assert unchanged_until(settings, now) == expected


ROUND_THE_CLOCK = Settings(**{**UNLIMITED, "opening_hours": parse_opening_hours("00:00-24:00")})


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    seconds=st.integers(0, 2 * 86_400 - 1),
    micros=st.sampled_from([0, 1, 999_999]),
    notice=st.sampled_from([0, 15, 30, 45, 60, 90, 120]),
    between=st.floats(0, 1, exclude_max=True),
)
def test_the_picture_holds_until_that_instant_and_changes_just_after_it(
    seconds, micros, notice, between
):
    """Every start of every day open round the clock, so each such instant changes something."""
    settings = Settings(**{**vars(ROUND_THE_CLOCK), "min_notice_minutes": notice})
    now = datetime(2026, 11, 24, 21, 0) + timedelta(seconds=seconds, microseconds=micros)
    snap = snapshot(
        *(booking("10:30", user, 100 + user) for user in OTHERS),
        booking("15:00", VIEWER, 1),
        settings=settings,
    )
    until = unchanged_until(settings, now)
    assert now <= until <= now + timedelta(minutes=settings.slot_minutes)
    seen = everyones_horizon(snap, now)
    if until > now:
        assert (
            everyones_horizon(snap, now + (until - now - timedelta(microseconds=1)) * between)
            == seen
        )
        assert everyones_horizon(snap, until - timedelta(microseconds=1)) == seen
    assert everyones_horizon(snap, until + timedelta(microseconds=1)) != seen
