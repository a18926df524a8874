"""Storage chores for the CLI, the bot or cron: purge old rows, forget a user, demo data.

These are not booking rules: they delete rows, walking every table that points at them
(whatever tables the models hold), so nothing is left dangling on SQLite or PostgreSQL.
Demo bookings, which are bookings, go through `services` so every rule holds.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, func, select, update
from sqlalchemy.orm import Session

from . import outbox, services, waitlist
from .availability import day_availability
from .db import write_transaction
from .errors import InvalidInput, ScheduleError
from .models import ACTIVE, CANCELLED, Base, Booking, Closure, User, utcnow
from .settings import Settings
from .timegrid import today
from .unit import Actor, Unit

BOOKINGS = Booking.__table__
CLOSURES = Closure.__table__
USERS = User.__table__
OUTBOX = outbox.OutboxMessage.__table__
# Demo users get ids far above any real Telegram user id, so they are easy to tell apart.
DEMO_ID_BASE = 9_000_000_000_000


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removes (or would remove): rows by kind, and every table touched."""

    cancelled: int
    past: int
    closures: int
    messages: int = 0  # settled outbox rows (sent, refused, expired, dropped)
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.cancelled + self.past + self.closures + self.messages


def _purge_conditions(cutoff: datetime) -> dict[str, tuple[Table, ColumnElement[bool]]]:
    cancelled_on = func.coalesce(BOOKINGS.c.cancelled_at, BOOKINGS.c.updated_at)
    return {
        "cancelled": (
            BOOKINGS,
            (BOOKINGS.c.status == CANCELLED) & (cancelled_on < cutoff),
        ),
        "past": (BOOKINGS, (BOOKINGS.c.status == ACTIVE) & (BOOKINGS.c.ends_at < cutoff)),
        "closures": (CLOSURES, CLOSURES.c.ends_at < cutoff),
        "messages": (
            OUTBOX,
            (OUTBOX.c.status != outbox.PENDING) & (OUTBOX.c.created_at < cutoff),
        ),
    }


