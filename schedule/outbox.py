"""The outbox: every message a change causes, stored in the change's own transaction.

A message is a row addressed to one Telegram chat, with a `kind` and a JSON `payload` of
plain facts; an adapter (the bot's dispatcher) turns it into words when it sends it, in the
recipient's language. Writing the row inside the transaction that books, cancels or moves
means a committed change always has its messages committed with it, and nothing a user must
hear lives only in a process's memory.

Any number of dispatchers may drain the table. `claim` leases rows in one statement (on
PostgreSQL with SKIP LOCKED, on SQLite under its single writer), at most one per chat, and
only the oldest pending row of that chat, so each chat's messages go out in order, one at a
time, and one chat's backlog never holds up another chat. Having the head of a chat, a
claim may `join` the chat's next rows that are due too, to send them as one message (a
digest). Leases are short (`DEFAULT_LEASE`) and renewed (`renew_leases`) by the claimer's
heartbeat while it works, so a lease that ran out means its claimer died, and the row is
claimable again within seconds (marked `INTERRUPTED`, since what it was doing may have been
half done). The outcome of a send is recorded only by the claim that made it (`claimed_by`),
so a late answer of a stale claim changes nothing.

Pending rows expire at `expires_at` (a reminder at the training's start, other messages a
day after they were written): a message that could not be delivered in time is recorded as
`expired`, never sent late.

Telegram counts a bot's messages, not a process's: the overall pace (`Pace`, about 30 a
second) is one token bucket in one row (`outbox_budget`) that every claim takes from inside
its own transaction, so any number of dispatchers together keep it.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Select

from .models import Base, utcnow

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # a permanent refusal (400, 403): never tried again
EXPIRED = "expired"  # not delivered before it stopped mattering
DROPPED = "dropped"  # decided not to send (the recipient blocked the bot, a folded no-op)
STATUSES = (PENDING, SENT, FAILED, EXPIRED, DROPPED)

DEFAULT_LIFETIME = timedelta(hours=24)
# Renewed every third of it while the claimer works: a claimer that died frees its rows this
# long after its last heartbeat.
DEFAULT_LEASE = timedelta(seconds=10)
# last_error of a row whose lease ran out while claimed (its claimer died mid-work); a second
# such takeover says INTERRUPTED_AGAIN.
INTERRUPTED = "interrupted: its claimer stopped renewing the lease"
INTERRUPTED_AGAIN = "interrupted again: its claimer stopped renewing the lease"
# last_error of a sent row whose answer never came: Telegram may have delivered it.
UNCONFIRMED = "unconfirmed"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'expired', 'dropped')", name="status"
        ),
        # The claim: pending rows by when they may go; each chat's head by id.
        Index("ix_outbox_status_available_at", "status", "available_at"),
        Index("ix_outbox_chat_id_status_id", "chat_id", "status", "id"),
        Index("ix_outbox_booking_id", "booking_id"),
        Index("ix_outbox_broadcast_id_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    # The booking it is about, if any: trainer news of a booking cancelled at once is folded.
    booking_id: Mapped[int | None] = mapped_column(Integer)
    # The trainer's broadcast it carries, if any (schedule/broadcasts.py counts its outcomes).
    broadcast_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    available_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.payload or "{}")


class SendBudget(Base):
    """The one row of the overall pace's token bucket (see Pace)."""

    __tablename__ = "outbox_budget"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime] = mapped_column(DateTime)


def ensure_budget_row(session: Session) -> None:
    """The bucket's row, empty and long unfilled (so full at its first use)."""
    if session.scalar(select(SendBudget.id).where(SendBudget.id == 1)) is None:
        session.execute(
            insert(SendBudget).values(id=1, tokens=0.0, refilled_at=datetime(2000, 1, 1))
        )


