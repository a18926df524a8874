"""The booking rules and the picture of a day they paint, decided in one place.

`Snapshot.verdicts` weighs every rule for a start (why it is refused, how many places a
training there would have); `view_day` turns a day of them into what each start means to one
viewer at one moment (refusal, places, whether they may wait, their place in line, their own
booking there). The services refuse by the same verdicts, and the Mini App's grid, `/api/slots`,
the bot's keyboards and the trainer's views render the same `DayView`: none of them decides a
rule of its own. Everything here but the loaders is pure: the rules are tested without a database.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .kinds import Catalog, KindInfo, default_catalog, load_catalog
from .limits import Holdings, holdings, promotion_cutoff
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
    occupied_instants,
    today,
    training_end,
)

# No training is longer than a day, so a booking that overlaps a window started at most a
# day before it: this bound keeps the bookings query an index range scan however long the
# history grows.
MAX_TRAINING = timedelta(days=1)
# The span [t, t + TICK) overlaps exactly the bookings that cover the instant t.
TICK = timedelta(microseconds=1)

# Every refusal, in the order the rules are weighed (the first that applies is the answer); a
# new rule is one more code here and its check in Snapshot.verdicts. Each has a message in
# errors.MESSAGES and a short reason, "reason_<code>", in the catalogs (schedule.i18n).
REFUSALS = (
    "too_soon",  # inside the minimum notice, or past
    "too_far",  # beyond the booking horizon
    "closed",  # a trainer's closure overlaps the training
    "after_hours",  # the training would run outside the opening hours
    "overlapping",  # the viewer holds a booking overlapping it
    "trainer_busy",  # the trainer gives another kind of training overlapping it
    "limit_reached",  # a fair-use limit (schedule.limits)
    "no_show_limit",  # NO_SHOW_LIMIT no-shows in 30 days (schedule.passes)
    "week_limit",  # a membership's PER_WEEK bookings held that week, no other pass pays
    "no_pass",  # PASS_REQUIRED and no pass with a visit left for that date
    "full",  # some cell it occupies holds CAPACITY bookings
)


@dataclass(frozen=True)
class Span:
    starts_at: datetime
    ends_at: datetime
    user_id: int = 0
    booking_id: int = 0
    kind_id: int | None = None  # a booking's kind (None: the default kind)
    trainer_id: int | None = None  # a booking's or a closure's trainer (None: the studio)

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
    bookings: tuple[Span, ...]  # the bookings counted against capacity in this picture
    # One (kind, trainer)'s picture (see `picture`): the trainer's bookings of another kind,
    # which refuse "trainer_busy", and the other active bookings (the viewer's own overlap).
    busy: tuple[Span, ...] = ()
    others: tuple[Span, ...] = ()
    # The kinds and trainers, and the trainers' own closures, read with a studio's snapshot.
    catalog: Catalog | None = None
    trainer_closures: tuple[Span, ...] = ()
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
    # (start, ignore_booking) -> Fixed: a training there, whoever asks, whenever
    _fixed: dict = field(init=False, repr=False, compare=False)
    # (kind id, trainer id) -> its picture
    _pictures: dict = field(init=False, repr=False, compare=False)
    _everyone: tuple = field(init=False, repr=False, compare=False)

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
        object.__setattr__(self, "_pictures", {})
        object.__setattr__(self, "_everyone", (*self.bookings, *self.busy, *self.others))

    @property
    def kinds(self) -> Catalog:
        return self.catalog or default_catalog(self.settings)

    def picture(self, kind: KindInfo | None = None, trainer_id: int | None = None) -> Snapshot:
        """The snapshot of one kind with one trainer, from a studio's snapshot: the kind's
        length and visitors at once, the trainer's hours (or the studio's), the studio's
        closures and the trainer's own, the trainer's bookings of that kind counted and of
        another kind busy (a studio's booking, trainer None, counts for every trainer).
        `trainer_id` None is the studio as one trainer (while no trainer exists). The default
        kind of the studio is this very snapshot when nothing else exists."""
        catalog = self.kinds
        kind = kind or catalog.default
        key = (kind.id, trainer_id)
        found = self._pictures.get(key)
        if found is not None:
            return found
        if trainer_id is None and kind.is_default and not self.busy and not self.others:
            simple = all(b.kind_id is None for b in self.bookings)
            if simple and not self.trainer_closures:
                found = self._pictures[key] = self
                return found
        trainer = catalog.trainer(trainer_id) if trainer_id is not None else None
        everyone = self._everyone
        mine = [b for b in everyone if trainer_id is None or b.trainer_id in (None, trainer_id)]
        counted = tuple(b for b in mine if b.kind_id == kind.booking_kind)
        busy = tuple(b for b in mine if b.kind_id != kind.booking_kind)
        taken = {b.booking_id for b in mine}
        others = tuple(b for b in everyone if b.booking_id not in taken)
        own_closures = [c for c in self.trainer_closures if c.trainer_id == trainer_id]
        closures = self.closures + tuple(own_closures if trainer_id is not None else ())
        found = self._pictures[key] = Snapshot(
            settings=kind.rules(self.settings),
            hours=(trainer.hours if trainer is not None and trainer.hours else self.hours),
            closures=closures,
            bookings=counted,
            busy=busy,
            others=others,
            catalog=catalog,
        )
        if found.hours is self.hours:  # the studio's hours: the same local dates and cells
            object.__setattr__(found, "_instants", self._instants)
            object.__setattr__(found, "_cells", self._cells)
        return found

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
        verdicts = self.verdicts(starts, user_id, now, ignore_booking, holdings)
        return [verdict.refusal for verdict in verdicts]

    def verdicts(
        self,
        starts: list[datetime],
        user_id: int | None,
        now: datetime,
        ignore_booking: int = 0,
        holdings: Holdings | None = None,
    ) -> list[Verdict]:
        """Every rule weighed for each start (see REFUSALS for the order)."""
        settings = self.settings
        earliest = now + timedelta(minutes=settings.min_notice_minutes)
        horizon = today(now, settings) + timedelta(days=settings.booking_horizon_days)
        own = (
            ()
            if user_id is None
            else [
                b for b in self._everyone if b.user_id == user_id and b.booking_id != ignore_booking
            ]
        )
        limits: dict[date, str | None] = {}  # local date -> the limit a booking there breaks
        answers: list[Verdict] = []
        for starts_at in starts:
            day = self._local(starts_at)[0]
            fixed = self.fixed(starts_at, ignore_booking)
            clash = next((b for b in own if b.overlaps(starts_at, fixed.ends_at)), None)
            if starts_at < earliest:
                refusal = "too_soon"
            elif day > horizon:
                refusal = "too_far"
            elif fixed.closed:
                refusal = "closed"
            elif fixed.closes_at is not None:
                refusal = "after_hours"
            elif clash is not None:
                refusal = "overlapping"
            elif fixed.busy:
                refusal = "trainer_busy"
            elif holdings is not None and _limit_on(day, limits, holdings, now, ignore_booking):
                refusal = "limit_reached"
            elif holdings is not None and (
                standing := holdings.standing_refusal(day, now, ignore_booking)
            ):
                refusal = standing  # no_show_limit, week_limit, no_pass (schedule.passes)
            elif fixed.places == 0:
                refusal = "full"
            else:
                refusal = None
            answers.append(Verdict(refusal, fixed.places, clash, fixed.closes_at))
        return answers

    def fixed(self, starts_at: datetime, ignore_booking: int = 0) -> Fixed:
        """What a training at `starts_at` would meet whoever asks, whenever: a closure, the
        end of the opening hours, the places left."""
        key = (starts_at, ignore_booking)
        found = self._fixed.get(key)
        if found is None:
            settings = self.settings
            ends_at = training_end(starts_at, settings)
            cells = occupied_instants(starts_at, settings)
            # A closure need not lie on the grid: any overlap with the training closes it.
            closed = any(c.overlaps(starts_at, ends_at) for c in self.closures)
            closes_at = next((cell for cell in cells if not self._local(cell)[1]), None)
            most = max(self.booked_at(cell, ignore_booking) for cell in cells)
            places = max(settings.capacity - most, 0)
            busy = any(
                b.booking_id != ignore_booking and b.overlaps(starts_at, ends_at) for b in self.busy
            )
            found = self._fixed[key] = Fixed(ends_at, closed, closes_at, places, busy)
        return found

    def closed_cell(self, starts_at: datetime) -> bool:
        """Whether the cell starting at `starts_at` lies in a trainer's closure."""
        ends_at = starts_at + timedelta(minutes=self.settings.slot_minutes)
        return any(c.overlaps(starts_at, ends_at) for c in self.closures)


@dataclass(frozen=True)
class Fixed:
    """A training at some start as the studio sees it, before any viewer or clock."""

    ends_at: datetime
    closed: bool  # a trainer's closure overlaps it
    closes_at: datetime | None  # the first cell it occupies outside the opening hours
    places: int  # CAPACITY minus the most bookings over the cells it occupies
    busy: bool = False  # the trainer gives another kind of training overlapping it


@dataclass(frozen=True)
class Verdict:
    """The rules weighed for one start, one viewer, one moment."""

    refusal: str | None  # one of REFUSALS, None when the viewer may book it
    places: int
    clash: Span | None = None  # the viewer's own booking it overlaps
    closes_at: datetime | None = None  # where the opening hours end inside it (after_hours)


def wait_refusal(
    refusal: str | None,
    starts_at: datetime,
    settings: Settings,
    now: datetime,
    held: Holdings | None,
    waiting_here: bool,
) -> str | None:
    """Why a viewer may not join the waitlist of a start now, or None if they may, given why
    they may not book it (`refusal`): promotion past its cutoff ("too_soon"), a start they can
    book ("not_full") or one refused for another reason than full (that reason), or, with their
    holdings, waiting as often as MAX_WAITLIST_ENTRIES allows ("limit_reached"; joining where
    they already wait is joining once). The grid offers joining and the services allow it by
    this one rule."""
    if starts_at < promotion_cutoff(settings, now):
        return "too_soon"
    if refusal is None:
        return "not_full"
    if refusal != "full":
        return refusal
    if held is not None and not waiting_here and held.waitlist_limit(now):
        return "limit_reached"
    return None


def _limit_on(
    day: date, limits: dict, holdings: Holdings, now: datetime, ignore_booking: int
) -> str | None:
    """holdings.limit for `day`, worked out once per day of a grid."""
    if day not in limits:
        limits[day] = holdings.limit(day, now, ignore_booking)
    return limits[day]


class Waiting(int):
    """Where a viewer waits at one start: their place in that line (1 = next, the number
    itself, so that it reads as the bare place it was before kinds) and what they wait for
    there (a client waits once per start: the waitlist's unique entry): `kind_id` as a booking
    stores it (None: the default kind), `trainer_id` the one asked for (None: any)."""

    kind_id: int | None
    trainer_id: int | None

    def __new__(cls, place: int, kind_id: int | None = None, trainer_id: int | None = None):
        made = super().__new__(cls, place)
        made.kind_id = kind_id
        made.trainer_id = trainer_id
        return made

    def __repr__(self) -> str:
        return f"Waiting({int(self)}, kind_id={self.kind_id}, trainer_id={self.trainer_id})"

    @property
    def place(self) -> int:
        return int(self)

    def shown_in(self, kind: KindInfo, trainer_id: int | None) -> bool:
        """Whether the picture of `kind` with `trainer_id` (None: any) shows this place: the
        same kind, and a trainer who may take the place (any, or the one pictured)."""
        if self.kind_id != kind.booking_kind:
            return False
        return trainer_id is None or self.trainer_id is None or self.trainer_id == trainer_id


# The viewer's places in line by start: a bare place is the default kind's, any trainer's.
InLine = Mapping[datetime, int | Waiting]


def lines_of(in_line: InLine | None, kind: KindInfo, trainer_id: int | None) -> dict[datetime, int]:
    """The viewer's places in line that the picture of `kind` with `trainer_id` shows."""
    shown: dict[datetime, int] = {}
    for starts_at, place in (in_line or {}).items():
        if isinstance(place, Waiting):
            if place.shown_in(kind, trainer_id):
                shown[starts_at] = place.place
        elif kind.is_default:
            shown[starts_at] = place
    return shown


@dataclass(frozen=True)
class SlotView:
    """What one start of a day means to one viewer at one moment (the cell is also the
    SLOT_MINUTES cell of the day that `booked`, `free` and `mine` describe)."""

    cell: Cell
    booked: int  # bookings covering this cell
    free: int  # CAPACITY minus `booked`
    can_start: bool
    mine: bool  # the viewer holds a booking covering this cell
    refusal: str | None = None  # why the viewer may not start here (REFUSALS)
    places: int = 0  # places left for a training starting here
    can_wait: bool = False  # the viewer may join this start's waitlist now
    in_line: int | None = None  # the viewer's place in this start's waitlist (1 = next)
    own: Span | None = None  # the viewer's booking covering this cell
    clash: Span | None = None  # the viewer's booking a training here would overlap
    closes_at: datetime | None = None  # where the opening hours end inside it (after_hours)
    past: bool = False  # the start has come: nothing to show or do there any more
    closed: bool = False  # the cell lies in a trainer's closure
    # Picturing any trainer of a kind: those who could take a training here (by id), None
    # when one trainer (or the studio alone) is pictured.
    trainer_ids: tuple[int, ...] | None = None

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
    session: Session,
    settings: Settings,
    window_start: datetime,
    window_end: datetime,
    catalog: Catalog | None = None,
) -> Snapshot:
    """One query for the active bookings overlapping the window, one for its closures (and,
    unless given, two for the kinds and trainers: schedule.kinds.load_catalog)."""
    catalog = catalog or load_catalog(session, settings)
    bookings = session.execute(
        select(
            Booking.starts_at,
            Booking.ends_at,
            Booking.user_id,
            Booking.id,
            Booking.kind_id,
            Booking.trainer_id,
        ).where(
            Booking.status == ACTIVE,
            Booking.starts_at < window_end,
            Booking.starts_at > window_start - MAX_TRAINING,
            Booking.ends_at > window_start,
        )
    ).all()
    closures = session.execute(
        select(Closure.starts_at, Closure.ends_at, Closure.trainer_id).where(
            Closure.starts_at < window_end, Closure.ends_at > window_start
        )
    ).all()
    return Snapshot(
        settings=settings,
        hours=effective_hours(session, settings),
        closures=tuple(Span(a, b) for a, b, trainer in closures if trainer is None),
        bookings=tuple(
            Span(start, end, user, booking, kind, trainer)
            for start, end, user, booking, kind, trainer in bookings
        ),
        catalog=catalog,
        trainer_closures=tuple(
            Span(a, b, trainer_id=trainer) for a, b, trainer in closures if trainer is not None
        ),
    )


