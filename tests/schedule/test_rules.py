"""The booking rules as availability shows them and booking enforces them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from schedule import ScheduleError, Settings
from schedule.availability import bookable_days, day_availability, horizon_availability
from schedule.services import add_closure, book, cancel
from schedule.settings import parse_opening_hours
from schedule.timegrid import parse_start
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED

TODAY = date(2026, 11, 25)  # the `now` fixture: Wednesday 09:00 in Moscow
TOMORROW = date(2026, 11, 26)


def grid(session, settings, day, user, now):
    """{"HH:MM": SlotView} of one day as `user` sees it."""
    view = day_availability(session, settings, day, user.id if user else None, now)
    return {slot.start: slot for slot in view.slots}


def startable(session, settings, day, user, now) -> list[str]:
    return [s for s, slot in grid(session, settings, day, user, now).items() if slot.can_start]


def book_at(session, settings, user, day, start, now):
    return book(
        Unit(session, settings, Actor.client(user), now=now),
        user,
        day,
        parse_start(start, settings),
    )


def refusal(session, settings, user, day, start, now) -> str | None:
    """The error code booking would give, or None after booking successfully."""
    try:
        book_at(session, settings, user, day, start, now)
    except ScheduleError as error:
        return error.code
    return None


# Opening hours and the last start of the day


def test_every_cell_of_the_opening_hours_is_listed_in_order(session, settings, now):
    slots = grid(session, settings, TOMORROW, None, now)

    assert list(slots) == [f"{h:02d}:{m:02d}" for h in range(8, 18) for m in (0, 30)]
    assert all(slot.booked == 0 and slot.free == 4 for slot in slots.values())


def test_the_last_start_of_the_day_ends_at_closing(session, settings, make_user, now):
    slots = grid(session, settings, TOMORROW, make_user(), now)

    assert slots["16:30"].can_start
    assert not slots["17:00"].can_start
    assert not slots["17:30"].can_start


def test_booking_past_closing_time_is_refused_as_after_hours(session, settings, make_user, now):
    user = make_user()

    assert refusal(session, settings, user, TOMORROW, "17:30", now) == "after_hours"
    assert refusal(session, settings, user, TOMORROW, "17:00", now) == "after_hours"
    assert refusal(session, settings, user, TOMORROW, "07:30", now) == "after_hours"
    assert refusal(session, settings, user, TOMORROW, "16:30", now) is None


def test_a_training_cannot_span_a_break_between_intervals(session, make_user, now):
    settings = Settings(opening_hours=parse_opening_hours("08:00-12:00,13:00-18:00"))
    user = make_user()

    assert "10:30" in startable(session, settings, TOMORROW, user, now)
    assert "11:00" not in startable(session, settings, TOMORROW, user, now)
    assert refusal(session, settings, user, TOMORROW, "11:00", now) == "after_hours"
    assert refusal(session, settings, user, TOMORROW, "13:00", now) is None


def test_a_closed_weekday_has_no_cells(session, now):
    settings = Settings(opening_hours=parse_opening_hours("mon-fri 08:00-18:00"))

    assert grid(session, settings, date(2026, 11, 28), None, now) == {}


# Capacity: the 4th and the 5th visitor


def test_four_visitors_fit_and_the_fifth_is_refused(session, settings, make_user, now):
    for n in range(4):
        assert refusal(session, settings, make_user(f"V{n}"), TOMORROW, "10:00", now) is None

    assert refusal(session, settings, make_user("Fifth"), TOMORROW, "10:00", now) == "full"


def test_free_places_count_down_over_every_occupied_cell(session, settings, make_user, now):
    for n in range(3):
        book_at(session, settings, make_user(f"V{n}"), TOMORROW, "10:00", now)
    slots = grid(session, settings, TOMORROW, make_user("Looker"), now)

    counts = [(slots[t].booked, slots[t].free) for t in ("09:30", "10:00", "11:00", "11:30")]
    assert counts == [(0, 4), (3, 1), (3, 1), (0, 4)]
    assert slots["10:00"].can_start


def test_a_full_cell_blocks_every_start_that_overlaps_it_by_one_cell(
    session, settings, make_user, now
):
    for n in range(4):
        book_at(session, settings, make_user(f"V{n}"), TOMORROW, "10:00", now)
    other = make_user("Other")
    slots = grid(session, settings, TOMORROW, other, now)

    assert slots["10:00"].free == 0
    assert slots["08:30"].can_start  # ends at 10:00
    assert not slots["09:00"].can_start  # its last cell is 10:00
    assert not slots["11:00"].can_start  # its first cell is 11:00
    assert slots["11:30"].can_start
    assert refusal(session, settings, other, TOMORROW, "09:00", now) == "full"
    assert refusal(session, settings, other, TOMORROW, "11:00", now) == "full"


def test_staggered_trainings_fill_only_the_cells_they_share(session, settings, make_user, now):
    for n, start in enumerate(("09:00", "09:30", "10:00", "10:30")):
        book_at(session, settings, make_user(f"V{n}"), TOMORROW, start, now)
    slots = grid(session, settings, TOMORROW, make_user("Other"), now)

    assert [slots[t].booked for t in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")] == [
        1,
        2,
        3,
        3,
        2,
        1,
    ]
    assert slots["10:00"].can_start
    assert refusal(session, settings, make_user("Fifth"), TOMORROW, "10:00", now) is None
    assert refusal(session, settings, make_user("Sixth"), TOMORROW, "09:30", now) == "full"


def test_a_cancelled_booking_frees_its_place(session, settings, make_user, now):
    bookings = [
        book_at(session, settings, make_user(f"V{n}"), TOMORROW, "10:00", now) for n in range(4)
    ]
    cancel(Unit(session, settings, Actor.trainer(), now=now), bookings[0].id, reason="injury")

    assert grid(session, settings, TOMORROW, None, now)["10:00"].free == 1
    assert refusal(session, settings, make_user("Next"), TOMORROW, "10:00", now) is None


# The same user


def test_the_same_user_cannot_book_the_same_start_twice(session, settings, make_user, now):
    user = make_user()
    book_at(session, settings, user, TOMORROW, "10:00", now)

    assert refusal(session, settings, user, TOMORROW, "10:00", now) == "overlapping"


def test_a_user_cannot_overlap_their_own_training_by_one_cell(session, settings, make_user, now):
    user = make_user()
    book_at(session, settings, user, TOMORROW, "10:00", now)
    mine = startable(session, settings, TOMORROW, user, now)

    assert "08:30" in mine and "11:30" in mine
    assert not {"09:00", "09:30", "10:00", "10:30", "11:00"} & set(mine)
    assert refusal(session, settings, user, TOMORROW, "09:00", now) == "overlapping"
    assert refusal(session, settings, user, TOMORROW, "11:00", now) == "overlapping"
    assert refusal(session, settings, user, TOMORROW, "11:30", now) is None
    assert refusal(session, settings, user, TOMORROW, "08:30", now) is None


def test_mine_marks_the_cells_of_the_users_own_active_trainings(session, settings, make_user, now):
    user, other = make_user("Me"), make_user("Other")
    book_at(session, settings, user, TOMORROW, "10:00", now)
    book_at(session, settings, other, TOMORROW, "14:00", now)
    mine = [s for s, slot in grid(session, settings, TOMORROW, user, now).items() if slot.mine]

    assert mine == ["10:00", "10:30", "11:00"]
    assert not any(slot.mine for slot in grid(session, settings, TOMORROW, None, now).values())


def test_another_users_booking_does_not_block_me(session, settings, make_user, now):
    book_at(session, settings, make_user("Other"), TOMORROW, "10:00", now)

    assert "10:00" in startable(session, settings, TOMORROW, make_user("Me"), now)


# Notice and horizon


def test_min_notice_edge(session, settings, make_user, now):
    user = make_user()
    today = grid(session, settings, TODAY, user, now)  # now is 09:00 local

    assert not today["08:00"].can_start
    assert not today["09:00"].can_start
    assert today["09:30"].can_start  # exactly MIN_NOTICE_MINUTES ahead
    assert refusal(session, settings, user, TODAY, "09:00", now) == "too_soon"
    assert refusal(session, settings, user, TODAY, "09:30", now) is None


def test_min_notice_one_minute_short(session, settings, make_user, now):
    later = now + timedelta(minutes=1)

    assert not grid(session, settings, TODAY, None, later)["09:30"].can_start
    assert refusal(session, settings, make_user(), TODAY, "09:30", later) == "too_soon"


def test_horizon_edge(session, settings, make_user, now):
    user = make_user()
    last_day = TODAY + timedelta(days=7)

    assert startable(session, settings, last_day, user, now)[-1] == "16:30"
    assert startable(session, settings, last_day + timedelta(days=1), user, now) == []
    assert refusal(session, settings, user, last_day + timedelta(days=1), "08:00", now) == "too_far"
    assert refusal(session, settings, user, last_day, "16:30", now) is None


def test_the_horizon_moves_at_local_midnight(session, settings):
    """At 00:00 in Moscow it is Thursday there but still Wednesday in UTC."""
    wednesday_2330 = datetime(2026, 11, 25, 20, 30)
    thursday_0000 = datetime(2026, 11, 25, 21, 0)
    eight_days_ahead = TODAY + timedelta(days=8)

    assert startable(session, settings, eight_days_ahead, None, wednesday_2330) == []
    assert startable(session, settings, eight_days_ahead, None, thursday_0000)


def test_days_in_the_past_or_beyond_the_horizon_list_cells_none_startable(session, settings, now):
    for day in (TODAY - timedelta(days=1), TODAY + timedelta(days=30)):
        slots = grid(session, settings, day, None, now)
        assert len(slots) == 20
        assert not any(slot.can_start for slot in slots.values())


def test_horizon_availability_covers_today_to_the_horizon(session, settings, now):
    views = horizon_availability(session, settings, None, now)

    assert [view.day for view in views] == [TODAY + timedelta(days=n) for n in range(8)]
    assert all(view.available for view in views)


def test_bookable_days_leave_out_closed_and_full_days(session, settings, make_user, now):
    add_closure(Unit(session, settings, Actor.trainer(), now=now), TOMORROW, reason="holiday")
    weekdays_only = Settings(opening_hours=parse_opening_hours("mon-fri 08:00-18:00"))

    days = bookable_days(session, weekdays_only, make_user().id, now)

    assert TOMORROW not in days
    assert date(2026, 11, 28) not in days and date(2026, 11, 29) not in days
    assert days == [
        TODAY,
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    ]


def test_a_day_is_not_bookable_once_the_last_start_has_passed(session, settings, now):
    evening = datetime(2026, 11, 25, 13, 1)  # 16:01 in Moscow: 16:30 is under 30 min away

    assert TODAY not in bookable_days(session, settings, None, evening)
    assert TODAY in bookable_days(session, settings, None, evening - timedelta(minutes=2))


# Closures


def test_a_training_crossing_into_a_closure_is_refused(session, settings, make_user, now):
    add_closure(
        Unit(session, settings, Actor.trainer(), now=now),
        TOMORROW,
        start_minute=12 * 60,
        end_minute=13 * 60,
    )
    user = make_user()
    slots = grid(session, settings, TOMORROW, user, now)

    assert slots["10:30"].can_start  # ends at 12:00
    assert [t for t in ("11:00", "11:30", "12:00", "12:30") if slots[t].can_start] == []
    assert slots["13:00"].can_start
    assert refusal(session, settings, user, TOMORROW, "11:00", now) == "closed"
    assert refusal(session, settings, user, TOMORROW, "10:30", now) is None


def test_a_whole_day_closure_closes_every_cell(session, settings, make_user, now):
    add_closure(Unit(session, settings, Actor.trainer(), now=now), TOMORROW, reason="holiday")
    user = make_user()

    assert startable(session, settings, TOMORROW, user, now) == []
    assert refusal(session, settings, user, TOMORROW, "10:00", now) == "closed"
    assert startable(session, settings, TOMORROW + timedelta(days=1), user, now)


def test_a_closure_off_the_grid_closes_every_cell_it_touches(session, settings, make_user, now):
    add_closure(
        Unit(session, settings, Actor.trainer(), now=now),
        TOMORROW,
        start_minute=10 * 60 + 10,
        end_minute=10 * 60 + 20,
    )
    user = make_user()
    mine = startable(session, settings, TOMORROW, user, now)

    assert "08:30" in mine and "10:30" in mine
    assert not {"09:00", "09:30", "10:00"} & set(mine)
    assert refusal(session, settings, user, TOMORROW, "09:30", now) == "closed"


# Midnight


def test_round_the_clock_training_crosses_midnight(session, make_user, now):
    settings = Settings(opening_hours=parse_opening_hours("00:00-24:00"))
    user, other = make_user("Me"), make_user("Other")
    slots = grid(session, settings, TOMORROW, user, now)

    assert len(slots) == 48
    assert slots["23:00"].can_start and slots["23:30"].can_start
    book_at(session, settings, user, TOMORROW, "23:00", now)
    next_day = grid(session, settings, TOMORROW + timedelta(days=1), user, now)
    assert next_day["00:00"].booked == 1 and next_day["00:00"].mine
    assert next_day["00:30"].booked == 0
    assert not next_day["00:00"].can_start  # the user's own training is still running
    assert next_day["00:30"].can_start
    assert (
        refusal(session, settings, user, TOMORROW + timedelta(days=1), "00:00", now)
        == "overlapping"
    )
    assert refusal(session, settings, other, TOMORROW + timedelta(days=1), "00:00", now) is None


def test_a_full_cell_after_midnight_blocks_the_evening_before(session, make_user, now):
    settings = Settings(opening_hours=parse_opening_hours("00:00-24:00"), capacity=1)
    book_at(session, settings, make_user("Early"), TOMORROW + timedelta(days=1), "00:00", now)

    slots = grid(session, settings, TOMORROW, make_user("Late"), now)

    assert slots["22:30"].can_start
    assert not slots["23:00"].can_start and not slots["23:30"].can_start


def test_evening_hours_ending_at_midnight_need_the_next_days_hours(session, make_user, now):
    settings = Settings(opening_hours=parse_opening_hours("18:00-24:00"))
    user = make_user()
    slots = grid(session, settings, TOMORROW, user, now)

    assert list(slots)[-1] == "23:30"
    assert slots["22:30"].can_start
    assert not slots["23:00"].can_start and not slots["23:30"].can_start
    assert refusal(session, settings, user, TOMORROW, "23:00", now) == "after_hours"


def test_a_training_may_continue_into_the_next_days_opening_hours(session, make_user, now):
    settings = Settings(
        opening_hours=parse_opening_hours("wed-fri 18:00-24:00; thu-fri 00:00-01:00,18:00-24:00")
    )
    user = make_user()
    slots = grid(session, settings, TODAY, user, now)  # Wednesday; Thursday opens at 00:00

    assert slots["23:00"].can_start and slots["23:30"].can_start
    assert startable(session, settings, TOMORROW, user, now)[0] == "18:00"
    assert refusal(session, settings, user, TOMORROW, "00:00", now) == "after_hours"
    assert refusal(session, settings, user, TODAY, "23:30", now) is None


def test_a_closure_of_the_next_day_blocks_a_training_crossing_midnight(session, make_user, now):
    settings = Settings(opening_hours=parse_opening_hours("00:00-24:00"))
    add_closure(
        Unit(session, settings, Actor.trainer(), now=now),
        TOMORROW + timedelta(days=1),
        reason="holiday",
    )

    slots = grid(session, settings, TOMORROW, make_user(), now)

    assert slots["22:30"].can_start
    assert not slots["23:00"].can_start


# Daylight saving time (Europe/Berlin)

BERLIN = "Europe/Berlin"
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)


def test_spring_forward_day_skips_the_missing_hour(session, make_user):
    settings = Settings(
        timezone=BERLIN, opening_hours=parse_opening_hours("00:00-24:00"), **UNLIMITED
    )
    now = datetime(2026, 3, 27, 12, 0)
    user = make_user()

    slots = grid(session, settings, SPRING_FORWARD, user, now)

    assert len(slots) == 46 and "02:00" not in slots and "02:30" not in slots
    assert slots["01:30"].can_start
    booking = book_at(session, settings, user, SPRING_FORWARD, "01:30", now)
    assert booking.ends_at - booking.starts_at == timedelta(minutes=90)
    after = grid(session, settings, SPRING_FORWARD, user, now)
    assert [t for t, slot in after.items() if slot.mine] == ["01:30", "03:00", "03:30"]
    assert after["04:00"].booked == 0 and after["04:00"].can_start
    assert refusal(session, settings, make_user(), SPRING_FORWARD, "02:30", now) == "closed"


def test_fall_back_day_keeps_each_wall_time_once_and_trainings_last_90_minutes(session, make_user):
    settings = Settings(
        timezone=BERLIN, opening_hours=parse_opening_hours("00:00-24:00"), capacity=1
    )
    now = datetime(2026, 10, 23, 12, 0)
    user = make_user()

    slots = grid(session, settings, FALL_BACK, user, now)
    assert len(slots) == 48

    booking = book_at(session, settings, user, FALL_BACK, "02:00", now)  # 02:00 CEST
    assert booking.ends_at - booking.starts_at == timedelta(minutes=90)
    after = grid(session, settings, FALL_BACK, make_user("Other"), now)
    # The training runs 02:00-02:30 CEST, then 02:00-02:30 CET, which the day lists once.
    assert [t for t in ("01:30", "02:00", "02:30", "03:00") if after[t].booked] == [
        "02:00",
        "02:30",
    ]
    assert after["03:00"].can_start
    assert not after["02:30"].can_start  # its second cell (02:00 CET) is taken


def test_ordinary_hours_on_dst_days_keep_twenty_cells(session, make_user):
    settings = Settings(timezone=BERLIN)
    user = make_user()
    for day, now in (
        (SPRING_FORWARD, datetime(2026, 3, 28, 6)),
        (FALL_BACK, datetime(2026, 10, 24, 6)),
    ):
        slots = grid(session, settings, day, user, now)
        assert len(slots) == 20
        assert slots["16:30"].can_start and not slots["17:00"].can_start
        booking = book_at(session, settings, user, day, "08:00", now)
        assert booking.ends_at - booking.starts_at == timedelta(minutes=90)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31)])
def test_the_ends_of_the_calendar_list_no_startable_cells(session, settings, now, day):
    view = day_availability(session, settings, day, None, now)

    assert not view.available
