"""schedule.maintenance: purge, forgetting a user, demo data — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from schedule import maintenance, services
from schedule.models import ACTIVE, CANCELLED, Booking, Closure, ReminderClaim, User, WaitlistEntry
from schedule.unit import Actor, Unit

TOMORROW = date(2026, 11, 26)
NEXT_MONDAY = date(2026, 11, 30)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def history(session, settings, now, make_user):
    """A past training (with a reminder and a waitlist entry), a cancelled one, a closure,
    and one upcoming training, all as seen three days after `now`."""
    anna, boris = make_user("Анна"), make_user("Boris")
    past = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, TOMORROW, 10 * 60
    )
    cancelled = services.book(
        Unit(session, settings, Actor.client(boris), now=now), boris, TOMORROW, 12 * 60
    )
    services.cancel(Unit(session, settings, Actor.client(boris), now=now), cancelled.id)
    upcoming = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, NEXT_MONDAY, 10 * 60
    )
    services.add_closure(
        Unit(session, settings, Actor.trainer(), now=now),
        TOMORROW,
        start_minute=16 * 60,
        end_minute=17 * 60,
    )
    session.add(
        ReminderClaim(
            booking_id=past.id,
            offset_minutes=60,
            starts_at=past.starts_at,
            claimed_by="test",
            claimed_at=now,
        )
    )
    session.add(WaitlistEntry(user_id=boris.id, starts_at=past.starts_at, booking_id=past.id))
    session.commit()
    return {"past": past.id, "cancelled": cancelled.id, "upcoming": upcoming.id, "anna": anna}


def test_a_dry_run_counts_and_deletes_nothing(session, history, now):
    report = maintenance.purge(session, 1, now=now + timedelta(days=3))

    assert (report.cancelled, report.past, report.closures) == (1, 1, 1)
    assert report.tables == {}
    assert count(session, Booking) == 3
    assert count(session, Closure) == 1


def test_purge_deletes_old_rows_and_what_points_at_them(session, history, now):
    report = maintenance.purge(session, 1, now=now + timedelta(days=3), dry_run=False)

    assert report.total == 3
    assert report.tables == {"bookings": 2, "closures": 1, "reminder_claims": 1}
    session.expire_all()
    remaining = session.scalars(select(Booking.id)).all()
    assert remaining == [history["upcoming"]]
    assert count(session, Closure) == 0
    assert count(session, ReminderClaim) == 0
    entry = session.scalar(select(WaitlistEntry))
    assert entry is not None and entry.booking_id is None  # SET NULL, the entry stays


def test_purge_keeps_what_is_younger_than_the_cutoff(session, history, now):
    report = maintenance.purge(session, 30, now=now + timedelta(days=3), dry_run=False)

    assert report.total == 0
    assert count(session, Booking) == 3


def test_purge_refuses_negative_days(session):
    with pytest.raises(ValueError):
        maintenance.purge(session, -1)


def test_delete_user_removes_them_and_everything_about_them(session, history, now, make_user):
    anna = history["anna"]
    other = make_user("Other")
    footprint = maintenance.user_footprint(session, anna.telegram_id, now=now)
    assert footprint.bookings == 2 and footprint.upcoming == 2
    assert footprint.name == "Анна"

    removed = maintenance.delete_user(session, anna.telegram_id)

    assert removed == {"users": 1, "bookings": 2, "reminder_claims": 1}
    assert session.scalar(select(User).where(User.telegram_id == anna.telegram_id)) is None
    assert session.scalars(select(Booking.id)).all() == [history["cancelled"]]
    assert session.scalar(select(User).where(User.id == other.id)) is not None


def test_delete_user_of_nobody_is_none(session):
    assert maintenance.delete_user(session, 424242) is None
    assert maintenance.user_footprint(session, 424242) is None


def test_demo_week_books_by_the_rules_and_loading_again_replaces_it(session, settings, now):
    """One week loaded (each load books ~30 trainings through the services), checked, then
    loaded again: the same week, not doubled, with its full start and waitlist."""
    from schedule.models import WAITING

    first = maintenance.load_demo_week(session, settings, now=now, seed=3)

    assert first.users == len(maintenance.DEMO_PEOPLE)
    assert first.booked >= 7 * 4
    bookings = session.scalars(select(Booking)).all()
    assert len(bookings) == first.booked
    assert sum(b.status == CANCELLED for b in bookings) == first.cancelled
    start, last = min(b.starts_at for b in bookings), max(b.starts_at for b in bookings)
    assert start > now and last - now < timedelta(days=settings.booking_horizon_days + 1)
    active = [b for b in bookings if b.status == ACTIVE]
    for instant in {b.starts_at for b in active}:  # presence only rises at a start
        present = [b for b in active if b.starts_at <= instant < b.ends_at]
        assert len(present) <= settings.capacity
    names = {u.first_name for u in session.scalars(select(User))}
    assert "Анна" in names and "Emily" in names
    assert maintenance.demo_users(session) == [
        maintenance.DEMO_ID_BASE + i for i in range(1, len(maintenance.DEMO_PEOPLE) + 1)
    ]

    again = maintenance.load_demo_week(session, settings, now=now, seed=3)

    assert again.booked == first.booked and again.full_start == first.full_start
    bookings = session.scalars(select(Booking).where(Booking.status == ACTIVE)).all()
    assert len(session.scalars(select(Booking)).all()) == again.booked  # not doubled
    at_full = [b for b in bookings if b.starts_at == again.full_start]
    assert len(at_full) == settings.capacity
    waiting = session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.status == WAITING, WaitlistEntry.starts_at == again.full_start
        )
    ).all()
    assert again.waiting == len(waiting) == 2
    assert len(session.scalars(select(User)).all()) == len(maintenance.DEMO_PEOPLE)


def test_demo_users_are_not_real_users(session, make_user):
    make_user("Real")
    assert maintenance.demo_users(session) == []


def test_purge_deletes_settled_messages_and_keeps_pending_ones(session, now):
    from schedule import outbox

    old = now - timedelta(days=40)
    sent = outbox.enqueue(session, 1, "news", {}, now=old)
    outbox.enqueue(session, 2, "news", {}, now=old)  # still pending: never purged
    recent = outbox.enqueue(session, 3, "news", {}, now=now)
    sent.status = recent.status = outbox.SENT
    session.commit()

    report = maintenance.purge(session, 30, now=now, dry_run=False)

    assert report.messages == 1
    left = session.scalars(select(outbox.OutboxMessage.chat_id).order_by("chat_id")).all()
    assert left == [2, 3]


def test_forgetting_a_user_removes_their_messages_and_news_that_names_them(
    session, settings, now, make_user
):
    from schedule import outbox

    anna, boris = make_user("Anna"), make_user("Boris")
    booking = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, TOMORROW, 10 * 60
    )
    outbox.enqueue(session, anna.telegram_id, "client", {}, now=now)
    outbox.enqueue(session, 900, "news", {"client_name": "Anna"}, now=now, booking_id=booking.id)
    outbox.enqueue(session, boris.telegram_id, "client", {}, now=now)
    session.commit()

    maintenance.delete_user(session, anna.telegram_id)

    left = session.scalars(select(outbox.OutboxMessage.chat_id)).all()
    assert left == [boris.telegram_id]
