"""Reminders before each training, sent to the client by the bot.

`run_reminders` loops every REMINDER_INTERVAL_SECONDS: it claims the reminders due now
(schedule.reminders keys each claim in the database, so any number of processes may run the
loop and each reminder goes out once), sends each to its client in their language with the
training's time in the studio's zone, a cancel button while the client may still cancel
(schedule's rule; the button leads to /my's cancel flow, which checks again) and the open-app
button, then marks it sent. It runs beside long polling (bot.runner.run_polling) or on its own
as `flask --app webapp bot reminders` where the bot takes updates by webhook.

A client who blocked the bot is not messaged; their reminder is marked sent all the same, so
that nobody tries it again. A reminder that fails otherwise (Telegram out of reach) stays
claimed and unsent: after schedule.reminders.STALE_CLAIM a worker takes it over and tries
again, until the training starts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from telebot import TeleBot

from schedule import User, reminders, services
from schedule.db import make_session_factory
from schedule.models import utcnow
from schedule.reminders import DueReminder

from . import keyboards
from .config import BotConfig
from .telegram import configure_api, is_blocked
from .texts import language, short_when, text, when

# The "bot" logger: its records have the token filtered out (bot.telegram.LOGGERS).
log = logging.getLogger("bot")

REMINDER_INTERVAL_SECONDS = 30.0


def worker_id() -> str:
    """Who claims reminders: `<hostname>-<pid>` (in the claims, for whoever investigates)."""
    return f"{socket.gethostname()}-{os.getpid()}"[-64:]


class ReminderSender:
    """Claims the reminders due now, sends them and marks them sent: one pass of the loop."""

    def __init__(
        self,
        config: BotConfig,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        worker: str | None = None,
    ) -> None:
        configure_api(config.api_url, config.token)
        self.config = config
        self.session_factory = session_factory
        self.clock = clock
        self.worker = worker or worker_id()
        self.bot = TeleBot(config.token, parse_mode="HTML", threaded=False)

    def send_due(self) -> int:
        """Send every reminder due now; how many were sent."""
        now = self.clock()
        sent = 0
        with self.session_factory() as session:
            for due in reminders.claim_due(session, self.config.settings, self.worker, now):
                outcome = self._deliver(session, due, now)
                if outcome != "failed":
                    reminders.mark_sent(session, due.claim_id, now)
                sent += outcome == "sent"
        return sent

    def _deliver(self, session: Session, due: DueReminder, now: datetime) -> str:
        """'sent', 'skipped' (the client blocked the bot) or 'failed' (to be tried again)."""
        user = due.booking.user
        if user.blocked_bot:
            log.info("reminder of booking %s skipped: the client blocked the bot", due.booking.id)
            return "skipped"
        lang = language(user.language_code)
        message, markup = reminder_view(due, lang, self.config, now)
        try:
            self.bot.send_message(user.telegram_id, message, reply_markup=markup)
        except Exception as error:
            if is_blocked(error):
                log.info("user %s blocked the bot; reminder skipped", user.telegram_id)
                session.execute(update(User).where(User.id == user.id).values(blocked_bot=True))
                return "skipped"
            log.warning("reminder of booking %s not sent, retried later: %s", due.booking.id, error)
            return "failed"
        return "sent"


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
    """Send due reminders every `interval` seconds until `stop_event` is set. A failing pass
    (the database out of reach) is logged and the next one tries again."""
    own_sessions = session_factory is None
    session_factory = session_factory or make_session_factory(config.database_url)
    sender = ReminderSender(config, session_factory, clock=clock, worker=worker)
    log.info(
        "sending reminders %s minutes before each training, checking every %ss as %s",
        ",".join(map(str, config.settings.reminder_minutes)),
        interval,
        sender.worker,
    )
    try:
        while not stop_event.is_set():
            try:
                sender.send_due()
            except Exception:
                log.exception("sending reminders failed; trying again in %ss", interval)
            stop_event.wait(interval)
    finally:
        if own_sessions:
            session_factory.kw["bind"].dispose()
        log.info("reminders stopped")


def start_reminders(
    config: BotConfig, stop_event: threading.Event, **options: object
) -> threading.Thread | None:
    """`run_reminders` in a thread of its own (None when REMINDER_MINUTES turns them off)."""
    if not config.settings.reminder_minutes:
        log.info("reminders are off (REMINDER_MINUTES is empty)")
        return None
    thread = threading.Thread(
        target=run_reminders, args=(config, stop_event), kwargs=options, name="reminders"
    )
    thread.start()
    return thread
