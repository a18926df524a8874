"""The bot's own table, on schedule's Base so that one migration history covers it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, DateTime, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from schedule.models import Base, utcnow

# Telegram may start update ids afresh after a week without updates; forgetting old ids
# sooner than that keeps a reused id from being taken for a duplicate.
KEEP_PROCESSED_UPDATES = timedelta(days=3)


class ProcessedUpdate(Base):
    """An update_id some process has taken on: each update is handled once, whatever the mode."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


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
