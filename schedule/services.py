"""Use cases, each one transaction. Adapters (Flask, the bot) call these and nothing lower."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import notices, passes, payments, waitlist
from .availability import effective_hours, snapshot_for_start
from .db import is_row_id, write_transaction
from .errors import InvalidInput, ScheduleError
from .events import BookingCancelled, BookingMade, BookingMoved, Event, EventHandler
from .i18n import N_
from .limits import holdings, refused
from .models import ACTIVE, CANCELLED, Booking, Closure, OpeningHours, User, utcnow
from .settings import Settings, WeekHours, check_week
from .timegrid import (
    local_midnight_utc,
    start_instant,
    today,
    training_end,
    wall_to_utc_or_after,
)

SOURCES = ("miniapp", "bot", "admin", "waitlist", "series")
log = logging.getLogger("schedule")
USER_FIELDS = ("first_name", "last_name", "username", "language_code")


def _emit(
    session: Session, settings: Settings, on_event: EventHandler | None, *events: Event
) -> None:
    """Inside the transaction that made them: log each event (one line per booking, cancel
    and move), write the notices it causes to the outbox (schedule.notices), so that they are
    committed with the change or not at all, and hand it to the adapter's observer."""
    for event in events:
        _log_event(event)
        notices.record(session, settings, event)
        if on_event is not None:
            on_event(event)


def _log_event(event: Event) -> None:
    booking = event.booking
    facts = {
        "booking_id": booking.id,
        "client": booking.user.telegram_id,
        "starts_at": booking.starts_at.isoformat() + "Z",
        "source": booking.source,
    }
    if isinstance(event, BookingMade):
        log.info("booking made", extra={**facts, "from_waitlist": event.from_waitlist})
    elif isinstance(event, BookingCancelled):
        log.info(
            "booking cancelled", extra={**facts, "by": "admin" if event.by_admin else "client"}
        )
    elif isinstance(event, BookingMoved):
        moved_from = event.previous_starts_at.isoformat() + "Z"
        log.info("booking moved", extra={**facts, "moved_from": moved_from})


def upsert_user(session: Session, telegram_user: Mapping[str, object]) -> User:
    """The user behind a Telegram user object, created or refreshed; no write when unchanged."""
    telegram_id = telegram_user.get("id")
    if not isinstance(telegram_id, int) or isinstance(telegram_id, bool):
        raise InvalidInput(N_("input_telegram_user"))
    if not 0 < telegram_id < 2**63:  # Telegram's ids are positive and fit in 64 bits
        raise InvalidInput(N_("input_telegram_user"))
    fields = {
        name: (
            str(telegram_user[name])[: User.__table__.c[name].type.length]
            if telegram_user.get(name) is not None
            else None
        )
        for name in USER_FIELDS
    }
    fields["first_name"] = fields["first_name"] or ""
    user = session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is not None and all(getattr(user, k) == v for k, v in fields.items()):
        return user
    if user is None:
        user = User(telegram_id=telegram_id, **fields)
        session.add(user)
    else:
        for name, value in fields.items():
            setattr(user, name, value)
    try:
        session.commit()
    except IntegrityError:  # the same user's first two requests raced; the other one won
        session.rollback()
        user = session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            raise
    return user


def set_phone(session: Session, user: User, phone: str) -> User:
    """Store a phone number as + and its digits (Telegram's contact may omit the +)."""
    digits = "".join(ch for ch in phone if ch in "0123456789") if isinstance(phone, str) else ""
    if not 7 <= len(digits) <= 15:
        raise InvalidInput(N_("input_phone"))
    user.phone = "+" + digits
    session.commit()
    return user


