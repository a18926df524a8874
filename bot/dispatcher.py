"""The outbox dispatcher: sends the messages schedule.outbox holds, and records each outcome.

Any number of dispatchers may run (in `python bot_main.py` and in `flask --app webapp worker`):
each leases rows from the database, so a message goes out once. One chat's messages go in
order, one at a time, about one a second (`chat_interval`), and a chat that fails or hangs
holds up only itself: sends run in a small pool of threads, each on a different chat, and the
oldest due chat goes first. All chats together are kept under `per_second` (Telegram allows
a bot about 30 messages a second) by one token bucket in the database that every dispatcher
takes from as it claims (schedule.outbox.Pace), so several dispatchers never add up to more.

What Telegram answers decides what happens to the row:
- 200: sent, never again.
- 429: the chat waits `retry_after` seconds (all of its messages), then tries again.
- 5xx, a timeout, a refused or dropped connection: tried again after a growing pause
  (2, 4, 8 … seconds, at most MAX_BACKOFF), for as long as the message matters (expires_at).
- 400 (a message Telegram refuses) and 403 (the user blocked the bot): failed, with why; a 403
  also marks the user, who gets no more messages until they write to the bot again.

Sends talk HTTP to `<TELEGRAM_API_URL>/bot<token>/sendMessage` themselves (not through
telebot's retrying sender), so that no thread ever sleeps on a backoff: waiting is a row's
`available_at`, kept in the database.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schedule import User, outbox
from schedule.models import utcnow
from schedule.outbox import OutboxMessage

from .config import BotConfig
from .models import mark_blocked
from .notify import CLIENT, NEWS, render_notice
from .passes import PASS_EXPIRING, PASS_LOW, render_pass_notice
from .pool import ChatPool
from .reminders import REMINDER, render_reminder
from .series import KINDS as SERIES_KINDS
from .series import render as render_series
from .telegram import configure_api
from .texts import language

log = logging.getLogger("bot.dispatcher")

MAX_BACKOFF = timedelta(seconds=60)
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
EXPIRE_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Outcome:
    """What became of one send."""

    status: str  # outbox.SENT, outbox.FAILED, outbox.DROPPED or "retry"
    detail: str = ""
    retry_after: float | None = None  # seconds Telegram asked for (429)


class Dispatcher:
    def __init__(
        self,
        config: BotConfig,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        threads: int = 8,
        per_second: float = 30.0,
        chat_interval: float = 1.0,
        lease: timedelta = outbox.DEFAULT_LEASE,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.config = config
        self.session_factory = session_factory
        self.clock = clock
        self.pace = outbox.Pace(per_second)
        self.chat_interval = timedelta(seconds=chat_interval)
        self.lease = lease
        self.timeout = (CONNECT_TIMEOUT, read_timeout)
        configure_api(config.api_url, config.token)  # also keeps the token out of the logs
        self.url = f"{config.api_url.rstrip('/')}/bot{config.token}/sendMessage"
        self._local = threading.local()
        self.pool = ChatPool(threads, "outbox")
        self._next_expiry = datetime.min

    # --- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event, poll_interval: float = 0.5) -> None:
        """Send until `stop` is set; a failing pass (the database away) is logged and retried."""
        log.info("dispatching the outbox with %s threads", self.pool.threads)
        self.pool.run(stop, self.pass_once, poll_interval)
        log.info("outbox dispatcher stopped")

    def pass_once(self) -> int:
        """Start sending what is due now, as far as free threads and the rate allow."""
        now = self.clock()
        if now >= self._next_expiry:
            with self.session_factory() as session:
                expired = outbox.expire_overdue(session, now)
            if expired:
                log.warning("%s outbox message(s) expired undelivered", expired)
            self._next_expiry = now + EXPIRE_EVERY
        room = self.pool.room()
        if room <= 0:
            return 0
        with self.session_factory() as session:
            claimed = outbox.claim(
                session,
                room,
                now,
                lease=self.lease,
                exclude_chats=self.pool.busy_chats,
                pace=self.pace,
            )
        for message in claimed:
            self.pool.submit(message.chat_id, lambda message=message: self.deliver(message))
        return len(claimed)

    def flush(self, timeout: float = 10.0) -> bool:
        """Run until nothing is pending, retries included (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.pass_once()
            if not started and self.pool.idle and not self._anything_pending():
                return True
            self.pool.wait(0.05)
        return False

    def close(self) -> None:
        self.pool.close()

    def _anything_pending(self) -> bool:
        with self.session_factory() as session:
            return (
                session.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.status == outbox.PENDING).limit(1)
                )
                is not None
            )

    # --- one message ---------------------------------------------------------------------

    def deliver(self, message: OutboxMessage) -> Outcome:
        """Render, send and record one claimed message (runs in a pool thread)."""
        with self.session_factory() as session:
            outcome = self._send(session, message)
            self._record(session, message, outcome)
        return outcome

    def _send(self, session: Session, message: OutboxMessage) -> Outcome:
        user = session.scalar(select(User).where(User.telegram_id == message.chat_id))
        blocked = user.blocked_bot if user is not None else self._refused_before(session, message)
        session.rollback()
        if blocked:
            return Outcome(outbox.DROPPED, "the user blocked the bot")
        lang = language(user.language_code if user is not None else None)
        try:
            rendered = self._render(session, message, lang)
        except Exception as error:  # a row this version cannot read: never retried
            log.exception("outbox message %s cannot be rendered", message.id)
            return Outcome(outbox.FAILED, f"cannot render: {type(error).__name__}: {error}")
        if rendered is None:
            return Outcome(outbox.DROPPED, "no longer relevant")
        text, markup = rendered
        body: dict[str, object] = {
            "chat_id": str(message.chat_id),
            "text": text,
            "parse_mode": "HTML",
        }
        if markup is not None:
            body["reply_markup"] = markup.to_dict()
        return self._post(body)

    @staticmethod
    def _refused_before(session: Session, message: OutboxMessage) -> bool:
        """A chat with no profile here (a trainer who never opened the bot) that answered 403
        before: its block is remembered by that row, until they write to the bot."""
        return (
            session.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.chat_id == message.chat_id,
                    OutboxMessage.status == outbox.FAILED,
                    OutboxMessage.last_error.startswith("403"),
                )
                .limit(1)
            )
            is not None
        )

    def _render(self, session: Session, message: OutboxMessage, lang: str):
        if message.kind in (NEWS, CLIENT):
            return render_notice(message.kind, message.facts, lang, self.config)
        if message.kind == REMINDER:
            return render_reminder(session, message.facts, lang, self.config, self.clock())
        if message.kind in SERIES_KINDS:
            return render_series(message.kind, message.facts, lang, self.config, self.clock())
        if message.kind in (PASS_LOW, PASS_EXPIRING):
            return render_pass_notice(message.kind, message.facts, lang, self.config)
        raise ValueError(f"unknown outbox kind {message.kind!r}")

    def _post(self, body: dict) -> Outcome:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
        try:
            response = http.post(self.url, json=body, timeout=self.timeout)
        except requests.Timeout:
            return Outcome("retry", "timed out")
        except requests.RequestException as error:  # refused, reset, DNS: never the URL
            return Outcome("retry", f"network error: {type(error).__name__}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        description = str(answer.get("description") or response.reason or "")[:300]
        if response.status_code == 200 and answer.get("ok", True):
            return Outcome(outbox.SENT)
        if response.status_code == 429:
            seconds = (answer.get("parameters") or {}).get("retry_after")
            wait_for = float(seconds) if isinstance(seconds, int | float) else 1.0
            return Outcome("retry", f"429 {description}", retry_after=wait_for)
        if response.status_code in (400, 403):
            return Outcome(outbox.FAILED, f"{response.status_code} {description}")
        return Outcome("retry", f"{response.status_code} {description}")

    def _record(self, session: Session, message: OutboxMessage, outcome: Outcome) -> None:
        now = self.clock()
        if outcome.status == outbox.SENT:
            outbox.mark_sent(session, message, now, chat_interval=self.chat_interval)
        elif outcome.status == "retry":
            if outcome.retry_after is not None:
                at = now + timedelta(seconds=outcome.retry_after)
            else:
                at = now + backoff(message.attempts)
            log.warning(
                "message %s to chat %s not sent (%s); next try at %s",
                message.id,
                message.chat_id,
                outcome.detail,
                at.isoformat(timespec="seconds"),
            )
            outbox.retry_later(
                session, message, at, outcome.detail, whole_chat=outcome.retry_after is not None
            )
        else:
            if outcome.detail.startswith("403"):
                log.info("user %s blocked the bot; not messaging them again", message.chat_id)
                mark_blocked(session, message.chat_id)
            log.info(
                "message %s to chat %s %s: %s",
                message.id,
                message.chat_id,
                outcome.status,
                outcome.detail,
            )
            outbox.give_up(session, message, outcome.status, outcome.detail)


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds after the 1st, 2nd, 3rd … failure, at most MAX_BACKOFF, ±20 %."""
    seconds = min(2.0 ** max(attempts, 1), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))
