"""The gettext catalogs (schedule/locales) against the code: every message id the code uses is in
every catalog with a translation, the compiled .mo files are the .po files as they stand, each
translation fills the placeholders the code passes, and the bot and the Mini App write a day
alike. The ids are extracted the way `pybabel extract` does (README, Wording), so an id built at
run time counts only when the code lists it with N_() (Nn_() for a plural one).

A text with a count is a plural entry (msgid and msgid_plural the id, one msgstr per form of the
language): it has every form of its language, each with English's placeholders, and the code
reads it only through the plural functions (tn, ntext, nlabel, translate_plural), a singular
id only through the others."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g

from bot import texts
from schedule import i18n
from schedule.availability import REFUSALS
from schedule.settings import Settings
from webapp import i18n as web_i18n

ROOT = Path(__file__).resolve().parents[2]
# The keywords of the README's `pybabel extract` command: a plural keyword's id is its msgid and
# its msgid_plural both ("tn:1,1").
SINGULAR = {"t": None, "text": (2,), "label": (2,), "translate": (2,), "N_": None}
PLURAL = {
    "tn": (1, 1),
    "ntext": (2, 2),
    "nlabel": (2, 2),
    "translate_plural": (2, 2),
    "Nn_": (1, 1),
}
KEYWORDS = {**SINGULAR, **PLURAL}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
# The Russian plural rule as a grammar writes it (1, 21: неделя; 2-4, 22: недели; 5-20: недель).
RU_FORM = {1: 0, 21: 0, 101: 0, 2: 1, 4: 1, 22: 1, 0: 2, 5: 2, 11: 2, 12: 2, 14: 2, 25: 2, 111: 2}


@cache
def uses() -> tuple[tuple[str, bool, str], ...]:
    """Every use of a message id in the code and the templates: (id, read as a plural, where)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    return tuple(
        (message[0], True, f"{filename}:{lineno}")
        if isinstance(message, tuple)
        else (message, False, f"{filename}:{lineno}")
        for filename, lineno, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    )


def used_ids(plural: bool | None = None) -> dict[str, str]:
    """Every message id the code and the templates use (only those read as plurals, or only the
    others, when `plural` says), with where it was found."""
    found = {}
    for message_id, as_plural, place in uses():
        if plural is None or plural == as_plural:
            found.setdefault(message_id, place)
    return found


def po(lang: str):
    with (i18n.LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=lang)


def translations(lang: str) -> dict[str, str | tuple[str, ...]]:
    """Every entry of `lang`'s .po by id: a text, or a plural entry's texts, one per form."""
    return {
        message.id[0] if message.pluralizable else message.id: (
            tuple(message.string) if message.pluralizable else message.string
        )
        for message in po(lang)
        if message.id
    }


def plural_ids(lang: str) -> set[str]:
    return {message.id[0] for message in po(lang) if message.pluralizable}


def forms(entry: str | tuple[str, ...]) -> tuple[str, ...]:
    """A translation's texts: a plural entry's forms, or the one text."""
    return entry if isinstance(entry, tuple) else (entry,)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_each_language_has_a_compiled_catalog():
    assert set(i18n.LANGUAGES) >= {"en", "ru"}
    assert tuple(sorted(p.name for p in i18n.LOCALES.iterdir() if p.is_dir())) == i18n.LANGUAGES


def test_the_extraction_sees_literal_and_listed_ids():
    found = used_ids(plural=False)
    assert {"confirm_book", "bot_booked", "reason_too_soon", "source_bot", "weekly_3"} <= set(found)
    assert {"error_full", "cancel_reason_0", "command_today", "format_day"} <= set(found)


