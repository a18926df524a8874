"""What the bot says, in the user's language: the shared catalogs (`schedule.i18n`), which the
Mini App reads too, so both write a training's day alike.

Texts are HTML (the bot's parse mode). Placeholders are filled by `text()` (`ntext()` for a
text with a count: "4 weeks"), which escapes every value: names, usernames, phones and reasons
come from users.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from schedule import Settings, consequences, i18n
from schedule.consequences import Consequence
from schedule.i18n import N_, has, language
from schedule.timegrid import to_local

__all__ = [
    "day_label",
    "fit",
    "has",
    "label",
    "consequence_lines",
    "language",
    "nlabel",
    "ntext",
    "text",
    "when",
    "short_when",
]

MAX_MESSAGE = 4096

# The reasons the bot once offered the trainer to pick from (the reason is typed now, as in the
# Mini App): cancels stored in those words are still read in each reader's language
# (bot/notify.py).
REASONS = (N_("cancel_reason_0"), N_("cancel_reason_1"), N_("cancel_reason_2"))

# The bot's menu commands, for everyone and for the trainer: (command, its description's id).
COMMANDS = (("start", N_("command_start")), ("book", N_("command_book")), ("my", N_("command_my")))
ADMIN_COMMANDS = (("today", N_("command_today")),)


def text(lang: str, key: str, **values: object) -> str:
    """The text `key` in `lang` with every value HTML-escaped."""
    return i18n.translate(
        lang, key, **{name: html.escape(str(value), quote=False) for name, value in values.items()}
    )


def ntext(lang: str, key: str, count: int, **values: object) -> str:
    """The plural text `key` for `count` in `lang` ("4 weeks", "4 недели"), `{n}` filled with
    `count` unless `values` give another, every value HTML-escaped."""
    return i18n.translate_plural(
        lang,
        key,
        count,
        **{name: html.escape(str(value), quote=False) for name, value in values.items()},
    )


def fit(lines: list[str]) -> str:
    """Lines joined into one message, cut at a line end where Telegram's limit would refuse it."""
    message = "\n".join(lines)
    if len(message) <= MAX_MESSAGE:
        return message
    return message[: message.rfind("\n", 0, MAX_MESSAGE - 2)] + "\n…"


def label(lang: str, key: str, **values: object) -> str:
    """A plain-text string (button labels, toasts and alerts are not parsed as HTML)."""
    return i18n.translate(lang, key, **values)


def nlabel(lang: str, key: str, count: int, **values: object) -> str:
    """A plain-text plural string for `count` (a button's "4 weeks")."""
    return i18n.translate_plural(lang, key, count, **values)


def day_label(day: date, lang: str) -> str:
    """'Thu 26 Nov' / 'Чт 26 ноября'."""
    return i18n.day_label(day, lang)


def when(starts_at: datetime, ends_at: datetime, settings: Settings, lang: str) -> str:
    """A training's local day and times: 'Thu 26 Nov 10:00–11:30'."""
    start, end = to_local(starts_at, settings), to_local(ends_at, settings)
    start_time, end_time = i18n.time_label(start.time(), lang), i18n.time_label(end.time(), lang)
    return f"{day_label(start.date(), lang)} {start_time}–{end_time}"


def short_when(starts_at: datetime, settings: Settings, lang: str) -> str:
    start = to_local(starts_at, settings)
    return f"{day_label(start.date(), lang)} {i18n.time_label(start.time(), lang)}"


def consequence_lines(
    lines: list[Consequence], act: str, settings: Settings, lang: str
) -> list[str]:
    """Each consequence as a line of its own ('• …'), in the order schedule gives them."""
    return ["• " + consequences.describe(line, act, settings, lang) for line in lines]
