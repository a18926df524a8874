"""The trainer's reads and changes in schedule: clients, occupancy, CSV, closures over bookings."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from schedule import ScheduleError, services, trainer
from schedule.events import BookingCancelled
from schedule.models import Booking
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)


@pytest.fixture
def anna(session):
    return services.upsert_user(
        session, {"id": 11, "first_name": "Анна", "last_name": "Ким", "username": "anna"}
    )


@pytest.fixture
def boris(session):
    return services.upsert_user(session, {"id": 12, "first_name": "=cmd|' /C calc'!A0"})


def test_clients_count_upcoming_and_past_visits(session, settings, anna, boris, now):
    first = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, 10 * 60)
    services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=1), 10 * 60
    )
    cancelled = services.book(
        Unit(session, settings, Actor.client(boris), now=now), boris, DAY, 12 * 60
    )
    services.cancel(Unit(session, settings, Actor.client(boris), now=now), cancelled.id)

    later = first.ends_at + timedelta(minutes=1)
    summary = {c.user.telegram_id: c for c in trainer.clients(session, later)}
    assert (summary[11].upcoming, summary[11].past, summary[11].last_visit) == (
        1,
        1,
        first.starts_at,
    )
    assert (summary[12].upcoming, summary[12].past, summary[12].last_visit) == (0, 0, None)


def test_week_occupancy_counts_every_cell(session, settings, anna, boris, now):
    services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, 10 * 60)
    services.book(Unit(session, settings, Actor.client(boris), now=now), boris, DAY, 10 * 60 + 30)
    week = trainer.week_occupancy(session, settings, DAY)
    assert [view.day for view in week] == [DAY + timedelta(days=n) for n in range(7)]
    booked = {slot.start: slot.booked for slot in week[0].slots}
    assert (
        booked["09:30"],
        booked["10:00"],
        booked["10:30"],
        booked["11:30"],
        booked["12:00"],
    ) == (
        0,
        1,
        2,
        1,
        0,
    )
    assert all(slot.booked == 0 for slot in week[1].slots)


def test_csv_export_opens_cleanly_in_a_spreadsheet(session, settings, anna, boris, now):
    services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, 10 * 60)
    gone = services.book(
        Unit(session, settings, Actor.client(boris), now=now),
        boris,
        DAY + timedelta(days=1),
        8 * 60,
    )
    services.cancel(
        Unit(session, settings, Actor.trainer(), now=now), gone.id, reason='Sick; sorry, "coach"'
    )
    services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=5), 8 * 60
    )  # outside

    text = trainer.export_csv(session, settings, DAY, DAY + timedelta(days=1))
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["date"], r["start"], r["end"], r["status"]) for r in rows] == [
        ("2026-11-26", "10:00", "11:30", "active"),
        ("2026-11-27", "08:00", "09:30", "cancelled"),
    ]
    assert rows[0]["client"] == "Анна Ким" and rows[0]["username"] == "anna"
    assert rows[1]["client"].startswith("'=")  # a formula is neutralised
    assert rows[1]["cancel_reason"] == 'Sick; sorry, "coach"'


def test_closing_a_time_with_bookings_is_refused_until_confirmed(session, settings, anna, now):
    booking = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY, 10 * 60
    )
    with pytest.raises(ScheduleError) as refused:
        services.add_closure(
            Unit(session, settings, Actor.trainer(), now=now),
            DAY,
            start_minute=11 * 60,
            end_minute=13 * 60,
        )
    assert refused.value.code == "has_bookings"
    assert session.get(Booking, booking.id).status == "active"
    inside = services.bookings_between(
        session, *services.closure_span(settings, DAY, 11 * 60, 13 * 60)
    )
    assert [b.id for b in inside] == [booking.id]

    events = []
    services.add_closure(
        Unit(session, settings, Actor.trainer(), now=now, observe=events.append),
        DAY,
        start_minute=11 * 60,
        end_minute=13 * 60,
        reason="Ремонт",
        cancel_bookings=True,
    )
    cancelled = session.get(Booking, booking.id)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        "admin",
        "Ремонт",
    )
    assert [(type(e), e.booking.id) for e in events] == [(BookingCancelled, booking.id)]


def test_closing_a_whole_empty_day(session, settings, anna, now):
    services.add_closure(Unit(session, settings, Actor.trainer(), now=now), DAY, reason="Holiday")
    with pytest.raises(ScheduleError) as refused:
        services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, 10 * 60)
    assert refused.value.code == "closed"


# Rules the trainer's views rely on (once in the web layer) ---------------------------------


@pytest.mark.parametrize("value", [1, 5_000_000_000, 2**62])
def test_a_telegram_id_is_a_positive_number_that_fits(value):
    assert trainer.is_telegram_id(value)


@pytest.mark.parametrize("value", [0, -5, 2**62 + 1, True, "1001", 1001.0, None])
def test_anything_else_is_not_a_telegram_id(value):
    assert not trainer.is_telegram_id(value)


def test_a_telegram_id_from_text_takes_plain_digits_only():
    assert trainer.telegram_id_from_text("1001") == 1001
    for text in (None, "", " 1001", "-1", "10²", "1e3", "9" * 19):
        assert trainer.telegram_id_from_text(text) is None


def test_finding_clients_by_name_or_username_leaves_out_trainers(session, anna, boris, now):
    coach = services.upsert_user(session, {"id": 900, "first_name": "Анатолий"})

    everybody = trainer.find_clients(session, "", {coach.telegram_id}, now)
    by_name = trainer.find_clients(session, "анн", {coach.telegram_id}, now)
    by_username = trainer.find_clients(session, "@ANNA", {coach.telegram_id}, now)

    assert {c.user.telegram_id for c in everybody} == {11, 12}
    assert [c.user.telegram_id for c in by_name] == [11]
    assert [c.user.telegram_id for c in by_username] == [11]
    assert trainer.find_clients(session, "ан", set(), now)[0].user.telegram_id == 900


def test_bookings_outside_new_hours_are_those_a_shorter_day_would_cut(
    session, settings, anna, boris, now
):
    morning = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, 9 * 60)
    late = services.book(Unit(session, settings, Actor.client(boris), now=now), boris, DAY, 16 * 60)
    until_five = {day: ((8 * 60, 17 * 60),) for day in range(7)}

    outside = trainer.outside_hours(session, settings, until_five, now)

    assert [b.id for b in outside] == [late.id]  # 16:00-17:30 runs past 17:00
    assert morning.id not in {b.id for b in outside}


def test_a_trainers_week_counts_their_own_bookings_and_their_hours_and_days_off(
    session, settings, anna, boris, now
):
    """Coach Anna (08:00-14:00, the next day off) and coach Boris (the studio's hours): each
    one's week holds their own visitors, not the other's at the same time; Anna's hours and her
    day off are closed in hers, while the studio's week is every visitor's."""
    from schedule.kinds import add_trainer

    owner = Unit(session, settings, Actor.trainer(), now=now)
    coach_anna = add_trainer(owner, 501, "Coach Anna", "08:00-14:00")
    coach_boris = add_trainer(owner, 502, "Coach Boris")
    vera = services.upsert_user(session, {"id": 13, "first_name": "Vera"})
    for client, minute, coach in (
        (anna, 10 * 60, coach_anna),
        (boris, 10 * 60, coach_boris),
        (vera, 10 * 60 + 30, coach_boris),
    ):
        services.book(
            Unit(session, settings, Actor.client(client), now=now),
            client,
            DAY,
            minute,
            trainer=coach.id,
        )
    services.add_closure(owner, DAY + timedelta(days=1), trainer_id=coach_anna.id)

    def booked(week, n=0):
        return {slot.start: slot.booked for slot in week[n].slots}

    def closed(week, n=0):
        return {slot.start for slot in week[n].slots if slot.closed}

    annas = trainer.week_occupancy(session, settings, DAY, trainer_id=coach_anna.id)
    boriss = trainer.week_occupancy(session, settings, DAY, trainer_id=coach_boris.id)
    studio = trainer.week_occupancy(session, settings, DAY)
    assert [view.day for view in annas] == [DAY + timedelta(days=n) for n in range(7)]
    at = ("09:30", "10:00", "10:30", "11:00", "11:30", "12:00")
    assert [booked(annas)[s] for s in at] == [0, 1, 1, 1, 0, 0]
    assert [booked(boriss)[s] for s in at] == [0, 1, 2, 2, 1, 0]
    assert [booked(studio)[s] for s in at] == [0, 2, 3, 3, 1, 0]
    # The studio's grid in each: Anna's afternoon (her hours end at 14:00) is closed to her
    assert [s.start for s in annas[0].slots] == [s.start for s in studio[0].slots]
    assert closed(annas) == {f"{h:02d}:{m:02d}" for h in range(14, 18) for m in (0, 30)}
    assert closed(boriss) == set() and closed(studio) == set()
    # Her day off: every cell of the day closed in her week, none in Boris's or the studio's
    assert annas[1].slots and all(slot.closed for slot in annas[1].slots)
    assert closed(boriss, 1) == set() and closed(studio, 1) == set()
