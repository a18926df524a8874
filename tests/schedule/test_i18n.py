"""The gettext catalogs (schedule/locales) against the code: every message id the code uses is in
every catalog with a translation, the compiled .mo files are the .po files as they stand, each
translation fills the placeholders the code passes, and the bot and the Mini App write a day
alike. The ids are extracted the way `pybabel extract` does (README, Wording), so an id built at
run time counts only when the code lists it with N_()."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
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
# The keywords of the README's `pybabel extract` command.
KEYWORDS = {"t": None, "text": (2,), "label": (2,), "translate": (2,), "N_": None}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def used_ids() -> dict[str, str]:
    """Every message id the code and the templates use, with where it was found."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for filename, lineno, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def po(lang: str):
    with (i18n.LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=lang)


def translations(lang: str) -> dict[str, str]:
    return {message.id: message.string for message in po(lang) if message.id}


def test_each_language_has_a_compiled_catalog():
    assert set(i18n.LANGUAGES) >= {"en", "ru"}
    assert tuple(sorted(p.name for p in i18n.LOCALES.iterdir() if p.is_dir())) == i18n.LANGUAGES


def test_the_extraction_sees_literal_and_listed_ids():
    found = used_ids()
    assert {"confirm_book", "bot_booked", "reason_too_soon", "source_bot", "weekly_3"} <= set(found)
    assert {"error_full", "cancel_reason_0", "command_today", "format_day"} <= set(found)


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_every_id_the_code_uses_is_translated_in_every_catalog(lang):
    catalog = translations(lang)
    missing = {
        message_id: place
        for message_id, place in used_ids().items()
        if not catalog.get(message_id, "").strip()
    }
    assert missing == {}


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_no_catalog_keeps_an_id_the_code_does_not_use(lang):
    """`pybabel update --ignore-obsolete` drops them; a leftover means a forgotten N_()."""
    assert sorted(set(translations(lang)) - set(used_ids())) == []


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_every_catalog_translates_every_message(lang):
    catalog = po(lang)
    assert not catalog.fuzzy
    assert [m.id for m in catalog if m.id and (not m.string or m.fuzzy)] == []
    assert set(translations(lang)) == set(translations(i18n.DEFAULT))


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_translations_fill_the_placeholders_english_has(lang):
    english = translations(i18n.DEFAULT)
    differ = {
        message_id: text
        for message_id, text in translations(lang).items()
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english[message_id]))
    }
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
