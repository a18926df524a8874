"""What a client reads of the trainer's broadcast (schedule/broadcasts.py): the trainer's own
text, escaped (it is plain text, never markup: the bot's parse mode is HTML, so a "<" in it
must not start a tag), under a line saying whom it is from and over how to stop them, when
those fit in one Telegram message with it.

With SCHEDULE_CHANNEL_ID set, the worker also posts the coming week's free places to that
channel each Sunday evening (schedule.broadcasts.post_week decides when, and that it is once);
the post is worded here, in the trainers' language."""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schedule import User, broadcasts
from schedule.broadcasts import BROADCAST, MAX_TEXT, WEEK_POST, Broadcast, telegram_length
from schedule.i18n import N_
from schedule.models import utcnow

from .config import BotConfig
from .loops import repeat
from .texts import day_label, fit, label, language, text

log = logging.getLogger("bot")

__all__ = ["BROADCAST", "WEEK_POST", "render_broadcast", "render_week_post", "run_week_post"]
TAG = re.compile(r"<[^>]+>")
SEPARATOR = "\n\n"


def render_broadcast(session: Session, facts: dict, lang: str):
    """(text, None); None when the broadcast is gone (nothing to send)."""
    broadcast = session.get(Broadcast, facts.get("broadcast"))
    if broadcast is None:
        return None
    body = html.escape(broadcast.text, quote=False)
    header = text(lang, N_("bot_broadcast_header"))
    footer = text(lang, N_("bot_broadcast_footer"))
    for parts in ((header, body, footer), (header, body)):
        message = SEPARATOR.join(parts)
        if _length(message) <= MAX_TEXT:
            return message, None
    return body, None


def _length(message: str) -> int:
    """As Telegram counts a parse_mode HTML text: without its tags, entities read."""
    return telegram_length(html.unescape(TAG.sub("", message)))


# --- the week's free places in the studio's channel (SCHEDULE_CHANNEL_ID) ----------------------

WEEK_POST_INTERVAL_SECONDS = 60.0


def channel_language(session: Session, config: BotConfig) -> str:
    """A channel has no language of its own: the trainers' (the first who has one), else the
    default."""
    codes = session.scalars(
        select(User.language_code)
        .where(User.telegram_id.in_(config.admin_ids), User.language_code.is_not(None))
        .order_by(User.id)
    ).all()
    return language(codes[0] if codes else None)


def render_week_post(session: Session, facts: dict, config: BotConfig):
    """(text, None): each day of the week with the starts anyone may still book."""
    lang = channel_language(session, config)
    days = [(date.fromisoformat(day), starts) for day, starts in facts["week"]]
    lines = [
        text(
            lang,
            N_("bot_week_post_title"),
            first=day_label(days[0][0], lang),
            last=day_label(days[-1][0], lang),
        ),
        "",
    ]
    for day, starts in days:
        free = ", ".join(f"{start} ({places})" for start, places in starts)
        lines.append(
            text(
                lang,
                N_("bot_week_post_day"),
                day=day_label(day, lang),
                starts=free or label(lang, N_("bot_week_post_none")),
            )
        )
    lines += ["", text(lang, N_("bot_week_post_hint"))]
    return fit(lines), None


def week_post_once(
    config: BotConfig, session_factory: sessionmaker[Session], now: datetime
) -> bool:
    """Post the coming week to the channel if it is due and not posted yet (any number of
    workers: once)."""
    if config.schedule_channel_id is None:
        return False
    with session_factory() as session:
        posted = broadcasts.post_week(session, config.settings, config.schedule_channel_id, now)
    return posted is not None


def run_week_post(
    config: BotConfig,
    session_factory: sessionmaker[Session],
    stop_event: threading.Event,
    *,
    clock: Callable[[], datetime] = utcnow,
    interval: float = WEEK_POST_INTERVAL_SECONDS,
) -> None:
    log.info("the week's free places go to channel %s on Sundays", config.schedule_channel_id)

    def step() -> None:
        if week_post_once(config, session_factory, clock()):
            log.info("the week's free places posted to channel %s", config.schedule_channel_id)

    repeat(stop_event, interval, step, "week post")
