"""Fair use: how many bookings and waitlist entries one client may hold at once.

Without limits a handful of accounts could take every place of the week. The limits are rules
like the others: `Snapshot.refusals` weighs a client's `Holdings` beside capacity and closures
and answers "limit_reached", so the grid, the bot and the services agree. Callers that pass no
holdings are not limited: the trainer booking on a client's behalf (a phone call, a walk-in)
and the trainer's own views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from .errors import LIMITS, ScheduleError
from .i18n import language, translate_plural
from .models import ACTIVE, WAITING, Booking, WaitlistEntry
from .passes import Standing, standing
from .settings import Settings
from .timegrid import local_date, local_midnight_utc, today

# The limit codes, each with its message in errors.LIMITS (in the catalogs "error_limit_<code>",
# plural entries).
PER_DAY = "per_day"
ACTIVE_BOOKINGS = "active"
WAITLIST = "waitlist"


def promotion_cutoff(settings: Settings, now: datetime) -> datetime:
    """The earliest start a waiting entry may still be promoted to; an entry for an earlier
    start can no longer become a booking (it expires at the next promotion pass). Under
    LATE_CANCEL=forfeit a place freed late still goes to the line, up to the minimum notice."""
    if settings.late_cancel == "forfeit":
        return now + timedelta(minutes=settings.min_notice_minutes)
    return now + timedelta(minutes=settings.cancel_deadline_minutes)


@dataclass(frozen=True)
class Held:
    booking_id: int
    day: date  # the studio-local date it starts on
    ends_at: datetime


@dataclass(frozen=True)
class Holdings:
    """One client's active bookings from today on and their waiting entries, read at once."""

    settings: Settings
    user_id: int
    bookings: tuple[Held, ...]
    waiting: tuple[datetime, ...]  # the starts of their waiting entries to come
    # Their passes and no-shows (schedule.passes): "no_pass" and "no_show_limit".
    standing: Standing | None = None

    def standing_refusal(self, day: date, now: datetime, ignore_booking: int = 0) -> str | None:
        """Why their standing refuses a booking on `day` (no_show_limit, week_limit: a
        membership's weekly cap, no_pass), or None."""
        return self.standing.refusal(day, now, ignore_booking) if self.standing else None

    def limit(self, day: date, now: datetime, ignore_booking: int = 0) -> str | None:
        """The limit a new booking on `day` would break (PER_DAY or ACTIVE_BOOKINGS), or None.

        `ignore_booking` is one being moved: it is neither counted nor added."""
        kept = [b for b in self.bookings if b.booking_id != ignore_booking]
        per_day = self.settings.max_bookings_per_day
        if per_day and sum(b.day == day for b in kept) >= per_day:
            return PER_DAY
        return ACTIVE_BOOKINGS if self.at_active_limit(now, ignore_booking) else None

    def at_active_limit(self, now: datetime, ignore_booking: int = 0) -> bool:
        """Whether the client holds MAX_ACTIVE_BOOKINGS upcoming bookings (not yet ended)."""
        most = self.settings.max_active_bookings
        upcoming = sum(b.ends_at > now and b.booking_id != ignore_booking for b in self.bookings)
        return bool(most) and upcoming >= most

    def waitlist_limit(self, now: datetime) -> str | None:
        """WAITLIST when joining one more waitlist would break MAX_WAITLIST_ENTRIES."""
        most = self.settings.max_waitlist_entries
        cutoff = promotion_cutoff(self.settings, now)
        if most and sum(start >= cutoff for start in self.waiting) >= most:
            return WAITLIST
        return None


def holdings(session: Session, settings: Settings, user_id: int, now: datetime) -> Holdings:
    """What `user_id` holds now, with one query."""
    since = min(local_midnight_utc(today(now, settings), settings), now) - timedelta(days=1)
    bookings = select(
        literal("b").label("kind"), Booking.id, Booking.starts_at, Booking.ends_at
    ).where(Booking.user_id == user_id, Booking.status == ACTIVE, Booking.starts_at > since)
    entries = select(
        literal("w").label("kind"),
        WaitlistEntry.id,
        WaitlistEntry.starts_at,
        WaitlistEntry.starts_at.label("ends_at"),
    ).where(
        WaitlistEntry.user_id == user_id,
        WaitlistEntry.status == WAITING,
        WaitlistEntry.starts_at > now,
    )
    rows = session.execute(union_all(bookings, entries)).all()
    return Holdings(
        settings=settings,
        user_id=user_id,
        bookings=tuple(
            Held(row_id, local_date(starts_at, settings), ends_at)
            for kind, row_id, starts_at, ends_at in rows
            if kind == "b"
        ),
        waiting=tuple(starts_at for kind, _, starts_at, _ in rows if kind == "w"),
        standing=standing(session, settings, user_id, now),
    )


class LimitReached(ScheduleError):
    """A client past a fair-use limit; the message says which limit and its number."""

    def __init__(self, limit: str, settings: Settings) -> None:
        self.limit = limit
        self.settings = settings
        super().__init__("limit_reached", self.message("en"))

    def message(self, lang: str | None = "en") -> str:
        return limit_message(self.limit, self.settings, lang)


def limit_message(limit: str, settings: Settings, lang: str | None = "en") -> str:
    """Which limit, with its number: "Limit reached: at most 1 booking on one day."."""
    most = {
        PER_DAY: settings.max_bookings_per_day,
        ACTIVE_BOOKINGS: settings.max_active_bookings,
        WAITLIST: settings.max_waitlist_entries,
    }[limit]
    return translate_plural(language(lang), LIMITS[limit], most)


def refused(
    refusal: str,
    held: Holdings | None,
    starts_at: datetime,
    now: datetime,
    ignore_booking: int = 0,
) -> ScheduleError:
    """The error a service raises for a refusal; "limit_reached" says which limit."""
    if refusal == "limit_reached" and held is not None:
        day = local_date(starts_at, held.settings)
        limit = held.limit(day, now, ignore_booking) or held.waitlist_limit(now)
        if limit is not None:
            return LimitReached(limit, held.settings)
    return ScheduleError(refusal)
