"""The trainer's messages to clients (broadcasts): to all of them, to those booked on a date, or
to one kind's clients.

A broadcast is a row of its own (the text, whom it was for, how many it was written to) and one
outbox row per recipient (`kind` BROADCAST, `broadcast_id` naming it), written in one
transaction by one INSERT … SELECT: the dispatcher sends them at Telegram's pace like every
other message, and how many were delivered is read back from those rows' states (`progress`).

Recipients are clients: trainers (the studio's `admin_ids`) are never among them, nor a client
who stopped broadcasts (/stop to the bot, `stop`) or is known to have blocked the bot (the
dispatcher would drop those rows anyway). "All" is every user who ever opened the bot or the
Mini App; "date:YYYY-MM-DD" those holding an active booking that (studio-local) day;
"kind:<id>" those holding an active booking of that kind.

A client's /stop is honoured at once: in the same transaction as the flag, their broadcast rows
still pending and not in a live lease are dropped; a row some dispatcher holds at that moment
is checked again when it is sent (`stopped`, the dispatcher's check), so only a send already on
its way can still arrive. Messages about their own bookings are other kinds and still go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    String,
    Text,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Select

from . import kinds, outbox
from .availability import snapshot_for_days, view_kind
from .db import write_transaction
from .errors import InvalidInput, ScheduleError
from .i18n import N_
from .models import ACTIVE, Base, Booking, User, utcnow
from .outbox import OutboxMessage
from .settings import Settings
from .timegrid import local_midnight_utc, minute_of_day, parse_date

BROADCAST = "broadcast"  # the outbox kind
# Telegram's limit of one message, counted as Telegram counts (UTF-16 code units).
MAX_TEXT = 4096
DEFAULT_KIND_ID = kinds.DEFAULT_KIND_ID  # the default kind (DESIGN.md, "Trainers and kinds")
STOPPED = "stopped broadcasts"  # last_error of a row dropped for a client's /stop
AUDIENCE = re.compile(r"^(all|date:(\d{4}-\d{2}-\d{2})|kind:(\d{1,9}))$")


class Broadcast(Base):
    """One message of the trainer's to many clients; its deliveries are outbox rows."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32))  # "all", "date:…", "kind:…"
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # The tally, kept once every row has settled: settled outbox rows may be purged later.
    sent: Mapped[int | None] = mapped_column(Integer)
    failed: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigInteger)  # the trainer's Telegram id
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class Audience:
    """Whom a broadcast is for: everyone ("all"), a date's booked clients, a kind's clients."""

    scope: str  # "all", "date" or "kind"
    day: date | None = None
    kind_id: int | None = None

    def __str__(self) -> str:
        if self.scope == "date":
            return f"date:{self.day.isoformat()}"
        if self.scope == "kind":
            return f"kind:{self.kind_id}"
        return "all"


@dataclass(frozen=True)
class Progress:
    """How far a broadcast got: sent (delivered, as far as Telegram said), failed (refused,
    expired, or dropped: the client stopped broadcasts or blocked the bot), and still pending."""

    id: int
    recipients: int
    sent: int
    failed: int
    pending: int

    @property
    def done(self) -> bool:
        return self.pending == 0


def telegram_length(text: str) -> int:
    """How long Telegram counts a plain text: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def check_text(text: object) -> str:
    """The trainer's text, trimmed: not empty, at most MAX_TEXT as Telegram counts."""
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise InvalidInput(N_("broadcast_empty"))
    if telegram_length(value) > MAX_TEXT:
        raise InvalidInput(N_("broadcast_too_long"), limit=MAX_TEXT)
    return value


def kind_bookings(session: Session, kind_id: int) -> ColumnElement[bool] | None:
    """Which bookings are of kind `kind_id`, as a condition on Booking; None: no such kind.

    The one place broadcasts learn what a kind is: schedule.kinds answers (the default kind,
    DEFAULT_KIND_ID, is every booking without another kind)."""
    return kinds.kind_bookings(session, kind_id)


