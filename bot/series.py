"""Standing bookings in the bot: their messages (written to the outbox, worded at send time)
and the worker's pass that books each date as it enters the horizon.

schedule.series settles the occurrences and hands `OccurrenceSettled` / `SeriesStopped` to the
notifier inside their transactions; `write` turns each into one outbox row of plain facts for
the client, so a booked, queued or skipped date and a trainer's stop are never told twice nor
lost. `render` words them in the client's language when the dispatcher sends them.

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

from schedule import outbox
from schedule import series as standing
from schedule.db import make_session_factory
from schedule.errors import message_for
from schedule.i18n import WEEKLY
from schedule.models import utcnow
from schedule.timegrid import training_end

from . import keyboards
from .config import BotConfig
from .loops import repeat
from .texts import day_label, short_when, text, when

log = logging.getLogger("bot")

SERIES_INTERVAL_SECONDS = 60.0
BOOKED, WAITING, SKIPPED, STOPPED = (
    "series_booked",
    "series_waiting",
    "series_skipped",
    "series_stopped",
)
KINDS = (BOOKED, WAITING, SKIPPED, STOPPED)
OUTCOME_KIND = {
    standing.BOOKED: BOOKED,
    standing.WAITING_OUTCOME: WAITING,
    standing.SKIPPED: SKIPPED,
}


def label(lang: str, weekday: int, start: str) -> str:
    """'Tuesdays at 18:00' / 'по вторникам в 18:00'."""
    return text(lang, "series_label", weekdays=text(lang, WEEKLY[weekday]), start=start)


def write(session: Session, event: object, config: BotConfig) -> None:
    """One outbox row for the client about `event`, in the event's own transaction."""
    if isinstance(event, standing.OccurrenceSettled):
        series, occurrence = event.series, event.occurrence
        facts = {
            "series_id": series.id,
            "weekday": series.weekday,
            "start": series.start,
            "date": occurrence.occurs_on.isoformat(),
            "starts_at": occurrence.starts_at,
            "reason": occurrence.reason,
            "booking_id": occurrence.booking_id,
        }
        kind = OUTCOME_KIND[occurrence.outcome]
        now = occurrence.created_at
    elif isinstance(event, standing.SeriesStopped):
        series = event.series
        facts = {
            "series_id": series.id,
            "weekday": series.weekday,
            "start": series.start,
            "reason": series.stop_reason,
            "cancelled": [starts.isoformat() for starts in event.cancelled],
        }
        kind = STOPPED
        now = series.stopped_at or utcnow()
    else:
        raise TypeError(f"not a series event: {event!r}")
    outbox.enqueue(
        session,
        series.user.telegram_id,
        kind,
        facts,
        now=now,
        booking_id=facts.get("booking_id"),
    )


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
    on_event: Callable | None = None,
) -> int:
    """One pass: every date due now booked, queued or skipped, and told; how many."""
    from .notify import Notifier

    with session_factory() as session:
        settled = standing.book_due(
            session, config.settings, clock(), on_event=on_event or Notifier(config)
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
    session_factory = session_factory or make_session_factory(config.database_url)
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
