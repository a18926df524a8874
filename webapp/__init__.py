"""The Mini App and JSON API.

build_app() builds the Flask application alone from the project's configuration;
create_app() is the factory `flask --app webapp` and the tests call: it asks the composition
root (bootstrap.py), which reads the environment and wires the bot's notifier in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from flask_cors import CORS

from schedule.db import INSTANCE_PATH, default_sqlite_url, normalize_url

from . import (
    admin,
    admin_api,
    api,
    auth,
    bookings,
    client_card,
    commands,
    config,
    health,
    inputs,
    logs,
    metrics,
    openapi,
    pages,
    passes,
    profile,
    ratelimit,
    responses,
    secret,
    security,
    series,
    snapshots,
    webhook,
    worker,
)
from .extensions import db, migrate

if TYPE_CHECKING:
    from bootstrap import Config

MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")
BLUEPRINTS = (
    health.bp,  # /healthz
    auth.bp,  # /dev/login
    api.bp,  # the JSON API under /api
    bookings.bp,  # the Mini App's booking tab and my trainings
    pages.bp,  # the page shell and navigation
    profile.bp,  # phone sharing
    admin.bp,  # the trainer's tab under /app/admin
    admin_api.bp,  # the trainer's JSON API under /api/admin
    passes.bp,  # passes, attendance and the client card under /api
    passes.pages,  # attendance in the trainer's Day view
    client_card.bp,  # the trainer's card of a client: passes, visits, the no-show pause
    series.bp,  # standing bookings: /api/series and the Mini App's fragments
    openapi.bp,  # /api/openapi.json, the API's contract
)


def create_app(test_config: Mapping | None = None, *, config: Config | None = None) -> Flask:
    """The web app as it runs, configured from the environment (or `config`) with
    `test_config` over it; built and wired by the composition root."""
    from bootstrap import web_app

    return web_app(test_config, config=config)


def build_app(project: Config, test_config: Mapping | None = None) -> Flask:
    """Flask alone: configuration, database, blueprints, commands. The bot's notifier is not
    installed here (booking_events stays None): bootstrap.wire_telegram does that."""
    app = Flask(__name__, instance_path=str(INSTANCE_PATH), instance_relative_config=True)
    app.config.from_mapping(config.flask_config(project))
    app.config.from_pyfile("config.py", silent=True)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_url(app.config["SQLALCHEMY_DATABASE_URI"])
    auth.configure_dev_login(app)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret.instance_secret_key(app.instance_path)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    CORS(app, origins=app.config["CORS_ORIGINS"] or [], supports_credentials=False)
    logs.init_app(app)

    # Called with each schedule event (booking made, cancelled, moved) inside its transaction;
    # the composition root installs the bot's notifier here when BOT_TOKEN is set.
    app.extensions["booking_events"] = None
    app.extensions["init_data_cache"] = auth.InitDataCache()
    app.extensions["snapshots"] = snapshots.SnapshotCache()
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    responses.init_app(app)
    ratelimit.init_app(app)  # 429 past RATE_LIMIT_*, its handler after responses' own
    inputs.init_app(app)  # NUL bytes and too deeply nested JSON are 400s
    security.init_app(app)
    webhook.init_app(app)  # the bot's webhook route and `flask bot ...`
    commands.init_app(app)  # dev, diagnose, logs, data chores, worker
    metrics.init_app(app)
    metrics.add_state_gauges(app, worker.outbox_gauges)

    if app.config["SQLALCHEMY_DATABASE_URI"] == default_sqlite_url():
        _upgrade_embedded_database(app)
    return app


def _upgrade_embedded_database(app: Flask) -> None:
    """The embedded SQLite default is brought to the current schema by itself."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=MIGRATIONS)