def test_the_extraction_sees_plural_ids_in_templates_the_bot_and_listed():
    found = used_ids(plural=True)
    assert {"series_weeks_n", "places_left", "delta_visits"} <= set(found)  # tn() in templates
    assert {"btn_weeks", "no_days", "my_pass_line", "too_fast"} <= set(found)  # ntext / nlabel
    assert {"rate_limited", "hours", "export_too_long"} <= set(found)  # tn() in the Mini App
    assert {"error_limit_per_day", "pass_expiring"} <= set(found)  # Nn_()


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_every_id_the_code_uses_is_translated_in_every_catalog(lang):
    catalog = translations(lang)
    missing = {
        message_id: place
        for message_id, place in used_ids().items()
        if not all(text.strip() for text in forms(catalog.get(message_id, "")))
    }
    assert missing == {}


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_each_id_is_read_the_way_its_entry_is_written(lang):
    """A plural entry only through tn / ntext / nlabel / translate_plural / Nn_, a singular one
    only through the others: "2 недели" needs the count, and the count needs a plural entry."""
    plural = plural_ids(lang)
    assert {i: place for i, place in used_ids(plural=False).items() if i in plural} == {}
    assert {i: place for i, place in used_ids(plural=True).items() if i not in plural} == {}


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_a_plural_entry_has_every_form_of_its_language(lang):
    catalog = po(lang)
    expected = {"en": 2, "ru": 3}.get(lang, catalog.num_plurals)
    assert catalog.num_plurals == expected
    entries = [message for message in catalog if message.pluralizable]
    assert entries
    assert [m.id for m in entries if m.id[1] != m.id[0]] == []  # msgid_plural is the id too
    assert [m.id[0] for m in entries if len(m.string) != expected or not all(m.string)] == []


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_no_catalog_keeps_an_id_the_code_does_not_use(lang):
    """`pybabel update --ignore-obsolete` drops them; a leftover means a forgotten N_()."""
    assert sorted(set(translations(lang)) - set(used_ids())) == []


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_every_catalog_translates_every_message(lang):
    catalog = po(lang)
    assert not catalog.fuzzy
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not (all(m.string) if m.pluralizable else m.string) or m.fuzzy)
    ]
    assert untranslated == []
    assert set(translations(lang)) == set(translations(i18n.DEFAULT))
    assert plural_ids(lang) == plural_ids(i18n.DEFAULT)


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_translations_fill_the_placeholders_english_has(lang):
    """Every form of a plural entry too: "{n} неделю" and "{n} недель" both fill {n}."""
    english = translations(i18n.DEFAULT)
    differ = {}
    for message_id, text in translations(lang).items():
        english_forms = forms(english[message_id])
        expected = placeholders(english_forms[-1])
        if any(placeholders(form) != expected for form in (*forms(text), *english_forms)):
            differ[message_id] = text
    assert differ == {}


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_the_compiled_catalog_is_the_po_as_it_stands(lang):
    """Run `pybabel compile -d schedule/locales` (README, Wording) after editing a .po."""
    compiled = io.BytesIO()
    write_mo(compiled, po(lang))
    mo = i18n.LOCALES / lang / "LC_MESSAGES" / "messages.mo"
    assert mo.read_bytes() == compiled.getvalue()


def test_every_refusal_has_its_words_in_the_grid():
    assert {f"reason_{code}" for code in REFUSALS} <= set(translations(i18n.DEFAULT))


def test_an_unknown_id_is_an_error_not_a_silent_key():
    with pytest.raises(KeyError):
        i18n.translate("ru", "no_such_message")
    with pytest.raises(KeyError):
        i18n.translate_plural("ru", "no_such_message", 2)


def test_a_plural_id_read_as_singular_or_the_reverse_is_an_error():
    with pytest.raises(KeyError, match="plural"):
        i18n.translate("en", "places_left", n=2)
    with pytest.raises(KeyError, match="singular"):
        i18n.translate_plural("en", "confirm_book", 2)
    assert not i18n.has("places_left")  # has() answers for the singular ids code builds


def test_the_russian_catalog_counts_as_russian_grammar_does():
    rule = i18n.plural_rule("ru")
    assert {n: rule(n) for n in RU_FORM} == RU_FORM
    # plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)
    textbook = [
        0
        if n % 10 == 1 and n % 100 != 11
        else 1
        if 2 <= n % 10 <= 4 and not 10 <= n % 100 < 20
        else 2
        for n in range(1000)
    ]
    assert [rule(n) for n in range(1000)] == textbook
    assert [i18n.plural_rule("en")(n) for n in (0, 1, 2, 21)] == [1, 0, 1, 1]