@dataclass(frozen=True)
class Pace:
    """At most `per_second` sends a second on average over every dispatcher, bursts up to a
    second's worth. Taken inside a claim's transaction, in real time whatever clock a
    dispatcher runs its schedule by."""

    per_second: float
    clock: Callable[[], datetime] = utcnow

    def take(self, session: Session, wanted: int) -> int:
        """Up to `wanted` sends from the bucket, refilled for the time since it last was."""
        # Touch the row before reading it: that takes PostgreSQL's row lock and SQLite's write
        # lock, so claimers take turns and none spends what another has just taken.
        touched = session.execute(
            update(SendBudget).where(SendBudget.id == 1).values(tokens=SendBudget.tokens)
        )
        if not touched.rowcount:
            ensure_budget_row(session)
        # The time is read holding the lock, and the refill mark never moves back: a claimer
        # that read its clock before another's turn would count that time twice.
        now = self.clock()
        row = session.get(SendBudget, 1, populate_existing=True)
        elapsed = max((now - row.refilled_at).total_seconds(), 0.0)
        tokens = min(self.per_second, row.tokens + elapsed * self.per_second)
        taken = max(0, min(wanted, int(tokens)))
        # A clock set back refills nothing.
        row.tokens, row.refilled_at = tokens - taken, max(now, row.refilled_at)
        session.flush()
        return taken

    def give_back(self, session: Session, unused: int) -> None:
        if unused > 0:
            session.execute(
                update(SendBudget)
                .where(SendBudget.id == 1)
                .values(tokens=SendBudget.tokens + unused)
            )


def enqueue(
    session: Session,
    chat_id: int,
    kind: str,
    facts: dict[str, Any],
    *,
    now: datetime,
    booking_id: int | None = None,
    delay: timedelta = timedelta(0),
    expires_at: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the caller's transaction (it is committed, or not, with the change)."""
    message = OutboxMessage(
        chat_id=chat_id,
        kind=kind,
        payload=json.dumps(facts, ensure_ascii=False, default=_iso),
        booking_id=booking_id,
        status=PENDING,
        created_at=now,
        available_at=now + delay,
        expires_at=expires_at or now + DEFAULT_LIFETIME,
        attempts=0,
    )
    session.add(message)
    return message


def enqueue_each(
    session: Session,
    chats: Select,
    kind: str,
    facts: dict[str, Any],
    *,
    now: datetime,
    broadcast_id: int | None = None,
    expires_at: datetime | None = None,
) -> int:
    """One message of `kind` to every chat id `chats` selects (one column), in the caller's
    transaction, written by one INSERT … SELECT; returns how many."""
    payload = json.dumps(facts, ensure_ascii=False, default=_iso)
    rows = select(
        chats.subquery().c[0],
        literal(kind, String(32)),
        literal(payload, Text),
        literal(broadcast_id, Integer),
        literal(PENDING, String(16)),
        literal(now, DateTime),
        literal(now, DateTime),
        literal(expires_at or now + DEFAULT_LIFETIME, DateTime),
        literal(0, Integer),
    )
    columns = [
        "chat_id",
        "kind",
        "payload",
        "broadcast_id",
        "status",
        "created_at",
        "available_at",
        "expires_at",
        "attempts",
    ]
    table = OutboxMessage.__table__
    written = session.execute(insert(table).from_select(columns, rows).returning(table.c.id))
    return len(written.all())


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def pending_for_booking(session: Session, booking_id: int, kind: str) -> list[OutboxMessage]:
    """Unclaimed pending messages of `kind` about `booking_id` (to fold a no-op away)."""
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.booking_id == booking_id,
                OutboxMessage.kind == kind,
                OutboxMessage.status == PENDING,
                OutboxMessage.claimed_by.is_(None),
            )
        )
    )


