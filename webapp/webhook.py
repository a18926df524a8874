"""The bot in webhook mode, and the bot's notifier for the Mini App.

Telegram POSTs each update to `<PUBLIC_URL>/telegram/webhook/<secret path>` with the header
X-Telegram-Bot-Api-Secret-Token; a wrong header is a 403. The route only records the update
(bot.models.record_update: once per update_id, whichever web process receives it) and answers
200 at once; `flask --app webapp worker` handles it. No waitress thread runs a handler, so none
ever waits on Telegram.

The notifier (bot.notify), installed by the composition root (bootstrap.py), is the app's
booking_events: it writes the messages a change causes to the outbox, in the change's
transaction; the worker or `python bot_main.py` sends them.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace

from flask import Blueprint, Flask, abort, current_app, jsonify, request

from bot.config import BotConfig
from bot.factory import BookingBot
from bot.models import MAX_UPDATE_ID, record_update
from bot.notify import Notifier

from .extensions import db

WEBHOOK_PREFIX = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

bp = Blueprint("webhook", __name__)


@dataclass(frozen=True)
class Telegram:
    """The app's bot (for the CLI and the worker) and notifier, in app.extensions["telegram"]."""

    config: BotConfig
    bot: BookingBot
    notifier: Notifier


def bot_config(app: Flask) -> BotConfig:
    """BOT from the environment, with the values tests and the instance config may override."""
    return replace(
        app.config["BOT"],
        token=app.config["BOT_TOKEN"],
        admin_ids=frozenset(app.config["ADMIN_IDS"]),
        public_url=app.config["PUBLIC_URL"].rstrip("/"),
        trainer_news_delay=app.config.get(
            "TRAINER_NEWS_DELAY_SECONDS", app.config["BOT"].trainer_news_delay
        ),
        settings=app.config["SCHEDULE"],
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
    )


def webhook_url(config: BotConfig, base_url: str | None = None) -> str:
    return f"{(base_url or config.public_url).rstrip('/')}{WEBHOOK_PREFIX}/{config.webhook_path}"


def init_app(app: Flask) -> None:
    """Register the webhook route and `flask bot ...` (the bot itself is wired to the app by
    the composition root, bootstrap.wire_telegram)."""
    from .bot_commands import bot_cli  # it imports this module

    app.register_blueprint(bp)
    app.cli.add_command(bot_cli)


@bp.post(f"{WEBHOOK_PREFIX}/<path_secret>")
def receive_update(path_secret: str):
    telegram: Telegram | None = current_app.extensions.get("telegram")
    if telegram is None or not hmac.compare_digest(
        path_secret.encode(), telegram.config.webhook_path.encode()
    ):
        abort(404)
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, telegram.config.webhook_secret_token.encode()):
        return jsonify(error="forbidden", message="Wrong secret token."), 403
    payload = request.get_json(silent=True)
    update_id = payload.get("update_id") if isinstance(payload, dict) else None
    if (
        not isinstance(update_id, int)
        or isinstance(update_id, bool)
        or not 0 <= update_id < MAX_UPDATE_ID
    ):
        return jsonify(error="invalid", message="The body is not a Telegram update."), 400
    record_update(db.session(), payload, current_app.config["CLOCK"]())  # False: seen before
    return jsonify(ok=True)
