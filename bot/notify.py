"""The one notification module: the bot and the Mini App both hand it schedule events.

A `Notifier` is an `on_event` callable for schedule.services. It turns each event into plain
facts at once (in the caller's thread, while its session is open) and leaves the sending to
a background thread, so a web request never waits for Telegram. The trainers (ADMIN_IDS) hear
of every booking, cancellation and move; a client hears when the trainer cancels their
booking (with the reason) and when the waitlist books them (with cancel and open-app
buttons). A user who blocked the bot (403) is marked and not messaged again until they write
to the bot; 429 and network errors are retried by bot.telegram. `flush()` waits until
everything queued has been tried.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from telebot import TeleBot
from telebot.types import InlineKeyboardMarkup

from schedule import Settings, User, services
from schedule.events import BookingCancelled, BookingMade, BookingMoved, Event

from . import keyboards
from .config import BotConfig
from .telegram import configure_api, is_blocked
from .texts import TEXTS, language, short_when, text, when

log = logging.getLogger("bot.notify")


@dataclass(frozen=True)
class Notice:
    """What happened, in plain values that another thread may read."""

    kind: str  # "booked", "cancelled" or "moved"
    starts_at: datetime
    ends_at: datetime
    client_id: int  # Telegram id
    client_name: str
    client_username: str | None
    client_phone: str | None
    client_language: str | None
    source: str = ""
    by_admin: bool = False
    reason: str | None = None
    previous_starts_at: datetime | None = None
    from_waitlist: bool = False
    booking_id: int = 0
    client_may_cancel: bool = False  # when it happened, by schedule's deadline rule


def notice_of(event: Event, settings: Settings) -> Notice:
    booking = event.booking
    user = booking.user
    facts = {
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "client_id": user.telegram_id,
        "client_name": user.name,
        "client_username": user.username,
        "client_phone": user.phone,
        "client_language": user.language_code,
        "source": booking.source,
        "booking_id": booking.id,
        # updated_at is the moment the service made, moved or cancelled the booking.
        "client_may_cancel": services.client_may_change(booking, settings, booking.updated_at),
    }
    if isinstance(event, BookingMade):
        return Notice("booked", from_waitlist=getattr(event, "from_waitlist", False), **facts)
    if isinstance(event, BookingCancelled):
        return Notice("cancelled", by_admin=event.by_admin, reason=booking.cancel_reason, **facts)
    if isinstance(event, BookingMoved):
        return Notice("moved", previous_starts_at=event.previous_starts_at, **facts)
    raise TypeError(f"not a schedule event: {event!r}")


class Notifier:
    def __init__(self, config: BotConfig, session_factory: sessionmaker[Session]) -> None:
        configure_api(config.api_url, config.token)
        self.config = config
        self.session_factory = session_factory
        self.bot = TeleBot(config.token, parse_mode="HTML", threaded=False)
        self._queue: queue.Queue[Notice | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._blocked_without_profile: set[int] = set()

    def __call__(self, event: Event) -> None:
        """Queue the messages about `event`. Never raises: the booking has been committed."""
        try:
            notice = notice_of(event, self.config.settings)
            self._ensure_worker()
            self._queue.put(notice)
        except Exception:
            log.exception("could not queue a notification for %r", event)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued notice has been sent (or given up on); False on timeout."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Send what is queued, then stop the worker."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="notifier", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            notice = self._queue.get()
            try:
                if notice is None:
                    return
                self.deliver(notice)
            except Exception:
                log.exception("notification failed")
            finally:
                self._queue.task_done()

    def deliver(self, notice: Notice) -> None:
        """Send the messages about `notice` now (the worker thread calls this)."""
        recipients = set(self.config.admin_ids)
        # Clients hear of what they did not do themselves: the trainer's cancellations and
        # bookings on their behalf, and a place the waitlist gave them.
        tells_client = (
            (notice.kind == "cancelled" and notice.by_admin)
            or (notice.kind == "booked" and notice.source == "admin")
            or notice.from_waitlist
        )
        if tells_client:
            recipients.add(notice.client_id)
        if not recipients:
            return
        profiles = self._profiles(recipients)
        for admin_id in sorted(self.config.admin_ids):
            self._send_to(admin_id, profiles, lambda lang: admin_message(notice, lang, self.config))
        if tells_client:
            self._send_to(
                notice.client_id,
                profiles,
                lambda lang: client_message(notice, lang, self.config),
                lambda lang: client_buttons(notice, lang, self.config),
            )

    def _profiles(self, telegram_ids: set[int]) -> dict[int, tuple[str | None, bool]]:
        with self.session_factory() as session:
            rows = session.execute(
                select(User.telegram_id, User.language_code, User.blocked_bot).where(
                    User.telegram_id.in_(telegram_ids)
                )
            ).all()
        return {telegram_id: (lang, blocked) for telegram_id, lang, blocked in rows}

    def _send_to(self, telegram_id: int, profiles, compose, buttons=None) -> None:
        language_code, blocked = profiles.get(telegram_id, (None, False))
        if blocked or telegram_id in self._blocked_without_profile:
            log.info("not messaging %s: they blocked the bot", telegram_id)
            return
        lang = language(language_code)
        markup = buttons(lang) if buttons is not None else None
        self.send(telegram_id, compose(lang), reply_markup=markup)

    def send(self, telegram_id: int, message: str, **options: object) -> bool:
        """Send one message; a 403 marks the user as having blocked the bot. True if sent."""
        try:
            self.bot.send_message(telegram_id, message, **options)
        except Exception as error:
            if is_blocked(error):
                self._mark_blocked(telegram_id)
            else:
                log.warning("could not message %s: %s", telegram_id, error)
            return False
        return True

    def _mark_blocked(self, telegram_id: int) -> None:
        log.info("user %s blocked the bot; not messaging them again", telegram_id)
        with self.session_factory() as session:
            marked = session.execute(
                update(User).where(User.telegram_id == telegram_id).values(blocked_bot=True)
            ).rowcount
            session.commit()
        if not marked:
            self._blocked_without_profile.add(telegram_id)


def client_description(notice: Notice) -> str:
    details = [f"@{notice.client_username}"] if notice.client_username else []
    if notice.client_phone:
        details.append(notice.client_phone)
    return notice.client_name + (f" ({', '.join(details)})" if details else "")


def admin_message(notice: Notice, lang: str, config: BotConfig) -> str:
    settings = config.settings
    span = when(notice.starts_at, notice.ends_at, settings, lang)
    who = client_description(notice)
    if notice.kind == "booked":
        source_key = f"source_{notice.source}"
        source = text(lang, source_key) if source_key in TEXTS else notice.source
        return text(lang, "notify_booked", who=who, when=span, source=source)
    if notice.kind == "moved" and notice.previous_starts_at is not None:
        old = short_when(notice.previous_starts_at, settings, lang)
        return text(lang, "notify_moved", who=who, when=span, old=old)
    if notice.by_admin:
        reason = notice.reason or text(lang, "no_reason")
        return text(lang, "notify_cancelled_admin", who=who, when=span, reason=reason)
    return text(lang, "notify_cancelled_client", who=who, when=span)


def client_message(notice: Notice, lang: str, config: BotConfig) -> str:
    span = when(notice.starts_at, notice.ends_at, config.settings, lang)
    if notice.kind == "booked":
        key = "client_promoted" if notice.from_waitlist else "client_booked_by_trainer"
        return text(lang, key, when=span)
    return text(
        lang,
        "client_cancelled_by_trainer",
        when=span,
        reason=notice.reason or text(lang, "no_reason"),
    )


def client_buttons(notice: Notice, lang: str, config: BotConfig) -> InlineKeyboardMarkup | None:
    """Under a booking made for the client: cancel it (the bot's my/cancel flow) while the
    client may, the app."""
    if notice.kind != "booked":
        return None
    return keyboards.booking_actions(
        lang,
        notice.booking_id,
        notice.starts_at,
        config.settings,
        config.web_app_url,
        may_cancel=notice.client_may_cancel,
    )
