"""What the trainer reads: clients with their visits and how to find one, the week's occupancy,
the bookings new opening hours would leave outside, a CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .availability import DayView, Snapshot, snapshot_for_days, view_day
from .models import ACTIVE, Booking, User, utcnow
from .services import bookings_between
from .settings import Settings, WeekHours
from .timegrid import is_open, local_midnight_utc, occupied_instants, to_local, today

# Telegram ids are positive and fit in 64 bits with room to spare (a bigger or negative one
# would overflow the database's BIGINT before a query could say "not found").
MAX_TELEGRAM_ID = 2**62
# Search results shown at once; the whole list when there is no query.
CLIENT_RESULTS = 30


@dataclass(frozen=True)
class ClientSummary:
    user: User
    upcoming: int
    past: int
    last_visit: datetime | None  # naive UTC start of the latest past training


def clients(session: Session, now: datetime | None = None) -> list[ClientSummary]:
    """Every client who ever booked, with upcoming and past active bookings, in one query."""
    now = now or utcnow()
    active = Booking.status == ACTIVE
    upcoming = func.sum(case((active & (Booking.ends_at > now), 1), else_=0))
    past = func.sum(case((active & (Booking.ends_at <= now), 1), else_=0))
    last_visit = func.max(case((active & (Booking.ends_at <= now), Booking.starts_at)))
    rows = session.execute(
        select(User, upcoming, past, last_visit)
        .join(Booking, Booking.user_id == User.id)
        .group_by(User.id)
        .order_by(User.first_name, User.id)
    ).all()
    return [
        ClientSummary(user, int(up or 0), int(done or 0), last) for user, up, done, last in rows
    ]


def is_telegram_id(value: object) -> bool:
    """A number that can be a Telegram user id (a JSON true is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_TELEGRAM_ID


def telegram_id_from_text(text: str | None) -> int | None:
    """'1001' -> 1001; None unless `text` is plain ASCII digits (not "²", "-1", " 1") short
    enough for a Telegram id."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def find_clients(
    session: Session,
    query: str,
    trainer_ids: frozenset[int] | set[int],
    now: datetime | None = None,
) -> list[ClientSummary]:
    """Everybody but the trainers who ever used the app or the bot, by name, with their visits
    (zeros for those who never booked); with `query`, only those whose name or @username
    contains it (any case, any alphabet; at most CLIENT_RESULTS)."""
    visits = {summary.user.id: summary for summary in clients(session, now)}
    needle = query.strip().lstrip("@").casefold()
    users = session.scalars(select(User).order_by(User.first_name, User.id))
    found = [
        visits.get(user.id) or ClientSummary(user, 0, 0, None)
        for user in users
        if user.telegram_id not in trainer_ids
        and (needle in user.name.casefold() or needle in (user.username or "").casefold())
    ]
    return found[:CLIENT_RESULTS] if needle else found


def outside_hours(
    session: Session, settings: Settings, week: WeekHours, now: datetime
) -> list[Booking]:
    """Upcoming active bookings (to the horizon and a day past it) that a training running
    inside the opening hours `week` would not cover: the ones to settle after hours change."""
    end = local_midnight_utc(
        today(now, settings) + timedelta(days=settings.booking_horizon_days + 2), settings
    )
    return [
        booking
        for booking in bookings_between(session, now, end)
        if not all(
            is_open(instant, week, settings)
            for instant in occupied_instants(booking.starts_at, settings)
        )
    ]


def week_occupancy(
    session: Session,
    settings: Settings,
    first_day: date,
    days: int = 7,
    *,
    trainer_id: int | None = None,
) -> list[DayView]:
    """Booked and free places per cell for `days` days from `first_day` (one snapshot); with
    `trainer_id`, that trainer's week (week_of_trainer)."""
    last_day = first_day + timedelta(days=days - 1)
    snapshot = snapshot_for_days(session, settings, first_day, last_day)
    now = utcnow()
    dates = [first_day + timedelta(days=n) for n in range(days)]
    if trainer_id is not None:
        return [week_of_trainer(snapshot, day, trainer_id, now) for day in dates]
    return [view_day(snapshot, day, None, now) for day in dates]


def week_of_trainer(snapshot: Snapshot, day: date, trainer_id: int, now: datetime) -> DayView:
    """One trainer's `day` on the studio's grid: each cell with that trainer's visitors there
    (their bookings of every kind, and the studio's own, as their Day shows them), closed in
    their closures (their days off) and where the studio is open but they are not (their own
    hours: Snapshot.picture)."""
    picture = snapshot.picture(None, trainer_id)
    mine = (*picture.bookings, *picture.busy)  # theirs and the studio's, every kind
    theirs = view_day(picture, day, None, now)
    slots = [
        replace(
            slot,
            booked=(booked := sum(1 for b in mine if b.covers(slot.cell.starts_at))),
            free=max(picture.settings.capacity - booked, 0),
        )
        for slot in theirs.slots
    ]
    open_to_them = {slot.cell.starts_at for slot in slots}
    for slot in view_day(snapshot, day, None, now).slots:
        if slot.cell.starts_at not in open_to_them:  # the studio's hours, not theirs
            slots.append(replace(slot, booked=0, free=0, can_start=False, closed=True))
    return DayView(day, sorted(slots, key=lambda slot: slot.cell.starts_at))


CSV_COLUMNS = (
    "booking_id",
    "date",
    "start",
    "end",
    "status",
    "client",
    "username",
    "telegram_id",
    "phone",
    "source",
    "cancelled_by",
    "cancel_reason",
    "booked_at",
    "attendance",
    "pass_id",
)


def export_csv(session: Session, settings: Settings, first_day: date, last_day: date) -> str:
    """Bookings starting from `first_day` to `last_day` inclusive, local times, UTF-8 with BOM.

    The BOM and the CRLF line ends make spreadsheets open it with the right encoding.
    """
    if last_day < first_day:
        first_day, last_day = last_day, first_day
    bookings = session.scalars(
        select(Booking)
        .where(
            Booking.starts_at >= local_midnight_utc(first_day, settings),
            Booking.starts_at < local_midnight_utc(last_day + timedelta(days=1), settings),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for booking in bookings:
        starts, ends = to_local(booking.starts_at, settings), to_local(booking.ends_at, settings)
        user = booking.user
        writer.writerow(
            (
                booking.id,
                starts.date().isoformat(),
                starts.strftime("%H:%M"),
                ends.strftime("%H:%M"),
                booking.status,
                _cell(user.name),
                _cell(user.username or ""),
                user.telegram_id,
                user.phone or "",
                booking.source,
                booking.cancelled_by or "",
                _cell(booking.cancel_reason or ""),
                to_local(booking.created_at, settings).strftime("%Y-%m-%d %H:%M"),
                booking.attendance or "",
                booking.pass_id or "",
            )
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in user-provided text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def trainer_contact(session: Session, admin_ids: frozenset[int] | set[int]) -> str | None:
    """A link that opens a chat with the trainer, for a client told to ask them (for a pass,
    or to lift a pause): t.me/<username> of the first trainer who has one, else
    tg://user?id= of the first trainer; None when no trainer is configured."""
    ids = sorted(admin_ids)
    if not ids:
        return None
    username = session.scalar(
        select(User.username)
        .where(User.telegram_id.in_(ids), User.username.is_not(None), User.username != "")
        .order_by(User.telegram_id)
        .limit(1)
    )
    return f"https://t.me/{username}" if username else f"tg://user?id={ids[0]}"
