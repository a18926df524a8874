"""The booking rules, decided in one place for the grid, the bot and the services."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .limits import Holdings, holdings
from .models import ACTIVE, Booking, Closure, OpeningHours
from .settings import Settings, WeekHours
from .timegrid import (
    FIRST_DAY,
    LAST_DAY,
    Cell,
    day_cells,
    is_open,
    local_date,
    local_midnight_utc,
    today,
)

# No training is longer than a day, so a booking that overlaps a window started at most a
# day before it: this bound keeps the bookings query an index range scan however long the
# history grows.
MAX_TRAINING = timedelta(days=1)
# The span [t, t + TICK) overlaps exactly the bookings that cover the instant t.
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Span:
    starts_at: datetime
    ends_at: datetime
    user_id: int = 0
    booking_id: int = 0

    def covers(self, instant: datetime) -> bool:
        return self.starts_at <= instant < self.ends_at

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return self.starts_at < ends_at and starts_at < self.ends_at


@dataclass(frozen=True)
class Snapshot:
    """What the rules need to know about a window of time, read in one go.

    A snapshot never changes, so what it derives (local dates, opening hours and booked
    counts per instant, a day's cells, whether a start is closed or full for anyone) is
    remembered on it: a cached snapshot answers the next grid from memory, leaving only what
    depends on the viewer and the clock. Concurrent requests may fill a memo twice, with equal
    values.
    """

    settings: Settings
    hours: WeekHours
    closures: tuple[Span, ...]
    bookings: tuple[Span, ...]
    # The bookings by start, for binary search: a week's grid asks about every cell.
    _by_start: tuple[Span, ...] = field(init=False, repr=False, compare=False)
    _starts: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    _longest: timedelta = field(init=False, repr=False, compare=False)
    # instant -> (its local date, whether its cell lies inside the opening hours)
    _instants: dict = field(init=False, repr=False, compare=False)
    # ignore_booking -> ({instant: bookings covering it}, sorted starts, sorted ends)
    _counts: dict = field(init=False, repr=False, compare=False)
    # day -> its cells
    _cells: dict = field(init=False, repr=False, compare=False)
    # (start, ignore_booking) -> (closed, full): a training there, whoever asks, whenever
    _fixed: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_start = tuple(sorted(self.bookings, key=lambda b: b.starts_at))
        object.__setattr__(self, "_by_start", by_start)
        object.__setattr__(self, "_starts", tuple(b.starts_at for b in by_start))
        longest = max((b.ends_at - b.starts_at for b in by_start), default=timedelta(0))
        object.__setattr__(self, "_longest", longest)
        object.__setattr__(self, "_instants", {})
        object.__setattr__(self, "_counts", {})
        object.__setattr__(self, "_cells", {})
        object.__setattr__(self, "_fixed", {})

    def bookings_overlapping(self, starts_at: datetime, ends_at: datetime) -> list[Span]:
        """The active bookings overlapping [starts_at, ends_at)."""
        first = bisect_right(self._starts, starts_at - self._longest)
        last = bisect_left(self._starts, ends_at)
        return [b for b in self._by_start[first:last] if b.overlaps(starts_at, ends_at)]

    def bookings_at(self, instant: datetime) -> list[Span]:
        return self.bookings_overlapping(instant, instant + TICK)

    def booked_at(self, instant: datetime, ignore_booking: int = 0) -> int:
        """How many bookings (but `ignore_booking`) cover `instant`."""
        memo = self._counts.get(ignore_booking)
        if memo is None:
            counted = [
                b
                for b in self.bookings
                if b.booking_id != ignore_booking and b.starts_at < b.ends_at
            ]
            starts = sorted(b.starts_at for b in counted)
            ends = sorted(b.ends_at for b in counted)
            memo = self._counts.setdefault(ignore_booking, ({}, starts, ends))
        counts, starts, ends = memo
        count = counts.get(instant)
        if count is None:
            # Started at or before the instant, minus those also ended by then.
            count = counts[instant] = bisect_right(starts, instant) - bisect_right(ends, instant)
        return count

    def _local(self, instant: datetime) -> tuple[date, bool]:
        """The instant's local date and whether its cell lies inside the opening hours."""
        found = self._instants.get(instant)
        if found is None:
            found = self._instants[instant] = (
                local_date(instant, self.settings),
                is_open(instant, self.hours, self.settings),
            )
        return found

    def cells(self, day: date) -> list[Cell]:
        found = self._cells.get(day)
        if found is None:
            found = self._cells[day] = day_cells(day, self.hours, self.settings)
        return found

    def refusal(
        self,
        starts_at: datetime,
        user_id: int | None,
        now: datetime,
        ignore_booking: int = 0,
        holdings: Holdings | None = None,
    ) -> str | None:
        """Why `user_id` may not start a training at `starts_at` now, or None if they may.

        With the client's `holdings` the fair-use limits apply too ("limit_reached"); without
        them (the trainer acting for a client) they do not."""
        return self.refusals([starts_at], user_id, now, ignore_booking, holdings)[0]

    def refusals(
        self,
        starts: list[datetime],
        user_id: int | None,
        now: datetime,
        ignore_booking: int = 0,
        holdings: Holdings | None = None,
    ) -> list[str | None]:
        """`refusal` of each start, with what the starts share worked out once."""
        settings = self.settings
        earliest = now + timedelta(minutes=settings.min_notice_minutes)
        horizon = today(now, settings) + timedelta(days=settings.booking_horizon_days)
        training = timedelta(minutes=settings.training_minutes)
        step = timedelta(minutes=settings.slot_minutes)
        offsets = [step * k for k in range(settings.cells_per_training)]
        own = (
            ()
            if user_id is None
            else [
                b for b in self.bookings if b.user_id == user_id and b.booking_id != ignore_booking
            ]
        )
        limits: dict[date, str | None] = {}  # local date -> the limit a booking there breaks
        answers: list[str | None] = []
        for starts_at in starts:
            day = self._local(starts_at)[0]
            if starts_at < earliest:
                answers.append("too_soon")
            elif day > horizon:
                answers.append("too_far")
            else:
                ends_at = starts_at + training
                closed, full = self._closed_or_full(starts_at, ends_at, offsets, ignore_booking)
                if closed:
                    answers.append("closed")
                elif any(b.overlaps(starts_at, ends_at) for b in own):
                    answers.append("overlapping")
                elif holdings is not None and _limit_on(day, limits, holdings, now, ignore_booking):
                    answers.append("limit_reached")
                elif holdings is not None and (
                    standing := holdings.standing_refusal(day, now, ignore_booking)
                ):
                    answers.append(standing)  # no_show_limit, no_pass (schedule.passes)
                else:
                    answers.append("full" if full else None)
        return answers

    def _closed_or_full(
        self, starts_at: datetime, ends_at: datetime, offsets: list[timedelta], ignore_booking: int
    ) -> tuple[bool, bool]:
        """Whether a training at `starts_at` would be closed, and whether full, for anyone."""
        key = (starts_at, ignore_booking)
        found = self._fixed.get(key)
        if found is None:
            # A closure need not lie on the grid: any overlap with the training closes it.
            closed = not all(self._local(starts_at + offset)[1] for offset in offsets) or any(
                c.overlaps(starts_at, ends_at) for c in self.closures
            )
            capacity = self.settings.capacity
            full = any(
                self.booked_at(starts_at + offset, ignore_booking) >= capacity for offset in offsets
            )
            found = self._fixed[key] = (closed, full)
        return found


def _limit_on(
    day: date, limits: dict, holdings: Holdings, now: datetime, ignore_booking: int
) -> str | None:
    """holdings.limit for `day`, worked out once per day of a grid."""
    if day not in limits:
        limits[day] = holdings.limit(day, now, ignore_booking)
    return limits[day]


@dataclass(frozen=True)
class SlotView:
    cell: Cell
    booked: int
    free: int
    can_start: bool
    mine: bool
    refusal: str | None = None  # why the viewer may not start here (Snapshot.refusal)

    @property
    def start(self) -> str:
        return self.cell.label


@dataclass(frozen=True)
class DayView:
    day: date
    slots: list[SlotView]
    limit: str | None = None  # the fair-use limit refusing starts that day (limits.PER_DAY ...)

    @property
    def available(self) -> bool:
        return any(slot.can_start for slot in self.slots)


def effective_hours(session: Session, settings: Settings) -> WeekHours:
    """The trainer's opening hours from the database, or OPENING_HOURS for a fresh studio."""
    rows = session.execute(
        select(OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes).order_by(
            OpeningHours.weekday, OpeningHours.opens
        )
    ).all()
    if not rows:
        return settings.opening_hours
    week: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for weekday, opens, closes in rows:
        week[weekday].append((opens, closes))
    return {day: tuple(intervals) for day, intervals in week.items()}


def load_snapshot(
    session: Session, settings: Settings, window_start: datetime, window_end: datetime
) -> Snapshot:
    """One query for the active bookings overlapping the window, one for its closures."""
    bookings = session.execute(
        select(Booking.starts_at, Booking.ends_at, Booking.user_id, Booking.id).where(
            Booking.status == ACTIVE,
            Booking.starts_at < window_end,
            Booking.starts_at > window_start - MAX_TRAINING,
            Booking.ends_at > window_start,
        )
    ).all()
    closures = session.execute(
        select(Closure.starts_at, Closure.ends_at).where(
            Closure.starts_at < window_end, Closure.ends_at > window_start
        )
    ).all()
    return Snapshot(
        settings=settings,
        hours=effective_hours(session, settings),
        closures=tuple(Span(*row) for row in closures),
        bookings=tuple(Span(*row) for row in bookings),
    )


def _window(first_day: date, last_day: date, settings: Settings) -> tuple[datetime, datetime]:
    """UTC bounds covering every training that starts on or touches the given days."""
    margin = timedelta(minutes=settings.training_minutes)
    return (
        local_midnight_utc(first_day, settings) - margin,
        local_midnight_utc(last_day + timedelta(days=1), settings) + margin,
    )


def snapshot_for_days(
    session: Session, settings: Settings, first_day: date, last_day: date
) -> Snapshot:
    return load_snapshot(session, settings, *_window(first_day, last_day, settings))


def snapshot_for_start(session: Session, settings: Settings, starts_at: datetime) -> Snapshot:
    margin = timedelta(minutes=settings.training_minutes)
    return load_snapshot(session, settings, starts_at - margin, starts_at + 2 * margin)


def view_day(
    snapshot: Snapshot,
    day: date,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
    holdings: Holdings | None = None,
) -> DayView:
    """The day's cells; `ignore_booking` (one being moved) does not block its owner's starts;
    `holdings` (the viewer's, see schedule.limits) applies the fair-use limits."""
    capacity = snapshot.settings.capacity
    cells = snapshot.cells(day)
    refusals = snapshot.refusals(
        [cell.starts_at for cell in cells], user_id, now, ignore_booking, holdings
    )
    own = () if user_id is None else [b for b in snapshot.bookings if b.user_id == user_id]
    slots = []
    for cell, refusal in zip(cells, refusals, strict=True):
        booked = snapshot.booked_at(cell.starts_at, ignore_booking)
        slots.append(
            SlotView(
                cell=cell,
                booked=booked,
                free=max(capacity - booked, 0),
                can_start=refusal is None,
                mine=bool(own) and any(b.covers(cell.starts_at) for b in own),
                refusal=refusal,
            )
        )
    limited = holdings is not None and "limit_reached" in refusals
    return DayView(day, slots, holdings.limit(day, now, ignore_booking) if limited else None)


def day_availability(
    session: Session,
    settings: Settings,
    day: date,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
) -> DayView:
    """Every cell of `day` with its booked and free places and whether `user_id` may start there."""
    if not FIRST_DAY <= day <= LAST_DAY:
        return DayView(day, [])
    snapshot = snapshot_for_days(session, settings, day, day)
    held = None if user_id is None else holdings(session, settings, user_id, now)
    return view_day(snapshot, day, user_id, now, ignore_booking, held)


def horizon_days(settings: Settings, now: datetime) -> list[date]:
    first = today(now, settings)
    return [first + timedelta(days=n) for n in range(settings.booking_horizon_days + 1)]


def horizon_availability(
    session: Session,
    settings: Settings,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
) -> list[DayView]:
    """Every day from today to the horizon, read with one snapshot."""
    days = horizon_days(settings, now)
    snapshot = snapshot_for_days(session, settings, days[0], days[-1])
    held = None if user_id is None else holdings(session, settings, user_id, now)
    return [view_day(snapshot, day, user_id, now, ignore_booking, held) for day in days]


def bookable_days(
    session: Session, settings: Settings, user_id: int | None, now: datetime
) -> list[date]:
    views = horizon_availability(session, settings, user_id, now)
    return [view.day for view in views if view.available]
