"""Local wall-clock time on the studio's grid <-> UTC instants (DST-aware, no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .errors import InvalidInput, ScheduleError
from .i18n import N_
from .settings import Settings, WeekHours, format_minutes


def to_local(instant: datetime, settings: Settings) -> datetime:
    """A naive-UTC instant as an aware datetime in the studio's time zone."""
    return instant.replace(tzinfo=UTC).astimezone(settings.zone)


def local_date(instant: datetime, settings: Settings) -> date:
    return to_local(instant, settings).date()


def wall_to_utc(day: date, minutes: int, settings: Settings) -> datetime | None:
    """Naive UTC of the wall time `minutes` after local midnight of `day`, None in a DST gap.

    In a DST overlap the first occurrence is taken.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    aware = wall.replace(tzinfo=settings.zone)
    instant = aware.astimezone(UTC)
    if instant.astimezone(settings.zone).replace(tzinfo=None) != wall:
        return None
    return instant.replace(tzinfo=None)


def wall_to_utc_or_after(day: date, minutes: int, settings: Settings) -> datetime:
    """Like wall_to_utc, but a wall time in a DST gap gives the instant the clock resumes."""
    for later in range(minutes, minutes + 24 * 60):
        instant = wall_to_utc(day, later, settings)
        if instant is not None:
            return instant
    raise ValueError(f"no wall time after {minutes} minutes on {day}")


def local_midnight_utc(day: date, settings: Settings) -> datetime:
    """The UTC instant at which local `day` begins (midnight, or the first instant after it)."""
    aware = datetime.combine(day, time(), tzinfo=settings.zone)
    return aware.astimezone(UTC).replace(tzinfo=None)


def today(now: datetime, settings: Settings) -> date:
    return local_date(now, settings)


def minute_of_day(instant: datetime, settings: Settings) -> tuple[date, int]:
    local = to_local(instant, settings)
    return local.date(), local.hour * 60 + local.minute


@dataclass(frozen=True)
class Cell:
    """One SLOT_MINUTES cell of a day's opening hours."""

    day: date
    minute: int  # wall-clock minutes since local midnight
    starts_at: datetime  # naive UTC

    @property
    def label(self) -> str:
        return format_minutes(self.minute)


def day_cells(day: date, hours: WeekHours, settings: Settings) -> list[Cell]:
    """Every cell of `day`'s opening hours in time order, skipping wall times a DST gap removes."""
    cells = []
    for opens, closes in hours.get(day.weekday(), ()):
        for minute in range(opens, closes, settings.slot_minutes):
            instant = wall_to_utc(day, minute, settings)
            if instant is not None:
                cells.append(Cell(day, minute, instant))
    return cells


def is_open(instant: datetime, hours: WeekHours, settings: Settings) -> bool:
    """Whether the cell starting at `instant` lies inside that local day's opening hours."""
    day, minute = minute_of_day(instant, settings)
    return any(
        opens <= minute and minute + settings.slot_minutes <= closes
        for opens, closes in hours.get(day.weekday(), ())
    )


def occupied_instants(starts_at: datetime, settings: Settings) -> list[datetime]:
    """The start of every cell a training starting at `starts_at` occupies."""
    step = timedelta(minutes=settings.slot_minutes)
    return [starts_at + step * k for k in range(settings.cells_per_training)]


def training_end(starts_at: datetime, settings: Settings) -> datetime:
    return starts_at + timedelta(minutes=settings.training_minutes)


# ASCII digits only: str.isdigit() and \d also accept digits int() cannot read, like "²".
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_START = re.compile(r"([0-9]{2}):([0-9]{2})")


# The days the studio's calendar can show: near date.min and date.max, local midnight in
# UTC (and the day after) would overflow datetime.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)


def parse_date(text: object) -> date:
    if isinstance(text, str) and _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if FIRST_DAY <= day <= LAST_DAY:
                return day
    raise InvalidInput(N_("input_date"))


def parse_start(text: object, settings: Settings) -> int:
    """'HH:MM' on the grid -> minutes since local midnight."""
    match = _START.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(N_("input_time"))
    hours, minutes = int(match[1]), int(match[2])
    if hours > 23 or minutes > 59:
        raise InvalidInput(N_("input_time_of_day"))
    minute = hours * 60 + minutes
    if minute % settings.slot_minutes:
        raise InvalidInput(N_("input_off_grid"), minutes=settings.slot_minutes)
    return minute


def start_instant(day: date, minute: int, settings: Settings) -> datetime:
    """The UTC start of a training at wall time `minute` on `day`; a DST gap is closed.

    Every service takes its start through here, so a start off the grid or outside the day
    is refused whichever adapter (or forged callback) it came from.
    """
    if not isinstance(minute, int) or not 0 <= minute < 1440 or minute % settings.slot_minutes:
        raise InvalidInput(N_("input_off_grid"), minutes=settings.slot_minutes)
    instant = wall_to_utc(day, minute, settings)
    if instant is None:
        raise ScheduleError("closed", N_("detail_clock_change"))
    return instant
