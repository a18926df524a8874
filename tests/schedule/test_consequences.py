"""What an act will do, decided before it is done (schedule.consequences): the pass that pays
and the visits it keeps, the cancel window, the refund, the late-cancel policy, the line."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from schedule import consequences, passes, services, waitlist
from schedule.settings import Settings
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture (Wednesday 09:00 Moscow)
TEN = 10 * 60


def codes(lines) -> list[str]:
    return [line.code for line in lines]


def line(lines, code):
    return next(found for found in lines if found.code == code)


def test_a_booking_says_which_pass_pays_the_visits_it_keeps_and_the_free_cancel(
    session, settings, make_user, now
):
    anna = make_user("Anna")
    sold = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=5, valid_days=30
    )
    starts_at = start_instant(DAY, TEN, settings)

    lines = consequences.of_booking(session, settings, anna, starts_at, now)

    assert codes(lines) == ["pass", "cancel_until", "refund"]
    assert line(lines, "pass").facts == {
        "pass_id": sold.id,
        "visits_left": 4,
        "expires": sold.expires_on,
    }
    assert line(lines, "cancel_until").facts["until"] == starts_at - timedelta(minutes=120)
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    assert booking.pass_id == sold.id
    assert passes.remaining_after(session, sold.id) == 4  # what the sheet said


def test_without_a_pass_nothing_pays_and_a_cancel_returns_nothing(
    session, settings, make_user, now
):
    boris = make_user("Boris")
    lines = consequences.of_booking(
        session, settings, boris, start_instant(DAY, TEN, settings), now
    )
    assert codes(lines) == ["unpaid", "cancel_until"]


def test_a_start_inside_the_cancel_window_is_late_and_offers_no_free_cancel(
    session, settings, make_user, now
):
    anna = make_user("Anna")
    passes.record(Unit(session, settings, Actor.trainer(), now=now), anna, visits=5, valid_days=30)
    soon = now + timedelta(minutes=60)  # past the minimum notice, inside 120 minutes

    lines = consequences.of_booking(session, settings, anna, soon, now)

    assert codes(lines) == ["pass", "late"]
    assert line(lines, "late").facts["until"] == soon - timedelta(minutes=120)


def test_under_the_forfeit_policy_a_late_start_says_the_cancel_keeps_the_visit(
    session, make_user, now
):
    rules = Settings(late_cancel="forfeit")  # LATE_CANCEL=forfeit
    anna = make_user("Anna")
    passes.record(Unit(session, rules, Actor.trainer(), now=now), anna, visits=5, valid_days=30)
    soon = now + timedelta(minutes=60)

    assert codes(consequences.of_booking(session, rules, anna, soon, now)) == [
        "pass",
        "late",
        "forfeit",
    ]
    booking = services.book(Unit(session, rules, Actor.client(anna), now=now), anna, DAY, TEN)
    late = start_instant(DAY, TEN, rules) - timedelta(minutes=30)
    assert codes(consequences.of_cancel(session, rules, booking, late)) == ["late", "forfeit"]


def test_a_move_keeps_its_pass_when_it_covers_the_new_date(session, settings, make_user, now):
    anna = make_user("Anna")
    sold = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=5, valid_days=30
    )
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    later = start_instant(DAY + timedelta(days=1), TEN, settings)

    lines = consequences.of_booking(session, settings, anna, later, now, moving=booking)

    assert line(lines, "pass").facts["visits_left"] == 4  # the moved visit is not taken twice
    assert line(lines, "pass").facts["pass_id"] == sold.id


def test_a_move_beyond_its_pass_takes_the_next_one(session, settings, make_user, now):
    anna = make_user("Anna")
    short = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=3, valid_days=2
    )
    longer = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=3, valid_days=30
    )
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    assert booking.pass_id == short.id
    after = start_instant(DAY + timedelta(days=3), TEN, settings)

    lines = consequences.of_booking(session, settings, anna, after, now, moving=booking)

    assert line(lines, "pass").facts == {
        "pass_id": longer.id,
        "visits_left": 2,
        "expires": longer.expires_on,
    }


def test_a_cancel_in_time_returns_the_visit_and_a_late_one_is_refused(
    session, settings, make_user, now
):
    anna = make_user("Anna")
    sold = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=5, valid_days=30
    )
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)

    in_time = consequences.of_cancel(session, settings, booking, now)
    assert codes(in_time) == ["refund"]
    assert line(in_time, "refund").facts["visits_left"] == 5
    assert line(in_time, "refund").facts["pass_id"] == sold.id

    late = booking.starts_at - timedelta(minutes=119)
    assert codes(consequences.of_cancel(session, settings, booking, late)) == ["late"]

    unpaid = services.book(
        Unit(session, settings, Actor.client(make_user("Boris")), now=now),
        make_user("Boris"),
        DAY,
        TEN,
    )
    assert codes(consequences.of_cancel(session, settings, unpaid, now)) == ["unpaid"]


def test_the_line_says_the_place_and_until_when_a_place_is_handed_over(session, make_user, now):
    rules = replace(Settings(max_waitlist_entries=0), capacity=1)
    starts_at = start_instant(DAY, TEN, rules)
    services.book(
        Unit(session, rules, Actor.client(make_user("Full")), now=now), make_user("Full"), DAY, TEN
    )
    first = make_user("First")
    waitlist.join(Unit(session, rules, Actor.client(first), now=now), first, DAY, TEN)
    anna = make_user("Anna")

    lines = consequences.of_waitlist(session, rules, anna, starts_at, now)

    assert codes(lines) == ["waitlist", "unpaid", "cancel_until"]
    assert line(lines, "waitlist").facts["place"] == 2
    assert line(lines, "waitlist").facts["ahead"] == 1
    assert line(lines, "waitlist").facts["cutoff"] == starts_at - timedelta(minutes=120)
    assert (
        waitlist.join(Unit(session, rules, Actor.client(anna), now=now), anna, DAY, TEN).position
        == 2
    )
    mine = consequences.of_waitlist(session, rules, first, starts_at, now)
    assert line(mine, "waitlist").facts["place"] == 1  # already waiting: their own place


@pytest.mark.parametrize("weeks", [3, None])
def test_weekly_bookings_say_what_pays_which_dates_wait_and_the_free_cancel(
    session, make_user, now, weeks
):
    rules = Settings(booking_horizon_days=21, max_bookings_per_day=0, max_active_bookings=0)
    anna = make_user("Anna")
    sold = passes.record(
        Unit(session, rules, Actor.trainer(), now=now), anna, visits=1, valid_days=60
    )
    full_on = DAY + timedelta(weeks=2)
    for n in range(rules.capacity):
        services.book(
            Unit(session, rules, Actor.client(make_user(f"Other {n}")), now=now),
            make_user(f"Other {n}"),
            full_on,
            TEN,
        )
    starts_at = start_instant(DAY, TEN, rules)

    lines = consequences.of_series(session, rules, anna, starts_at, weeks, now)

    assert codes(lines) == ["pass", "unpaid", "cancel_until", "refund", "waitlist"]
    assert line(lines, "pass").facts["pass_id"] == sold.id
    assert line(lines, "pass").facts["visits_left"] == 0
    assert line(lines, "unpaid").facts["dates"] == (DAY + timedelta(weeks=1),)
    assert line(lines, "waitlist").facts["dates"] == (full_on,)


def test_an_unknown_code_is_a_mistake():
    with pytest.raises(ValueError):
        consequences.Consequence("free_lunch", {})
