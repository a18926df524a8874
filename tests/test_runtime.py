"""The composition root (runtime.compose) over the one configuration (runtime.config): the
environment read into one Config, overrides applied to it, Flask built alone by
webapp.build_app, the bot wired to it from the same final configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import compose
from runtime.config import PROJECT_ROOT, overridden, read_config
from schedule import ConfigError, Settings
from tests.initdata import TEST_BOT_TOKEN
from webapp import build_app, create_app
from webapp.extensions import db


def test_the_environment_becomes_one_configuration():
    config = read_config(
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
    config = read_config({})

    assert config.settings == Settings() and not config.dev_login
    assert config.log_dir == PROJECT_ROOT / "logs" and not config.no_color
    with pytest.raises(ConfigError, match="INIT_DATA_MAX_AGE must be a whole number"):
        read_config({"INIT_DATA_MAX_AGE": "a day"})


def test_overrides_change_the_one_configuration_both_sides_read():
    settings = Settings(capacity=2)
    config = overridden(
        read_config({"ADMIN_IDS": "1"}),
        {
            "ADMIN_IDS": {900},
            "SCHEDULE": settings,
            "PUBLIC_URL": "https://x.example/",
            "TRAINER_NEWS_DELAY_SECONDS": 0,
            "TESTING": True,  # Flask's own key: not the project's
        },
    )

    assert config.settings.capacity == 2  # the SCHEDULE given, with the trainers set over it
    assert config.bot.admin_ids == config.settings.admin_ids == frozenset({900})
    assert config.bot.trainer_news_delay == config.settings.trainer_news_delay == 0
    assert config.bot.public_url == "https://x.example"
    # a SCHEDULE naming no trainers keeps those configured
    kept = overridden(read_config({"ADMIN_IDS": "1"}), {"SCHEDULE": settings})
    assert kept.settings.admin_ids == kept.bot.admin_ids == frozenset({1})


def test_the_web_app_receives_the_configuration_it_is_given(sqlite_url):
    config = read_config({"DATABASE_URL": sqlite_url, "ADMIN_IDS": "900"})

    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 32}, config=config)

    assert app.config["CONFIG"].bot == config.bot
    assert app.config["ADMIN_IDS"] == frozenset({900})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url


def test_flask_is_built_alone_and_the_root_wires_the_bot(sqlite_url, fake_telegram):
    config = read_config(
        {
            "DATABASE_URL": sqlite_url,
            "BOT_TOKEN": TEST_BOT_TOKEN,
            "TELEGRAM_API_URL": fake_telegram.url,
            "ADMIN_IDS": "900",
        }
    )

    alone = build_app(config, {"TESTING": True})
    wired = compose.web_app({"TESTING": True, "ADMIN_IDS": {901}}, config=config)

    assert alone.extensions["booking_events"] is None and alone.extensions["webhook"] is None
    assert "telegram" not in alone.extensions and "db" not in alone.cli.commands
    telegram = wired.extensions["telegram"]
    # The schedule's events are counted; who hears of them is the domain's (schedule.notices).
    assert wired.extensions["booking_events"].inner is None
    # The bot is given the same final configuration as the web app, overrides included.
    assert telegram.config is wired.config["CONFIG"].bot
    assert telegram.config.admin_ids == wired.config["ADMIN_IDS"] == frozenset({901})
    assert wired.extensions["webhook"].path == telegram.config.webhook_path
    assert {"db", "worker", "bot", "diagnose", "purge"} <= set(wired.cli.commands)
    for app in (alone, wired):
        with app.app_context():
            db.engine.dispose()
