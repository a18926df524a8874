"""Studio rules parsed from the environment (the mapping runtime/config.py reads once), validated at
start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# One opening interval in minutes since local midnight: (opens, closes), closes may be 1440.
Interval = tuple[int, int]
# Opening hours per weekday, Monday = 0.
WeekHours = dict[int, tuple[Interval, ...]]


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    training_minutes: int = 90
    slot_minutes: int = 30
    capacity: int = 4
    opening_hours: WeekHours = field(default_factory=lambda: parse_opening_hours("08:00-18:00"))
    booking_horizon_days: int = 7
    min_notice_minutes: int = 30
    cancel_deadline_minutes: int = 120
    timezone: str = "Europe/Moscow"
    phone_required: bool = False
    reminder_minutes: tuple[int, ...] = (1440, 120)
    # Fair use per client (schedule/limits.py); 0 turns a limit off.
    max_bookings_per_day: int = 1
    max_active_bookings: int = 4
    max_waitlist_entries: int = 3
    # Passes and attendance (schedule/passes.py, schedule/attendance.py): PASS_REQUIRED refuses
    # a booking without a remaining visit ("no_pass"); NO_SHOW_LIMIT no-shows in 30 days refuse
    # booking ("no_show_limit", 0 = off) until the trainer lifts it; ATTENDANCE_DEFAULT is what
    # an unmarked visit becomes at the end of its day.
    pass_required: bool = False
    no_show_limit: int = 0
    attendance_default: str = "attended"
    # Standing bookings (schedule/series.py): how many weeks one series may run.
    series_max_weeks: int = 12
    # Request rates (Flask-Limiter in the web app, the bot's callback throttle), like
    # "30/minute"; an empty value turns one off. RATE_LIMIT_STORAGE: memory:// or redis://...
    rate_limit_writes: str = "30/minute"
    rate_limit_reads: str = "300/minute"
    rate_limit_anonymous: str = "600/minute"
    rate_limit_storage: str = "memory://"
    # Who hears of what (schedule/notices.py): the trainers' Telegram ids (ADMIN_IDS), who hear
    # of every booking, cancel and move (none named: clients are still told). A trainer's news
    # of what a client did is held TRAINER_NEWS_DELAY_SECONDS, so a quick cancel folds it away.
    admin_ids: frozenset[int] = frozenset()
    trainer_news_delay: float = 60.0
    # Products and payments (schedule/payments.py): LATE_CANCEL "refuse" keeps the cancel
    # deadline, "forfeit" lets a client cancel until the start and keeps the visit used;
    # PAYMENT_CURRENCY is a product's currency unless it names one (ISO 4217).
    late_cancel: str = "refuse"
    payment_currency: str = "RUB"

    def __post_init__(self) -> None:
        if self.slot_minutes <= 0 or 1440 % self.slot_minutes:
            raise ConfigError("SLOT_MINUTES must be a positive divisor of 1440 (a day)")
        if self.training_minutes <= 0 or self.training_minutes % self.slot_minutes:
            raise ConfigError(
                "TRAINING_MINUTES must be a positive multiple of "
                f"SLOT_MINUTES ({self.slot_minutes})"
            )
        if self.capacity < 1:
            raise ConfigError("CAPACITY must be at least 1")
        if self.series_max_weeks < 1:
            raise ConfigError("SERIES_MAX_WEEKS must be at least 1")
        for name in (
            "booking_horizon_days",
            "min_notice_minutes",
            "cancel_deadline_minutes",
            "max_bookings_per_day",
            "max_active_bookings",
            "max_waitlist_entries",
            "no_show_limit",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name.upper()} must not be negative")
        check_week(self.opening_hours, self.slot_minutes)
        check_rate_limits(self)
        if not 0 <= self.trainer_news_delay <= 86400:
            raise ConfigError("TRAINER_NEWS_DELAY_SECONDS must be from 0 to 86400 seconds")
        if self.late_cancel not in ("refuse", "forfeit"):
            raise ConfigError("LATE_CANCEL must be refuse or forfeit")
        if not re.fullmatch(r"[A-Z]{3}", self.payment_currency):
            raise ConfigError("PAYMENT_CURRENCY must be a three-letter currency code like RUB")
        if self.attendance_default not in ("attended", "no_show"):
            raise ConfigError("ATTENDANCE_DEFAULT must be attended or no_show")
        if any(m <= 0 for m in self.reminder_minutes):
            raise ConfigError("REMINDER_MINUTES must list positive minutes, like 1440,120")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"TIMEZONE: unknown time zone {self.timezone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def training_length(self) -> timedelta:
        return timedelta(minutes=self.training_minutes)

    @property
    def cells_per_training(self) -> int:
        return self.training_minutes // self.slot_minutes

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        values: dict[str, object] = {}
        for name in (
            "TRAINING_MINUTES",
            "SLOT_MINUTES",
            "CAPACITY",
            "BOOKING_HORIZON_DAYS",
            "MIN_NOTICE_MINUTES",
            "CANCEL_DEADLINE_MINUTES",
            "MAX_BOOKINGS_PER_DAY",
            "MAX_ACTIVE_BOOKINGS",
            "MAX_WAITLIST_ENTRIES",
            "NO_SHOW_LIMIT",
            "SERIES_MAX_WEEKS",
        ):
            if env.get(name, "").strip():
                values[name.lower()] = _int(name, env[name])
        if env.get("OPENING_HOURS", "").strip():
            values["opening_hours"] = parse_opening_hours(env["OPENING_HOURS"])
        if env.get("TIMEZONE", "").strip():
            values["timezone"] = env["TIMEZONE"].strip()
        if env.get("PHONE_REQUIRED", "").strip():
            values["phone_required"] = parse_bool("PHONE_REQUIRED", env["PHONE_REQUIRED"])
        if env.get("PASS_REQUIRED", "").strip():
            values["pass_required"] = parse_bool("PASS_REQUIRED", env["PASS_REQUIRED"])
        if env.get("ATTENDANCE_DEFAULT", "").strip():
            values["attendance_default"] = env["ATTENDANCE_DEFAULT"].strip().lower()
        if env.get("LATE_CANCEL", "").strip():
            values["late_cancel"] = env["LATE_CANCEL"].strip().lower()
        if env.get("PAYMENT_CURRENCY", "").strip():
            values["payment_currency"] = env["PAYMENT_CURRENCY"].strip().upper()
        for name in RATE_LIMITS:
            if name in env:  # present but empty turns that limit off
                values[name.lower()] = env[name].strip()
        if "REMINDER_MINUTES" in env:
            values["reminder_minutes"] = parse_reminders(env["REMINDER_MINUTES"])
        if env.get("ADMIN_IDS", "").strip():
            values["admin_ids"] = parse_admin_ids(env["ADMIN_IDS"])
        if env.get("TRAINER_NEWS_DELAY_SECONDS", "").strip():
            values["trainer_news_delay"] = _seconds(
                "TRAINER_NEWS_DELAY_SECONDS", env["TRAINER_NEWS_DELAY_SECONDS"]
            )
        return cls(**values)


RATE_LIMITS = (
    "RATE_LIMIT_WRITES",
    "RATE_LIMIT_READS",
    "RATE_LIMIT_ANONYMOUS",
    "RATE_LIMIT_STORAGE",
)
STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://", "redis+sentinel://")


def check_rate_limits(settings: Settings) -> None:
    """Each rate is one the `limits` library reads ("30/minute", "5 per second"), or empty."""
    from limits import parse_many  # the library Flask-Limiter is built on

    for name in RATE_LIMITS[:3]:
        raw = getattr(settings, name.lower())
        try:
            if raw:
                parse_many(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a rate like 30/minute, got {raw!r}") from None
    if not settings.rate_limit_storage.startswith(STORAGE_SCHEMES):
        raise ConfigError("RATE_LIMIT_STORAGE must be memory:// or a redis://host:port URL")


def parse_reminders(raw: str) -> tuple[int, ...]:
    """'1440,120' -> (1440, 120); an empty value turns reminders off."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    return tuple(sorted({_int("REMINDER_MINUTES", p) for p in parts}, reverse=True))


