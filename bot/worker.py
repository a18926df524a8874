"""The bot's background duties, in whichever process runs them.

- the outbox dispatcher (bot.dispatcher): every message a change caused;
- the reminder loop (bot.reminders): reminders due now, written to the outbox;
- the standing bookings' pass (bot.series): each date of a series booked as it opens;
- the pass duties (bot.passes): "your pass expires soon" notices, end-of-day attendance;
- with SCHEDULE_CHANNEL_ID, the week's free places posted to that channel on Sundays
  (bot.broadcasts);
- in webhook deployments, the inbox: updates the web processes recorded (bot.models), handled
  here in order per chat, each once, by a small pool of threads, so that one chat waiting
  out Telegram's flood control delays only itself. An update holds a short lease renewed by
  a heartbeat while it is handled: a worker that dies mid-update frees the chat within
  seconds, and the update is handled once more (not a third time: an update whose handling
  killed two workers is recorded as failed).

`python bot_main.py` runs the first two beside long polling; `flask --app webapp worker` runs
all three beside waitress. Any number of either may run: every duty claims its work in the
database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from schedule import outbox
from schedule.models import utcnow

from . import models
from .broadcasts import run_week_post
from .config import BotConfig
from .dispatcher import Dispatcher
from .factory import BookingBot
from .passes import run_pass_duties
from .pool import ChatPool
from .reminders import REMINDER_INTERVAL_SECONDS, run_reminders
from .series import SERIES_INTERVAL_SECONDS, run_series

log = logging.getLogger("bot")

INBOX_THREADS = 4
INBOX_RETRY = timedelta(seconds=5)


class Inbox:
    """Handles the recorded webhook updates: each chat's in order, several chats at once."""

    def __init__(
        self,
        bot: BookingBot,
        session_factory: sessionmaker[Session],
        *,
        threads: int = INBOX_THREADS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.clock = clock
        self.pool = ChatPool(
            threads,
            "inbox",
            renew=self.renew,
            renew_every=bot.context.config.lease_seconds / 3,
        )

    def run(self, stop: threading.Event, poll_interval: float = 0.2) -> None:
        log.info("handling webhook updates with %s threads", self.pool.threads)
        self.pool.run(stop, self.pass_once, poll_interval)

    def pass_once(self) -> int:
        room = self.pool.room()
        if room <= 0:
            return 0
        with self.session_factory() as session:
            rows = models.claim_updates(
                session, room, self.clock(), self.pool.busy_chats, self.bot.context.config.lease
            )
        for row in rows:
            self.pool.submit(row.chat_id, lambda row=row: self.handle(row), row.claimed_by)
        return len(rows)

    def renew(self, claims: set[str]) -> None:
        """The heartbeat: the updates being handled keep their leases."""
        with self.session_factory() as session:
            models.renew_update_leases(session, claims, self.clock(), self.bot.context.config.lease)

    def drain(self, timeout: float = 10.0) -> bool:
        """Handle everything recorded (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pass_once() and self.pool.idle:
                with self.session_factory() as session:
                    if not models.inbox_stats(session)[0]:
                        return True
            self.pool.wait(0.05)
        return False

    def handle(self, row: models.WebhookUpdate) -> None:
        if outbox.interrupted_twice(row):
            log.error("update %s killed two workers' handling; not handled again", row.update_id)
            with self.session_factory() as session:
                models.fail_update(session, row, self.clock(), row.last_error or "")
            return
        if outbox.was_interrupted(row):
            log.warning("update %s: its worker died while handling it; again", row.update_id)
            with self.session_factory() as session:
                models.release_update(session, row.update_id)
        try:
            self.bot.handle_update(json.loads(row.payload))
        except Exception as error:  # the database could not record the update as taken
            log.exception("update %s not handled; trying again", row.update_id)
            with self.session_factory() as session:
                models.retry_update(session, row, self.clock() + INBOX_RETRY, repr(error))
            return
        with self.session_factory() as session:
            models.finish_update(session, row, self.clock())


def start_background(
    config: BotConfig,
    session_factory: sessionmaker[Session],
    stop: threading.Event,
    *,
    clock: Callable[[], datetime] = utcnow,
    bot: BookingBot | None = None,
    reminder_interval: float | None = REMINDER_INTERVAL_SECONDS,
    dispatcher_options: dict | None = None,
) -> list[threading.Thread]:
    """Start the dispatcher; unless `reminder_interval` is None the periodic duties (reminders
    when REMINDER_MINUTES lists any, standing bookings, pass notices and attendance); and,
    given the webhook `bot`, the inbox. Each is a thread that ends when `stop` is set."""
    threads: list[threading.Thread] = []

    def add(name: str, target: Callable[..., None], *args: object, **kwargs: object) -> None:
        threads.append(threading.Thread(target=target, args=args, kwargs=kwargs, name=name))

    dispatcher = Dispatcher(config, session_factory, clock=clock, **(dispatcher_options or {}))
    add("outbox", dispatcher.run, stop)
    if reminder_interval:
        loops = {"session_factory": session_factory, "clock": clock}
        if config.settings.reminder_minutes:
            add("reminders", run_reminders, config, stop, interval=reminder_interval, **loops)
        else:
            log.info("reminders are off (REMINDER_MINUTES is empty)")
        interval = min(reminder_interval, SERIES_INTERVAL_SECONDS)
        add("series", run_series, config, stop, interval=interval, **loops)
        # Pass notices and the end-of-day attendance.
        add("passes", run_pass_duties, config, session_factory, stop, clock=clock)
        if config.schedule_channel_id is not None:  # the week's free places, Sundays
            add("week post", run_week_post, config, session_factory, stop, clock=clock)
    if bot is not None:
        add("inbox", Inbox(bot, session_factory).run, stop)
    for thread in threads:
        thread.start()
    return threads
