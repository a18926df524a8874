"""The composition root (bootstrap.py): the environment read into one Config, Flask built
alone by webapp.build_app, the bot and its notifier wired to it by the root."""

from __future__ import annotations

from pathlib import Path

import pytest

import bootstrap
from bot.notify import Notifier
from schedule import ConfigError, Settings
from tests.initdata import TEST_BOT_TOKEN
from webapp import build_app, create_app
from webapp.extensions import db


def test_the_environment_becomes_one_configuration():
    config = bootstrap.read_config(
        {
            "BOT_TOKEN": TEST_BOT_TOKEN,
            "CAPACITY": "6",
            "CORS_ORIGINS": "https://a.example, https://b.example",
            "INIT_DATA_MAX_AGE": "600",
            "METRICS_TOKEN": " scrape ",
            "LOG_DIR": "/var/log/booking",
            "NO_COLOR": "1",
            "NGROK_AUTHTOKEN": "tunnel",
        }
    )

    assert config.bot.token == TEST_BOT_TOKEN
    assert config.settings is config.bot.settings and config.settings.capacity == 6
    assert config.cors_origins == ("https://a.example", "https://b.example")
    assert config.init_data_max_age == 600 and config.metrics_token == "scrape"
    assert config.log_dir == Path("/var/log/booking") and config.no_color
    assert config.ngrok_authtoken == "tunnel"


def test_defaults_and_a_bad_value_named():
    config = bootstrap.read_config({})

    assert config.settings == Settings() and not config.dev_login
    assert config.log_dir == bootstrap.PROJECT_ROOT / "logs" and not config.no_color
    with pytest.raises(ConfigError, match="INIT_DATA_MAX_AGE must be a whole number"):
        bootstrap.read_config({"INIT_DATA_MAX_AGE": "a day"})


def test_the_web_app_receives_the_configuration_it_is_given(sqlite_url):
    config = bootstrap.read_config({"DATABASE_URL": sqlite_url, "ADMIN_IDS": "900"})

    app = create_app({"TESTING": True}, config=config)

    assert app.config["CONFIG"] is config
    assert app.config["ADMIN_IDS"] == frozenset({900})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url


def test_flask_is_built_alone_and_the_root_wires_the_bot(sqlite_url, fake_telegram):
    config = bootstrap.read_config(
        {
            "DATABASE_URL": sqlite_url,
            "BOT_TOKEN": TEST_BOT_TOKEN,
            "TELEGRAM_API_URL": fake_telegram.url,
        }
    )

    alone = build_app(config, {"TESTING": True})
    wired = bootstrap.web_app({"TESTING": True}, config=config)

    assert alone.extensions["booking_events"] is None and "telegram" not in alone.extensions
    telegram = wired.extensions["telegram"]
    assert isinstance(telegram.notifier, Notifier)
    assert wired.extensions["booking_events"].inner is telegram.notifier  # counted, then sent
    assert telegram.bot.context.config.token == TEST_BOT_TOKEN
    for app in (alone, wired):
        with app.app_context():
            db.engine.dispose()
