"""What a client reads of the trainer's broadcast (schedule/broadcasts.py): the trainer's own
text, escaped (it is plain text, never markup: the bot's parse mode is HTML, so a "<" in it
must not start a tag), under a line saying whom it is from and over how to stop them, when
those fit in one Telegram message with it."""

from __future__ import annotations

import html
import re

from sqlalchemy.orm import Session

from schedule.broadcasts import BROADCAST, MAX_TEXT, Broadcast, telegram_length
from schedule.i18n import N_

from .texts import text

__all__ = ["BROADCAST", "render_broadcast"]
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
