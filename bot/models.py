"""The bot's own tables, on schedule's Base so that one migration history covers them: the
update ids already taken, and the inbox of webhook updates waiting for the worker."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from schedule import User, outbox
from schedule.models import Base, utcnow

# Telegram may start update ids afresh after a week without updates; forgetting old ids
# sooner than that keeps a reused id from being taken for a duplicate.
KEEP_PROCESSED_UPDATES = timedelta(days=3)


class ProcessedUpdate(Base):
    """An update_id some process has taken on: each update is handled once, whatever the mode."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


def mark_blocked(session: Session, telegram_id: int) -> None:
    """The user blocked the bot (Telegram answered 403): no message until they write again."""
    session.execute(update(User).where(User.telegram_id == telegram_id).values(blocked_bot=True))
    session.commit()


def release_update(session: Session, update_id: int) -> None:
    """Forget that `update_id` was taken, so that it is handled again (a payment that could
    not be credited yet; a webhook update whose worker died while handling it)."""
    session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id))
    session.commit()


def claim_update(session: Session, update_id: int) -> bool:
    """Record `update_id`; False when it was recorded before (a redelivery or another process)."""
    now = utcnow()
    session.add(ProcessedUpdate(update_id=update_id, processed_at=now))
    try:
        session.flush()
        session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.processed_at < now - KEEP_PROCESSED_UPDATES
            )
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


# --- the inbox of webhook updates ------------------------------------------------------------

HANDLED = "handled"
FAILED = "failed"
# Renewed by the worker's heartbeat while an update is handled (bot.pool): a worker that dies
# mid-update frees its chat this long after its last beat.
INBOX_LEASE = timedelta(seconds=10)
KEEP_HANDLED_UPDATES = timedelta(days=3)
# Telegram's update ids are positive and fit in 32 bits today; a BIGINT column holds any
# value below this, and anything else is not an update Telegram sent.
MAX_UPDATE_ID = 2**63


class WebhookUpdate(Base):
    """An update Telegram POSTed to the webhook, recorded by the web process and handled by
    `flask --app webapp worker` (in order per chat, each once): a waitress thread never runs
    a handler, so it never sleeps on a Bot API backoff."""

    __tablename__ = "webhook_updates"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'handled', 'failed')", name="status"),
        Index("ix_webhook_updates_status_available_at", "status", "available_at"),
        Index("ix_webhook_updates_chat_id_status_id", "chat_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: an update without a chat
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=outbox.PENDING)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    available_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


def update_chat_id(update: dict) -> int:
    """The chat an update belongs to (its handlers answer there), 0 when it has none."""
    for key in ("message", "edited_message", "callback_query", "my_chat_member"):
        part = update.get(key)
        if isinstance(part, dict):
            chat = part.get("chat") or (part.get("message") or {}).get("chat") or {}
            sender = part.get("from") or {}
            chat_id = chat.get("id", sender.get("id"))
            if isinstance(chat_id, int) and abs(chat_id) < MAX_UPDATE_ID:
                return chat_id
    return 0


def record_update(session: Session, update: dict, now: datetime | None = None) -> bool:
    """Keep a webhook update for the worker; False when it was recorded before (Telegram
    delivered it again, or to another web process)."""
    now = now or utcnow()
    session.add(
        WebhookUpdate(
            update_id=update["update_id"],
            chat_id=update_chat_id(update),
            payload=json.dumps(update, ensure_ascii=False),
            status=outbox.PENDING,
            received_at=now,
            available_at=now,
            attempts=0,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def claim_updates(
    session: Session,
    limit: int,
    now: datetime,
    exclude_chats: set[int],
    lease: timedelta = INBOX_LEASE,
) -> list[WebhookUpdate]:
    return outbox.claim_heads(
        session, WebhookUpdate, limit, now, lease=lease, exclude_chats=exclude_chats
    )


def finish_update(session: Session, row: WebhookUpdate, now: datetime) -> None:
    """Handled (or skipped as unreadable): never again; old handled rows are forgotten."""
    outbox.settle(session, row, status=HANDLED, handled_at=now)
    session.execute(
        delete(WebhookUpdate).where(
            WebhookUpdate.status == HANDLED, WebhookUpdate.handled_at < now - KEEP_HANDLED_UPDATES
        )
    )
    session.commit()


def fail_update(session: Session, row: WebhookUpdate, now: datetime, error: str) -> None:
    """Never to be handled (again): recorded with why."""
    outbox.settle(session, row, status=FAILED, handled_at=now, last_error=error[:1000])
    session.commit()


def renew_update_leases(
    session: Session, claims: set[str], now: datetime, lease: timedelta = INBOX_LEASE
) -> None:
    outbox.renew_leases(session, WebhookUpdate, claims, now + lease)


def retry_update(session: Session, row: WebhookUpdate, at: datetime, error: str) -> None:
    """The database could not record it as taken: try again at `at`."""
    outbox.settle(session, row, available_at=at, last_error=error[:1000])
    session.commit()


def inbox_stats(session: Session) -> tuple[int, datetime | None]:
    """Pending webhook updates and when the oldest was received."""
    pending, oldest = session.execute(
        select(func.count(), func.min(WebhookUpdate.received_at)).where(
            WebhookUpdate.status == outbox.PENDING
        )
    ).one()
    session.rollback()
    return pending, oldest
