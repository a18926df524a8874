"""Callback data of /book's kind-and-trainer steps (bot.callbacks' TRAINER_*): the kind and the
trainer (0: any of the kind's) carried, at most 64 bytes, and nothing else decoded."""

from __future__ import annotations

from datetime import date

import pytest

from bot import callbacks as cb
from bot.throttle import WRITES

THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    "callback",
    [
        cb.Callback(cb.TRAINER_DAYS, kind=1, trainer=0),
        cb.Callback(cb.TRAINER_DAY, kind=2, trainer=5, day=THURSDAY),
        cb.Callback(cb.TRAINER_PICK, kind=999_999_999, trainer=999_999_999, day=THURSDAY, minute=0),
        cb.Callback(cb.TRAINER_BOOK, kind=2, trainer=0, day=THURSDAY, minute=23 * 60 + 30),
        cb.Callback(cb.TRAINER_WAIT_ASK, kind=1, trainer=7, day=THURSDAY, minute=600),
        cb.Callback(cb.TRAINER_WAIT, kind=1, trainer=7, day=THURSDAY, minute=600),
    ],
)
def test_round_trip(callback):
    data = callback.encode()
    assert cb.decode(data) == callback
    assert len(data.encode()) <= cb.MAX_BYTES


def test_the_format():
    data = cb.encode(cb.TRAINER_BOOK, kind=2, trainer=5, day=THURSDAY, minute=780)
    assert data == "1|PK|2|5|20261126|1300"
    assert cb.encode(cb.TRAINER_DAYS, kind=2, trainer=0) == "1|PB|2|0"


@pytest.mark.parametrize(
    "data",
    [
        "1|PB|2",  # the trainer missing
        "1|PB|2|-1",
        "1|PB|2|05",  # a leading zero: no id is written so
        "1|PB|2|1234567890",  # longer than any id
        "1|PB|0|5",  # no kind 0
        "1|PB|2|x",
        "1|PK|2|5|20261126",  # no start
        "1|PK|2|5|20261126|1300|1",
        "1|PT|2|5|20261126|2400",
    ],
)
def test_anything_else_is_refused(data):
    with pytest.raises(cb.BadCallback):
        cb.decode(data)


def test_booking_and_joining_count_as_writes():
    assert {cb.TRAINER_BOOK, cb.TRAINER_WAIT} <= WRITES