def _longest(settings: Settings, catalog: Catalog) -> timedelta:
    """The longest training of any kind."""
    return timedelta(minutes=max([settings.training_minutes, *(k.minutes for k in catalog.kinds)]))


def _window(
    first_day: date, last_day: date, settings: Settings, margin: timedelta | None = None
) -> tuple[datetime, datetime]:
    """UTC bounds covering every training that starts on or touches the given days."""
    margin = margin or timedelta(minutes=settings.training_minutes)
    return (
        local_midnight_utc(first_day, settings) - margin,
        local_midnight_utc(last_day + timedelta(days=1), settings) + margin,
    )


def snapshot_for_days(
    session: Session, settings: Settings, first_day: date, last_day: date
) -> Snapshot:
    catalog = load_catalog(session, settings)
    margin = _longest(settings, catalog)
    return load_snapshot(
        session, settings, *_window(first_day, last_day, settings, margin), catalog
    )


def snapshot_for_start(session: Session, settings: Settings, starts_at: datetime) -> Snapshot:
    catalog = load_catalog(session, settings)
    margin = _longest(settings, catalog)
    return load_snapshot(session, settings, starts_at - margin, starts_at + 2 * margin, catalog)


def view_day(
    snapshot: Snapshot,
    day: date,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
    holdings: Holdings | None = None,
    in_line: InLine | None = None,
) -> DayView:
    """The picture of `day` for `user_id` at `now`: every start with its refusal, places,
    whether they may wait there and their place in line (`in_line`: start -> place, already
    that of the snapshot's kind and trainer: view_kind picks it), and their own booking there.
    A viewer who waits at a start (for whatever kind: `holdings.waiting`) may not join another
    line there.

    `ignore_booking` (one being moved) does not block its owner's starts; `holdings` (the
    viewer's, see schedule.limits) applies the fair-use limits. Without a viewer (the first
    paint, the trainer) only what holds for anyone is shown and nobody may wait."""
    settings = snapshot.settings
    capacity = settings.capacity
    cells = snapshot.cells(day)
    starts = [cell.starts_at for cell in cells]
    verdicts = snapshot.verdicts(starts, user_id, now, ignore_booking, holdings)
    own = () if user_id is None else [b for b in snapshot._everyone if b.user_id == user_id]
    in_line = {start: int(place) for start, place in (in_line or {}).items()}
    waiting = set(in_line) | set(holdings.waiting if holdings is not None else ())
    slots = []
    for cell, verdict in zip(cells, verdicts, strict=True):
        starts_at = cell.starts_at
        booked = snapshot.booked_at(starts_at, ignore_booking)
        mine = next((b for b in own if b.covers(starts_at)), None)
        slots.append(
            SlotView(
                cell=cell,
                booked=booked,
                free=max(capacity - booked, 0),
                can_start=verdict.refusal is None,
                mine=mine is not None,
                refusal=verdict.refusal,
                places=verdict.places,
                can_wait=user_id is not None
                and starts_at not in waiting
                and not wait_refusal(verdict.refusal, starts_at, settings, now, holdings, False),
                in_line=in_line.get(starts_at),
                own=mine,
                clash=verdict.clash if verdict.refusal == "overlapping" else None,
                closes_at=verdict.closes_at if verdict.refusal == "after_hours" else None,
                past=starts_at <= now,
                closed=snapshot.closed_cell(starts_at),
            )
        )
    refusals = [verdict.refusal for verdict in verdicts]
    limited = holdings is not None and "limit_reached" in refusals
    return DayView(day, slots, holdings.limit(day, now, ignore_booking) if limited else None)