def purge(
    session: Session, days: int, *, now: datetime | None = None, dry_run: bool = True
) -> PurgeReport:
    """Cancelled bookings cancelled, and trainings and closures ended, over `days` days ago.

    A dry run only counts. Rows pointing at a purged booking (a reminder, a waitlist entry)
    go with it, or lose the reference where the schema says SET NULL.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=days)
    conditions = _purge_conditions(cutoff)
    counts = {
        kind: session.scalar(select(func.count()).select_from(table).where(where)) or 0
        for kind, (table, where) in conditions.items()
    }
    tables: Counter[str] = Counter()
    if not dry_run:
        with write_transaction(session):
            for table, where in conditions.values():
                _delete_with_dependents(session, table, where, tables)
    else:
        session.rollback()
    return PurgeReport(**counts, tables=dict(tables))


@dataclass(frozen=True)
class UserFootprint:
    telegram_id: int
    name: str
    bookings: int
    upcoming: int
    tables: dict[str, int]


def user_footprint(session: Session, telegram_id: int, *, now: datetime | None = None):
    """What is stored about a user (None when nothing), without changing anything."""
    user = session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        return None
    bookings = session.scalar(select(func.count()).where(BOOKINGS.c.user_id == user.id)) or 0
    upcoming = session.scalar(
        select(func.count()).where(
            BOOKINGS.c.user_id == user.id,
            BOOKINGS.c.status == ACTIVE,
            BOOKINGS.c.starts_at > (now or utcnow()),
        )
    )
    tables = {
        table.name: session.scalar(select(func.count()).select_from(table).where(column == user.id))
        for table, column in _references_to(USERS)
    }
    return UserFootprint(telegram_id, user.name, bookings, upcoming or 0, tables)


def delete_user(session: Session, telegram_id: int) -> dict[str, int] | None:
    """Delete a user and every row about them (a privacy request); rows removed by table."""
    user_id = session.scalar(select(User.id).where(User.telegram_id == telegram_id))
    if user_id is None:
        return None
    tables: Counter[str] = Counter()
    with write_transaction(session):
        # Messages to them, and trainers' news about their bookings (it names them).
        bookings = select(BOOKINGS.c.id).where(BOOKINGS.c.user_id == user_id)
        about = (OUTBOX.c.chat_id == telegram_id) | OUTBOX.c.booking_id.in_(bookings)
        _delete_with_dependents(session, OUTBOX, about, tables)
        _delete_with_dependents(session, USERS, USERS.c.id == user_id, tables)
    session.expunge_all()
    return dict(tables)


def _references_to(table: Table) -> list[tuple[Table, object]]:
    """(table, column) pairs of every foreign key pointing at `table`."""
    return [
        (other, fk.parent)
        for other in Base.metadata.sorted_tables
        for fk in other.foreign_keys
        if fk.column.table is table
    ]


def _delete_with_dependents(
    session: Session, table: Table, where: ColumnElement[bool], tables: Counter[str]
) -> None:
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or other is table:
                continue
            pointing = fk.parent.in_(select(fk.column).where(where))
            if fk.ondelete and fk.ondelete.upper() == "SET NULL":
                session.execute(update(other).where(pointing).values({fk.parent.name: None}))
            else:
                _delete_with_dependents(session, other, pointing, tables)
    removed = session.execute(delete(table).where(where)).rowcount
    if removed:
        tables[table.name] += removed


# Demo data -------------------------------------------------------------------------------

DEMO_PEOPLE = (
    ("Анна", "Смирнова", "ru"),
    ("Дмитрий", "Иванов", "ru"),
    ("Екатерина", "Кузнецова", "ru"),
    ("Сергей", "Попов", "ru"),
    ("Ольга", "Соколова", "ru"),
    ("Михаил", "Лебедев", "ru"),
    ("Наталья", "Козлова", "ru"),
    ("Алексей", "Новиков", "ru"),
    ("Emily", "Clarke", "en"),
    ("James", "Walker", "en"),
    ("Sophie", "Turner", "en"),
    ("Daniel", "Hughes", "en"),
)


@dataclass(frozen=True)
class DemoReport:
    users: int
    booked: int
    cancelled: int
    refused: int
    full_start: datetime | None = None  # a start with every place taken and a waitlist
    waiting: int = 0


def load_demo_week(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    seed: int = 7,
    per_day: int = 8,
) -> DemoReport:
    """Demo clients and a week of bookings from tomorrow, booked and cancelled by the rules.

    The day after tomorrow has a full start with two clients waiting; then each day gets up
    to `per_day` attempts at random bookable starts, and a few are cancelled. No
    notifications are sent (no event handler). Running it again replaces the demo data
    (demo users are recognised by their ids), so it never doubles.
    """
    now = now or utcnow()
    rng = random.Random(seed)
    for telegram_id in demo_users(session):
        delete_user(session, telegram_id)
    users = [
        services.upsert_user(
            session,
            {
                "id": DEMO_ID_BASE + index,
                "first_name": first,
                "last_name": last,
                "username": f"demo_{index}",
                "language_code": lang,
            },
        )
        for index, (first, last, lang) in enumerate(DEMO_PEOPLE, start=1)
    ]
    start_day = today(now, settings) + timedelta(days=1)
    days = [start_day + timedelta(days=n) for n in range(min(7, settings.booking_horizon_days))]
    full_start, made, waiting = _full_start(session, settings, days[1:2], users, now)
    refused = 0
    for day in days:
        for _ in range(per_day):
            user = rng.choice(users)
            starts = _bookable_starts(session, settings, day, user, now)
            if not starts:
                refused += 1
                continue
            source = rng.choice(("miniapp", "miniapp", "bot"))
            try:
                made.append(
                    services.book(
                        Unit(session, settings, Actor.client(user), now=now),
                        user,
                        day,
                        rng.choice(starts),
                        source=source,
                    )
                )
            except ScheduleError:
                refused += 1
    cancelled = 0
    kept_full = {b.id for b in made if b.starts_at == full_start}
    for booking in rng.sample([b for b in made if b.id not in kept_full], k=len(made) // 8):
        services.cancel(
            Unit(session, settings, Actor.trainer(), now=now), booking.id, reason="demo"
        )
        cancelled += 1
    return DemoReport(len(users), len(made), cancelled, refused, full_start, waiting)


def _full_start(
    session: Session, settings: Settings, days: list[date], users: list[User], now: datetime
) -> tuple[datetime | None, list[Booking], int]:
    """Fill the first start from 10:00 on `days[0]` that takes CAPACITY clients, and put two
    more on its waitlist: what a busy studio looks like."""
    if not days or len(users) < settings.capacity + 2:
        return None, [], 0
    day = days[0]
    for minute in range(10 * 60, 24 * 60, settings.slot_minutes):
        booked: list[Booking] = []
        for user in users[: settings.capacity]:
            try:
                booked.append(
                    services.book(
                        Unit(session, settings, Actor.client(user), now=now), user, day, minute
                    )
                )
            except (ScheduleError, InvalidInput):
                break
        if len(booked) == settings.capacity:
            waiting = 0
            for user in users[settings.capacity : settings.capacity + 2]:
                try:
                    waitlist.join(
                        Unit(session, settings, Actor.client(user), now=now), user, day, minute
                    )
                    waiting += 1
                except ScheduleError:
                    pass
            return booked[0].starts_at, booked, waiting
        for booking in booked:  # could not fill it: leave the day as it was
            services.cancel(Unit(session, settings, Actor.trainer(), now=now), booking.id)
    return None, [], 0


def _bookable_starts(
    session: Session, settings: Settings, day: date, user: User, now: datetime
) -> list[int]:
    view = day_availability(session, settings, day, user.id, now)
    return [slot.cell.minute for slot in view.slots if slot.can_start]


def demo_users(session: Session) -> list[int]:
    """Telegram ids of the demo users present."""
    return list(
        session.scalars(
            select(User.telegram_id)
            .where(User.telegram_id >= DEMO_ID_BASE, User.telegram_id < DEMO_ID_BASE + 1000)
            .order_by(User.telegram_id)
        )
    )
