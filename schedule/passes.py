"""Passes (абонементы): visits a client paid for, taken by bookings, kept with their history.

A trainer's notebook of who paid for how many visits becomes rows: a `Pass` holds N visits
valid between two local dates; each active booking it pays for points at it
(`Booking.pass_id`), so "used" is never a counter that can drift from the bookings. A booking
takes one visit from the client's pass that covers the training's date, has a visit left and
expires first; it does so inside the booking's write transaction (schedule.db's lock), so two
racing bookings never both take a pass's last visit. A cancel gives the visit back (the
booking no longer points at the pass); a no-show keeps it, even when cancelled afterwards; a
pass past its last date pays for nothing. Every change the trainer makes is a `PassChange`
row (who, when, why, how much).

`Standing` is what the rules need about one client (their passes and recent no-shows); it
rides on schedule.limits.Holdings so that the grid, the bot and the services refuse
"no_pass" and "no_show_limit" from the same one picture as "limit_reached".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import notices
from .db import is_row_id, write_transaction
from .errors import InvalidInput, ScheduleError
from .events import PassExpiring
from .i18n import N_
from .models import ACTIVE, NO_SHOW, Booking, Pass, PassChange, User, utcnow
from .settings import Settings
from .timegrid import local_date, today
from .unit import Unit

NO_SHOW_WINDOW = timedelta(days=30)
# A booking pointing at a pass uses one of its visits while active, and for good once a no-show.
# A late cancel under LATE_CANCEL=forfeit keeps it too, until the trainer forgives it.
USES_VISIT = (
    (Booking.status == ACTIVE) | (Booking.attendance == NO_SHOW) | Booking.forfeited.is_(True)
)
EXPIRY_NOTICE_DAYS = 3
MAX_VISITS = 1000
MAX_DAYS = 3660
MAX_PRICE_CENTS = 10**13
MAX_NOTE = 500
# A field's refusal, by the field (the catalogs word it in each language).
OUT_OF_RANGE = {
    "visits": N_("input_range_visits"),
    "valid_days": N_("input_range_valid_days"),
    "extend_days": N_("input_range_extend_days"),
}
NOT_TEXT = {"note": N_("input_text_note"), "reason": N_("input_text_reason")}


@dataclass(frozen=True)
class PassHeld:
    """A pass as the rules see it: when it is valid, and which bookings use its visits."""

    pass_id: int
    starts_on: date
    expires_on: date
    visits: int | None  # None: a membership (schedule.payments), no visit taken
    booking_ids: tuple[int, ...]
    per_week: int | None = None  # a membership's weekly cap
    booking_days: tuple[date, ...] = ()  # the local dates of `booking_ids`, in their order

    def left(self, ignore_booking: int = 0) -> int:
        if self.visits is None:
            return MAX_VISITS
        used = sum(booking_id != ignore_booking for booking_id in self.booking_ids)
        return self.visits - used

    def week_full(self, day: date, ignore_booking: int = 0) -> bool:
        """A membership's PER_WEEK bookings already held in `day`'s week (Monday to Sunday)."""
        if self.visits is not None or not self.per_week:
            return False
        monday = day - timedelta(days=day.weekday())
        held = sum(
            booking_id != ignore_booking and monday <= held_on < monday + timedelta(days=7)
            for booking_id, held_on in zip(self.booking_ids, self.booking_days, strict=False)
        )
        return held >= self.per_week

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.expires_on


@dataclass(frozen=True)
class Standing:
    """One client's passes and no-shows, read at once; decides no_pass and no_show_limit."""

    settings: Settings
    passes: tuple[PassHeld, ...]
    no_shows: tuple[datetime, ...]  # starts of the trainings they missed, since forgiven

    def pass_for(self, day: date, ignore_booking: int = 0) -> PassHeld | None:
        """The pass a training on `day` takes a visit from: valid that day, a visit left,
        expiring first (then the oldest)."""
        usable = [
            p
            for p in self.passes
            if p.covers(day) and p.left(ignore_booking) > 0 and not p.week_full(day, ignore_booking)
        ]
        # A membership takes no visit, so it pays first.
        return min(
            usable, key=lambda p: (p.visits is not None, p.expires_on, p.pass_id), default=None
        )

    def blocked(self, now: datetime) -> bool:
        """NO_SHOW_LIMIT no-shows within the last 30 days (0 turns it off)."""
        limit = self.settings.no_show_limit
        return bool(limit) and sum(s > now - NO_SHOW_WINDOW for s in self.no_shows) >= limit

    def refusal(self, day: date, now: datetime, ignore_booking: int = 0) -> str | None:
        if self.blocked(now):
            return "no_show_limit"
        capped = any(p.covers(day) and p.week_full(day, ignore_booking) for p in self.passes)
        if capped and self.pass_for(day, ignore_booking) is None:
            return "week_limit"
        if self.settings.pass_required and self.pass_for(day, ignore_booking) is None:
            return "no_pass"
        return None


