"""The project's wording: one gettext catalog per language, shared by the Mini App and the bot.

Messages have symbolic ids ("confirm_book", "bot_booked"): the catalogs under
`schedule/locales/<lang>/LC_MESSAGES/messages.po` hold every language's text, English included,
so a wording change never changes an id and both adapters can share one catalog without the
English text of one screen colliding with another's. Texts are `str.format` templates
(`{name}`); the adapters fill and, for the bot's HTML, escape them.

Dates are formatted by `babel.dates` with one pattern per place taken from the catalog
("format_day"), so the bot and the Mini App write a day alike. Adding a language is adding a
catalog (README, Wording): `language()` offers every language that has a compiled catalog.

It lives in `schedule` because both adapters import `schedule` and neither may import the other.
"""

from __future__ import annotations

from datetime import date, time
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.mofile import read_mo

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES = tuple(
    sorted(path.parent.parent.name for path in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
)


def N_(message_id: str) -> str:  # noqa: N802 (gettext's name for "mark, translate later")
    """Marks a message id that code builds or looks up later, so extraction finds it."""
    return message_id


# The catalog's babel.dates pattern for a training's day ("EEE d MMM": 'Thu 26 Nov').
DAY_FORMAT = N_("format_day")

# "{weekdays} at {start}": every such weekday, Monday first ("Thursdays", "по четвергам").
WEEKLY = (
    N_("weekly_0"),
    N_("weekly_1"),
    N_("weekly_2"),
    N_("weekly_3"),
    N_("weekly_4"),
    N_("weekly_5"),
    N_("weekly_6"),
)


def language(code: str | None) -> str:
    """The catalog for a Telegram language_code or an Accept-Language match ('ru-RU' → 'ru');
    English when there is none for it."""
    base = (code or "").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every message of `lang`'s compiled catalog, by id."""
    with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as compiled:
        return {message.id: message.string for message in read_mo(compiled) if message.id}


def has(message_id: str) -> bool:
    return message_id in catalog(DEFAULT)


def gettext(lang: str, message_id: str) -> str:
    """The text of `message_id` in `lang`; an id no catalog has is a bug, so it raises."""
    texts = catalog(language(lang))
    if message_id not in texts:
        raise KeyError(f"no message {message_id!r} in the {lang!r} catalog")
    return texts[message_id]


def translate(lang: str, message_id: str, **values: object) -> str:
    """The text of `message_id` in `lang`, its `{placeholders}` filled with `values`."""
    text = gettext(lang, message_id)
    return text.format(**values) if values else text


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def day_label(day: date, lang: str) -> str:
    """A training's day: 'Thu 26 Nov' / 'Чт 26 ноября' (the pattern is the catalog's)."""
    lang = language(lang)
    return _capitalized(format_date(day, gettext(lang, DAY_FORMAT), locale=lang))


def weekday(day: date, lang: str) -> str:
    """A weekday's short name: 'Thu' / 'Чт'."""
    lang = language(lang)
    return _capitalized(format_date(day, "EEE", locale=lang))


def weekday_names(lang: str) -> tuple[str, ...]:
    """Monday to Sunday, short: ('Mon', …) / ('Пн', …)."""
    monday = date(2024, 1, 1)
    return tuple(weekday(date.fromordinal(monday.toordinal() + n), lang) for n in range(7))


def time_label(moment: time, lang: str) -> str:
    """A local time on the studio's 24-hour clock: '10:00'."""
    return format_time(moment, "HH:mm", locale=language(lang))