def check_week(week: WeekHours, slot_minutes: int) -> None:
    """Each weekday 0-6 holds intervals in time order, apart, within the day, on the grid."""
    for weekday, intervals in week.items():
        if weekday not in range(7):
            raise ConfigError(f"OPENING_HOURS: {weekday!r} is not a weekday (0 = Monday ... 6)")
        previous_closes = 0
        for opens, closes in intervals:
            if not 0 <= opens < closes <= 1440:
                raise ConfigError(
                    f"OPENING_HOURS: {format_minutes(opens)}-{format_minutes(closes)} "
                    "is not an interval within a day"
                )
            if opens < previous_closes:
                raise ConfigError("OPENING_HOURS: intervals must be in time order and not overlap")
            if opens % slot_minutes or closes % slot_minutes:
                raise ConfigError(f"OPENING_HOURS must lie on the {slot_minutes}-minute grid")
            previous_closes = closes


def parse_admin_ids(raw: str) -> frozenset[int]:
    """'1001, 1002' -> frozenset({1001, 1002}): Telegram user ids, comma or space separated."""
    ids = set()
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"ADMIN_IDS: {part!r} is not a Telegram user id")
        ids.add(int(part))
    return frozenset(ids)


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 86400, got {raw!r}")
    return value


def _int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_minutes(text: str, *, allow_midnight_end: bool = False) -> int:
    """'08:30' -> 510. '24:00' only where it ends a day."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time like 08:00")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_midnight_end)):
        raise ValueError(f"{text!r} is not a time of day")
    return hours * 60 + minutes


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """'08:00-12:00,14:00-20:00' -> ((480, 720), (840, 1200)); 'closed' -> ()."""
    text = text.strip().lower()
    if text in ("closed", "-", ""):
        return ()
    intervals = []
    for part in text.split(","):
        opens_text, sep, closes_text = part.partition("-")
        if not sep:
            raise ValueError(f"{part.strip()!r} is not an interval like 08:00-18:00")
        opens = parse_minutes(opens_text)
        closes = parse_minutes(closes_text, allow_midnight_end=True)
        if closes <= opens:
            raise ValueError(f"{part.strip()!r} closes before it opens")
        intervals.append((opens, closes))
    intervals.sort()
    for (_, first_closes), (second_opens, _) in zip(intervals, intervals[1:], strict=False):
        if second_opens < first_closes:
            raise ValueError(f"intervals in {text!r} overlap")
    return tuple(intervals)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        if first not in WEEKDAYS or (sep and last not in WEEKDAYS):
            raise ValueError(f"{part.strip()!r} is not a weekday or range like mon-fri")
        start = WEEKDAYS.index(first)
        stop = WEEKDAYS.index(last) if sep else start
        wrapped = [*range(start, 7), *range(stop + 1)]
        days.extend(range(start, stop + 1) if stop >= start else wrapped)
    return days


def parse_opening_hours(text: str) -> WeekHours:
    """Parse OPENING_HOURS.

    ``08:00-18:00`` applies to every day. The per-weekday form lists ``;``-separated
    groups of days and intervals, e.g. ``mon-fri 07:00-12:00,16:00-21:00; sat 09:00-14:00``;
    weekdays not named are closed, and ``closed`` closes the named days explicitly.
    """
    try:
        text = text.strip().lower()
        if not text or text[0].isdigit() or text == "closed":
            every_day = parse_intervals(text)
            return {day: every_day for day in range(7)}
        week: WeekHours = {day: () for day in range(7)}
        for group in filter(None, (g.strip() for g in text.split(";"))):
            days_text, _, intervals_text = group.partition(" ")
            intervals = parse_intervals(intervals_text)
            for day in _parse_days(days_text):
                week[day] = intervals
        return week
    except ValueError as error:
        raise ConfigError(f"OPENING_HOURS: {error}") from None


def format_intervals(intervals: tuple[Interval, ...]) -> str:
    if not intervals:
        return "closed"
    return ",".join(f"{format_minutes(a)}-{format_minutes(b)}" for a, b in intervals)


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
