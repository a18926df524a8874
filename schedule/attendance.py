"""Attendance: who came and who did not, marked by the trainer once a training has started.

No-shows are what a studio's policy acts on (schedule.passes.Standing refuses booking at
NO_SHOW_LIMIT of them in 30 days), and a no-show keeps the visit its pass paid for. A trainer
marks attendance from the Day view or the bot's /today; what they leave unmarked becomes
ATTENDANCE_DEFAULT [attended] once its day is over (`settle_past_days`, run by the worker; a
conditional update, so any number of workers settle each visit once). Every write runs under
the schedule lock, which also tells the grid's cache that refusals may have changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from .db import write_transaction
from .errors import InvalidInput, ScheduleError
from .i18n import N_
from .models import ACTIVE, ATTENDED, CANCELLED, NO_SHOW, Booking, User, utcnow
from .services import owned_active_booking
from .settings import Settings
from .timegrid import local_midnight_utc, today
from .unit import Unit

STATUSES = (ATTENDED, NO_SHOW)


def may_mark(booking: Booking, now: datetime) -> bool:
    """Attendance is marked once the training has started."""
    return booking.starts_at <= now


def mark(unit: Unit, booking_id: int, status: object) -> Booking:
    """The trainer marks a visitor attended or no-show (409 "not_started" before the start)."""
    unit.require_trainer()
    session, now = unit.session, unit.now
    if status not in STATUSES:
        raise InvalidInput(N_("input_attendance"))
    with write_transaction(session):
        booking = owned_active_booking(session, booking_id, unit.actor.owner)
        if not may_mark(booking, now):
            raise ScheduleError("not_started")
        booking.attendance = status
        booking.attendance_at = now
    return booking


def unblock(unit: Unit, user: User) -> User:
    """Lift a NO_SHOW_LIMIT block: the no-shows until now no longer count (the trainer's act)."""
    unit.require_trainer()
    with write_transaction(unit.session):
        found = unit.session.get(User, user.id, populate_existing=True)
        found.no_shows_cleared_at = unit.now
    return found


def settle_past_days(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Mark ATTENDANCE_DEFAULT on the unmarked visits of days that are over; how many."""
    now = now or utcnow()
    day_start = local_midnight_utc(today(now, settings), settings)
    unmarked = (
        Booking.status == ACTIVE,
        Booking.attendance.is_(None),
        Booking.starts_at < day_start,
    )
    if session.scalar(select(Booking.id).where(*unmarked).limit(1)) is None:
        session.commit()  # nothing to do: no write (each one bumps the grid cache's version)
        return 0
    with write_transaction(session):
        result = session.execute(
            update(Booking)
            .where(*unmarked)
            .values(attendance=settings.attendance_default, attendance_at=now)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


@dataclass(frozen=True)
class ClientStats:
    attended: int
    no_show: int
    cancelled: int
    unpaid: int  # active bookings no pass pays for
    last_visit: datetime | None  # start of the latest training they attended


def client_stats(session: Session, user: User) -> ClientStats:
    active = Booking.status == ACTIVE
    row = session.execute(
        select(
            func.sum(case((active & (Booking.attendance == ATTENDED), 1), else_=0)),
            func.sum(case((active & (Booking.attendance == NO_SHOW), 1), else_=0)),
            func.sum(case((Booking.status == CANCELLED, 1), else_=0)),
            func.sum(case((active & Booking.pass_id.is_(None), 1), else_=0)),
            func.max(case((active & (Booking.attendance == ATTENDED), Booking.starts_at))),
        ).where(Booking.user_id == user.id)
    ).one()
    attended, no_show, cancelled, unpaid, last_visit = row
    return ClientStats(
        int(attended or 0), int(no_show or 0), int(cancelled or 0), int(unpaid or 0), last_visit
    )
