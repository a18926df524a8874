"""The words of a booking's notices: the trainer's news and the client's message, chosen when
the dispatcher sends them, in the recipient's language.

Who hears of what is decided in the domain (schedule.notices): a change writes its notices to
the outbox in its own transaction, each a message key (NEWS to a trainer, CLIENT to the client
the booking belongs to) and plain facts. `render_notice` turns one into text and buttons; a
CLIENT row whose facts say WAITLIST_ENDED tells the client the studio ended their wait.

"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from telebot.types import InlineKeyboardMarkup

from schedule.i18n import LANGUAGES, N_
from schedule.notices import CLIENT, NEWS, WAITLIST_ENDED

from . import keyboards
from .config import BotConfig
from .texts import has, label, short_when, text, when

__all__ = ["CLIENT", "NEWS", "render_notice"]


# --- the words -------------------------------------------------------------------------------


@dataclass(frozen=True)
class News:
    """A NEWS or CLIENT row's facts (schedule.notices.booking_facts), read back."""

    kind: str  # "booked", "cancelled" or "moved"
    starts_at: datetime
    ends_at: datetime
    client_id: int  # Telegram id
    client_name: str
    client_username: str | None
    client_phone: str | None
    source: str = ""
    by_admin: bool = False
    reason: str | None = None
    previous_starts_at: datetime | None = None
    from_waitlist: bool = False
    booking_id: int = 0
    client_may_cancel: bool = False  # when it happened, by schedule's deadline rule
    happened_at: datetime | None = None


DATETIME_FIELDS = ("starts_at", "ends_at", "previous_starts_at", "happened_at")


def news_from_facts(facts: dict) -> News:
    values = dict(facts)
    for name in DATETIME_FIELDS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    known = {f.name for f in fields(News)}
    return News(**{k: v for k, v in values.items() if k in known})


def render_notice(
    kind: str, facts: dict, lang: str, config: BotConfig
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The words and buttons of a NEWS or CLIENT row, in `lang` (the recipient's)."""
    if kind == CLIENT and facts.get("kind") == WAITLIST_ENDED:
        return waitlist_ended_message(facts, lang, config), None
    news = news_from_facts(facts)
    if kind == NEWS:
        return admin_message(news, lang, config), None
    return client_message(news, lang, config), client_buttons(news, lang, config)


def client_description(news: News) -> str:
    details = [f"@{news.client_username}"] if news.client_username else []
    if news.client_phone:
        details.append(news.client_phone)
    return news.client_name + (f" ({', '.join(details)})" if details else "")


# Where a booking was made, in the trainer's news, looked up as f"source_{source}".
SOURCES = (
    N_("source_bot"),
    N_("source_miniapp"),
    N_("source_admin"),
    N_("source_waitlist"),
    N_("source_series"),
)


# The reasons the bot once offered the trainer to pick from when cancelling: a booking cancelled
# with one stores it in the words of the client's language.
PRESET_REASONS = (N_("cancel_reason_0"), N_("cancel_reason_1"), N_("cancel_reason_2"))


def reason_in(lang: str, reason: str | None) -> str:
    """A cancel's reason for a reader of `lang`: a preset one in the reader's language (never
    the client's, in the trainer's news), a reason the trainer typed as written."""
    if not reason:
        return label(lang, "no_reason")
    for key in PRESET_REASONS:
        if any(reason == label(written, key) for written in LANGUAGES):
            return label(lang, key)
    return reason


def admin_message(news: News, lang: str, config: BotConfig) -> str:
    settings = config.settings
    span = when(news.starts_at, news.ends_at, settings, lang)
    who = client_description(news)
    if news.kind == "booked":
        source_key = f"source_{news.source}"
        source = text(lang, source_key) if has(source_key) else news.source
        return text(lang, "notify_booked", who=who, when=span, source=source)
    if news.kind == "moved" and news.previous_starts_at is not None:
        old = short_when(news.previous_starts_at, settings, lang)
        return text(lang, "notify_moved", who=who, when=span, old=old)
    if news.by_admin:
        reason = reason_in(lang, news.reason)
        return text(lang, "notify_cancelled_admin", who=who, when=span, reason=reason)
    return text(lang, "notify_cancelled_client", who=who, when=span)


def client_message(news: News, lang: str, config: BotConfig) -> str:
    span = when(news.starts_at, news.ends_at, config.settings, lang)
    if news.kind == "booked":
        key = N_("client_promoted") if news.from_waitlist else N_("client_booked_by_trainer")
        return text(lang, key, when=span)
    return text(lang, "client_cancelled_by_trainer", when=span, reason=reason_in(lang, news.reason))


# Why the studio ended a client's wait (schedule.notices.WAITLIST_ENDED's facts["reason"]).
WAITLIST_ENDED_KEYS = {
    "kind_retired": N_("client_waitlist_kind_retired"),
    "trainer_retired": N_("client_waitlist_trainer_retired"),
}


def waitlist_ended_message(facts: dict, lang: str, config: BotConfig) -> str:
    """The client is off a waitlist: the kind or the trainer waited for is no longer offered."""
    starts_at = datetime.fromisoformat(facts["starts_at"])
    ends_at = datetime.fromisoformat(facts["ends_at"])
    span = when(starts_at, ends_at, config.settings, lang)
    key = WAITLIST_ENDED_KEYS.get(facts.get("reason") or "", N_("client_waitlist_kind_retired"))
    return text(lang, key, when=span, name=facts.get("name") or "")


def client_buttons(news: News, lang: str, config: BotConfig) -> InlineKeyboardMarkup | None:
    """Under a booking made for the client: cancel it (the bot's my/cancel flow) while the
    client may, the app."""
    if news.kind != "booked":
        return None
    return keyboards.booking_actions(
        lang,
        news.booking_id,
        news.starts_at,
        config.settings,
        config.web_app_url,
        may_cancel=news.client_may_cancel,
    )
