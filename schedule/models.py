"""SQLAlchemy models on one declarative Base. All datetimes are naive UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACTIVE = "active"
CANCELLED = "cancelled"
ATTENDED = "attended"
NO_SHOW = "no_show"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    blocked_bot: Mapped[bool] = mapped_column(default=False)
    # When the client sent /stop: no trainer's broadcasts (schedule/broadcasts.py) until /start.
    broadcasts_stopped_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the trainer last lifted a NO_SHOW_LIMIT block: no-shows before it are forgiven.
    no_shows_cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    bookings: Mapped[list[Booking]] = relationship(back_populates="user")

    @property
    def name(self) -> str:
        return " ".join(filter(None, (self.first_name, self.last_name))) or (
            f"@{self.username}" if self.username else str(self.telegram_id)
        )


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
        CheckConstraint("attendance IN ('attended', 'no_show')", name="attendance"),
        # Every availability query reads the active bookings of a time window.
        Index("ix_bookings_status_starts_at", "status", "starts_at"),
        Index("ix_bookings_user_status_starts_at", "user_id", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    source: Mapped[str] = mapped_column(String(16), default="miniapp")
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # The pass this visit was taken from (schedule/passes.py); None: unpaid, or cancelled.
    pass_id: Mapped[int | None] = mapped_column(
        ForeignKey("passes.id", ondelete="SET NULL"), index=True
    )
    attendance: Mapped[str | None] = mapped_column(String(16))  # None, ATTENDED, NO_SHOW
    attendance_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Cancelled late under LATE_CANCEL=forfeit: the visit stays used (pass_id kept) until the
    # trainer forgives it (schedule/payments.py).
    forfeited: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    forgiven_at: Mapped[datetime | None] = mapped_column(DateTime)
    forgiven_by: Mapped[int | None] = mapped_column(BigInteger)
    # The kind of training and who gives it (schedule/kinds.py); None: the default kind
    # (TRAINING_MINUTES, CAPACITY) and the studio itself, as every booking made before kinds
    # and trainers existed.
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("kinds.id", ondelete="RESTRICT"))
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("trainers.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set by each service to its own "now" (no onupdate: an unchanged value would let the
    # wall clock overwrite the service's time, and notices and reminders read it).
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="bookings", lazy="joined")
    # Read only where a change is told (schedule.notices); a booking of the studio has none.
    trainer: Mapped[Trainer | None] = relationship(lazy="select")

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


class Pass(Base):
    """A pass (абонемент) sold to a client: `visits` trainings from `starts_on` to `expires_on`
    (local dates, both included). Visits used are its active bookings (Booking.pass_id)."""

    __tablename__ = "passes"
    __table_args__ = (
        CheckConstraint("visits >= 0", name="visits"),
        CheckConstraint("expires_on >= starts_on", name="valid_span"),
        Index("ix_passes_user_id_expires_on", "user_id", "expires_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    visits: Mapped[int | None] = mapped_column(Integer)  # None: a membership, visits unlimited
    # A membership's cap of bookings per week (Monday to Sunday), None: no cap.
    per_week: Mapped[int | None] = mapped_column(Integer)
    # Sold through Telegram (schedule/payments.py): the product and the payment.
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    payment_id: Mapped[int | None] = mapped_column(Integer)
    frozen_days: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Refunded: pays for nothing more; its visits not yet used were taken away.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    price_cents: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set once by the worker that wrote the "expires soon" message (its claim).
    expiry_noticed_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")
    history: Mapped[list[PassChange]] = relationship(
        order_by="PassChange.id", cascade="all, delete-orphan", back_populates="pass_"
    )


class PassChange(Base):
    """One change of a pass, kept for good: recorded, visits added or removed, extended."""

    __tablename__ = "pass_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("passes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "created" or "adjusted"
    visits_delta: Mapped[int] = mapped_column(Integer, default=0)
    days_delta: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)  # the trainer
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    pass_: Mapped[Pass] = relationship(back_populates="history")


class OpeningHours(Base):
    """The trainer's opening hours; when the table is empty, OPENING_HOURS applies."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens >= 0 AND closes <= 1440 AND closes > opens", name="interval"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, index=True)
    opens: Mapped[int] = mapped_column(SmallInteger)  # minutes since local midnight
    closes: Mapped[int] = mapped_column(SmallInteger)


