"""Settings from the environment: the defaults of DESIGN.md, and bad values stop start-up."""

from __future__ import annotations

import pytest

from schedule import ConfigError, Settings
from schedule.db import database_url
from schedule.settings import format_intervals, parse_opening_hours

NINE_TO_SIX = ((8 * 60, 18 * 60),)


def test_defaults_are_the_designs():
    settings = Settings.from_env({})

    assert settings.training_minutes == 90
    assert settings.slot_minutes == 30
    assert settings.capacity == 4
    assert settings.booking_horizon_days == 7
    assert settings.min_notice_minutes == 30
    assert settings.cancel_deadline_minutes == 120
    assert settings.timezone == "Europe/Moscow"
    assert settings.phone_required is False
    assert settings.opening_hours == {day: NINE_TO_SIX for day in range(7)}
    assert settings.cells_per_training == 3


def test_every_variable_is_read():
    settings = Settings.from_env(
        {
            "TRAINING_MINUTES": "60",
            "SLOT_MINUTES": "15",
            "CAPACITY": "6",
            "BOOKING_HORIZON_DAYS": "14",
            "MIN_NOTICE_MINUTES": "0",
            "CANCEL_DEADLINE_MINUTES": "1440",
            "TIMEZONE": "Europe/Berlin",
            "OPENING_HOURS": "10:00-20:00",
            "PHONE_REQUIRED": "1",
        }
    )

    assert (settings.training_minutes, settings.slot_minutes, settings.capacity) == (60, 15, 6)
    assert settings.booking_horizon_days == 14
    assert settings.min_notice_minutes == 0
    assert settings.cancel_deadline_minutes == 1440
    assert settings.timezone == "Europe/Berlin"
    assert settings.opening_hours[0] == ((600, 1200),)
    assert settings.phone_required is True
    assert settings.cells_per_training == 4


def test_blank_values_fall_back_to_the_defaults():
    assert Settings.from_env({"CAPACITY": " ", "TIMEZONE": "", "OPENING_HOURS": ""}) == Settings()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CAPACITY": "0"}, "CAPACITY"),
        ({"CAPACITY": "-1"}, "CAPACITY"),
        ({"CAPACITY": "four"}, "CAPACITY"),
        ({"TRAINING_MINUTES": "100"}, "TRAINING_MINUTES"),
        ({"TRAINING_MINUTES": "0"}, "TRAINING_MINUTES"),
        ({"TRAINING_MINUTES": "1.5"}, "TRAINING_MINUTES"),
        ({"SLOT_MINUTES": "0"}, "SLOT_MINUTES"),
        ({"SLOT_MINUTES": "7"}, "SLOT_MINUTES"),
        ({"BOOKING_HORIZON_DAYS": "-1"}, "BOOKING_HORIZON_DAYS"),
        ({"MIN_NOTICE_MINUTES": "-30"}, "MIN_NOTICE_MINUTES"),
        ({"CANCEL_DEADLINE_MINUTES": "soon"}, "CANCEL_DEADLINE_MINUTES"),
        ({"TIMEZONE": "Mars/Olympus_Mons"}, "TIMEZONE"),
        ({"TIMEZONE": "../../etc/passwd"}, "TIMEZONE"),
        ({"OPENING_HOURS": "25:00-26:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "08:00-24:30"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "18:00-08:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "08:00-08:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "08:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "8am-6pm"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "08:15-18:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "08:00-12:00,11:00-14:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "mon-fri 08:00-12:00,11:30-14:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "monday 08:00-12:00"}, "OPENING_HOURS"),
        ({"OPENING_HOURS": "mon-xyz 08:00-12:00"}, "OPENING_HOURS"),
        ({"PHONE_REQUIRED": "maybe"}, "PHONE_REQUIRED"),
    ],
)
def test_a_bad_value_names_its_variable(env, variable):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)

    assert variable in str(error.value)