def _preferred(options: list[tuple[int | None, Verdict]]) -> tuple[int | None, Verdict]:
    """Of one start's verdicts per trainer, the one a booking for any trainer gets: among those
    who can take it, the one whose training there holds the most visitors (fewest places: a
    group fills before another opens), the lower id first; when none can, the first refused
    "full" (its waitlist), else the first trainer's refusal."""
    able = [option for option in options if option[1].refusal is None]
    if able:
        return min(able, key=lambda option: (option[1].places, option[0] or 0))
    full = [option for option in options if option[1].refusal == "full"]
    return (full or options)[0]


def pick(
    snapshot: Snapshot,
    kind: KindInfo | None,
    trainer_id: int | None,
    starts_at: datetime,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
    holdings: Holdings | None = None,
) -> tuple[int | None, Verdict]:
    """Who gives a training of `kind` at `starts_at` (the trainer asked for, or any of the
    kind's: see _preferred) and the rules' verdict on it. A trainer who does not give the kind
    is None with "trainer_busy"."""
    catalog = snapshot.kinds
    kind = kind or catalog.default
    candidates = catalog.candidates(kind)
    if trainer_id is not None:
        if trainer_id not in candidates:
            return None, Verdict("trainer_busy", 0)
        candidates = (trainer_id,)
    if not candidates:
        return None, Verdict("trainer_busy", 0)
    options = [
        (
            trainer,
            snapshot.picture(kind, trainer).verdicts(
                [starts_at], user_id, now, ignore_booking, holdings
            )[0],
        )
        for trainer in candidates
    ]
    return _preferred(options)


