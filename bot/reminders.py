"""Reminders before each training, written to the outbox and sent by the dispatcher.

`ReminderSender.queue_due` claims the reminders due now (schedule.reminders keys each claim in
the database, so any number of processes may run the loop) and, in the claiming transaction,
writes each reminder's notice (schedule.notices, ReminderDue) to the outbox: from then on
bot.dispatcher delivers it exactly once, however slow Telegram is, and nothing about it lives
in memory. The words are chosen when it is sent:
in the client's language, the training's time in the studio's zone, a cancel button while the
client may still cancel (schedule's rule; the button leads to /my's cancel flow, which checks
again) and the open-app button. A reminder whose booking was cancelled or moved before it went
out is dropped; one not sent before the training starts expires.

The loop runs in `python bot_main.py` beside long polling, or in `flask --app webapp worker`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from schedule import Booking, notices, reminders, services
from schedule.db import make_session_factory
from schedule.events import ReminderDue
from schedule.models import ACTIVE, utcnow
from schedule.notices import REMINDER
from schedule.reminders import DueReminder

from . import keyboards
from .config import BotConfig
from .loops import repeat
from .texts import short_when, text, when

# The "bot" logger: its records have the token filtered out (bot.telegram.LOGGERS).
log = logging.getLogger("bot")

REMINDER_INTERVAL_SECONDS = 30.0
__all__ = ["REMINDER", "ReminderSender", "render_reminder", "reminder_view", "run_reminders"]


def worker_id() -> str:
    """Who claims reminders: `<hostname>-<pid>` (in the claims, for whoever investigates)."""
    return f"{socket.gethostname()}-{os.getpid()}"[-64:]


class ReminderSender:
    """Claims the reminders due now and writes them to the outbox: one pass of the loop."""

    def __init__(
        self,
        config: BotConfig,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        worker: str | None = None,
    ) -> None:
        self.config = config
        self.session_factory = session_factory
        self.clock = clock
        self.worker = worker or worker_id()

    def queue_due(self) -> int:
        """Write every reminder due now to the outbox; how many."""
        now = self.clock()
        with self.session_factory() as session:
            due = reminders.claim_due(
                session, self.config.settings, self.worker, now, on_due=self._enqueue
            )
        return len(due)

    def _enqueue(self, session: Session, due: DueReminder) -> None:
        event = ReminderDue(due, self.clock())
        notices.write(session, notices.notices_of(event, self.config.settings))


def render_reminder(session: Session, facts: dict, lang: str, config: BotConfig, now: datetime):
    """The reminder's words and buttons as of `now`; None when its booking was cancelled or
    moved since (the moved one gets a reminder of its own)."""
    booking = session.get(Booking, facts.get("booking_id"))
    session.rollback()
    if (
        booking is None
        or booking.status != ACTIVE
        or booking.starts_at.isoformat() != facts.get("starts_at")
    ):
        return None
    return reminder_view(
        DueReminder(0, booking, int(facts.get("offset_minutes", 0))), lang, config, now
    )


def reminder_view(due: DueReminder, lang: str, config: BotConfig, now: datetime):
    """The reminder's text and buttons; the cancel button only while the client may cancel."""
    settings = config.settings
    booking = due.booking
    may_cancel = services.client_may_change(booking, settings, now)
    lines = [text(lang, "reminder", when=when(booking.starts_at, booking.ends_at, settings, lang))]
    if may_cancel:
        deadline = services.change_deadline(booking, settings)
        lines.append(text(lang, "cancel_until", deadline=short_when(deadline, settings, lang)))
    markup = keyboards.booking_actions(
        lang, booking.id, booking.starts_at, settings, config.web_app_url, may_cancel=may_cancel
    )
    return "\n".join(lines), markup


def run_reminders(
    config: BotConfig,
    stop_event: threading.Event,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] = utcnow,
    interval: float = REMINDER_INTERVAL_SECONDS,
    worker: str | None = None,
) -> None:
    """Queue due reminders every `interval` seconds until `stop_event` is set. A failing pass
    (the database out of reach) is logged and the next one tries again."""
    own_sessions = session_factory is None
    session_factory = session_factory or make_session_factory(
        config.database_url, config.dependency_deadline
    )
    sender = ReminderSender(config, session_factory, clock=clock, worker=worker)
    log.info(
        "sending reminders %s minutes before each training, checking every %ss as %s",
        ",".join(map(str, config.settings.reminder_minutes)),
        interval,
        sender.worker,
    )
    try:
        repeat(stop_event, interval, sender.queue_due, "sending reminders")
    finally:
        if own_sessions:
            session_factory.kw["bind"].dispose()
