"""Use cases, each one transaction. Adapters (Flask, the bot) call these and nothing lower."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import kinds, passes, payments, waitlist
from .availability import effective_hours, pick, snapshot_for_start
from .db import is_row_id, write_transaction
from .errors import InvalidInput, ScheduleError
from .events import BookingCancelled, BookingMade, BookingMoved
from .i18n import N_
from .limits import holdings, refused
from .models import ACTIVE, CANCELLED, Booking, Closure, OpeningHours, Trainer, User, utcnow
from .settings import Settings, WeekHours, check_week
from .timegrid import (
    local_midnight_utc,
    start_instant,
    today,
    training_end,
    wall_to_utc_or_after,
)
from .unit import Unit

SOURCES = ("miniapp", "bot", "admin", "waitlist", "series")
USER_FIELDS = ("first_name", "last_name", "username", "language_code")


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
    unit: Unit,
    client: User,
    day: date,
    minute: int,
    *,
    source: str | None = None,
    kind: int | None = None,
    trainer: int | None = None,
) -> Booking:
    """Book a training for `client` starting at wall time `minute` on `day`.

    The fair-use limits and the phone apply to everyone's own bookings, not to the trainer
    booking for a client. `source` says where it came from ("admin" for the trainer's).
    `kind` is a kind's id (None: the default kind), `trainer` a trainer's id (None: any
    trainer of the kind, schedule.availability.pick says whom); an unknown one is
    InvalidInput, a trainer busy with another kind then "trainer_busy"."""
    session, settings, now = unit.session, unit.settings, unit.now
    for_client = not unit.actor.is_trainer
    source = source or ("miniapp" if for_client else "admin")
    if source not in SOURCES:
        raise InvalidInput(N_("input_source"), source=repr(source)[:40])
    starts_at = start_instant(day, minute, settings)
    with write_transaction(session):
        if settings.phone_required and for_client and not client.phone:
            raise ScheduleError("phone_required")
        held = holdings(session, settings, client.id, now) if for_client else None
        snapshot = snapshot_for_start(session, settings, starts_at)
        wanted = snapshot.kinds.resolve(kind, trainer)
        given_by, verdict = pick(snapshot, wanted, trainer, starts_at, client.id, now, 0, held)
        if verdict.refusal:
            raise refused(verdict.refusal, held, starts_at, now)
        booking = Booking(
            user_id=client.id,
            kind_id=wanted.booking_kind,
            trainer_id=given_by,
            starts_at=starts_at,
            ends_at=training_end(starts_at, wanted.rules(settings)),
            status=ACTIVE,
            source=source,
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        session.flush()
        charged = passes.charge(session, settings, booking, now)
        paid_by = passes.view(session, settings, charged, now) if charged else None
        unit.emit(BookingMade(booking, pass_view=paid_by))
    return booking


def owned_active_booking(session: Session, booking_id: int, owner: User | None) -> Booking:
    """The active booking `booking_id`, which must belong to `owner` (a client acting: the
    unit's `actor.owner`); None, a trainer's, may be anyone's.

    Read afresh from the database; any id (a forged callback's too) is "not_found" rather than
    a failing query."""
    booking = (
        session.get(Booking, booking_id, populate_existing=True) if is_row_id(booking_id) else None
    )
    if booking is None or (owner is not None and booking.user_id != owner.id):
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


def cancel(unit: Unit, booking_id: int, *, reason: str | None = None) -> Booking:
    """Cancel a booking: a client their own until the deadline (under LATE_CANCEL=forfeit until
    the start, the visit kept: `booking.forfeited`), the trainer anyone's at any time."""
    session, settings, now = unit.session, unit.settings, unit.now
    by_client = not unit.actor.is_trainer
    with write_transaction(session):
        booking = owned_active_booking(session, booking_id, unit.actor.owner)
        if by_client and payments.forfeits(booking, settings, now):
            booking.forfeited = True
        elif by_client:
            _check_client_deadline(booking, settings, now)
        cancel_locked(unit, booking, reason=reason)
    return booking


def cancel_locked(
    unit: Unit, booking: Booking, *, reason: str | None, series_stopped: bool = False
) -> None:
    """Cancel an active `booking` inside the caller's write transaction, whose checks
    (ownership, the deadline) already passed: the place goes to its waitlist, the events to
    the unit. For use cases that cancel several bookings as one unit (a series stopped:
    `series_stopped` when the trainer stopped it, the client told of it all in one message)."""
    by_admin = unit.actor.is_trainer
    _mark_cancelled(booking, "admin" if by_admin else "client", reason, unit.now)
    unit.session.flush()
    promoted = waitlist.promote(
        unit.session, unit.settings, booking.starts_at, booking.ends_at, unit.now
    )
    cancelled = BookingCancelled(booking, by_admin=by_admin, series_stopped=series_stopped)
    unit.emit(cancelled, *promoted)


def reschedule(unit: Unit, booking_id: int, day: date, minute: int) -> Booking:
    """Move a booking to a new start in one transaction; on refusal nothing changes.

    A client's move weighs the fair-use limits (the booking itself not counted) and the
    deadline; the trainer's does not."""
    session, settings, now = unit.session, unit.settings, unit.now
    by_client = not unit.actor.is_trainer
    starts_at = start_instant(day, minute, settings)
    with write_transaction(session):
        booking = owned_active_booking(session, booking_id, unit.actor.owner)
        if by_client:
            _check_client_deadline(booking, settings, now)
        held = holdings(session, settings, booking.user_id, now) if by_client else None
        snapshot = snapshot_for_start(session, settings, starts_at)
        # A move keeps the kind and the trainer (the studio's booking: any trainer now).
        kind = snapshot.kinds.kind(booking.kind_id) or snapshot.kinds.default
        given_by, verdict = pick(
            snapshot, kind, booking.trainer_id, starts_at, booking.user_id, now, booking.id, held
        )
        if verdict.refusal:
            raise refused(verdict.refusal, held, starts_at, now, booking.id)
        previous = booking.starts_at
        booking.starts_at = starts_at
        booking.trainer_id = given_by
        previous_end = booking.ends_at
        booking.ends_at = training_end(starts_at, kind.rules(settings))
        booking.updated_at = now
        passes.charge(session, settings, booking, now)
        session.flush()
        promoted = waitlist.promote(session, settings, previous, previous_end, now)
        unit.emit(BookingMoved(booking, previous), *promoted)
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
    session: Session,
    starts: datetime,
    ends: datetime,
    *,
    include_cancelled: bool = False,
    trainer_id: int | None = None,
) -> list[Booking]:
    """Bookings overlapping [starts, ends), by start then booking time (the trainer's view);
    with `trainer_id`, that trainer's only."""
    query = select(Booking).where(Booking.starts_at < ends, Booking.ends_at > starts)
    if trainer_id is not None:
        query = query.where(Booking.trainer_id == trainer_id)
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


def set_opening_hours(unit: Unit, week: WeekHours) -> WeekHours:
    """Replace the trainer's opening hours (validated against the grid)."""
    unit.require_trainer()
    session, settings, now = unit.session, unit.settings, unit.now
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
        unit.emit(*promoted)
    return effective_hours(session, settings)


def edit_trainer(
    unit: Unit,
    trainer_id: int,
    *,
    name: str | None = None,
    opening_hours: str | None = None,
) -> Trainer:
    """Rename a trainer or change their hours (an owner; schedule.kinds.edit_trainer_in: None
    unchanged, kinds.STUDIO_HOURS the studio's). Places new hours open go to the clients
    waiting for them in the same transaction, as set_opening_hours gives the studio's."""
    session, settings, now = unit.session, unit.settings, unit.now
    with write_transaction(session):
        trainer, changed = kinds.edit_trainer_in(
            unit, trainer_id, name=name, opening_hours=opening_hours
        )
        if changed:
            promoted = waitlist.promote(
                session, settings, now, now + timedelta(days=settings.booking_horizon_days + 1), now
            )
            unit.emit(*promoted)
    return trainer


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
    unit: Unit,
    day: date,
    *,
    start_minute: int | None = None,
    end_minute: int | None = None,
    reason: str = "",
    cancel_bookings: bool = False,
    trainer_id: int | None = None,
) -> Closure:
    """Close a whole local day, or a wall-time range of it (the trainer): the whole studio's,
    or with `trainer_id` that trainer's alone (their day off: their bookings are the ones
    inside; the adapter checks that the actor manages that trainer, schedule.kinds.Staff).

    Active bookings inside it are never left there silently: without `cancel_bookings` the
    closure is refused ("has_bookings"; list them with `bookings_between(closure_span(...))`),
    with it they are cancelled by the trainer, the closure's reason told to each client.
    A past date is refused: it would change nothing and be listed nowhere.
    """
    unit.require_trainer()
    session, settings, now = unit.session, unit.settings, unit.now
    if day < today(now, settings):
        raise ScheduleError("past_closure")
    starts, ends = closure_span(settings, day, start_minute, end_minute)
    reason = checked_text(reason.strip()[:500])
    with write_transaction(session):
        if trainer_id is not None:
            found = session.get(Trainer, trainer_id) if is_row_id(trainer_id) else None
            if found is None or found.retired_at is not None:
                raise ScheduleError("not_found", N_("trainer_not_found"))
        inside = bookings_between(session, starts, ends, trainer_id=trainer_id)
        if inside and not cancel_bookings:
            raise ScheduleError("has_bookings", N_("bookings_inside"), bookings=len(inside))
        if inside and not reason:
            raise ScheduleError("closure_reason_required")  # each client is told why
        for booking in inside:
            _mark_cancelled(booking, "admin", reason or None, now)
        closure = Closure(
            starts_at=starts, ends_at=ends, reason=reason, created_at=now, trainer_id=trainer_id
        )
        session.add(closure)
        session.flush()
        unit.emit(*(BookingCancelled(booking, by_admin=True) for booking in inside))
    return closure


def remove_closure(unit: Unit, closure_id: int, *, trainer_id: int | None = None) -> None:
    """Reopen a closed time; waiting clients may get the places it frees. With `trainer_id`
    only that trainer's own closure is found."""
    unit.require_trainer()
    session = unit.session
    with write_transaction(session):
        closure = (
            session.get(Closure, closure_id, populate_existing=True)
            if is_row_id(closure_id)
            else None
        )
        if closure is None or (trainer_id is not None and closure.trainer_id != trainer_id):
            raise ScheduleError("not_found", N_("closure_not_found"))
        session.delete(closure)
        session.flush()
        promoted = waitlist.promote(
            session, unit.settings, closure.starts_at, closure.ends_at, unit.now
        )
        unit.emit(*promoted)


def closures_after(
    session: Session, instant: datetime, *, trainer_id: int | None = None
) -> list[Closure]:
    """The studio's closures ending after `instant`, or with `trainer_id` that trainer's own."""
    mine = Closure.trainer_id.is_(None) if trainer_id is None else Closure.trainer_id == trainer_id
    return list(
        session.scalars(
            select(Closure).where(Closure.ends_at > instant, mine).order_by(Closure.starts_at)
        )
    )
