"""Reminders before a training: which are due, claimed exactly once across processes.

Any number of workers (web processes, bot processes) may run `claim_due` in a loop. A claim
is a row keyed by (booking, offset, start), written under the schedule lock, so one worker
wins each reminder. A claim that was not marked sent within `STALE_CLAIM` is taken over (its
worker died between claiming and sending), so a reminder is not lost to a restart. A moved
booking is reminded again for its new start. None is sent once the training has started, and
none for a booking made (or moved) after its reminder moment. When a worker was down long
enough for several reminders of one booking to fall due, only the latest is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import write_transaction
from .models import ACTIVE, Booking, ReminderClaim, utcnow
from .settings import Settings

STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class DueReminder:
    claim_id: int
    booking: Booking
    offset_minutes: int


def claim_due(
    session: Session,
    settings: Settings,
    worker: str,
    now: datetime | None = None,
    *,
    on_due: Callable[[Session, DueReminder], None] | None = None,
) -> list[DueReminder]:
    """Claim every reminder due now for this worker; the caller sends them, then `mark_sent`.

    With `on_due`, each claimed reminder is handed to it inside the claiming transaction (the
    bot writes it to the outbox there) and its claim is marked sent at once: from then on the
    outbox delivers it, exactly once, and no claim is ever taken over."""
    now = now or utcnow()
    offsets = settings.reminder_minutes
    if not offsets or not _anything_to_claim(session, offsets, now):
        # No write when there is nothing to claim: the loop runs every few seconds in every
        # worker, and each write would bump schedule_lock's version (the grid caches by it).
        return []
    with write_transaction(session):
        bookings, claims = _candidates(session, offsets, now)
        claimed = [
            pair
            for booking in bookings
            if (pair := _claim_latest(session, booking, offsets, claims, worker, now))
        ]
        session.flush()
        due = [DueReminder(claim.id, booking, claim.offset_minutes) for claim, booking in claimed]
        if on_due is not None:
            for (claim, _booking), reminder in zip(claimed, due, strict=True):
                on_due(session, reminder)
                claim.sent_at = now
    return due


Claims = dict[tuple[int, int, datetime], ReminderClaim]


def _candidates(
    session: Session, offsets: tuple[int, ...], now: datetime
) -> tuple[list[Booking], Claims]:
    """The active bookings some reminder may be due for, and their claims (read afresh)."""
    bookings = session.scalars(
        select(Booking)
        .where(
            Booking.status == ACTIVE,
            Booking.starts_at > now,
            Booking.starts_at <= now + timedelta(minutes=max(offsets)),
        )
        .execution_options(populate_existing=True)
    ).all()
    existing = session.scalars(
        select(ReminderClaim)
        .where(ReminderClaim.booking_id.in_([b.id for b in bookings]))
        .execution_options(populate_existing=True)
    )
    return bookings, {(c.booking_id, c.offset_minutes, c.starts_at): c for c in existing}


def _anything_to_claim(session: Session, offsets: tuple[int, ...], now: datetime) -> bool:
    """A look without the lock; `claim_due` decides again under it."""
    bookings, claims = _candidates(session, offsets, now)
    found = any(
        (due := _due_offsets(booking, offsets, now))
        and _open(claims.get((booking.id, due[0], booking.starts_at)), now)
        for booking in bookings
    )
    session.commit()  # end the read, as a write transaction would
    return found


def _due_offsets(booking: Booking, offsets: tuple[int, ...], now: datetime) -> list[int]:
    """The offsets whose moment has come for `booking`, the latest (smallest) first; none
    before the booking was made or moved."""
    return sorted(
        offset
        for offset in offsets
        if booking.updated_at <= booking.starts_at - timedelta(minutes=offset) <= now
    )


def _open(claim: ReminderClaim | None, now: datetime) -> bool:
    """Whether a reminder may be claimed: unclaimed, or its worker died before sending."""
    return claim is None or (
        claim.sent_at is None and not claim.skipped and claim.claimed_at <= now - STALE_CLAIM
    )


def _claim_latest(
    session: Session,
    booking: Booking,
    offsets: tuple[int, ...],
    claims: Claims,
    worker: str,
    now: datetime,
) -> tuple[ReminderClaim, Booking] | None:
    """Claim the latest due reminder of `booking`; earlier unclaimed ones are marked skipped."""
    due = _due_offsets(booking, offsets, now)
    if not due:
        return None
    latest, *earlier = due
    for offset in earlier:
        if (booking.id, offset, booking.starts_at) not in claims:
            session.add(_new_claim(booking, offset, worker, now, skipped=True))
    claim = claims.get((booking.id, latest, booking.starts_at))
    if not _open(claim, now):
        return None  # sent already, or in another worker's hands
    if claim is None:
        claim = _new_claim(booking, latest, worker, now)
        session.add(claim)
    else:
        claim.claimed_by, claim.claimed_at = worker, now
    return claim, booking


def _new_claim(
    booking: Booking, offset: int, worker: str, now: datetime, *, skipped: bool = False
) -> ReminderClaim:
    return ReminderClaim(
        booking_id=booking.id,
        offset_minutes=offset,
        starts_at=booking.starts_at,
        claimed_by=worker,
        claimed_at=now,
        skipped=skipped,
    )


def mark_sent(session: Session, claim_id: int, now: datetime | None = None) -> None:
    # Under the lock like every write: on SQLite a transaction that read the claim first could
    # not wait for another worker's write, and would fail with "database is locked".
    with write_transaction(session):
        claim = session.get(ReminderClaim, claim_id)
        if claim is not None:
            claim.sent_at = now or utcnow()
