"""The outbox dispatcher: sends the messages schedule.outbox holds, and records each outcome.

Any number of dispatchers may run (in `python bot_main.py` and in `flask --app webapp worker`):
each leases rows from the database, so a message goes out once. One chat's messages go in
order, one at a time, about one a second (`chat_interval`), and a chat that fails or hangs
holds up only itself: sends run in a small pool of threads, each on a different chat, and the
oldest due chat goes first. All chats together are kept under `per_second` (Telegram allows
a bot about 30 messages a second) by one token bucket in the database that every dispatcher
takes from as it claims (schedule.outbox.Pace), so several dispatchers never add up to more.

Messages waiting for one chat leave as one (a digest): having claimed a chat, a dispatcher
takes the chat's next due rows too (as many as fit one Telegram message, MAX_DIGEST_CHARS) and
sends their texts together, each as it would read alone. A message with buttons (a cancel
button under a booking, a reminder's) goes alone: its buttons act on that one booking, and the
bot edits that message when they are tapped. So a trainer's busy morning of 320 bookings is a
dozen messages, not five minutes of one a second.

What Telegram answers decides what happens to the rows of a send:
- 200: sent, never again.
- 429: the chat waits `retry_after` seconds (all of its messages), then tries again.
- 5xx, a refused or dropped connection, a connect timeout: tried again after a growing pause
  (2, 4, 8 … seconds, at most MAX_BACKOFF), for as long as the message matters (expires_at).
- no answer within READ_TIMEOUT once the request went out: Telegram may well have delivered
  it (a slow answer is not a lost message), so it is not sent again; it is recorded as sent,
  with `last_error` "unconfirmed: …" saying why (schedule.outbox.UNCONFIRMED).
- 400 (a message Telegram refuses) and 403 (the user blocked the bot): failed, with why; a 403
  also marks the user, who gets no more messages until they write to the bot again. A digest
  refused with 400 is sent again as its messages one by one, so only the bad one fails.

A send holds a short lease on its rows, renewed by a heartbeat while it runs (bot.pool), so a
slow answer is waited for as long as it takes, and a dispatcher that dies (SIGKILL, power)
frees its rows within DEFAULT_LEASE: only the messages it was sending then may be sent twice.

Sends talk HTTP to `<TELEGRAM_API_URL>/bot<token>/sendMessage` themselves (not through
telebot's retrying sender), so that no thread ever sleeps on a backoff: waiting is a row's
`available_at`, kept in the database.
"""

from __future__ import annotations

import html
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schedule import User, broadcasts, outbox
from schedule.models import utcnow
from schedule.notices import PAYMENT_KEYS
from schedule.outbox import OutboxMessage

from .broadcasts import BROADCAST, WEEK_POST, render_broadcast, render_week_post
from .config import BotConfig
from .models import mark_blocked
from .notify import CLIENT, NEWS, render_notice
from .passes import PASS_EXPIRING, PASS_LOW, render_pass_notice
from .payments import render_payment_notice
from .pool import ChatPool
from .reminders import REMINDER, render_reminder
from .series import KINDS as SERIES_KINDS
from .series import render as render_series
from .telegram import configure_api
from .texts import language

log = logging.getLogger("bot.dispatcher")
TAG = re.compile(r"<[^>]+>")

FIRST_RETRY = timedelta(seconds=2)
MAX_BACKOFF = timedelta(seconds=60)
CONNECT_TIMEOUT = 5.0
# Telegram can take tens of seconds to answer a send it has delivered: wait a minute. The send
# holds only its own thread and chat meanwhile.
READ_TIMEOUT = 60.0
EXPIRE_EVERY = timedelta(seconds=30)
# A digest stays under Telegram's 4096 characters a message (counted as Telegram does, in
# UTF-16 code units of the text without its HTML tags), and under this many rows.
MAX_DIGEST_CHARS = 4000
MAX_DIGEST_ROWS = 50
DIGEST_SEPARATOR = "\n\n"
# last_error of a digest's rows Telegram refused (400): each is sent alone next.
SEND_ALONE = "refused in a digest, sent alone next: "
UNCONFIRMED = "unconfirmed"  # Outcome.status of a send whose answer timed out


