"""The web app wired to the rest: the part of the composition root that the commands may use
too (`flask … dev` builds a twin of the app for its tunnel's URL).

The configuration comes from runtime.config (the environment, instance/config.py, then a
test's keys, applied to one Config); Flask is built from it by webapp.build_app, which knows
nothing of the bot; this module adds the signing key, the logs, the migrations, and the bot,
the webhook's recorder and the invoice links, all over the same final configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from flask import Config as FlaskKeys
from flask import Flask
from sqlalchemy.orm import sessionmaker

from bot.config import DEFAULT_API_URL, BotConfig
from bot.factory import BookingBot, create_bot
from bot.links import username_lookup
from bot.models import record_update
from bot.payments import invoice_links
from schedule.db import INSTANCE_PATH, default_sqlite_url
from webapp.app import build_app
from webapp.extensions import db
from webapp.metrics import add_state_gauges, count_events
from webapp.webhook import Webhook

from . import logs, migrate, worker
from .config import Config, flask_only, load_config, overridden
from .secret import instance_secret_key


@dataclass(frozen=True)
class Telegram:
    """The app's bot (for the CLI and the worker), in app.extensions["telegram"]."""

    config: BotConfig
    bot: BookingBot


def wired_app(test_config: Mapping | None = None, *, config: Config | None = None) -> Flask:
    """The web app wired: the final configuration (the environment's unless given, then
    instance/config.py, then `test_config`), Flask built from it, then the logs, migrations
    and the bot wired in, then the event counters (the commands are compose.web_app's)."""
    keys = {**_instance_keys(), **(test_config or {})}
    config = final_config(config or load_config(), keys)
    app = build_app(config, flask_only(keys))
    logs.configure_web(app, config)
    migrate.init_app(app, db)
    add_state_gauges(app, worker.outbox_gauges)
    wire_telegram(app, config.bot)
    count_events(app)  # the adapter's observer of the schedule's events
    if config.database_url == default_sqlite_url():
        migrate.upgrade_to_head(app)  # the embedded default is brought up to date by itself
    return app


def final_config(config: Config, keys: Mapping) -> Config:
    """`config` with `keys` applied and the signing key settled (instance/secret_key, made once,
    when SECRET_KEY is unset)."""
    config = overridden(config, keys)
    if not config.secret_key:
        config = replace(config, secret_key=instance_secret_key(INSTANCE_PATH))
    return config


def wire_telegram(app: Flask, config: BotConfig) -> None:
    """With BOT_TOKEN set, build the bot on the app's database and install the webhook's
    recorder and the invoice links (who hears of what is the domain's: schedule.notices writes
    the outbox in each change's transaction). Under testing, nothing ever calls the real
    api.telegram.org: the bot is built only when TELEGRAM_API_URL points elsewhere."""
    if not config.token or (app.testing and config.api_url == DEFAULT_API_URL):
        return
    with app.app_context():
        session_factory = sessionmaker(db.engine, expire_on_commit=False)
    bot = create_bot(
        config,
        session_factory,
        clock=lambda: app.config["CLOCK"](),
        # Through the app's hook, so that the metrics count the bot's bookings too.
        on_event=lambda event: app.extensions["booking_events"](event),
    )
    app.extensions["telegram"] = Telegram(config, bot)
    app.extensions["clients_told"] = True
    # The Mini App's invoice links (createInvoiceLink); None without PAYMENT_PROVIDER_TOKEN.
    app.extensions["invoices"] = invoice_links(bot, config)
    # The bot's username for links to the Mini App, when BOT_USERNAME does not name it.
    app.extensions["bot_username"] = username_lookup(config)
    app.extensions["webhook"] = Webhook(
        path=config.webhook_path, secret_token=config.webhook_secret_token, record=record_update
    )


def _instance_keys() -> dict:
    """instance/config.py's keys, if the file is there (local overrides, not committed)."""
    keys = FlaskKeys(str(INSTANCE_PATH))
    keys.from_pyfile("config.py", silent=True)
    return dict(keys)