def book(
    session: Session,
    settings: Settings,
    user: User,
    day: date,
    minute: int,
    *,
    now: datetime | None = None,
    source: str = "miniapp",
    on_event: EventHandler | None = None,
) -> Booking:
    """Book a training for `user` starting at wall time `minute` on `day`.

    The fair-use limits apply to every source but "admin" (the trainer booking for a client)."""
    now = now or utcnow()
    if source not in SOURCES:
        raise InvalidInput(N_("input_source"), source=repr(source)[:40])
    starts_at = start_instant(day, minute, settings)
    with write_transaction(session):
        if settings.phone_required and source != "admin" and not user.phone:
            raise ScheduleError("phone_required")
        held = None if source == "admin" else holdings(session, settings, user.id, now)
        snapshot = snapshot_for_start(session, settings, starts_at)
        refusal = snapshot.refusal(starts_at, user.id, now, holdings=held)
        if refusal:
            raise refused(refusal, held, starts_at, now)
        booking = Booking(
            user_id=user.id,
            starts_at=starts_at,
            ends_at=training_end(starts_at, settings),
            status=ACTIVE,
            source=source,
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        session.flush()
        charged = passes.charge(session, settings, booking, now)
        paid_by = passes.view(session, settings, charged, now) if charged else None
        _emit(session, settings, on_event, BookingMade(booking, pass_view=paid_by))
    return booking


def owned_active_booking(session: Session, booking_id: int, user: User | None) -> Booking:
    """The active booking `booking_id`, which must belong to `user` unless user is None (admin).

    Read afresh from the database; any id (a forged callback's too) is "not_found" rather than
    a failing query."""
    booking = (
        session.get(Booking, booking_id, populate_existing=True) if is_row_id(booking_id) else None
    )
    if booking is None or (user is not None and booking.user_id != user.id):
        raise ScheduleError("not_found")
    if booking.status != ACTIVE:
        raise ScheduleError("not_active")
    return booking


def checked_text(text: str) -> str:
    """`text` unless it holds a NUL byte, which no text column may store (PostgreSQL refuses
    it), and which no person types."""
    if "\x00" in text:
        raise InvalidInput(N_("input_nul"))
    return text


def cancel_reason(reason: str | None) -> str | None:
    """A cancel's reason as it is stored and told: trimmed, at most 1000 characters."""
    return checked_text((reason or "").strip()[:1000]) or None


def _mark_cancelled(booking: Booking, by: str, reason: str | None, now: datetime) -> None:
    booking.status = CANCELLED
    passes.release(booking)
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.cancel_reason = cancel_reason(reason)
    booking.updated_at = now


def change_deadline(booking: Booking, settings: Settings) -> datetime:
    """The last moment the client may cancel or move `booking` (CANCEL_DEADLINE_MINUTES)."""
    return booking.starts_at - timedelta(minutes=settings.cancel_deadline_minutes)


def client_may_change(booking: Booking, settings: Settings, now: datetime) -> bool:
    return now <= change_deadline(booking, settings)


def _check_client_deadline(booking: Booking, settings: Settings, now: datetime) -> None:
    if not client_may_change(booking, settings, now):
        raise ScheduleError("deadline_passed")


def cancel(
    session: Session,
    settings: Settings,
    booking_id: int,
    user: User | None,
    *,
    now: datetime | None = None,
    reason: str | None = None,
    on_event: EventHandler | None = None,
) -> Booking:
    """Cancel a booking: its owner until the deadline (under LATE_CANCEL=forfeit until the
    start, the visit kept: `booking.forfeited`), or the trainer (user=None) at any time."""
    now = now or utcnow()
    with write_transaction(session):
        booking = owned_active_booking(session, booking_id, user)
        if user is not None and payments.forfeits(booking, settings, now):
            booking.forfeited = True
        elif user is not None:
            _check_client_deadline(booking, settings, now)
        cancel_locked(
            session,
            settings,
            booking,
            by_admin=user is None,
            reason=reason,
            now=now,
            on_event=on_event,
        )
    return booking


def cancel_locked(
    session: Session,
    settings: Settings,
    booking: Booking,
    *,
    by_admin: bool,
    reason: str | None,
    now: datetime,
    on_event: EventHandler | None,
    series_stopped: bool = False,
) -> None:
    """Cancel an active `booking` inside the caller's write transaction, whose checks
    (ownership, the deadline) already passed: the place goes to its waitlist, the events to
    `on_event`. For use cases that cancel several bookings as one unit (a series stopped:
    `series_stopped` when the trainer stopped it, the client told of it all in one message)."""
    _mark_cancelled(booking, "admin" if by_admin else "client", reason, now)
    session.flush()
    promoted = waitlist.promote(session, settings, booking.starts_at, booking.ends_at, now)
    cancelled = BookingCancelled(booking, by_admin=by_admin, series_stopped=series_stopped)
    _emit(session, settings, on_event, cancelled, *promoted)


def reschedule(
    session: Session,
    settings: Settings,
    booking_id: int,
    user: User | None,
    day: date,
    minute: int,
    *,
    now: datetime | None = None,
    on_event: EventHandler | None = None,
) -> Booking:
    """Move a booking to a new start in one transaction; on refusal nothing changes.

    A client's move weighs the fair-use limits (the booking itself not counted); the trainer's
    (user=None) does not."""
    now = now or utcnow()
    starts_at = start_instant(day, minute, settings)
    with write_transaction(session):
        booking = owned_active_booking(session, booking_id, user)
        if user is not None:
            _check_client_deadline(booking, settings, now)
        held = None if user is None else holdings(session, settings, user.id, now)
        snapshot = snapshot_for_start(session, settings, starts_at)
        refusal = snapshot.refusal(starts_at, booking.user_id, now, booking.id, held)
        if refusal:
            raise refused(refusal, held, starts_at, now, booking.id)
        previous = booking.starts_at
        booking.starts_at = starts_at
        previous_end = booking.ends_at
        booking.ends_at = training_end(starts_at, settings)
        booking.updated_at = now
        passes.charge(session, settings, booking, now)
        session.flush()
        promoted = waitlist.promote(session, settings, previous, previous_end, now)
        _emit(session, settings, on_event, BookingMoved(booking, previous), *promoted)
    return booking


def upcoming_bookings(session: Session, user: User, now: datetime | None = None) -> list[Booking]:
    """The user's active bookings that have not ended yet, soonest first."""
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.user_id == user.id,
                Booking.status == ACTIVE,
                Booking.ends_at > (now or utcnow()),
            )
            .order_by(Booking.starts_at)
        )
    )