def parse_audience(session: Session, value: object) -> Audience:
    """ "all", "date:YYYY-MM-DD" or "kind:<id>" (a kind that exists); InvalidInput otherwise."""
    found = AUDIENCE.match(value) if isinstance(value, str) else None
    if found is None:
        raise InvalidInput(N_("input_audience"))
    if found.group(2):
        return Audience("date", day=parse_date(found.group(2)))
    if found.group(3):
        kind_id = int(found.group(3))
        if kind_bookings(session, kind_id) is None:
            raise InvalidInput(N_("broadcast_unknown_kind"), kind=kind_id)
        return Audience("kind", kind_id=kind_id)
    return Audience("all")


def recipients(session: Session, settings: Settings, audience: Audience) -> Select:
    """The Telegram ids a broadcast to `audience` goes to (one column), in the order users
    were made: clients who have not stopped broadcasts nor blocked the bot."""
    query = select(User.telegram_id).where(
        User.broadcasts_stopped_at.is_(None), User.blocked_bot.is_(False)
    )
    if settings.admin_ids:
        query = query.where(User.telegram_id.not_in(settings.admin_ids))
    if audience.scope == "date":
        first = local_midnight_utc(audience.day, settings)
        last = local_midnight_utc(audience.day + timedelta(days=1), settings)
        booked = select(Booking.user_id).where(
            Booking.status == ACTIVE, Booking.starts_at >= first, Booking.starts_at < last
        )
        query = query.where(User.id.in_(booked))
    elif audience.scope == "kind":
        of_kind = kind_bookings(session, audience.kind_id)
        if of_kind is None:
            raise InvalidInput(N_("broadcast_unknown_kind"), kind=audience.kind_id)
        query = query.where(
            User.id.in_(select(Booking.user_id).where(Booking.status == ACTIVE, of_kind))
        )
    return query.order_by(User.id)


def count(session: Session, settings: Settings, audience: Audience) -> int:
    """How many clients a broadcast to `audience` would go to now (the trainer's preview)."""
    query = recipients(session, settings, audience)
    found = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    session.rollback()  # end the read
    return found or 0


