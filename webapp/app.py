"""build_app(): the Flask application alone, from the project's final configuration:
blueprints, templates, the database session, request logging, the webhook route."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from flask_cors import CORS

from schedule.db import INSTANCE_PATH, normalize_url

from . import (
    admin,
    admin_api,
    api,
    auth,
    bookings,
    broadcasts,
    client_card,
    config,
    health,
    inputs,
    links,
    metrics,
    openapi,
    pages,
    passes,
    payments,
    profile,
    ratelimit,
    request_log,
    responses,
    security,
    series,
    snapshots,
    studio,
    trainers,
    webhook,
)
from .extensions import db

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
    payments.bp,  # products, invoices, payments, refunds, freezes, forgiven late cancels
    broadcasts.bp,  # the trainer's messages to clients: /api/admin/broadcasts and the screen
    links.bp,  # links that open one training: /app/link and the trainer's /api/admin/share
    trainers.bp,  # trainers and kinds of training: /api/trainers, /api/kinds, /api/admin/...
    studio.bp,  # the owners' Studio screen: trainers, kinds, a trainer's days off
    openapi.bp,  # /api/openapi.json, the API's contract
    webhook.bp,  # the bot's webhook: records each update for the worker
)


def build_app(project: config.ProjectConfig, flask_keys: Mapping | None = None) -> Flask:
    """Flask alone, from the project's final configuration (`flask_keys`: Flask's own keys
    such as TESTING or CLOCK, over it). The runtime adds the commands, the logs, the
    migrations and the bot; booking_events stays None until it does."""
    app = Flask("webapp", instance_path=str(INSTANCE_PATH), instance_relative_config=True)
    app.config.from_mapping(config.flask_config(project))
    if flask_keys is not None:
        app.config.from_mapping(flask_keys)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_url(app.config["SQLALCHEMY_DATABASE_URI"])
    auth.configure_dev_login(app)

    db.init_app(app)
    CORS(app, origins=app.config["CORS_ORIGINS"] or [], supports_credentials=False)
    request_log.init_app(app)

    # An observer of each schedule event (booking made, cancelled, moved) inside its
    # transaction: the metrics count them. Who hears of what is schedule.notices' to decide.
    app.extensions["booking_events"] = None
    # Whether the notices written to the outbox reach anyone: the runtime sets it when it
    # wires a bot (BOT_TOKEN), whose worker sends them.
    app.extensions["clients_told"] = False
    app.extensions["webhook"] = None  # a webhook.Webhook once the runtime wires the bot
    app.extensions["init_data_cache"] = auth.InitDataCache()
    app.extensions["snapshots"] = snapshots.SnapshotCache()
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    responses.init_app(app)
    ratelimit.init_app(app)  # 429 past RATE_LIMIT_*, its handler after responses' own
    inputs.init_app(app)  # NUL bytes and too deeply nested JSON are 400s
    security.init_app(app)
    metrics.init_app(app)
    return app