def view_kind(
    snapshot: Snapshot,
    kind: KindInfo | None,
    trainer_id: int | None,
    day: date,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
    holdings: Holdings | None = None,
    in_line: InLine | None = None,
) -> DayView:
    """`view_day` of one kind (None: the default) with one trainer, or with any of the kind's
    (`trainer_id` None): then each start is what the trainer a booking would go to sees
    (_preferred), with `trainer_ids` naming every trainer who could take it, and `booked`
    and `free` summed over them. The studio alone (no trainer yet) is `view_day` itself.
    `in_line` (schedule.waitlist.places_in_line) shows the lines of this kind and trainer
    (lines_of): waiting for one kind at 10:00 is no place in another kind's line."""
    catalog = snapshot.kinds
    kind = kind or catalog.default
    args = (day, user_id, now, ignore_booking, holdings, lines_of(in_line, kind, trainer_id))
    candidates = catalog.candidates(kind)
    if trainer_id is not None:
        if trainer_id not in candidates:
            return DayView(day, [])
        return view_day(snapshot.picture(kind, trainer_id), *args)
    if candidates == (None,):
        return view_day(snapshot.picture(kind, None), *args)
    views = [(trainer, view_day(snapshot.picture(kind, trainer), *args)) for trainer in candidates]
    by_start: dict[datetime, list[tuple[int | None, SlotView]]] = {}
    for trainer, view in views:
        for slot in view.slots:
            by_start.setdefault(slot.cell.starts_at, []).append((trainer, slot))
    slots = []
    for starts_at in sorted(by_start):
        options = by_start[starts_at]
        slot_of = dict(options)
        chosen, _ = _preferred([(t, Verdict(slot.refusal, slot.places)) for t, slot in options])
        slot = slot_of[chosen]
        able = tuple(sorted(t for t, one in options if one.can_start and t is not None))
        slots.append(
            replace(
                slot,
                booked=sum(one.booked for _, one in options),
                free=sum(one.free for _, one in options),
                mine=any(one.mine for _, one in options),
                trainer_ids=able,
            )
        )
    limit = next((view.limit for _, view in views if view.limit), None)
    return DayView(day, slots, limit)


