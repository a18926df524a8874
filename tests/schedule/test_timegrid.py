"""Wall-clock time on the studio's grid and UTC instants, across DST changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from schedule import InvalidInput, ScheduleError, Settings
from schedule.settings import parse_opening_hours
from schedule.timegrid import (
    day_cells,
    is_open,
    local_midnight_utc,
    occupied_instants,
    parse_date,
    parse_start,
    start_instant,
    training_end,
    wall_to_utc,
)

MOSCOW = Settings()
BERLIN = Settings(timezone="Europe/Berlin", opening_hours=parse_opening_hours("00:00-24:00"))
SPRING_FORWARD = date(2026, 3, 29)  # Berlin: 02:00 CET -> 03:00 CEST
FALL_BACK = date(2026, 10, 25)  # Berlin: 03:00 CEST -> 02:00 CET
HALF_HOUR = timedelta(minutes=30)


def test_wall_time_is_stored_as_utc():
    assert wall_to_utc(date(2026, 11, 26), 9 * 60, MOSCOW) == datetime(2026, 11, 26, 6, 0)
    assert wall_to_utc(date(2026, 7, 1), 9 * 60, BERLIN) == datetime(2026, 7, 1, 7, 0)
    assert wall_to_utc(date(2026, 1, 1), 9 * 60, BERLIN) == datetime(2026, 1, 1, 8, 0)


def test_a_wall_time_in_the_spring_gap_does_not_exist():
    assert wall_to_utc(SPRING_FORWARD, 2 * 60, BERLIN) is None
    assert wall_to_utc(SPRING_FORWARD, 2 * 60 + 30, BERLIN) is None
    assert wall_to_utc(SPRING_FORWARD, 3 * 60, BERLIN) == datetime(2026, 3, 29, 1, 0)


def test_a_repeated_wall_time_in_autumn_means_its_first_occurrence():
    assert wall_to_utc(FALL_BACK, 2 * 60 + 30, BERLIN) == datetime(2026, 10, 25, 0, 30)


def test_spring_forward_day_has_no_cells_in_the_gap():
    cells = day_cells(SPRING_FORWARD, BERLIN.opening_hours, BERLIN)
    labels = [cell.label for cell in cells]

    assert "02:00" not in labels and "02:30" not in labels
    assert labels[:5] == ["00:00", "00:30", "01:00", "01:30", "03:00"]
    assert len(cells) == 46
    steps = {b.starts_at - a.starts_at for a, b in zip(cells, cells[1:], strict=False)}
    assert steps == {HALF_HOUR}


def test_fall_back_day_lists_each_wall_time_once():
    labels = [cell.label for cell in day_cells(FALL_BACK, BERLIN.opening_hours, BERLIN)]

    assert len(labels) == 48
    assert len(set(labels)) == 48


def test_cells_follow_opening_hours_in_order():
    settings = Settings(opening_hours=parse_opening_hours("mon 08:00-09:00,17:00-18:30"))
    monday = date(2026, 11, 23)

    assert [c.label for c in day_cells(monday, settings.opening_hours, settings)] == [
        "08:00",
        "08:30",
        "17:00",
        "17:30",
        "18:00",
    ]
    assert day_cells(monday + timedelta(days=1), settings.opening_hours, settings) == []


def test_a_training_lasts_ninety_real_minutes_across_a_dst_change():
    starts_at = wall_to_utc(SPRING_FORWARD, 60 + 30, BERLIN)  # 01:30 CET

    assert training_end(starts_at, BERLIN) - starts_at == 3 * HALF_HOUR
    assert occupied_instants(starts_at, BERLIN) == [
        datetime(2026, 3, 29, 0, 30),
        datetime(2026, 3, 29, 1, 0),  # 03:00 CEST
        datetime(2026, 3, 29, 1, 30),
    ]


def test_is_open_reads_the_local_day_of_the_instant():
    evenings = Settings(opening_hours=parse_opening_hours("mon 18:00-24:00; tue 08:00-12:00"))
    monday_2330 = wall_to_utc(date(2026, 11, 23), 23 * 60 + 30, evenings)

    assert is_open(monday_2330, evenings.opening_hours, evenings)
    assert not is_open(
        local_midnight_utc(date(2026, 11, 24), evenings), evenings.opening_hours, evenings
    )


def test_local_midnight_in_utc():
    assert local_midnight_utc(date(2026, 11, 26), MOSCOW) == datetime(2026, 11, 25, 21, 0)
    assert local_midnight_utc(FALL_BACK, BERLIN) == datetime(2026, 10, 24, 22, 0)
    assert local_midnight_utc(date(2026, 10, 26), BERLIN) == datetime(2026, 10, 25, 23, 0)


def test_start_in_the_dst_gap_is_refused_as_closed():
    with pytest.raises(ScheduleError) as error:
        start_instant(SPRING_FORWARD, 2 * 60 + 30, BERLIN)

    assert error.value.code == "closed"
    assert error.value.http_status == 409


def test_parse_date():
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    assert parse_date("1900-01-01") == date(1900, 1, 1)
    assert parse_date("9999-12-30") == date(9999, 12, 30)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",
        "2026-13-01",
        "26-02-01",
        "2026-2-1",
        "20260201",
        "2026-W05-3",
        "2026-02-01T10:00",
        "2026-02-01\n",
        " 2026-02-01",
        "",
        "today",
        None,
        20260201,
        ["2026-02-01"],
        "２０２６-０２-０１",
        "0001-01-01",
        "1899-12-31",
        "9999-12-31",
    ],
)
def test_parse_date_refuses_anything_but_yyyy_mm_dd(text):
    with pytest.raises(InvalidInput) as error:
        parse_date(text)

    assert error.value.http_status == 400


@pytest.mark.parametrize(("text", "minute"), [("00:00", 0), ("09:30", 570), ("23:30", 1410)])
def test_parse_start_on_the_grid(text, minute):
    assert parse_start(text, MOSCOW) == minute


@pytest.mark.parametrize(
    "text",
    [
        "24:00",
        "09:15",
        "9:30",
        "09:3",
        "0930",
        "09-30",
        "25:00",
        "09:60",
        "-1:30",
        "+9:30",
        "09:30:00",
        "",
        "  ",
        None,
        930,
        9.5,
        ["09:30"],
        "０９:３０",
        "²9:00",
        "09:3\u0663",
        "09:30\n0",
    ],
)
def test_parse_start_refuses_bad_input_as_invalid(text):
    with pytest.raises(InvalidInput) as error:
        parse_start(text, MOSCOW)

    assert error.value.http_status == 400


def test_parse_start_follows_a_custom_grid():
    quarter = Settings(slot_minutes=15, training_minutes=60)

    assert parse_start("09:15", quarter) == 555
