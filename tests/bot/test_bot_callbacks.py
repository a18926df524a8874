"""Callback data: compact, versioned, validated, never over Telegram's 64 bytes."""

from __future__ import annotations

from datetime import date

import pytest

from bot import callbacks as cb
from bot.texts import fit, label, text
from schedule.timegrid import LAST_DAY

LATEST_DAY = LAST_DAY
BIGGEST_ID = 999_999_999_999


@pytest.mark.parametrize(
    "callback",
    [
        cb.Callback(cb.MENU),
        cb.Callback(cb.DAY, day=LATEST_DAY),
        cb.Callback(cb.BOOK, day=date(2026, 11, 26), minute=23 * 60 + 30),
        cb.Callback(cb.CANCEL, booking_id=BIGGEST_ID),
        cb.Callback(cb.ADMIN_CANCEL_ASK, booking_id=BIGGEST_ID),
        cb.Callback(cb.MOVE, booking_id=BIGGEST_ID, day=LATEST_DAY, minute=23 * 60 + 30),
        cb.Callback(cb.REPEAT_PICK, booking_id=BIGGEST_ID, weeks=12),
        cb.Callback(cb.REPEAT, booking_id=BIGGEST_ID, weeks=0),
        cb.Callback(cb.REPEAT, booking_id=42, weeks=12),
        cb.Callback(cb.SERIES_STOP, series_id=BIGGEST_ID),
    ],
)
def test_round_trip(callback):
    data = callback.encode()

    assert cb.decode(data) == callback
    assert len(data.encode()) <= cb.MAX_BYTES


def test_every_action_at_its_longest_fits_in_64_bytes():
    longest = {
        "day": LATEST_DAY,
        "minute": 1439,
        "booking_id": BIGGEST_ID,
        "series_id": BIGGEST_ID,
        "weeks": 99,
        "kind": 999_999_999,
        "trainer": 999_999_999,
    }
    for action, names in cb.FIELDS.items():
        data = cb.encode(action, **{name: longest[name] for name in names})
        assert len(data.encode()) <= 64, data


def test_the_format_is_compact():
    assert cb.encode(cb.BOOK, day=date(2026, 11, 26), minute=600) == "1|K|20261126|1000"
    assert cb.encode(cb.CANCEL, booking_id=42) == "1|X|42"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "2|X|42",  # another version
        "1|Q|42",  # unknown action
        "1|X",  # a field missing
        "1|X|42|1",  # a field too many
        "1|X|0",
        "1|X|042",
        "1|X|-4",
        "1|X|1234567890123",  # longer than any id we make
        "1|D|20261301",  # no 13th month
        "1|A|00010101",  # days the studio's calendar cannot hold
        "1|A|99991231",
        "1|D|2026-11-26",
        "1|T|20261126|2400",
        "1|T|20261126|1060",
        "1|AX|42|0",  # the trainer's reason is typed now: no button picks one
        "1|VK|42|20261126",  # a move without its start
        "1|X|４２",  # non-ASCII digits
        "1|M|" + "x" * 70,
        "1|RW|42",  # weeks missing
        "1|RW|42|100",  # more weeks than two digits
        "1|RW|42|-4",
        "1|SX|0",  # no series 0
        "1|SX|1234567890123",
        "1|SS|7|1",
    ],
)
def test_anything_else_is_refused(data):
    with pytest.raises(cb.BadCallback):
        cb.decode(data)


def test_encoding_refuses_what_would_not_fit():
    with pytest.raises(ValueError):
        cb.encode(cb.CANCEL, booking_id=10**70)


def test_texts_escape_user_values_for_html_but_labels_do_not():
    assert text("en", "bot_booked", when="<b>&") == "You're booked: <b>&lt;b&gt;&amp;</b>."
    assert label("en", "btn_cancel_booking", when="<&>") == "✖ Cancel <&>"


def test_long_messages_are_cut_at_a_line_end_within_telegrams_limit():
    lines = [f"  • Visitor number {n:04d} @someone +79990000000" for n in range(200)]

    message = fit(lines)

    assert len(message) <= 4096
    assert message.endswith("\n…")
    assert message.splitlines()[-2] in lines
    assert fit(lines[:3]) == "\n".join(lines[:3])