def bookings_between(
    session: Session, starts: datetime, ends: datetime, *, include_cancelled: bool = False
) -> list[Booking]:
    """Bookings overlapping [starts, ends), by start then booking time (the trainer's view)."""
    query = select(Booking).where(Booking.starts_at < ends, Booking.ends_at > starts)
    if not include_cancelled:
        query = query.where(Booking.status == ACTIVE)
    return list(session.scalars(query.order_by(Booking.starts_at, Booking.id)))


def day_bookings(
    session: Session, settings: Settings, day: date, *, include_cancelled: bool = False
) -> list[Booking]:
    """The bookings starting on local `day`."""
    starts = local_midnight_utc(day, settings)
    ends = local_midnight_utc(day + timedelta(days=1), settings)
    query = select(Booking).where(Booking.starts_at >= starts, Booking.starts_at < ends)
    if not include_cancelled:
        query = query.where(Booking.status == ACTIVE)
    return list(session.scalars(query.order_by(Booking.starts_at, Booking.id)))


def set_opening_hours(
    session: Session,
    settings: Settings,
    week: WeekHours,
    *,
    now: datetime | None = None,
    on_event: EventHandler | None = None,
) -> WeekHours:
    """Replace the trainer's opening hours (validated against the grid)."""
    now = now or utcnow()
    check_week(week, settings.slot_minutes)  # ConfigError when off the grid or overlapping
    if not any(week.values()):
        # An empty table means "OPENING_HOURS applies", so a closed week can't be stored.
        raise InvalidInput(N_("hours_all_closed"))
    with write_transaction(session):
        session.execute(delete(OpeningHours))
        session.add_all(
            OpeningHours(weekday=day, opens=opens, closes=closes)
            for day, intervals in week.items()
            for opens, closes in intervals
        )
        session.flush()
        promoted = waitlist.promote(
            session, settings, now, now + timedelta(days=settings.booking_horizon_days + 1), now
        )
        _emit(session, settings, on_event, *promoted)
    return effective_hours(session, settings)


def closure_span(
    settings: Settings, day: date, start_minute: int | None = None, end_minute: int | None = None
) -> tuple[datetime, datetime]:
    """UTC bounds of closing a whole local day, or the wall-time range [start, end) of it."""
    if start_minute is None and end_minute is None:
        return (
            local_midnight_utc(day, settings),
            local_midnight_utc(day + timedelta(days=1), settings),
        )
    if start_minute is None or end_minute is None or not 0 <= start_minute < end_minute <= 1440:
        raise InvalidInput(N_("closure_range"))
    return (
        wall_to_utc_or_after(day, start_minute, settings),
        wall_to_utc_or_after(day, end_minute, settings),
    )


def add_closure(
    session: Session,
    settings: Settings,
    day: date,
    *,
    start_minute: int | None = None,
    end_minute: int | None = None,
    reason: str = "",
    cancel_bookings: bool = False,
    now: datetime | None = None,
    on_event: EventHandler | None = None,
) -> Closure:
    """Close a whole local day, or a wall-time range of it.

    Active bookings inside it are never left there silently: without `cancel_bookings` the
    closure is refused ("has_bookings"; list them with `bookings_between(closure_span(...))`),
    with it they are cancelled by the trainer, the closure's reason told to each client.
    """
    # A past date would change nothing and be listed nowhere. Every adapter passes its `now`;
    # a caller without one (a script, a seed) may still record history.
    if now is not None and day < today(now, settings):
        raise ScheduleError("past_closure")
    now = now or utcnow()
    starts, ends = closure_span(settings, day, start_minute, end_minute)
    reason = checked_text(reason.strip()[:500])
    with write_transaction(session):
        inside = bookings_between(session, starts, ends)
        if inside and not cancel_bookings:
            raise ScheduleError("has_bookings", N_("bookings_inside"), bookings=len(inside))
        if inside and not reason:
            raise ScheduleError("closure_reason_required")  # each client is told why
        for booking in inside:
            _mark_cancelled(booking, "admin", reason or None, now)
        closure = Closure(starts_at=starts, ends_at=ends, reason=reason, created_at=now)
        session.add(closure)
        session.flush()
        cancels = [BookingCancelled(booking, by_admin=True) for booking in inside]
        _emit(session, settings, on_event, *cancels)
    return closure


def remove_closure(
    session: Session,
    settings: Settings,
    closure_id: int,
    *,
    now: datetime | None = None,
    on_event: EventHandler | None = None,
) -> None:
    """Reopen a closed time; waiting clients may get the places it frees."""
    with write_transaction(session):
        closure = (
            session.get(Closure, closure_id, populate_existing=True)
            if is_row_id(closure_id)
            else None
        )
        if closure is None:
            raise ScheduleError("not_found", N_("closure_not_found"))
        session.delete(closure)
        session.flush()
        promoted = waitlist.promote(
            session, settings, closure.starts_at, closure.ends_at, now or utcnow()
        )
        _emit(session, settings, on_event, *promoted)


def closures_after(session: Session, instant: datetime) -> list[Closure]:
    return list(
        session.scalars(
            select(Closure).where(Closure.ends_at > instant).order_by(Closure.starts_at)
        )
    )
