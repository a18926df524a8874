"""A client's history: the trainings of the last HISTORY_DAYS that are over (attended or
missed) and the bookings cancelled, newest first, with who cancelled and why.

Read by `GET /api/bookings?scope=history` and My trainings (DESIGN.md, "History"), so that a
booking the studio cancelled never simply vanishes from the client's view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import ACTIVE, CANCELLED, Booking, User

HISTORY_DAYS = 90
CLIENT, STUDIO = "client", "studio"


@dataclass(frozen=True)
class Past:
    """One line of a client's history."""

    booking: Booking
    cancelled_by: str | None  # CLIENT, STUDIO (the trainer), or None: not cancelled
    reason: str | None  # the studio's words when it cancelled, else None


def history(session: Session, user: User, now: datetime, days: int = HISTORY_DAYS) -> list[Past]:
    """`user`'s bookings of the last `days` days that have ended or were cancelled, newest
    first."""
    since = now - timedelta(days=days)
    rows = session.scalars(
        select(Booking)
        .where(
            Booking.user_id == user.id,
            Booking.starts_at >= since,
            or_(
                (Booking.status == ACTIVE) & (Booking.ends_at <= now),
                Booking.status == CANCELLED,
            ),
        )
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    )
    return [_past(booking) for booking in rows]


def _past(booking: Booking) -> Past:
    if booking.status != CANCELLED:
        return Past(booking, None, None)
    by = STUDIO if booking.cancelled_by == "admin" else CLIENT
    return Past(booking, by, booking.cancel_reason if by == STUDIO else None)
