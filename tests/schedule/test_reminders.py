"""Reminders: due at the configured offsets, claimed exactly once, never after the start."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from schedule import reminders, services
from schedule.models import ReminderClaim
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 28)  # three days after the `now` fixture, inside the horizon
TEN = 10 * 60


@pytest.fixture
def client(session):
    return services.upsert_user(session, {"id": 777, "first_name": "Ира"})


@pytest.fixture
def booking(session, settings, client, now):
    return services.book(Unit(session, settings, Actor.client(client), now=now), client, DAY, TEN)


def due(session, settings, at, worker="w1"):
    return [
        (r.booking.id, r.offset_minutes) for r in reminders.claim_due(session, settings, worker, at)
    ]


def test_each_offset_falls_due_once(session, settings, booking):
    day_before = booking.starts_at - timedelta(hours=24)
    assert due(session, settings, day_before - timedelta(minutes=1)) == []
    claimed = reminders.claim_due(session, settings, "w1", day_before)
    assert [(r.booking.id, r.offset_minutes) for r in claimed] == [(booking.id, 1440)]
    reminders.mark_sent(session, claimed[0].claim_id, day_before)
    assert due(session, settings, day_before + timedelta(minutes=1)) == []
    two_before = booking.starts_at - timedelta(hours=2)
    assert due(session, settings, two_before) == [(booking.id, 120)]


def test_a_claimed_reminder_is_not_claimed_again_by_another_worker(session, settings, booking):
    at = booking.starts_at - timedelta(hours=24)
    assert due(session, settings, at, "w1") == [(booking.id, 1440)]
    assert due(session, settings, at + timedelta(minutes=1), "w2") == []


def test_a_claim_never_marked_sent_is_taken_over(session, settings, booking):
    at = booking.starts_at - timedelta(hours=24)
    due(session, settings, at, "w1")  # w1 dies before sending
    later = at + reminders.STALE_CLAIM
    claimed = reminders.claim_due(session, settings, "w2", later)
    assert [r.offset_minutes for r in claimed] == [1440]
    assert session.get(ReminderClaim, claimed[0].claim_id).claimed_by == "w2"


def test_after_a_long_outage_only_the_latest_reminder_goes(session, settings, booking):
    at = booking.starts_at - timedelta(hours=1)
    claimed = reminders.claim_due(session, settings, "w1", at)
    assert [(r.booking.id, r.offset_minutes) for r in claimed] == [(booking.id, 120)]
    reminders.mark_sent(session, claimed[0].claim_id, at)
    assert due(session, settings, at + reminders.STALE_CLAIM * 2, "w2") == []


def test_none_after_the_start(session, settings, booking):
    assert due(session, settings, booking.starts_at) == []


def test_none_for_a_booking_made_inside_the_window(session, settings, client, now):
    late = services.book(
        Unit(session, settings, Actor.client(client), now=now + timedelta(hours=54)),
        client,
        DAY,
        14 * 60,
    )
    assert due(session, settings, late.starts_at - timedelta(hours=20)) == []
    assert due(session, settings, late.starts_at - timedelta(hours=2)) == [(late.id, 120)]


def test_a_cancelled_booking_is_not_reminded(session, settings, client, booking, now):
    services.cancel(Unit(session, settings, Actor.client(client), now=now), booking.id)
    assert due(session, settings, booking.starts_at - timedelta(hours=2)) == []


def test_a_moved_booking_is_reminded_for_its_new_start(session, settings, client, booking, now):
    at = booking.starts_at - timedelta(hours=2)
    reminders.mark_sent(session, reminders.claim_due(session, settings, "w1", at)[0].claim_id, at)
    moved = services.reschedule(
        Unit(session, settings, Actor.client(client), now=at),
        booking.id,
        DAY + timedelta(days=1),
        TEN,
    )
    assert due(session, settings, moved.starts_at - timedelta(hours=2)) == [(booking.id, 120)]


def test_reminders_can_be_turned_off(session, booking):
    from schedule import Settings

    quiet = Settings(reminder_minutes=())
    assert due(session, quiet, booking.starts_at - timedelta(hours=2)) == []


def test_racing_workers_claim_each_reminder_once(session_factory, session, client, now):
    from schedule import Settings

    settings = Settings(reminder_minutes=(3 * 1440, 120))
    bookings = [
        services.book(
            Unit(session, settings, Actor.client(client), now=now),
            client,
            DAY + timedelta(days=d),
            TEN,
        )
        for d in range(3)
    ]
    at = bookings[0].starts_at - timedelta(hours=1)
    barrier = threading.Barrier(6)
    claimed: list[tuple[int, int]] = []

    def worker(name):
        with session_factory() as own:
            barrier.wait()
            claimed.extend(
                (r.booking.id, r.offset_minutes)
                for r in reminders.claim_due(own, settings, name, at)
            )

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    first, second, third = bookings
    assert sorted(claimed) == [(first.id, 120), (second.id, 3 * 1440), (third.id, 3 * 1440)]
