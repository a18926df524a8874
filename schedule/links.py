"""Links that open one training: Telegram's start parameter, read and written.

A link to a start carries `d<YYYYMMDD>t<HHMM>`, optionally followed by `k<kind id>` and
`r<trainer id>`: the Mini App's `startapp` (`https://t.me/<bot>/<app>?startapp=d20261210t1800`,
which Telegram hands the app as `start_param`) and the bot's `/start` payload
(`https://t.me/<bot>?start=d20261210t1800`) alike. Telegram allows A-Z, a-z, 0-9, _ and - there,
at most 64 characters for `start`: the longest parameter here is 34.

`read_start_param` says what such a parameter opens, or why it opens nothing: `unreadable` (not
this shape, no such date or time of day), `off_grid` (not on the SLOT_MINUTES grid, or a wall
time a clock change skips), `past` (the training has started) or `too_far` (beyond the booking
horizon). A readable start that the rules refuse for a viewer (too soon, full, closed, after
hours) is not the link's fault: it opens, and the viewer sees why on the start's sheet.

`StartLink.kind` and `.trainer` name the picture of the day to open (the Mini App's sheet
request and the bot's view carry them). `read_start_param` only reads them; `in_catalog` checks
them against the studio's kinds and trainers: a kind or trainer it does not have (any more), or
a trainer who does not give that kind, opens nothing (`unreadable`), in the Mini App and the bot
alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote

from .errors import InvalidInput
from .i18n import N_
from .kinds import Catalog
from .settings import Settings
from .timegrid import FIRST_DAY, LAST_DAY, today, wall_to_utc

# Why a parameter opens no start (the Mini App's notice is f"link_{reason}", data-notice too).
UNREADABLE = "unreadable"
OFF_GRID = "off_grid"
PAST = "past"
TOO_FAR = "too_far"
REASONS = (UNREADABLE, OFF_GRID, PAST, TOO_FAR)
NOTICES = (N_("link_unreadable"), N_("link_off_grid"), N_("link_past"), N_("link_too_far"))

# An id is a positive whole number of at most 9 digits (no leading zero).
_ID = r"[1-9][0-9]{0,8}"
_PARAM = re.compile(rf"d([0-9]{{8}})t([0-9]{{4}})(?:k({_ID}))?(?:r({_ID}))?")
MAX_PARAM = 64  # Telegram's limit for /start payloads (startapp allows 512)


@dataclass(frozen=True)
class StartLink:
    """A start a link opens: the studio-local day and wall-clock minute, and the kind and
    trainer it names (None: the default kind, any trainer)."""

    day: date
    minute: int
    starts_at: datetime  # naive UTC
    kind: int | None = None
    trainer: int | None = None

    @property
    def param(self) -> str:
        return start_param(self.day, self.minute, self.kind, self.trainer)


@dataclass(frozen=True)
class Unusable:
    """A parameter that opens no start, and why (one of REASONS)."""

    reason: str

    @property
    def notice(self) -> str:
        """The catalog id of the line the Mini App and the bot show instead."""
        return f"link_{self.reason}"


def read_start_param(text: object, settings: Settings, now: datetime) -> StartLink | Unusable:
    """What the start parameter `text` opens at `now` (naive UTC), or why it opens nothing."""
    if not isinstance(text, str) or len(text) > MAX_PARAM:
        return Unusable(UNREADABLE)
    match = _PARAM.fullmatch(text.strip().lower())
    if match is None:
        return Unusable(UNREADABLE)
    digits, clock, kind, trainer = match.groups()
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return Unusable(UNREADABLE)
    hours, minutes = int(clock[:2]), int(clock[2:])
    if not FIRST_DAY <= day <= LAST_DAY or hours > 23 or minutes > 59:
        return Unusable(UNREADABLE)
    minute = hours * 60 + minutes
    if minute % settings.slot_minutes:
        return Unusable(OFF_GRID)
    starts_at = wall_to_utc(day, minute, settings)
    if starts_at is None:  # a wall time the clock skips that night
        return Unusable(OFF_GRID)
    if starts_at <= now:
        return Unusable(PAST)
    if day > today(now, settings) + timedelta(days=settings.booking_horizon_days):
        return Unusable(TOO_FAR)
    return StartLink(
        day,
        minute,
        starts_at,
        int(kind) if kind else None,
        int(trainer) if trainer else None,
    )


def in_catalog(link: StartLink | Unusable, catalog: Catalog) -> StartLink | Unusable:
    """`link` when the kind and trainer it names are the studio's (`catalog`: schedule.kinds'
    Catalog), and the trainer gives that kind; else Unusable(UNREADABLE), the bad-link notice.
    A link naming neither is not looked up."""
    if not isinstance(link, StartLink) or (link.kind is None and link.trainer is None):
        return link
    try:
        catalog.resolve(link.kind, link.trainer)
    except InvalidInput:
        return Unusable(UNREADABLE)
    return link


def start_param(day: date, minute: int, kind: int | None = None, trainer: int | None = None) -> str:
    """The start parameter naming a start (the inverse of read_start_param):
    `d20261210t1800`, `d20261210t1800k2r5`."""
    if not 0 <= minute < 24 * 60:
        raise ValueError(f"a start is a minute of the day, got {minute}")
    param = f"d{day:%Y%m%d}t{minute // 60:02d}{minute % 60:02d}"
    if kind is not None:
        param += f"k{int(kind)}"
    if trainer is not None:
        param += f"r{int(trainer)}"
    return param


def app_link(bot_username: str, short_name: str, param: str) -> str:
    """The Mini App opened on a start: https://t.me/<bot>/<app>?startapp=<param>."""
    bot, app = bot_username.lstrip("@"), short_name.strip("/")
    return f"https://t.me/{quote(bot)}/{quote(app)}?startapp={quote(param)}"
