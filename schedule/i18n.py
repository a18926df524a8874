"""The project's wording: one gettext catalog per language, shared by the Mini App and the bot.

Messages have symbolic ids ("confirm_book", "bot_booked"): the catalogs under
`schedule/locales/<lang>/LC_MESSAGES/messages.po` hold every language's text, English included,
so a wording change never changes an id and both adapters can share one catalog without the
English text of one screen colliding with another's. Texts are `str.format` templates
(`{name}`); the adapters fill and, for the bot's HTML, escape them.

A text with a count in it ("1 week", "5 weeks"; "1 неделю", "2 недели", "5 недель") is a plural
entry: `msgid` and `msgid_plural` both the id, one `msgstr[i]` per form of the language (its
catalog's Plural-Forms), read with `translate_plural(lang, id, count)` and marked with `Nn_`
where code looks it up later. A plural id read as a singular one, or the reverse, raises.

Dates are formatted by `babel.dates` with one pattern per place taken from the catalog
("format_day"), so the bot and the Mini App write a day alike. Adding a language is adding a
catalog (README, Wording): `language()` offers every language that has a compiled catalog.

It lives in `schedule` because both adapters import `schedule` and neither may import the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from functools import cache
from gettext import c2py
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
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


def Nn_(message_id: str) -> str:  # noqa: N802 (N_ for a plural entry)
    """Marks a plural message id (one text per count form) that code looks up later."""
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
def compiled(lang: str) -> Catalog:
    """`lang`'s compiled catalog (messages.mo), its Plural-Forms included."""
    with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as source:
        return read_mo(source)


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every singular message of `lang`'s compiled catalog, by id."""
    return {
        message.id: message.string
        for message in compiled(lang)
        if message.id and not message.pluralizable
    }


@cache
def plural_catalog(lang: str) -> dict[str, tuple[str, ...]]:
    """Every plural message of `lang`'s compiled catalog, by id: one text per form."""
    return {
        message.id[0]: tuple(message.string) for message in compiled(lang) if message.pluralizable
    }


@cache
def plural_rule(lang: str) -> Callable[[int], int]:
    """The form (msgstr index) of a count in `lang`, from its catalog's Plural-Forms."""
    return c2py(compiled(lang).plural_expr)


def has(message_id: str) -> bool:
    """Whether `message_id` is a singular message (an id code builds may be missing)."""
    return message_id in catalog(DEFAULT)


def gettext(lang: str, message_id: str) -> str:
    """The text of `message_id` in `lang`; an id no catalog has is a bug, so it raises."""
    texts = catalog(language(lang))
    if message_id not in texts:
        plural = message_id in plural_catalog(language(lang))
        hint = " (a plural message: translate_plural)" if plural else ""
        raise KeyError(f"no message {message_id!r} in the {lang!r} catalog{hint}")
    return texts[message_id]


def ngettext(lang: str, message_id: str, count: int) -> str:
    """The text of the plural `message_id` in `lang` for `count` (its sign aside: "-2 visits"
    reads like "2 visits"); an id that is not a plural entry raises."""
    lang = language(lang)
    forms = plural_catalog(lang)
    if message_id not in forms:
        singular = message_id in catalog(lang)
        hint = " (a singular message: translate)" if singular else ""
        raise KeyError(f"no plural message {message_id!r} in the {lang!r} catalog{hint}")
    return forms[message_id][plural_rule(lang)(abs(count))]


def translate(lang: str, message_id: str, **values: object) -> str:
    """The text of `message_id` in `lang`, its `{placeholders}` filled with `values`."""
    text = gettext(lang, message_id)
    return text.format(**values) if values else text


def translate_plural(lang: str, message_id: str, count: int, **values: object) -> str:
    """The form of the plural `message_id` for `count` in `lang` ("2 weeks", "5 недель"), its
    `{n}` filled with `count` unless `values` give another `n` (a signed "+2"), the rest with
    `values`."""
    return ngettext(lang, message_id, count).format(**{"n": count, **values})


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