def standing(session: Session, settings: Settings, user_id: int, now: datetime) -> Standing:
    """What the rules weigh about `user_id`; the passes still usable from yesterday on."""
    since = today(now, settings) - timedelta(days=1)
    rows = session.execute(
        select(
            Pass.id,
            Pass.starts_on,
            Pass.expires_on,
            Pass.visits,
            Pass.per_week,
            Booking.id,
            Booking.starts_at,
        )
        .outerjoin(Booking, (Booking.pass_id == Pass.id) & USES_VISIT)
        .where(Pass.user_id == user_id, Pass.expires_on >= since, Pass.voided_at.is_(None))
        .order_by(Booking.id)
    ).all()
    found: dict[int, tuple] = {}
    weekly: dict[int, int | None] = {}
    used: dict[int, list[int]] = {}
    days: dict[int, list[date]] = {}
    for pass_id, starts_on, expires_on, visits, per_week, booking_id, booked_at in rows:
        found[pass_id] = (starts_on, expires_on, visits)
        weekly[pass_id] = per_week
        if booking_id is not None:
            used.setdefault(pass_id, []).append(booking_id)
            days.setdefault(pass_id, []).append(local_date(booked_at, settings))
    no_shows: tuple[datetime, ...] = ()
    if settings.no_show_limit:
        cleared = session.scalar(select(User.no_shows_cleared_at).where(User.id == user_id))
        since_at = max(now - NO_SHOW_WINDOW, cleared or datetime.min)
        no_shows = tuple(
            session.scalars(
                select(Booking.starts_at).where(
                    Booking.user_id == user_id,
                    Booking.status == ACTIVE,
                    Booking.attendance == NO_SHOW,
                    Booking.starts_at > since_at,
                )
            )
        )
    return Standing(
        settings,
        tuple(
            PassHeld(
                pass_id,
                *found[pass_id],
                tuple(used.get(pass_id, ())),
                weekly[pass_id],
                tuple(days.get(pass_id, ())),
            )
            for pass_id in sorted(found)
        ),
        no_shows,
    )


# --- inside a booking's transaction ---------------------------------------------------------


def charge(session: Session, settings: Settings, booking: Booking, now: datetime) -> Pass | None:
    """Point `booking` at the pass its training's date takes a visit from (or none: unpaid).

    Called inside the booking's write transaction. A booking being moved keeps its pass when
    that pass covers the new date, and otherwise gives its visit back and takes another."""
    session.flush()
    held = standing(session, settings, booking.user_id, now)
    day = local_date(booking.starts_at, settings)
    current = next((p for p in held.passes if p.pass_id == booking.pass_id), None)
    if current is not None and current.covers(day):
        return session.get(Pass, current.pass_id)
    chosen = held.pass_for(day, booking.id)
    booking.pass_id = chosen.pass_id if chosen else None
    session.flush()
    return session.get(Pass, chosen.pass_id) if chosen else None


def release(booking: Booking) -> None:
    """A cancelled booking gives its visit back, unless the client did not come (a no-show
    keeps its visit, whoever cancels it afterwards) or cancelled late under the forfeit policy."""
    if booking.attendance != NO_SHOW and not booking.forfeited:
        booking.pass_id = None


