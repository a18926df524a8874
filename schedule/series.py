"""Standing bookings: "every Tuesday at 18:00" for a regular, for N weeks or until stopped.

A series is a weekday and a start; each of its dates (an occurrence) is an ordinary booking made
through `services.book`, so capacity, closures, opening hours, fair use and passes apply to it
as to any other: a full occurrence joins the waitlist, any other refusal skips it with its reason.
Occurrences inside the booking horizon are booked when the series is made; each later one by
`book_due`, a periodic pass of the worker loop (bot.series), as its date nears the horizon.

When: a date D opens to everyone at local midnight of D - BOOKING_HORIZON_DAYS (Snapshot.verdicts:
D <= today + horizon). The pass books D from SERIES_LEAD before that instant, allowed one day past
the horizon for that booking only (a copy of the settings), so the regular's place is already
taken when the date opens to everyone else's grid, provided a worker ran in that hour. Booking
at the same instant instead would race every other client for the first minutes of the day.

Exactly once: every occurrence is one row keyed by (series, date), written under the schedule
lock in the same transaction as its booking (through the services' event hook) or as its
waitlist entry / skip, after checking that no row exists yet. Two workers running the pass
at once both try; the second finds the row (or the client's own booking, an "overlapping"
refusal) and writes nothing. A client never holds two overlapping bookings (a rule of
`services.book`), so even the attempt cannot double-book.

Messages: occurrences settled by the pass, and a series stopped by the trainer, are events
(`OccurrenceSettled`, `SeriesStopped`) whose notices (schedule.notices) are written to the
outbox inside their transaction, then handed to the unit's observer. Occurrences made with
the series are not told: the client reads them in the answer. The bookings a trainer's stop
cancels are told in its one message, not one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import services, waitlist
from .db import is_row_id, write_transaction
from .errors import InvalidInput, ScheduleError
from .events import (
    BookingCancelled,
    BookingMade,
    Event,
    EventHandler,
    OccurrenceSettled,
    SeriesStopped,
)
from .i18n import N_
from .models import ACTIVE, WAITING, Base, Booking, User, WaitlistEntry, utcnow
from .settings import Settings, format_minutes
from .timegrid import start_instant, today
from .unit import Unit

SERIES_LEAD = timedelta(hours=1)  # how long before its date opens an occurrence is booked
BOOKED, WAITING_OUTCOME, SKIPPED = "booked", "waiting", "skipped"
STOPPED = "stopped"


class Series(Base):
    """A client's standing booking: `weekday` (0 = Monday) at `start_minute`, from `first_on`,
    for `weeks` weeks (None: until stopped)."""

    __tablename__ = "series"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'stopped')", name="status"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("weeks IS NULL OR weeks >= 1", name="weeks"),
        Index("ix_series_status_user_id", "status", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)  # wall time, minutes after midnight
    first_on: Mapped[date] = mapped_column(Date)
    weeks: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime)
    stopped_by: Mapped[str | None] = mapped_column(String(16))  # "client" or "admin"
    stop_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def start(self) -> str:
        return format_minutes(self.start_minute)

    @property
    def until(self) -> date | None:
        """The date of the last occurrence; None while it runs until stopped."""
        return None if self.weeks is None else self.first_on + timedelta(weeks=self.weeks - 1)

    def dates(self, first: date, last: date) -> list[date]:
        """The series' dates from `first` to `last`, both included."""
        last = min(last, self.until or last)
        step = max((first - self.first_on).days, 0)
        day = self.first_on + timedelta(days=-(-step // 7) * 7)
        found = []
        while day <= last:
            found.append(day)
            day += timedelta(weeks=1)
        return found


class SeriesOccurrence(Base):
    """What became of one date of a series; at most one row per date (the exactly-once key)."""

    __tablename__ = "series_occurrences"
    __table_args__ = (
        UniqueConstraint("series_id", "occurs_on"),
        CheckConstraint("outcome IN ('booked', 'waiting', 'skipped')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    occurs_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: no such wall time
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))  # a refusal code, when skipped
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    waitlist_id: Mapped[int | None] = mapped_column(
        ForeignKey("waitlist.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class _Settled(Exception):
    """Another worker settled this occurrence first: roll back and write nothing."""


# --- reading -------------------------------------------------------------------------------


def due_through(settings: Settings, now: datetime) -> date:
    """The last date whose occurrences are booked now: the horizon, a day further within
    SERIES_LEAD of local midnight (see the module's docstring)."""
    return today(now + SERIES_LEAD, settings) + timedelta(days=settings.booking_horizon_days)


def owned(session: Session, series_id: int, user: User | None) -> Series:
    """Series `series_id`, which must be `user`'s unless user is None (the trainer)."""
    found = session.get(Series, series_id, populate_existing=True) if is_row_id(series_id) else None
    if found is None or (user is not None and found.user_id != user.id):
        raise ScheduleError("series_not_found")
    return found


def active_series(
    session: Session, settings: Settings, now: datetime, user: User | None = None
) -> list[Series]:
    """Series still running (not stopped, a date to come), the user's or everyone's."""
    query = select(Series).where(Series.status == ACTIVE)
    if user is not None:
        query = query.where(Series.user_id == user.id)
    first = today(now, settings)
    return [s for s in session.scalars(query.order_by(Series.id)) if (s.until or first) >= first]


def occurrences(session: Session, series: Series) -> list[SeriesOccurrence]:
    return list(
        session.scalars(
            select(SeriesOccurrence)
            .where(SeriesOccurrence.series_id == series.id)
            .order_by(SeriesOccurrence.occurs_on)
        )
    )


@dataclass(frozen=True)
class Picture:
    """A series as its client and the trainer read it: the bookings it holds to come, the
    dates skipped (with why) and the starts it waits for."""

    series: Series
    bookings: list[Booking]
    skipped: list[SeriesOccurrence]
    waiting: list[SeriesOccurrence]


def picture(
    session: Session,
    settings: Settings,
    series: Series,
    now: datetime,
    only: list[SeriesOccurrence] | None = None,
) -> Picture:
    """`series` now; with `only`, just those occurrences (the ones a request just settled)."""
    rows = occurrences(session, series) if only is None else only
    first = today(now, settings) if only is None else date.min
    rows = [row for row in rows if row.occurs_on >= first]
    entries = {
        entry.id: entry
        for entry in session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.id.in_([r.waitlist_id for r in rows if r.waitlist_id])
            )
        )
    }
    booking_ids = [r.booking_id for r in rows if r.booking_id] + [
        e.booking_id for e in entries.values() if e.booking_id and e.status == "promoted"
    ]
    bookings = list(
        session.scalars(
            select(Booking)
            .where(Booking.id.in_(booking_ids), Booking.status == ACTIVE, Booking.ends_at > now)
            .order_by(Booking.starts_at)
        )
    )
    waiting = [
        r
        for r in rows
        if r.outcome == WAITING_OUTCOME
        and (entry := entries.get(r.waitlist_id)) is not None
        and entry.status == WAITING
    ]
    skipped = [r for r in rows if r.outcome == SKIPPED]
    return Picture(series, bookings, skipped, waiting)


def series_of_bookings(session: Session, booking_ids: list[int]) -> dict[int, int]:
    """booking id -> the id of the series that made it (the trainer's mark in Day)."""
    ids = [i for i in booking_ids if is_row_id(i)]
    if not ids:
        return {}
    direct = session.execute(
        select(SeriesOccurrence.booking_id, SeriesOccurrence.series_id).where(
            SeriesOccurrence.booking_id.in_(ids)
        )
    ).all()
    promoted = session.execute(
        select(WaitlistEntry.booking_id, SeriesOccurrence.series_id)
        .join(SeriesOccurrence, SeriesOccurrence.waitlist_id == WaitlistEntry.id)
        .where(WaitlistEntry.booking_id.in_(ids))
    ).all()
    return {booking_id: series_id for booking_id, series_id in [*direct, *promoted]}


# --- making a series -----------------------------------------------------------------------

# The lengths a client chooses from, in the Mini App's sheet and the bot alike: from 2 weeks
# (one week is a plain booking) to SERIES_MAX_WEEKS, or until stopped.
FEWEST_WEEKS = 2


def week_choices(settings: Settings) -> list[int]:
    """The numbers of weeks a client may pick (besides "until stopped"), fewest first."""
    return list(range(FEWEST_WEEKS, settings.series_max_weeks + 1))


def check_weeks(weeks: object, settings: Settings) -> int | None:
    """`weeks` as given: a whole number from 1 to SERIES_MAX_WEEKS, or None (until stopped)."""
    if weeks is None:
        return None
    most = settings.series_max_weeks
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 1 <= weeks <= most:
        raise InvalidInput(N_("input_weeks"), most=most)
    return weeks


def start(unit: Unit, client: User, day: date, minute: int, weeks: int | None) -> Picture:
    """Make a series of `client` from `day` at wall time `minute` and book (or queue for) its
    dates inside the horizon now. Refused, and nothing kept, when none of those could be had:
    the refusal is the first date's. A booking the client already holds at one of its starts
    (a series made from a booked training) becomes that date's occurrence."""
    session, settings, now = unit.session, unit.settings, unit.now
    user = client
    weeks = check_weeks(weeks, settings)
    start_instant(day, minute, settings)  # InvalidInput off the grid, before anything is written
    # The first date is an occurrence like the others: one in the past or beyond the horizon
    # cannot be had now (and nothing is kept), as a booking there would be refused.
    if day < today(now, settings):
        raise ScheduleError("too_soon")
    if day > due_through(settings, now):
        raise ScheduleError("too_far")
    with write_transaction(session):
        if any(
            s.weekday == day.weekday() and s.start_minute == minute
            for s in active_series(session, settings, now, user)
        ):
            raise ScheduleError("series_exists")
        series = Series(
            user_id=user.id,
            weekday=day.weekday(),
            start_minute=minute,
            first_on=day,
            weeks=weeks,
            status=ACTIVE,
            created_at=now,
        )
        session.add(series)
    settled = [
        occurrence
        for when in series.dates(day, due_through(settings, now))
        if (occurrence := settle(unit, series, when))
    ]
    if settled and all(o.outcome == SKIPPED for o in settled):
        with write_transaction(session):
            for occurrence in settled:
                session.delete(occurrence)
            session.delete(series)
        raise ScheduleError(settled[0].reason or "invalid")
    return picture(session, settings, series, now, only=settled)


# --- one occurrence, exactly once ----------------------------------------------------------


def settle(unit: Unit, series: Series, day: date, *, tell: bool = False) -> SeriesOccurrence | None:
    """Book, queue or skip the occurrence of `series` on `day`; None when it was settled
    already (by an earlier pass or another worker). With `tell` the client hears of it."""
    user = series.user
    try:
        starts_at = start_instant(day, series.start_minute, unit.settings)
    except ScheduleError:  # no such wall time that day (a clock change)
        return _record(unit, series, day, None, SKIPPED, "closed", tell)
    booking_unit = unit.with_rules(_rules_for(unit.settings, day, unit.now))
    refusal = None
    for _attempt in range(2):  # a place freed between the refusal and the waitlist: book it
        try:
            booking = services.book(
                booking_unit.observed_by(_claiming(unit, series, day, starts_at, tell)),
                user,
                day,
                series.start_minute,
                source="series",
            )
        except _Settled:
            return None
        except ScheduleError as error:
            refusal = error.code
        else:
            return _occurrence_of(unit.session, series, day, booking)
        if refusal != "full":
            break
        try:
            entry = waitlist.join(booking_unit, user, day, series.start_minute).entry
        except ScheduleError as error:
            if error.code == "not_full":
                continue
            refusal = error.code
            break
        return _record(unit, series, day, starts_at, WAITING_OUTCOME, None, tell, entry)
    return _record(unit, series, day, starts_at, SKIPPED, refusal, tell)


def _rules_for(settings: Settings, day: date, now: datetime) -> Settings:
    """The settings to book `day` with: one day past the horizon is let in for the pass that
    runs within SERIES_LEAD of the date's opening (nothing else changes)."""
    ahead = (day - today(now, settings)).days
    if ahead > settings.booking_horizon_days and day <= due_through(settings, now):
        return replace(settings, booking_horizon_days=ahead)
    return settings


def _settled_row(session: Session, series: Series, day: date) -> SeriesOccurrence | None:
    return session.scalar(
        select(SeriesOccurrence)
        .where(SeriesOccurrence.series_id == series.id, SeriesOccurrence.occurs_on == day)
        .execution_options(populate_existing=True)
    )


def _still_running(session: Session, series: Series) -> bool:
    session.refresh(series, ["status"])
    return series.status == ACTIVE


def _claiming(
    unit: Unit, series: Series, day: date, starts_at: datetime, tell: bool
) -> EventHandler:
    """The services' event hook for booking an occurrence: inside the booking's transaction
    (under the lock) it writes the occurrence row, unless one exists or the series was
    stopped meanwhile, in which case the booking is rolled back (its notices with it)."""
    session, observe = unit.session, unit.observe

    def handle(event: Event) -> None:
        booking = event.booking
        if (
            isinstance(event, BookingMade)
            and not event.from_waitlist
            and booking.user_id == series.user_id
            and booking.starts_at == starts_at
        ):
            if _settled_row(session, series, day) is not None or not _still_running(
                session, series
            ):
                raise _Settled
            occurrence = SeriesOccurrence(
                series_id=series.id,
                occurs_on=day,
                starts_at=starts_at,
                outcome=BOOKED,
                booking_id=booking.id,
                created_at=unit.now,
            )
            session.add(occurrence)
            session.flush()
            if observe is not None:
                observe(event)
            if tell:
                unit.emit(OccurrenceSettled(series, occurrence))
            return
        if observe is not None:
            observe(event)

    return handle


def _occurrence_of(
    session: Session, series: Series, day: date, booking: Booking
) -> SeriesOccurrence:
    found = _settled_row(session, series, day)
    if found is None:  # the hook always writes it; a missing row is a programming error
        raise RuntimeError(f"booking {booking.id} of series {series.id} left no occurrence")
    return found


def _record(
    unit: Unit,
    series: Series,
    day: date,
    starts_at: datetime | None,
    outcome: str,
    reason: str | None,
    tell: bool,
    entry: WaitlistEntry | None = None,
) -> SeriesOccurrence | None:
    """Write a waiting or skipped occurrence once, under the lock. A booking the client holds
    at that very start (made by hand, or the training the series was made from) is adopted."""
    session, now = unit.session, unit.now
    with write_transaction(session):
        if _settled_row(session, series, day) is not None or not _still_running(session, series):
            return None
        own = (
            session.scalar(
                select(Booking).where(
                    Booking.user_id == series.user_id,
                    Booking.status == ACTIVE,
                    Booking.starts_at == starts_at,
                )
            )
            if starts_at is not None
            else None
        )
        occurrence = SeriesOccurrence(
            series_id=series.id,
            occurs_on=day,
            starts_at=starts_at,
            outcome=BOOKED if own else outcome,
            reason=None if own else reason,
            booking_id=own.id if own else None,
            waitlist_id=None if own or entry is None else entry.id,
            created_at=now,
        )
        session.add(occurrence)
        session.flush()
        if tell and own is None:
            unit.emit(OccurrenceSettled(series, occurrence))
    return occurrence


# --- the worker's pass ---------------------------------------------------------------------


def due(session: Session, settings: Settings, now: datetime) -> list[tuple[Series, date]]:
    """The occurrences to settle now (read without the lock; `settle` decides under it)."""
    first, last = today(now, settings), due_through(settings, now)
    running = active_series(session, settings, now)
    done = (
        set(
            session.execute(
                select(SeriesOccurrence.series_id, SeriesOccurrence.occurs_on).where(
                    SeriesOccurrence.series_id.in_([s.id for s in running]),
                    SeriesOccurrence.occurs_on >= first,
                )
            ).all()
        )
        if running
        else set()
    )
    session.commit()  # end the read
    return [
        (series, day)
        for series in running
        for day in series.dates(max(first, series.first_on), last)
        if (series.id, day) not in done
    ]


def book_due(unit: Unit) -> list[SeriesOccurrence]:
    """One pass: settle every occurrence whose date has come within the horizon, telling each
    client. Any number of workers may run it at once; each occurrence is settled once."""
    settled = []
    for series, day in due(unit.session, unit.settings, unit.now):
        occurrence = settle(unit, series, day, tell=True)
        if occurrence is not None:
            settled.append(occurrence)
    return settled


# --- stopping ------------------------------------------------------------------------------


def stop(unit: Unit, series_id: int, *, reason: str | None = None) -> Series:
    """Stop a series: no more dates are booked and its waiting entries are left. The client
    cancels its bookings they still may (CANCEL_DEADLINE_MINUTES); the trainer cancels all that
    have not started, and the client is told why, once.

    One unit of work under the lock: the stop, the entries left, the cancellations, the places
    they free given to the waitlist and the messages of all of it (schedule.notices) are
    committed together or not at all; a crash half-way leaves the series running, unchanged."""
    session, settings, now = unit.session, unit.settings, unit.now
    by_trainer = unit.actor.is_trainer
    if by_trainer:
        reason = services.cancel_reason(reason)
        if not reason:
            raise InvalidInput(N_("reason_required"))
    cancelling = unit.observed_by(_untold(unit.observe)) if by_trainer else unit
    with write_transaction(session):
        series = owned(session, series_id, unit.actor.owner)
        if series.status == STOPPED:
            return series
        series.status = STOPPED
        series.stopped_at = now
        series.stopped_by = "admin" if by_trainer else "client"
        series.stop_reason = reason or None
        current = picture(session, settings, series, now)
        for occurrence in current.waiting:
            entry = session.get(WaitlistEntry, occurrence.waitlist_id)
            if entry is not None and entry.status == WAITING:
                entry.status = "left"
        session.flush()
        cancelled = []
        for listed in current.bookings:
            # read afresh
            booking = services.owned_active_booking(session, listed.id, unit.actor.owner)
            if _may_cancel(booking, by_trainer, settings, now):
                services.cancel_locked(
                    cancelling, booking, reason=reason, series_stopped=by_trainer
                )
                cancelled.append(booking.starts_at)
        if by_trainer:
            unit.emit(SeriesStopped(series, tuple(cancelled)))
    return series


def _may_cancel(booking: Booking, by_trainer: bool, settings: Settings, now: datetime) -> bool:
    """The client cancels until the deadline; the trainer anything not yet started."""
    if by_trainer:
        return booking.starts_at > now
    return services.client_may_change(booking, settings, now)


def _untold(observe: EventHandler | None) -> EventHandler | None:
    """The trainer's stop: its cancellations are told in the one SeriesStopped message, and
    an observer sees that one too; the places they free still go to the waitlist, whose
    clients are told as ever."""
    if observe is None:
        return None

    def handle(event: Event) -> None:
        if not isinstance(event, BookingCancelled):
            observe(event)

    return handle


__all__ = [
    "OccurrenceSettled",
    "Series",
    "SeriesOccurrence",
    "SeriesStopped",
    "book_due",
    "due_through",
    "start",
    "stop",
]
