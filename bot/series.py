"""Standing bookings in the bot: the words of their notices, and the worker's pass that books
each date as it enters the horizon.

schedule.series settles the occurrences and, inside their transactions, writes the notices they
cause (schedule.notices: a date booked, queued or skipped, a trainer's stop), so a date is
never told twice nor lost. `render` words them in the client's language when the dispatcher
sends them.

`run_series` is the periodic pass, beside the reminders in `python bot_main.py` and
`flask --app webapp worker`: any number of workers may run it (each date is claimed in the
database); it runs every SERIES_INTERVAL_SECONDS, well inside the hour (schedule.series'
SERIES_LEAD) before each date opens to everyone, so the regular's place is booked first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from telebot.types import InlineKeyboardMarkup

from schedule import series as standing
from schedule.db import make_session_factory
from schedule.errors import message_for
from schedule.events import EventHandler
from schedule.i18n import WEEKLY
from schedule.models import utcnow
from schedule.notices import SERIES_BOOKED as BOOKED
from schedule.notices import SERIES_KEYS as KINDS
from schedule.notices import SERIES_SKIPPED as SKIPPED
from schedule.notices import SERIES_STOPPED as STOPPED
from schedule.notices import SERIES_WAITING as WAITING
from schedule.timegrid import training_end
from schedule.unit import Actor, Unit

from . import keyboards
from .config import BotConfig
from .loops import repeat
from .texts import day_label, short_when, text, when

log = logging.getLogger("bot")

SERIES_INTERVAL_SECONDS = 60.0
__all__ = ["BOOKED", "KINDS", "SKIPPED", "STOPPED", "WAITING", "book_due", "render", "run_series"]


def label(lang: str, weekday: int, start: str) -> str:
    """'Tuesdays at 18:00' / 'по вторникам в 18:00'."""
    return text(lang, "series_label", weekdays=text(lang, WEEKLY[weekday]), start=start)


def _app_and_my(lang: str, starts_at: datetime, config: BotConfig) -> InlineKeyboardMarkup:
    """The app and my trainings (a booking's actions without its cancel button)."""
    return keyboards.booking_actions(
        lang, 0, starts_at, config.settings, config.web_app_url, may_cancel=False
    )


def render(
    kind: str, facts: dict, lang: str, config: BotConfig, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The words and buttons of a series row, in `lang`."""
    settings = config.settings
    series = label(lang, int(facts["weekday"]), str(facts["start"]))
    if kind == STOPPED:
        lines = [text(lang, "bot_series_stopped", series=series, reason=facts.get("reason") or "")]
        cancelled = [datetime.fromisoformat(s) for s in facts.get("cancelled") or ()]
        if cancelled:
            dates = ", ".join(short_when(s, settings, lang) for s in cancelled)
            lines.append(text(lang, "series_stopped_cancelled", dates=dates))
        return "\n".join(lines), _app_and_my(lang, now, config)
    day = date.fromisoformat(facts["date"])
    if kind == SKIPPED or not facts.get("starts_at"):
        reason = message_for(facts.get("reason") or "invalid", lang)
        return (
            text(lang, "series_skipped", series=series, day=day_label(day, lang), reason=reason),
            _app_and_my(lang, now, config),
        )
    starts_at = datetime.fromisoformat(facts["starts_at"])
    span = when(starts_at, training_end(starts_at, settings), settings, lang)
    if kind == WAITING:
        return text(lang, "series_waiting", series=series, when=span), _app_and_my(
            lang, now, config
        )
    deadline = starts_at - timedelta(minutes=settings.cancel_deadline_minutes)
    return text(lang, "series_booked", series=series, when=span), keyboards.booking_actions(
        lang,
        int(facts["booking_id"]),
        starts_at,
        settings,
        config.web_app_url,
        may_cancel=now <= deadline,
    )


def book_due(
    config: BotConfig,
    session_factory: sessionmaker[Session],
    clock: Callable[[], datetime] = utcnow,
    on_event: EventHandler | None = None,
) -> int:
    """One pass: every date due now booked, queued or skipped, and told; how many."""
    with session_factory() as session:
        settled = standing.book_due(
            Unit(session, config.settings, Actor.system(), now=clock(), observe=on_event)
        )
    return len(settled)


def run_series(
    config: BotConfig,
    stop_event: threading.Event,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] = utcnow,
    interval: float = SERIES_INTERVAL_SECONDS,
) -> None:
    """Run the pass every `interval` seconds until `stop_event` is set; a failing pass is
    logged and the next one tries again."""
    own_sessions = session_factory is None
    session_factory = session_factory or make_session_factory(
        config.database_url, config.dependency_deadline
    )
    log.info("booking standing bookings' dates as they open, checking every %ss", interval)
    try:
        repeat(
            stop_event,
            interval,
            lambda: book_due(config, session_factory, clock),
            "booking standing bookings",
        )
    finally:
        if own_sessions:
            session_factory.kw["bind"].dispose()