@pytest.mark.parametrize(
    ("message_id", "values", "expected"),
    [
        (
            "places_left",
            {},
            {
                1: "осталось 1 место",
                2: "осталось 2 места",
                5: "осталось 5 мест",
                11: "осталось 11 мест",
                21: "осталось 21 место",
                22: "осталось 22 места",
                25: "осталось 25 мест",
            },
        ),
        (
            "series_weeks_n",
            {},
            {
                1: "1 неделю",
                2: "2 недели",
                5: "5 недель",
                11: "11 недель",
                21: "21 неделю",
                22: "22 недели",
                25: "25 недель",
            },
        ),
        (
            "pass_expiring",
            {"until": "Пт 27 ноября"},
            {
                1: "Ваш абонемент заканчивается Пт 27 ноября, осталось 1 занятие.",
                2: "Ваш абонемент заканчивается Пт 27 ноября, осталось 2 занятия.",
                5: "Ваш абонемент заканчивается Пт 27 ноября, осталось 5 занятий.",
                11: "Ваш абонемент заканчивается Пт 27 ноября, осталось 11 занятий.",
                21: "Ваш абонемент заканчивается Пт 27 ноября, осталось 21 занятие.",
                22: "Ваш абонемент заканчивается Пт 27 ноября, осталось 22 занятия.",
                25: "Ваш абонемент заканчивается Пт 27 ноября, осталось 25 занятий.",
            },
        ),
    ],
)
def test_russian_counts_take_their_form(message_id, values, expected):
    assert {n: i18n.translate_plural("ru", message_id, n, **values) for n in expected} == expected


def test_english_counts_take_their_form():
    assert [i18n.translate_plural("en", "places_left", n) for n in (1, 2)] == [
        "1 place left",
        "2 places left",
    ]
    assert [i18n.translate_plural("en", "error_limit_per_day", n) for n in (1, 4)] == [
        "Limit reached: at most 1 booking on one day.",
        "Limit reached: at most 4 bookings on one day.",
    ]
    assert [i18n.translate_plural("en", "no_days", n, days=n) for n in (1, 15)] == [
        "No free trainings in the next 1 day.",
        "No free trainings in the next 15 days.",
    ]


def test_a_signed_count_takes_the_form_of_its_size():
    """The trainer's pass history: "+1 visit", "-2 visits"; "-1 занятие", "+5 занятий"."""
    assert i18n.translate_plural("en", "delta_visits", 1, n="+1") == "+1 visit"
    assert i18n.translate_plural("en", "delta_visits", -2, n="-2") == "-2 visits"
    assert i18n.translate_plural("ru", "delta_visits", -1, n="-1") == "-1 занятие"
    assert i18n.translate_plural("ru", "delta_days", 3, n="+3") == "+3 дня"
    assert i18n.translate_plural("ru", "delta_days", 30, n="+30") == "+30 дней"


def test_language_picks_a_catalog_else_english():
    assert i18n.language("ru-RU") == "ru"
    assert i18n.language("RU") == "ru"
    assert i18n.language("en-GB") == "en"
    assert i18n.language("de") == "en"
    assert i18n.language(None) == "en"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Thu 26 Nov 10:00–11:30"), ("ru", "Чт 26 ноября 10:00–11:30")],
)
def test_the_bot_and_the_mini_app_write_a_day_alike(lang, expected):
    settings = Settings()
    starts = datetime.fromisoformat("2026-11-26T07:00:00+00:00")  # 10:00 in Moscow
    ends = datetime.fromisoformat("2026-11-26T08:30:00+00:00")
    assert texts.when(starts, ends, settings, lang) == expected
    with Flask(__name__).test_request_context():
        g.lang = lang
        assert web_i18n.day_label(date(2026, 11, 26)) == expected.rsplit(" ", 1)[0]
        assert web_i18n.weekdays()[3] == expected.split(" ")[0]
