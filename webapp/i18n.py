"""The Mini App's wording in the user's language: the shared catalogs (`schedule.i18n`) read
through the language chosen for this request (`g.lang`, from the user's Telegram
language_code, else the browser's Accept-Language)."""

from __future__ import annotations

from datetime import date

from flask import g

from schedule import i18n
from schedule.i18n import has, language

__all__ = [
    "current_language",
    "day_label",
    "duration",
    "has",
    "language",
    "t",
    "tn",
    "weekday",
    "weekdays",
]


def current_language() -> str:
    return g.get("lang", i18n.DEFAULT)


def t(key: str, **values: object) -> str:
    """The message `key` in the request's language (templates escape it as they render)."""
    return i18n.translate(current_language(), key, **values)


def tn(key: str, count: int, **values: object) -> str:
    """The plural message `key` for `count` in the request's language ("2 weeks", "2 недели"),
    `{n}` filled with `count` unless `values` give another."""
    return i18n.translate_plural(current_language(), key, count, **values)


def weekday(day: date) -> str:
    return i18n.weekday(day, current_language())


def weekdays() -> tuple[str, ...]:
    """Monday to Sunday, short, in the request's language."""
    return i18n.weekday_names(current_language())


def day_label(day: date) -> str:
    """'Thu 26 Nov' / 'Чт 26 ноября'."""
    return i18n.day_label(day, current_language())


def duration(minutes: int) -> str:
    if minutes % 60 == 0:
        return tn("hours", minutes // 60)
    return tn("minutes", minutes)
