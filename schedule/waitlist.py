"""The waitlist: a full start can be queued for, and a freed place goes to the first in line.

A freed place is booked for the first waiting client who can take it, inside the same
transaction that freed it (a hold would leave the place empty while the client makes up their
mind, and needs a timer of its own). Entries are only promoted while the start is at least
CANCEL_DEADLINE_MINUTES away, so nobody is handed a booking they could no longer cancel; past
that point an entry expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import passes
from .availability import Snapshot, snapshot_for_start, wait_refusal
from .db import is_row_id, write_transaction
from .errors import ScheduleError
from .events import BookingMade
from .i18n import N_
from .limits import Holdings, holdings, promotion_cutoff, refused
from .models import ACTIVE, WAITING, Booking, User, WaitlistEntry, utcnow
from .settings import Settings
from .timegrid import local_midnight_utc, start_instant, training_end
from .unit import Unit


@dataclass(frozen=True)
class Position:
    entry: WaitlistEntry
    position: int  # 1 = next in line


def join(unit: Unit, client: User, day: date, minute: int) -> Position:
    """Queue `client` for a full start; joining twice is the same as joining once. Their own
    act, or the worker's for their standing booking: the fair-use limits apply."""
    session, settings, now = unit.session, unit.settings, unit.now
    starts_at = start_instant(day, minute, settings)
    with write_transaction(session):
        held = holdings(session, settings, client.id, now)
        snapshot = snapshot_for_start(session, settings, starts_at)
        refusal = join_refusal(snapshot, starts_at, client.id, now, held)
        if refusal is not None:
            raise refused(refusal, held, starts_at, now)
        entry = session.scalar(
            select(WaitlistEntry).where(
                WaitlistEntry.user_id == client.id,
                WaitlistEntry.starts_at == starts_at,
                WaitlistEntry.status == WAITING,
            )
        )
        if entry is None:
            entry = WaitlistEntry(
                user_id=client.id, starts_at=starts_at, status=WAITING, created_at=now
            )
            session.add(entry)
            session.flush()
        position = _position(session, entry)
    return Position(entry, position)


def join_refusal(
    snapshot: Snapshot,
    starts_at: datetime,
    user_id: int,
    now: datetime,
    held: Holdings | None = None,
) -> str | None:
    """Why `user_id` may not join the waitlist of `starts_at` now ("not_full" when they can
    book it instead), or None if they may: availability.wait_refusal, the rule the grid offers
    joining by, over the snapshot's refusal. With the client's `held` holdings the fair-use
    limits apply (one who could not take the place is refused "limit_reached" as a booking)."""
    refusal = snapshot.refusal(starts_at, user_id, now, holdings=held)
    waiting_here = held is not None and starts_at in held.waiting
    return wait_refusal(refusal, starts_at, snapshot.settings, now, held, waiting_here)


def leave(session: Session, entry_id: int, user: User) -> WaitlistEntry:
    with write_transaction(session):
        # Read afresh under the lock: the session may hold the entry from before a promotion.
        entry = (
            session.get(WaitlistEntry, entry_id, populate_existing=True)
            if is_row_id(entry_id)
            else None
        )
        if entry is None or entry.user_id != user.id or entry.status != WAITING:
            raise ScheduleError("not_found", N_("not_waiting"))
        entry.status = "left"
    return entry


def _position(session: Session, entry: WaitlistEntry) -> int:
    ahead = session.scalar(
        select(func.count()).where(
            WaitlistEntry.starts_at == entry.starts_at,
            WaitlistEntry.status == WAITING,
            WaitlistEntry.id < entry.id,
        )
    )
    return (ahead or 0) + 1


def user_entries(
    session: Session,
    user: User,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> list[Position]:
    """The user's waiting entries for future starts with their places in line; given the
    settings, only those that can still be promoted (see promotion_cutoff)."""
    now = now or utcnow()
    to_come = (
        WaitlistEntry.starts_at >= promotion_cutoff(settings, now)
        if settings
        else WaitlistEntry.starts_at > now
    )
    entries = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id, WaitlistEntry.status == WAITING, to_come)
        .order_by(WaitlistEntry.starts_at)
    )
    return [Position(entry, _position(session, entry)) for entry in entries]


def day_lines(session: Session, settings: Settings, day: date) -> dict[datetime, list[User]]:
    """Who waits for each start of `day`, first in line first (the trainer's Day view)."""
    rows = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WAITING,
            WaitlistEntry.starts_at >= local_midnight_utc(day, settings),
            WaitlistEntry.starts_at < local_midnight_utc(day + timedelta(days=1), settings),
        )
        .order_by(WaitlistEntry.id)
    ).all()
    lines: dict[datetime, list[User]] = {}
    for entry in rows:
        lines.setdefault(entry.starts_at, []).append(entry.user)
    return lines


def places_in_line(
    session: Session, settings: Settings, user_id: int, day: date, now: datetime
) -> dict[datetime, int]:
    """The starts of `day` the user waits for, with their places in line (1 = next), while
    they can still be promoted: what availability.view_day takes as `in_line`."""
    rows = session.execute(
        select(WaitlistEntry.user_id, WaitlistEntry.starts_at)
        .where(
            WaitlistEntry.status == WAITING,
            WaitlistEntry.starts_at
            >= max(local_midnight_utc(day, settings), promotion_cutoff(settings, now)),
            WaitlistEntry.starts_at < local_midnight_utc(day + timedelta(days=1), settings),
        )
        .order_by(WaitlistEntry.id)
    ).all()
    ahead: dict[datetime, int] = {}
    mine: dict[datetime, int] = {}
    for waiting_user, starts_at in rows:  # first come, first served, as promote
        ahead[starts_at] = ahead.get(starts_at, 0) + 1
        if waiting_user == user_id:
            mine[starts_at] = ahead[starts_at]
    return mine


def promote(
    session: Session, settings: Settings, freed_from: datetime, freed_to: datetime, now: datetime
) -> list[BookingMade]:
    """Book waiting clients into places freed in [freed_from, freed_to), first come first served.

    Runs inside the caller's write transaction, so a place is never given twice.
    """
    margin = timedelta(minutes=settings.training_minutes)
    entries = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WAITING,
            WaitlistEntry.starts_at > freed_from - margin,
            WaitlistEntry.starts_at < freed_to,
        )
        .order_by(WaitlistEntry.id)
    ).all()
    made = []
    for entry in entries:
        if entry.starts_at < promotion_cutoff(settings, now):
            entry.status = "expired"
            continue
        snapshot = snapshot_for_start(session, settings, entry.starts_at)
        held = holdings(session, settings, entry.user_id, now)
        if snapshot.refusal(entry.starts_at, entry.user_id, now, holdings=held) is not None:
            # Still full for them, or they hold an overlapping booking, or they are at a
            # fair-use limit: keep waiting (a cancel of theirs may lift it).
            continue
        booking = Booking(
            user_id=entry.user_id,
            starts_at=entry.starts_at,
            ends_at=training_end(entry.starts_at, settings),
            status=ACTIVE,
            source="waitlist",
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        session.flush()
        charged = passes.charge(session, settings, booking, now)
        paid_by = passes.view(session, settings, charged, now) if charged else None
        entry.status = "promoted"
        entry.booking_id = booking.id
        made.append(BookingMade(booking, from_waitlist=True, pass_view=paid_by))
    return made