@dataclass(frozen=True)
class Outcome:
    """What became of one send."""

    status: str  # outbox.SENT, outbox.FAILED, outbox.DROPPED, "retry" or UNCONFIRMED
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
        lease: timedelta | None = None,
        read_timeout: float = READ_TIMEOUT,
        first_retry: timedelta = FIRST_RETRY,
        digest_rows: int = MAX_DIGEST_ROWS,
    ) -> None:
        self.config = config
        self.session_factory = session_factory
        self.clock = clock
        self.pace = outbox.Pace(per_second)
        self.chat_interval = timedelta(seconds=chat_interval)
        self.lease = lease = lease or config.lease
        self.timeout = (CONNECT_TIMEOUT, read_timeout)
        self.digest_rows = digest_rows
        self.first_retry = first_retry
        configure_api(config.api_url, config.token)  # also keeps the token out of the logs
        self.url = f"{config.api_url.rstrip('/')}/bot{config.token}/sendMessage"
        self._local = threading.local()
        self.pool = ChatPool(
            threads, "outbox", renew=self.renew, renew_every=lease.total_seconds() / 3
        )
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
            self.pool.submit(
                message.chat_id, lambda message=message: self.deliver(message), message.claimed_by
            )
        return len(claimed)

    def renew(self, claims: set[str]) -> None:
        """The heartbeat: the rows being sent keep their leases."""
        with self.session_factory() as session:
            outbox.renew_leases(session, OutboxMessage, claims, self.clock() + self.lease)

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
        """Render, send and record one claimed message, with the chat's next due messages
        that join it in a digest (runs in a pool thread)."""
        with self.session_factory() as session:
            user = session.scalar(select(User).where(User.telegram_id == message.chat_id))
            blocked = (
                user.blocked_bot
                if user is not None
                # a channel is no user: a refusal once (the bot not yet its admin) is no block
                else message.kind != WEEK_POST and self._refused_before(session, message)
            )
            session.rollback()
            if blocked:
                outcome = Outcome(outbox.DROPPED, "the user blocked the bot")
                self._record(session, [message], outcome)
                return outcome
            if message.kind == BROADCAST and (user is None or user.broadcasts_stopped_at):
                # The client sent /stop after this row was queued: checked again at send time.
                outcome = Outcome(outbox.DROPPED, broadcasts.STOPPED)
                self._record(session, [message], outcome)
                return outcome
            lang = language(user.language_code if user is not None else None)
            rendered = self._render_one(session, message, lang)
            if isinstance(rendered, Outcome):
                self._record(session, [message], rendered)
                return rendered
            text, markup = rendered
            rows, texts = [message], [text]
            if markup is None and not self._alone(message):
                rows, texts = self._digest(session, message, text, lang)
            body: dict[str, object] = {
                "chat_id": str(message.chat_id),
                "text": DIGEST_SEPARATOR.join(texts),
                "parse_mode": "HTML",
            }
            if markup is not None:
                body["reply_markup"] = markup.to_dict()
            outcome = self._post(body)
            if outcome.status == outbox.FAILED and len(rows) > 1 and outcome.detail[:3] == "400":
                outcome = Outcome("retry", SEND_ALONE + outcome.detail, retry_after=0)
            self._record(session, rows, outcome)
        return outcome

    @staticmethod
    def _alone(message: OutboxMessage) -> bool:
        """A message that goes in a message of its own: one refused in a digest, and the
        trainer's broadcast (their own words, read as such, not among the bot's notices)."""
        return message.kind == BROADCAST or (message.last_error or "").startswith(SEND_ALONE)

    def _render_one(self, session: Session, message: OutboxMessage, lang: str):
        """(text, markup), or the Outcome of a message that is not to be sent."""
        try:
            rendered = self._render(session, message, lang)
        except Exception as error:  # a row this version cannot read: never retried
            log.exception("outbox message %s cannot be rendered", message.id)
            return Outcome(outbox.FAILED, f"cannot render: {type(error).__name__}: {error}")
        if rendered is None:
            return Outcome(outbox.DROPPED, "no longer relevant")
        return rendered

    def _digest(
        self, session: Session, head: OutboxMessage, text: str, lang: str
    ) -> tuple[list[OutboxMessage], list[str]]:
        """`head` and the chat's next due messages without buttons that fit one message with
        it, leased to head's claim; messages no longer relevant among them are dropped."""
        if self.digest_rows <= 1:
            return [head], [text]
        now = self.clock()
        texts = {head.id: text}
        length = telegram_length(text)
        taken: list[OutboxMessage] = []
        dropped: dict[int, Outcome] = {}
        for row in outbox.following_due(session, head, now, self.digest_rows - 1):
            if self._alone(row):
                break
            rendered = self._render_one(session, row, lang)
            if isinstance(rendered, Outcome):
                if rendered.status == outbox.FAILED:
                    break  # it fails alone, in its turn
                dropped[row.id] = rendered
                taken.append(row)
                continue
            row_text, markup = rendered
            more = telegram_length(DIGEST_SEPARATOR + row_text)
            if markup is not None or length + more > MAX_DIGEST_CHARS:
                break
            texts[row.id], length = row_text, length + more
            taken.append(row)
        joined = outbox.join(session, head, taken, now)
        for row in [r for r in joined if r.id in dropped]:
            self._record(session, [row], dropped[row.id])
        rows = [head] + [r for r in joined if r.id not in dropped]
        return rows, [texts[row.id] for row in rows]

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
        if message.kind in PAYMENT_KEYS:
            return render_payment_notice(message.kind, message.facts, lang, self.config)
        if message.kind == BROADCAST:
            return render_broadcast(session, message.facts, lang)
        if message.kind == WEEK_POST:
            return render_week_post(session, message.facts, self.config)
        raise ValueError(f"unknown outbox kind {message.kind!r}")

    def _post(self, body: dict) -> Outcome:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
        try:
            response = http.post(self.url, json=body, timeout=self.timeout)
        except requests.ConnectTimeout:  # the request never went out
            return Outcome("retry", "connect timed out")
        except requests.ReadTimeout:  # it went out: Telegram may have delivered it
            return Outcome(UNCONFIRMED, f"no answer within {self.timeout[1]:g} s")
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

    def _record(self, session: Session, rows: list[OutboxMessage], outcome: Outcome) -> None:
        now = self.clock()
        head = rows[0]
        if outcome.status in (outbox.SENT, UNCONFIRMED):
            if outcome.status == UNCONFIRMED:
                log.warning(
                    "message %s to chat %s: %s; Telegram may have delivered it, not sent again",
                    ",".join(str(row.id) for row in rows),
                    head.chat_id,
                    outcome.detail,
                )
            outbox.mark_sent(
                session,
                rows,
                now,
                chat_interval=self.chat_interval,
                unconfirmed=outcome.detail if outcome.status == UNCONFIRMED else None,
            )
        elif outcome.status == "retry":
            if outcome.retry_after is not None:
                at = now + timedelta(seconds=outcome.retry_after)
            else:
                at = now + backoff(head.attempts, self.first_retry)
            log.warning(
                "message %s to chat %s not sent (%s); next try at %s",
                ",".join(str(row.id) for row in rows),
                head.chat_id,
                outcome.detail,
                at.isoformat(timespec="seconds"),
            )
            outbox.retry_later(
                session, rows, at, outcome.detail, whole_chat=outcome.retry_after is not None
            )
        else:
            if outcome.detail.startswith("403"):
                log.info("user %s blocked the bot; not messaging them again", head.chat_id)
                mark_blocked(session, head.chat_id)
            log.info(
                "message %s to chat %s %s: %s",
                ",".join(str(row.id) for row in rows),
                head.chat_id,
                outcome.status,
                outcome.detail,
            )
            outbox.give_up(session, rows, outcome.status, outcome.detail)


def telegram_length(html_text: str) -> int:
    """How long Telegram counts a parse_mode HTML text: its characters without the tags, with
    entities read, in UTF-16 code units (an emoji outside the BMP counts two)."""
    plain = html.unescape(TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """2, 4, 8 … seconds (`first`, doubled each time) after the 1st, 2nd, 3rd … failure, at most
    MAX_BACKOFF, ±20 %."""
    seconds = first.total_seconds() * 2.0 ** (max(attempts, 1) - 1)
    return timedelta(seconds=min(seconds, MAX_BACKOFF.total_seconds()) * random.uniform(0.8, 1.2))