def send(
    session: Session,
    settings: Settings,
    text: object,
    audience: Audience,
    *,
    now: datetime,
    by: int | None = None,
) -> Broadcast:
    """Write the broadcast and one outbox row per recipient, in one transaction; commits."""
    body = check_text(text)
    if session.in_transaction():
        session.commit()
    try:
        broadcast = Broadcast(text=body, audience=str(audience), created_by=by, created_at=now)
        session.add(broadcast)
        session.flush()
        broadcast.recipients = outbox.enqueue_each(
            session,
            recipients(session, settings, audience),
            BROADCAST,
            {"broadcast": broadcast.id},
            now=now,
            broadcast_id=broadcast.id,
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return broadcast


def find(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id) if 0 < broadcast_id < 2**31 else None
    if broadcast is None:
        raise ScheduleError("not_found", N_("error_broadcast_not_found"))
    return broadcast


def progress(session: Session, broadcast_id: int) -> Progress:
    """The broadcast's counts, read from its outbox rows (once none is pending, kept on the
    broadcast: `flask purge` may delete settled rows later); ScheduleError not_found (404)."""
    broadcast = find(session, broadcast_id)
    if broadcast.sent is not None:
        tally = Progress(broadcast.id, broadcast.recipients, broadcast.sent, broadcast.failed, 0)
        session.rollback()  # end the read
        return tally
    states = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.broadcast_id == broadcast.id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    sent = states.get(outbox.SENT, 0)
    pending = states.get(outbox.PENDING, 0)
    failed = sum(states.get(s, 0) for s in (outbox.FAILED, outbox.EXPIRED, outbox.DROPPED))
    if pending:
        session.rollback()  # end the read
    else:  # final: no row changes once none is pending
        broadcast.sent, broadcast.failed = sent, failed
        session.commit()
    return Progress(broadcast.id, broadcast.recipients, sent, failed, pending)


def recent(session: Session, limit: int = 5) -> list[Broadcast]:
    """The newest broadcasts first."""
    found = list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
    return found


def stopped(session: Session, chat_id: int) -> bool:
    """Whether the client behind `chat_id` stopped broadcasts (the dispatcher's check at send
    time; a chat with no user here is no client of ours and gets none)."""
    user = session.scalar(select(User).where(User.telegram_id == chat_id))
    return user is None or user.broadcasts_stopped_at is not None


def stop(session: Session, user: User, now: datetime) -> int:
    """The client's /stop: no more broadcasts, those already queued for them included, in one
    transaction; returns how many queued ones were dropped. Commits."""
    try:
        if user.broadcasts_stopped_at is None:
            user.broadcasts_stopped_at = now
        table = OutboxMessage.__table__
        dropped = session.execute(
            update(table)
            .where(
                table.c.chat_id == user.telegram_id,
                table.c.kind == BROADCAST,
                table.c.status == outbox.PENDING,
                or_(table.c.lease_until.is_(None), table.c.lease_until <= now),
            )
            .values(status=outbox.DROPPED, lease_until=None, last_error=STOPPED)
        ).rowcount
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return dropped


def resume(session: Session, user: User) -> bool:
    """/start again: broadcasts reach the client from the next one on; True if they had
    stopped them. Commits."""
    if user.broadcasts_stopped_at is None:
        return False
    user.broadcasts_stopped_at = None
    session.commit()
    return True


# --- the week's free places, posted to the studio's channel each Sunday ----------------------

WEEK_POST = "week_post"  # the outbox kind of the channel's post
WEEK_POST_WEEKDAY = 6  # Sunday
WEEK_POST_MINUTE = 18 * 60  # from 18:00 studio time until the week begins
WEEK = "week:"  # a week post's audience: "week:<its Monday>"


def week_due(settings: Settings, now: datetime) -> date | None:
    """The Monday of the week whose free places are posted now: on Sunday from
    WEEK_POST_MINUTE until midnight, the coming week; otherwise None."""
    day, minute = minute_of_day(now, settings)
    if day.weekday() != WEEK_POST_WEEKDAY or minute < WEEK_POST_MINUTE:
        return None
    return day + timedelta(days=1)


def week_places(session: Session, settings: Settings, monday: date, now: datetime) -> list:
    """Each day of the week from `monday`: [date, [[start, places], …]] for the starts anyone
    may book now (a closed or full day lists none)."""
    days = [monday + timedelta(days=n) for n in range(7)]
    snapshot = snapshot_for_days(session, settings, days[0], days[-1])
    found = []
    for day in days:
        view = view_kind(snapshot, None, None, day, None, now)
        starts = [[slot.start, slot.places] for slot in view.slots if slot.can_start]
        found.append([day.isoformat(), starts])
    return found


def post_week(
    session: Session, settings: Settings, channel_id: int, now: datetime
) -> Broadcast | None:
    """Post the coming week's free places to `channel_id` once, when due (week_due): the post
    is a broadcast row keyed "week:<Monday>" and one outbox row, written under the schedule's
    write lock after checking that no such row exists, so any number of workers post it once.
    It expires when the week begins. None when not due or posted already; commits."""
    monday = week_due(settings, now)
    if monday is None:
        return None
    audience = f"{WEEK}{monday.isoformat()}"
    with write_transaction(session):
        if session.scalar(select(Broadcast.id).where(Broadcast.audience == audience)):
            return None
        broadcast = Broadcast(text="", audience=audience, recipients=1, created_at=now)
        session.add(broadcast)
        session.flush()
        message = outbox.enqueue(
            session,
            channel_id,
            WEEK_POST,
            {"week": week_places(session, settings, monday, now)},
            now=now,
            expires_at=local_midnight_utc(monday, settings),
        )
        message.broadcast_id = broadcast.id
    return broadcast
