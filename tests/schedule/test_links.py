"""The start parameter of links that open one training (schedule/links.py): read, written,
and every way one opens nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedule import Settings
from schedule.links import (
    MAX_PARAM,
    OFF_GRID,
    PAST,
    TOO_FAR,
    UNREADABLE,
    StartLink,
    Unusable,
    app_link,
    read_start_param,
    start_param,
)

RULES = Settings()  # Moscow, a 30-minute grid, 7 days ahead
NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 25 Nov, 09:00 in Moscow


def test_a_start_reads_as_its_day_and_minute_in_the_studio_zone():
    link = read_start_param("d20261126t1800", RULES, NOW)

    assert link == StartLink(date(2026, 11, 26), 18 * 60, datetime(2026, 11, 26, 15, 0))
    assert (link.kind, link.trainer) == (None, None)


def test_kind_and_trainer_are_carried_when_given():
    assert read_start_param("d20261126t1800k2", RULES, NOW).kind == 2
    link = read_start_param("d20261126t1800k12r345", RULES, NOW)
    assert (link.kind, link.trainer) == (12, 345)
    assert read_start_param("d20261126t1800r7", RULES, NOW).trainer == 7


def test_written_and_read_back_is_the_same_start():
    assert start_param(date(2026, 12, 1), 8 * 60 + 30) == "d20261201t0830"
    assert start_param(date(2026, 12, 1), 600, kind=3, trainer=9) == "d20261201t1000k3r9"
    link = read_start_param("d20261201t1000k3r9", RULES, NOW)
    assert link.param == "d20261201t1000k3r9"


@given(
    day=st.dates(date(2026, 11, 26), date(2026, 12, 2)),
    cell=st.integers(0, 47),
    kind=st.none() | st.integers(1, 999_999_999),
    trainer=st.none() | st.integers(1, 999_999_999),
)
def test_any_start_inside_the_horizon_round_trips(day, cell, kind, trainer):
    param = start_param(day, cell * 30, kind, trainer)
    link = read_start_param(param, RULES, NOW)
    assert len(param) <= MAX_PARAM
    assert (link.day, link.minute, link.kind, link.trainer) == (day, cell * 30, kind, trainer)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "book",
        "d2026112t1800",  # seven digits of date
        "d20261126t180",
        "d20261126",
        "t1800",
        "d20261126t1800x",
        "d20261126t1800k",
        "d20261126t1800k0",  # ids start at 1
        "d20261126t1800k01",
        "d20261126t1800r2k1",  # the kind comes first
        "d20261126t1800k1234567890",  # ten digits
        "d20261131t1800",  # no 31 November
        "d20260229t1800",
        "d20261126t2400",
        "d20261126t1860",
        "d20261126t18:00",
        "d２０２６１１２６t1800",  # digits int() reads, but not ASCII
        None,
        1800,
        "d20261126t1800" + "k1" * 40,
    ],
)
def test_anything_else_is_unreadable(text):
    assert read_start_param(text, RULES, NOW) == Unusable(UNREADABLE)


def test_case_and_surrounding_space_do_not_matter():
    # A bot's /start payload comes as typed; Telegram's start_param as given.
    assert read_start_param(" D20261126T1800K2\n", RULES, NOW).kind == 2


def test_off_the_grid():
    assert read_start_param("d20261126t1815", RULES, NOW) == Unusable(OFF_GRID)
    hourly = Settings(slot_minutes=60, training_minutes=60)
    assert read_start_param("d20261126t1830", hourly, NOW) == Unusable(OFF_GRID)
    assert read_start_param("d20261126t1800", hourly, NOW).minute == 1080


def test_a_wall_time_the_clock_skips_is_off_the_grid():
    berlin = Settings(timezone="Europe/Berlin")
    spring = datetime(2027, 3, 25, 12, 0)  # 02:00-03:00 on Sunday 28 March does not exist
    assert read_start_param("d20270328t0230", berlin, spring) == Unusable(OFF_GRID)
    assert read_start_param("d20270328t0300", berlin, spring).starts_at == datetime(
        2027, 3, 28, 1, 0
    )


def test_a_start_that_has_come_is_past():
    assert read_start_param("d20261124t1800", RULES, NOW) == Unusable(PAST)
    assert read_start_param("d20261125t0900", RULES, NOW) == Unusable(PAST)  # now
    assert read_start_param("d20261125t0830", RULES, NOW) == Unusable(PAST)
    assert read_start_param("d19000101t0000", RULES, NOW) == Unusable(PAST)


def test_a_start_inside_the_minimum_notice_still_opens():
    # Not the link's fault: the sheet then says "too soon", like the cell.
    assert read_start_param("d20261125t0930", RULES, NOW).minute == 570


def test_beyond_the_horizon_is_too_far():
    assert read_start_param("d20261202t1730", RULES, NOW).day == date(2026, 12, 2)  # the last
    assert read_start_param("d20261203t0800", RULES, NOW) == Unusable(TOO_FAR)
    assert read_start_param("d99991230t0800", RULES, NOW) == Unusable(TOO_FAR)


def test_the_notice_of_each_reason_is_a_catalog_id():
    assert Unusable(PAST).notice == "link_past"
    assert Unusable(UNREADABLE).notice == "link_unreadable"


def test_a_minute_outside_the_day_is_no_start():
    with pytest.raises(ValueError):
        start_param(date(2026, 12, 1), 1440)


def test_the_mini_app_link():
    assert (
        app_link("@studio_bot", "book", "d20261210t1800")
        == "https://t.me/studio_bot/book?startapp=d20261210t1800"
    )


def test_in_catalog_checks_the_kind_and_trainer_a_link_names():
    """One rule for the bot and the Mini App: a link naming a kind or trainer the studio does
    not have, or a trainer who does not give that kind, opens nothing (the bad-link notice)."""
    from schedule.kinds import Catalog, KindInfo, TrainerInfo
    from schedule.links import UNREADABLE, StartLink, Unusable, in_catalog

    catalog = Catalog(
        (KindInfo(1, "", 90, 4, (7, 8)), KindInfo(2, "Personal", 60, 1, (7,))),
        (TrainerInfo(7, 5001, "Anna", None), TrainerInfo(8, 5002, "Boris", None)),
    )
    at = datetime(2026, 11, 26, 7, 0)
    plain = StartLink(date(2026, 11, 26), 600, at)
    assert in_catalog(plain, catalog) is plain
    for kind, trainer in ((2, None), (2, 7), (None, 8), (1, 8)):
        link = StartLink(date(2026, 11, 26), 600, at, kind, trainer)
        assert in_catalog(link, catalog) is link
    for kind, trainer in ((3, None), (None, 9), (2, 8), (3, 7)):
        link = StartLink(date(2026, 11, 26), 600, at, kind, trainer)
        assert in_catalog(link, catalog) == Unusable(UNREADABLE), (kind, trainer)
    gone = Unusable("past")
    assert in_catalog(gone, catalog) is gone
