"""MINIAPP_SHORT_NAME and BOT_USERNAME (runtime.config): read once, checked at start-up, given
to Flask like the other keys, and settable by a test's or instance/config.py's keys."""

from __future__ import annotations

import pytest

from runtime.config import overridden, read_config
from schedule import ConfigError
from webapp.config import flask_config


def test_read_from_the_environment_and_given_to_flask():
    config = read_config({"MINIAPP_SHORT_NAME": " book ", "BOT_USERNAME": "@Studio_Bot"})
    assert (config.miniapp_short_name, config.bot_username) == ("book", "Studio_Bot")
    keys = flask_config(config)
    assert (keys["MINIAPP_SHORT_NAME"], keys["BOT_USERNAME"]) == ("book", "Studio_Bot")


def test_unset_they_are_empty():
    config = read_config({})
    assert (config.miniapp_short_name, config.bot_username) == ("", "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MINIAPP_SHORT_NAME", "ab"),  # too short
        ("MINIAPP_SHORT_NAME", "book/now"),
        ("MINIAPP_SHORT_NAME", "https://t.me/bot/book"),
        ("BOT_USERNAME", "bot"),  # too short
        ("BOT_USERNAME", "studio bot"),
        ("BOT_USERNAME", "t.me/studio_bot"),
    ],
)
def test_a_bad_value_stops_start_up_naming_it(name, value):
    with pytest.raises(ConfigError, match=name):
        read_config({name: value})


def test_overrides_apply_to_the_one_configuration():
    config = overridden(read_config({}), {"MINIAPP_SHORT_NAME": "app", "BOT_USERNAME": "@x_bot1"})
    assert (config.miniapp_short_name, config.bot_username) == ("app", "x_bot1")
    with pytest.raises(ConfigError, match="MINIAPP_SHORT_NAME"):
        overridden(read_config({}), {"MINIAPP_SHORT_NAME": "a b"})