class Closure(Base):
    """Closed from starts_at to ends_at (a whole day runs from local midnight to midnight)."""

    __tablename__ = "closures"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    # One trainer's closure (their day off); None: the whole studio, every trainer.
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("trainers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Trainer(Base):
    """A trainer of the studio (schedule/kinds.py): their Telegram id (they manage their own
    day), name, and opening hours written like OPENING_HOURS (None: the studio's)."""

    __tablename__ = "trainers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    opening_hours: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when an owner removes the trainer: their past bookings keep naming them, nobody
    # books them again.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class Kind(Base):
    """A kind of training besides the default one (which is no row: TRAINING_MINUTES and
    CAPACITY, id 1, every trainer): its length, visitors at once, and who gives it."""

    __tablename__ = "kinds"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="minutes"),
        CheckConstraint("capacity > 0", name="capacity"),
    )

    # Assigned by schedule.kinds under the write lock, from 2 up: 1 is the default kind's.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(128))
    minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when an owner takes the kind off the schedule: its bookings keep naming it.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class KindTrainer(Base):
    """Who gives a kind of training."""

    __tablename__ = "kind_trainers"

    kind_id: Mapped[int] = mapped_column(
        ForeignKey("kinds.id", ondelete="CASCADE"), primary_key=True
    )
    trainer_id: Mapped[int] = mapped_column(
        ForeignKey("trainers.id", ondelete="CASCADE"), primary_key=True
    )


class ScheduleLock(Base):
    """One row that every booking write updates first: it serializes those writes.

    On PostgreSQL the row lock is held until commit; on SQLite the first write of a
    transaction takes the database's write lock (waiting up to busy_timeout). Either way two
    transactions never both see the last free place.
    """

    __tablename__ = "schedule_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


WAITING = "waiting"


class WaitlistEntry(Base):
    """A client waiting for a place at a full start, first come first served."""

    __tablename__ = "waitlist"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'promoted', 'left', 'expired')", name="status"),
        Index("ix_waitlist_status_starts_at", "status", "starts_at"),
        # One waiting entry per client and start.
        Index(
            "uq_waitlist_waiting_user_start",
            "user_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    # The kind and trainer waited for (None: the default kind; any trainer of it).
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("kinds.id", ondelete="RESTRICT"))
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("trainers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class ReminderClaim(Base):
    """A reminder of one booking start, claimed by one worker before it is sent.

    The unique key makes the claim the single source of truth across processes; a claim
    that was never marked sent is taken over after a while (its worker died).
    """

    __tablename__ = "reminder_claims"
    __table_args__ = (
        Index(
            "uq_reminder_claims_booking_offset_start",
            "booking_id",
            "offset_minutes",
            "starts_at",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    offset_minutes: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    skipped: Mapped[bool] = mapped_column(default=False)


class Product(Base):
    """What the trainer sells: a pack of `visits` valid `valid_days` days, or (visits None) a
    membership of `valid_days` days, optionally capped at `per_week` bookings a week. The
    amount is in minor units (kopecks). Off sale, it is sold no more; passes sold stay."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("visits IS NULL OR visits > 0", name="visits"),
        CheckConstraint("valid_days > 0", name="valid_days"),
        CheckConstraint("per_week IS NULL OR per_week > 0", name="per_week"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    visits: Mapped[int | None] = mapped_column(Integer)
    valid_days: Mapped[int] = mapped_column(Integer)
    per_week: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    on_sale: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    off_sale_at: Mapped[datetime | None] = mapped_column(DateTime)


PAID = "paid"
REFUNDED = "refunded"


class Payment(Base):
    """A payment Telegram reported (successful_payment), with the pass it credited.

    `telegram_payment_charge_id` is unique: a second delivery of the same update finds the
    row and credits nothing."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("status IN ('paid', 'refunded')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    telegram_payment_charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    provider_payment_charge_id: Mapped[str] = mapped_column(String(255), default="")
    pass_id: Mapped[int | None] = mapped_column(ForeignKey("passes.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=PAID)
    refund_reason: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime)
    refunded_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
