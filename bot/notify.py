"""Who hears of what, written to the outbox in the transaction of the change.

A `Notifier` is the `on_event` handler of schedule.services: the services call it inside their
transaction, and it adds one outbox row (schedule.outbox) per recipient on the same session,
so the messages commit with the booking, or not at all. The trainers (ADMIN_IDS) hear of every
booking, cancellation and move; a client hears when the trainer cancels their booking (with
the reason), books one for them, and when the waitlist books them (with cancel and open-app
buttons). bot.dispatcher sends the rows; the words are chosen then, in the recipient's
language, by `render`.

The trainer is not flooded: news of what a client did is held for TRAINER_NEWS_DELAY_SECONDS
[60]; a booking cancelled within that time makes no trainer news at all (the held "booked" row
is dropped and no "cancelled" news is written). Each chat's messages keep their order, so a
trainer's other news may wait behind a held one, for at most that long.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, object_session
from telebot.types import InlineKeyboardMarkup

from schedule import Settings, outbox, passes, services
from schedule import series as standing
from schedule.events import BookingCancelled, BookingMade, BookingMoved, Event
from schedule.i18n import N_
from schedule.models import Pass

from . import keyboards
from . import passes as pass_notices
from . import series as series_notices
from .config import BotConfig
from .texts import has, short_when, text, when


@dataclass(frozen=True)
class Notice:
    """What happened, in plain values: the JSON payload of its outbox rows, read back when the
    dispatcher words the message (possibly in another process, hours later)."""

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
    happened_at: datetime | None = None


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
        "happened_at": booking.updated_at,
    }
    if isinstance(event, BookingMade):
        return Notice("booked", from_waitlist=getattr(event, "from_waitlist", False), **facts)
    if isinstance(event, BookingCancelled):
        return Notice("cancelled", by_admin=event.by_admin, reason=booking.cancel_reason, **facts)
    if isinstance(event, BookingMoved):
        return Notice("moved", previous_starts_at=event.previous_starts_at, **facts)
    raise TypeError(f"not a schedule event: {event!r}")


class Notifier:
    def __init__(self, config: BotConfig) -> None:
        self.config = config

    def __call__(self, event: Event) -> None:
        """Write the messages about `event` to the outbox, in the event's own transaction."""
        if isinstance(event, (standing.OccurrenceSettled, standing.SeriesStopped)):
            series_notices.write(object_session(event.series), event, self.config)
            return
        session = object_session(event.booking)
        if session is None:  # an adapter handed a detached booking: a programming error
            raise RuntimeError(f"{event!r} is not part of a transaction")
        notice = notice_of(event, self.config.settings)
        now = event.booking.updated_at
        expires_at = max(notice.ends_at, now + outbox.DEFAULT_LIFETIME)
        client_did_it = not notice.by_admin and notice.source != "admin"
        hold = self.config.trainer_news_delay if client_did_it and not notice.from_waitlist else 0
        trainers = () if self._folds_away(session, notice) else sorted(self.config.admin_ids)
        for admin_id in trainers:
            outbox.enqueue(
                session,
                admin_id,
                NEWS,
                asdict(notice),
                now=now,
                booking_id=notice.booking_id,
                delay=timedelta(seconds=hold),
                expires_at=expires_at,
            )
        if tells_client(notice):
            outbox.enqueue(
                session,
                notice.client_id,
                CLIENT,
                asdict(notice),
                now=now,
                booking_id=notice.booking_id,
                expires_at=expires_at,
            )
        if isinstance(event, BookingMade):
            self._one_visit_left(session, event.booking, now)

    @staticmethod
    def _one_visit_left(session: Session, booking, now: datetime) -> None:
        """The booking took the second-to-last visit of its pass: the client hears of it."""
        if booking.pass_id is not None and passes.remaining_after(session, booking.pass_id) == 1:
            sold = session.get(Pass, booking.pass_id)
            if sold is not None:
                pass_notices.enqueue_low(session, sold, now)

    def _folds_away(self, session: Session, notice: Notice) -> bool:
        """A cancel of a booking whose news is still held: neither is news for the trainers
        (the client is still told of a trainer's cancel)."""
        if notice.kind != "cancelled":
            return False
        held = [
            message
            for message in outbox.pending_for_booking(session, notice.booking_id, NEWS)
            if message.facts.get("kind") == "booked" and message.available_at > notice.happened_at
        ]
        for message in held:  # every trainer's row of that news is held alike
            message.status, message.last_error = outbox.DROPPED, "cancelled at once: no news"
        return bool(held)


def tells_client(notice: Notice) -> bool:
    """Clients hear of what they did not do themselves: the trainer's cancellations and
    bookings on their behalf, and a place the waitlist gave them."""
    return (
        (notice.kind == "cancelled" and notice.by_admin)
        or (notice.kind == "booked" and notice.source == "admin")
        or notice.from_waitlist
    )


NEWS = "news"  # to a trainer
CLIENT = "client"  # to the client the booking belongs to
DATETIME_FIELDS = ("starts_at", "ends_at", "previous_starts_at", "happened_at")


def notice_from_facts(facts: dict) -> Notice:
    values = dict(facts)
    for name in DATETIME_FIELDS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    known = {f.name for f in fields(Notice)}
    return Notice(**{k: v for k, v in values.items() if k in known})


def render_notice(
    kind: str, facts: dict, lang: str, config: BotConfig
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The words and buttons of a NEWS or CLIENT row, in `lang`."""
    notice = notice_from_facts(facts)
    if kind == NEWS:
        return admin_message(notice, lang, config), None
    return client_message(notice, lang, config), client_buttons(notice, lang, config)


def client_description(notice: Notice) -> str:
    details = [f"@{notice.client_username}"] if notice.client_username else []
    if notice.client_phone:
        details.append(notice.client_phone)
    return notice.client_name + (f" ({', '.join(details)})" if details else "")


# Where a booking was made, in the trainer's news, looked up as f"source_{source}".
SOURCES = (
    N_("source_bot"),
    N_("source_miniapp"),
    N_("source_admin"),
    N_("source_waitlist"),
    N_("source_series"),
)


def admin_message(notice: Notice, lang: str, config: BotConfig) -> str:
    settings = config.settings
    span = when(notice.starts_at, notice.ends_at, settings, lang)
    who = client_description(notice)
    if notice.kind == "booked":
        source_key = f"source_{notice.source}"
        source = text(lang, source_key) if has(source_key) else notice.source
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
        key = N_("client_promoted") if notice.from_waitlist else N_("client_booked_by_trainer")
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