def claimer_id() -> str:
    """A name for one claim: host, process and a random part (unique per call)."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def claim(
    session: Session,
    limit: int,
    now: datetime | None = None,
    *,
    lease: timedelta = DEFAULT_LEASE,
    exclude_chats: set[int] | frozenset[int] = frozenset(),
    pace: Pace | None = None,
) -> list[OutboxMessage]:
    """Lease up to `limit` messages due now, at most one per chat and only each chat's
    oldest pending message, and no more than `pace` allows; commits. The caller sends each
    and records the outcome."""
    return claim_heads(
        session,
        OutboxMessage,
        limit,
        now or utcnow(),
        lease=lease,
        exclude_chats=exclude_chats,
        pace=pace,
    )


def claim_heads(
    session: Session,
    model: type,
    limit: int,
    now: datetime,
    *,
    lease: timedelta,
    exclude_chats: set[int] | frozenset[int] = frozenset(),
    pace: Pace | None = None,
) -> list:
    """The lease of a per-chat queue table (the outbox, the bot's inbox of webhook updates):
    rows with `id`, `chat_id`, `status`, `available_at`, `lease_until`, `claimed_by` and
    `attempts`. Up to `limit` pending rows due at `now` whose lease is free, each the oldest
    pending row of its chat, are leased to one new claimer and returned (with `pace`, no more
    than it allows: what is not claimed goes back to it); commits."""
    if limit <= 0:
        return []
    table = model.__table__
    inner = table.alias("earlier")
    head_of_chat = (
        select(func.min(inner.c.id))
        .where(inner.c.chat_id == table.c.chat_id, inner.c.status == PENDING)
        .scalar_subquery()
    )
    free = or_(table.c.lease_until.is_(None), table.c.lease_until <= now)
    candidates = (
        select(table.c.id)
        .where(
            table.c.status == PENDING,
            table.c.available_at <= now,
            free,
            table.c.id == head_of_chat,
        )
        .order_by(table.c.available_at, table.c.id)
        .limit(limit)
    )
    if exclude_chats:
        candidates = candidates.where(table.c.chat_id.not_in(exclude_chats))
    # A look without writing first: every dispatcher and inbox polls several times a second,
    # and on SQLite even an UPDATE that changes nothing takes the database's write lock.
    anything_due = session.scalar(candidates.limit(1)) is not None
    session.rollback()
    if not anything_due:
        return []
    claimer = claimer_id()
    try:
        if pace is not None:
            limit = pace.take(session, limit)
            if limit <= 0:
                session.commit()
                return []
            candidates = candidates.limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # Lock the chosen rows first (others skip them), then lease exactly those: inside
            # an UPDATE the LIMIT of a locking subquery is not a bound PostgreSQL keeps.
            chosen = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        else:
            # SQLite: one statement, so that it takes the write lock before it reads.
            chosen = candidates
        session.execute(
            update(table)
            .where(table.c.id.in_(chosen), table.c.status == PENDING, free)
            .values(
                claimed_by=claimer,
                lease_until=now + lease,
                attempts=table.c.attempts + 1,
                last_error=_after_takeover(table),
            )
        )
        claimed = list(
            session.scalars(
                select(model)
                .where(table.c.claimed_by == claimer, table.c.status == PENDING)
                .order_by(table.c.id)
                .execution_options(populate_existing=True)
            )
        )
        if pace is not None:
            pace.give_back(session, limit - len(claimed))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return claimed


def _after_takeover(table) -> Any:
    """last_error of a row being claimed: a lease still set means its last claimer died."""
    return case(
        (table.c.lease_until.is_(None), table.c.last_error),
        (table.c.last_error.startswith("interrupted"), INTERRUPTED_AGAIN),
        else_=INTERRUPTED,
    )


def was_interrupted(row: Any) -> bool:
    """A claimer died holding this row (what it did may be half done)."""
    return (row.last_error or "").startswith("interrupted")


def interrupted_twice(row: Any) -> bool:
    """Two claimers died holding this row: whatever it does may be what kills them."""
    return (row.last_error or "") == INTERRUPTED_AGAIN


def renew_leases(
    session: Session, model: type, claims: set[str] | frozenset[str], until: datetime
) -> int:
    """The heartbeat: rows of `claims` still in work keep their lease until `until`; commits.
    A row another claimer has taken over meanwhile is not taken back."""
    if not claims:
        return 0
    table = model.__table__
    try:
        renewed = session.execute(
            update(table)
            .where(
                table.c.claimed_by.in_(claims),
                table.c.status == PENDING,
                table.c.lease_until.is_not(None),
            )
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return renewed


def following_due(
    session: Session, head: OutboxMessage, now: datetime, limit: int
) -> list[OutboxMessage]:
    """The chat's pending rows after `head`, due now and free, up to the first that is not
    (a held or leased row keeps its place: nothing after it jumps ahead); reads only."""
    later = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.chat_id == head.chat_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.id > head.id,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    session.rollback()
    run = []
    for row in later:
        if row.available_at > now or (row.lease_until is not None and row.lease_until > now):
            break
        run.append(row)
    return run


def join(
    session: Session, head: OutboxMessage, rows: list[OutboxMessage], now: datetime
) -> list[OutboxMessage]:
    """Lease `rows` (the chat's next ones, from following_due) to `head`'s claim, to go with
    it; returns those leased, in order; commits. Only the head of a chat is ever claimed, so
    while `head` is held no other claim competes for them."""
    if not rows:
        return []
    table = OutboxMessage.__table__
    free = or_(table.c.lease_until.is_(None), table.c.lease_until <= now)
    try:
        session.execute(
            update(table)
            .where(
                table.c.id.in_([row.id for row in rows]),
                table.c.chat_id == head.chat_id,
                table.c.status == PENDING,
                free,
            )
            .values(
                claimed_by=head.claimed_by,
                lease_until=head.lease_until,
                attempts=table.c.attempts + 1,
                last_error=_after_takeover(table),
            )
        )
        joined = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([row.id for row in rows]),
                    OutboxMessage.claimed_by == head.claimed_by,
                    OutboxMessage.status == PENDING,
                )
                .order_by(OutboxMessage.id)
                .execution_options(populate_existing=True)
            )
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return joined


def settle(session: Session, row: Any, **values: object) -> bool:
    """Record an outcome of a leased row (of any table claim_heads serves), only if it is
    still held by the claim that took it; the caller commits."""
    table = type(row).__table__
    result = session.execute(
        update(table)
        .where(
            table.c.id == row.id,
            table.c.claimed_by == row.claimed_by,
            table.c.status == PENDING,
        )
        .values(lease_until=None, **values)
    )
    return result.rowcount == 1


def mark_sent(
    session: Session,
    messages: list[OutboxMessage],
    now: datetime,
    *,
    chat_interval: timedelta = timedelta(0),
    unconfirmed: str | None = None,
) -> None:
    """Sent (one message of one chat, or a digest of several): never again. The chat's next
    message waits `chat_interval` (Telegram allows about one message a second to one chat).
    `unconfirmed` says why Telegram's answer never came: delivered, as far as anyone knows."""
    error = f"{UNCONFIRMED}: {unconfirmed}"[:1000] if unconfirmed else None
    try:
        settled = [settle(session, m, status=SENT, sent_at=now, last_error=error) for m in messages]
        if any(settled):
            pace_chat(session, messages[0].chat_id, now + chat_interval)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def pace_chat(session: Session, chat_id: int, not_before: datetime) -> None:
    """No pending message of `chat_id` goes before `not_before`."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.available_at < not_before,
        )
        .values(available_at=not_before)
        .execution_options(synchronize_session=False)
    )


def retry_later(
    session: Session,
    messages: list[OutboxMessage],
    at: datetime,
    error: str,
    *,
    whole_chat: bool,
) -> None:
    """A temporary failure: try again at `at` (a 429 holds the whole chat until then)."""
    try:
        settled = [settle(session, m, available_at=at, last_error=error[:1000]) for m in messages]
        if any(settled) and whole_chat:
            pace_chat(session, messages[0].chat_id, at)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def give_up(session: Session, messages: list[OutboxMessage], status: str, error: str) -> None:
    """A permanent outcome other than sent: failed (refused), dropped (not to be sent)."""
    try:
        for message in messages:
            settle(session, message, status=status, last_error=error[:1000])
        session.commit()
    except BaseException:
        session.rollback()
        raise


def expire_overdue(session: Session, now: datetime) -> int:
    """Pending messages past their `expires_at` (and not in a live claim) become expired."""
    try:
        count = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.expires_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
            )
            .values(status=EXPIRED, lease_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return count


@dataclass(frozen=True)
class Stats:
    pending: int
    oldest_pending_seconds: float  # 0 when nothing is pending
    failed: int  # refused by Telegram (400/403), ever; see last_error
    expired: int
    unconfirmed: int = 0  # sent, but Telegram's answer never came (see UNCONFIRMED)


def stats(session: Session, now: datetime | None = None) -> Stats:
    now = now or utcnow()
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    unconfirmed = session.scalar(
        select(func.count()).where(
            OutboxMessage.status == SENT, OutboxMessage.last_error.startswith(UNCONFIRMED)
        )
    )
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == PENDING)
    )
    session.rollback()  # end the read
    return Stats(
        pending=counts.get(PENDING, 0),
        oldest_pending_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        failed=counts.get(FAILED, 0),
        expired=counts.get(EXPIRED, 0),
        unconfirmed=unconfirmed or 0,
    )