def day_availability(
    session: Session,
    settings: Settings,
    day: date,
    user_id: int | None,
    now: datetime,
    ignore_booking: int = 0,
) -> DayView:
    """Every cell of `day` with its booked and free places and whether `user_id` may start there
    (the default kind, any trainer: view_kind)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        return DayView(day, [])
    snapshot = snapshot_for_days(session, settings, day, day)
    held = None if user_id is None else holdings(session, settings, user_id, now)
    return view_kind(snapshot, None, None, day, user_id, now, ignore_booking, held)


def horizon_days(settings: Settings, now: datetime) -> list[date]:
    first = today(now, settings)
    return [first + timedelta(days=n) for n in range(settings.booking_horizon_days + 1)]


def unchanged_until(settings: Settings, now: datetime) -> datetime:
    """The first instant from `now` on at which the clock alone may change what anyone sees of
    the horizon: a start comes (starts lie on the grid), a start enters the minimum notice
    (`min_notice_minutes` before one), or a new day enters the horizon. Until then the picture
    drawn for nobody in particular changes only with bookings, closures and hours; the first
    paint may be kept that long (webapp/pages.py). `now` itself when the next change comes
    just after it."""
    slot = timedelta(minutes=settings.slot_minutes)
    midnight = local_midnight_utc(today(now, settings), settings)

    def first_start_from(instant: datetime) -> datetime:
        return midnight - ((midnight - instant) // slot) * slot

    notice = timedelta(minutes=settings.min_notice_minutes)
    return min(
        # a start is past from its instant on (midnight, when a day enters, is one of them)
        first_start_from(now + timedelta(microseconds=1)),
        first_start_from(now + notice) - notice,  # too soon from just after this instant
    )


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
    return [
        view_kind(snapshot, None, None, day, user_id, now, ignore_booking, held) for day in days
    ]


def bookable_days(
    session: Session, settings: Settings, user_id: int | None, now: datetime
) -> list[date]:
    views = horizon_availability(session, settings, user_id, now)
    return [view.day for view in views if view.available]