def test_training_minutes_must_fit_the_grid_of_the_configured_slot():
    quarters = Settings.from_env({"TRAINING_MINUTES": "45", "SLOT_MINUTES": "15"})
    assert quarters.cells_per_training == 3
    with pytest.raises(ConfigError, match="TRAINING_MINUTES"):
        Settings.from_env({"TRAINING_MINUTES": "45"})


def test_plain_hours_apply_to_every_day():
    assert parse_opening_hours("07:00-22:00") == {day: ((420, 1320),) for day in range(7)}


def test_a_day_may_end_at_midnight():
    assert parse_opening_hours("00:00-24:00")[3] == ((0, 1440),)
    assert parse_opening_hours("18:00-24:00")[3] == ((1080, 1440),)


def test_midnight_cannot_open_a_day():
    with pytest.raises(ConfigError, match="OPENING_HOURS"):
        parse_opening_hours("24:00-24:00")


def test_per_weekday_form_with_several_intervals_and_unnamed_days_closed():
    week = parse_opening_hours("mon-fri 07:00-12:00,16:00-21:00; sat 09:00-14:00")

    for weekday in range(5):
        assert week[weekday] == ((420, 720), (960, 1260))
    assert week[5] == ((540, 840),)
    assert week[6] == ()


def test_intervals_are_kept_in_time_order():
    assert parse_opening_hours("16:00-21:00,07:00-12:00")[0] == ((420, 720), (960, 1260))


def test_touching_intervals_are_not_overlapping():
    assert parse_opening_hours("08:00-12:00,12:00-14:00")[0] == ((480, 720), (720, 840))


def test_weekday_lists_ranges_that_wrap_and_explicit_closed():
    week = parse_opening_hours("sat-mon 10:00-14:00; wed,fri 08:00-09:30; sun closed")

    assert [bool(week[day]) for day in range(7)] == [True, False, True, False, True, True, False]
    assert week[2] == ((480, 570),)


def test_later_groups_override_earlier_ones():
    week = parse_opening_hours("mon-sun 08:00-18:00; sun 10:00-12:00")

    assert week[0] == ((480, 1080),)
    assert week[6] == ((600, 720),)


def test_closed_every_day():
    assert parse_opening_hours("closed") == {day: () for day in range(7)}


def test_opening_hours_must_lie_on_a_custom_grid():
    with pytest.raises(ConfigError, match="OPENING_HOURS"):
        Settings.from_env(
            {"OPENING_HOURS": "08:30-18:00", "SLOT_MINUTES": "60", "TRAINING_MINUTES": "60"}
        )


@pytest.mark.parametrize(
    "week",
    [
        {0: ((600, 540),)},
        {0: ((480, 720), (660, 900))},
        {0: ((-60, 540),)},
        {0: ((480, 1470),)},
        {7: ((480, 540),)},
    ],
)
def test_settings_refuse_opening_hours_that_are_not_a_day_of_ordered_intervals(week):
    with pytest.raises(ConfigError, match="OPENING_HOURS"):
        Settings(opening_hours=week)


def test_format_intervals_round_trips():
    text = "07:00-12:00,16:00-24:00"

    assert format_intervals(parse_opening_hours(text)[0]) == text
    assert format_intervals(()) == "closed"


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        (
            "postgresql://user:pass@db.example/booking",
            "postgresql+psycopg://user:pass@db.example/booking",
        ),
        (
            "postgres://user:pass@db.example/booking",
            "postgresql+psycopg://user:pass@db.example/booking",
        ),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////srv/booking.sqlite3", "sqlite:////srv/booking.sqlite3"),
    ],
)
def test_database_url_takes_the_plain_postgresql_form_as_written(raw, url):
    assert database_url({"DATABASE_URL": raw}) == url


def test_database_url_defaults_to_a_sqlite_file_in_instance():
    url = database_url({})

    assert url.startswith("sqlite:///") and url.endswith("/instance/booking.sqlite3")
    assert database_url({"DATABASE_URL": "  "}) == url