# --- the trainer's changes ------------------------------------------------------------------


def _whole(value: object, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(OUT_OF_RANGE[name], low=low, high=high)
    return value


def _text(value: object, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(NOT_TEXT[name])
    return value.strip()[:limit]


def price_cents(value: object) -> int | None:
    """A price as a number (1500, 1500.5) in cents; None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value == value:
        raise InvalidInput(N_("input_price"))
    cents = round(value * 100)
    if not 0 <= cents < MAX_PRICE_CENTS:
        raise InvalidInput(N_("input_price_range"))
    return cents


def _change(
    kind: str, visits: int, days: int, reason: str, by: int | None, now: datetime
) -> PassChange:
    """One line of a pass's history: who changed it, when, why and by how much."""
    return PassChange(
        kind=kind,
        visits_delta=visits,
        days_delta=days,
        reason=reason,
        by_telegram_id=by,
        at=now,
    )


def record(
    unit: Unit,
    client: User,
    *,
    visits: object,
    valid_days: object,
    starts: date | None = None,
    price: object = None,
    note: object = None,
) -> Pass:
    """Record a pass sold to `client` (the trainer's act): `visits` visits valid `valid_days`
    days from `starts` (today by default). The client's bookings made before, unpaid and not
    yet started, take their visits from their passes now, earliest first, by the rule a new
    booking follows."""
    unit.require_trainer()
    session, settings, now, by = unit.session, unit.settings, unit.now, unit.actor.telegram_id
    count = _whole(visits, "visits", 1, MAX_VISITS)
    days = _whole(valid_days, "valid_days", 1, MAX_DAYS)
    cents = price_cents(price)
    text = _text(note, "note", MAX_NOTE)
    first = starts or today(now, settings)
    with write_transaction(session):
        sold = Pass(
            user_id=client.id,
            visits=count,
            starts_on=first,
            expires_on=first + timedelta(days=days - 1),
            price_cents=cents,
            note=text,
            created_at=now,
        )
        sold.history.append(_change("created", count, days, text, by, now))
        session.add(sold)
        unpaid = session.scalars(
            select(Booking)
            .where(
                Booking.user_id == client.id,
                Booking.status == ACTIVE,
                Booking.pass_id.is_(None),
                Booking.starts_at >= now,
            )
            .order_by(Booking.starts_at)
        )
        for booking in unpaid.all():
            charge(session, settings, booking, now)
    return sold


def adjust(
    unit: Unit,
    pass_id: int,
    *,
    visits: object = None,
    extend_days: object = None,
    reason: object = None,
) -> Pass:
    """Add or remove visits (never below those used) and move the expiry, with a reason (the
    trainer's act)."""
    unit.require_trainer()
    session, now, by = unit.session, unit.now, unit.actor.telegram_id
    why = _text(reason, "reason", MAX_NOTE)
    if not why:
        raise InvalidInput(N_("pass_reason_required"))
    delta = 0 if visits is None else _whole(visits, "visits", -MAX_VISITS, MAX_VISITS)
    days = 0 if extend_days is None else _whole(extend_days, "extend_days", -MAX_DAYS, MAX_DAYS)
    if not delta and not days:
        raise InvalidInput(N_("pass_no_change"))
    with write_transaction(session):
        found = session.get(Pass, pass_id, populate_existing=True) if is_row_id(pass_id) else None
        if found is None:
            raise ScheduleError("pass_not_found")
        used = used_visits(session, [found.id]).get(found.id, 0)
        if delta and found.visits is None:
            raise InvalidInput(N_("pass_membership_visits"))
        if found.visits is None:
            delta = 0
        elif found.visits + delta > MAX_VISITS:
            _whole(found.visits + delta, "visits", 1, MAX_VISITS)
        if found.visits is not None and found.visits + delta < max(used, 0):
            raise InvalidInput(N_("pass_fewer_than_used"), used=used)
        expires = found.expires_on + timedelta(days=days)
        if expires < found.starts_on:
            raise InvalidInput(N_("pass_ends_before_start"))
        if found.visits is not None:
            found.visits += delta
        found.expires_on = expires
        if days > 0:
            found.expiry_noticed_at = None  # a new expiry earns a new notice
        found.history.append(_change("adjusted", delta, days, why, by, now))
    return found


# --- reading --------------------------------------------------------------------------------


def used_visits(session: Session, pass_ids: Iterable[int]) -> dict[int, int]:
    ids = list(pass_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Booking.pass_id, func.count())
        .where(Booking.pass_id.in_(ids), USES_VISIT)
        .group_by(Booking.pass_id)
    ).all()
    return {pass_id: int(count) for pass_id, count in rows}


@dataclass(frozen=True)
class PassView:
    """A pass with its visits used and left, and whether it can still pay for a visit."""

    sold: Pass
    used: int
    valid: bool

    @property
    def remaining(self) -> int | None:
        """Visits left; None for a membership (visits unlimited)."""
        if self.sold.visits is None:
            return None
        return max(self.sold.visits - self.used, 0)


def client_passes(
    session: Session, settings: Settings, user: User, now: datetime | None = None
) -> list[PassView]:
    """The client's passes: valid ones (not expired, a visit left) first, by expiry, then the
    rest, newest first."""
    now = now or utcnow()
    sold = list(session.scalars(select(Pass).where(Pass.user_id == user.id)))
    used = used_visits(session, [p.id for p in sold])
    current = today(now, settings)
    views = [_view(p, used.get(p.id, 0), current) for p in sold]
    valid = sorted((v for v in views if v.valid), key=lambda v: (v.sold.expires_on, v.sold.id))
    rest = sorted((v for v in views if not v.valid), key=lambda v: -v.sold.id)
    return valid + rest


def view(session: Session, settings: Settings, sold: Pass, now: datetime | None = None) -> PassView:
    used = used_visits(session, [sold.id]).get(sold.id, 0)
    return _view(sold, used, today(now or utcnow(), settings))


def _view(sold: Pass, used: int, current: date) -> PassView:
    """`sold` with `used` visits, valid on the local date `current` while a visit is left."""
    left = sold.visits is None or sold.visits > used
    return PassView(sold, used, sold.expires_on >= current and left and sold.voided_at is None)


def remaining_after(session: Session, pass_id: int) -> int:
    """Visits left on `pass_id` as the current transaction sees it."""
    sold = session.get(Pass, pass_id)
    if sold is None:
        return 0
    if sold.visits is None:
        return MAX_VISITS
    return sold.visits - used_visits(session, [pass_id]).get(pass_id, 0)


# --- "expires soon", claimed once -----------------------------------------------------------


def claim_expiring(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    *,
    on_due: Callable[[Session, PassView], None] | None = None,
) -> list[PassView]:
    """Passes with visits left that expire within EXPIRY_NOTICE_DAYS, each claimed once.

    The claim (`expiry_noticed_at`) is written under the schedule lock, with the notice to
    the client (schedule.notices, PassExpiring) in the same transaction: any number of workers
    may run it, and each pass is told of once. `on_due` sees each claim there too. Nothing is
    written when nothing is due."""
    now = now or utcnow()
    current = today(now, settings)
    due_query = select(Pass).where(
        Pass.expiry_noticed_at.is_(None),
        Pass.visits.is_not(None),
        Pass.voided_at.is_(None),
        Pass.expires_on >= current,
        Pass.expires_on <= current + timedelta(days=EXPIRY_NOTICE_DAYS),
    )
    candidates = session.scalars(due_query).all()
    used = used_visits(session, [p.id for p in candidates])
    session.commit()
    if not any(p.visits > used.get(p.id, 0) for p in candidates):
        return []
    claimed = []
    with write_transaction(session):
        locked = session.scalars(due_query.execution_options(populate_existing=True)).all()
        used = used_visits(session, [p.id for p in locked])  # read afresh, under the lock
        for sold in locked:
            found = _view(sold, used.get(sold.id, 0), current)
            if found.remaining <= 0:
                continue
            sold.expiry_noticed_at = now
            claimed.append(found)
            notices.record(session, settings, PassExpiring(found))
            if on_due is not None:
                on_due(session, found)
    return claimed
