"""Fixtures of the web side: the app over each database, signed users, a live waitress server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import waitress
from flask import Flask

from schedule import Settings, User
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED, sqlite_with_schema
from tests.initdata import TEST_BOT_TOKEN, sign_init_data
from webapp import create_app
from webapp.extensions import db


def _share_rule_work() -> None:
    """Every test builds its own app, and werkzeug parses each of its ~120 routes and writes and
    compiles a URL-building function for it (most of build_app's time). Both depend only on the
    rule's text (and the map's converters, and the builder on the rule's defaults), so the apps
    of one test process share them: the apps route and build URLs exactly as before. Each rule
    still gets its own parts, trace and converters lists; the parts and the converter objects in
    them are shared (werkzeug only reads them after parsing)."""
    from werkzeug.routing.rules import Rule

    parse_rule = Rule._parse_rule
    parsed: dict[tuple, tuple] = {}

    def shared_parse(rule: Rule, text: str):
        key = (text, type(rule.map), tuple(rule.map.converters.items()))
        if key not in parsed:
            trace_from = len(rule._trace)
            parts = list(parse_rule(rule, text))
            trace = rule._trace[trace_from:]
            converters = {name: rule._converters[name] for dynamic, name in trace if dynamic}
            parsed[key] = (parts, trace, converters)
            return parts
        parts, trace, converters = parsed[key]
        rule._trace.extend(trace)
        rule._converters.update(converters)
        rule.arguments.update(converters)
        return list(parts)

    compile_builder = Rule._compile_builder
    compiled: dict[tuple, object] = {}

    def shared_builder(rule: Rule, append_unknown: bool = True):
        defaults = rule.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in rule._trace):
            return compile_builder(rule, append_unknown)  # a default folded in by its converter
        key = (rule.rule, tuple(rule._trace), repr(sorted(defaults.items())), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._parse_rule = shared_parse
    Rule._compile_builder = shared_builder


_share_rule_work()

ANNA = {
    "id": 1001,
    "first_name": "Anna",
    "last_name": "K",
    "username": "anna",
    "language_code": "en",
}
BORIS = {"id": 1002, "first_name": "Борис", "username": "boris", "language_code": "ru"}
TRAINER = {"id": 900, "first_name": "Trainer", "username": "coach", "language_code": "en"}

# Wednesday 2026-11-25, 09:00 in Moscow: tomorrow is a full day of free slots.
TOMORROW = "2026-11-26"


class Clock:
    """The app's "now" (naive UTC), moved by tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def auth(user: dict = ANNA, **kwargs) -> dict[str, str]:
    """The Authorization header the Mini App sends for `user`."""
    return {"Authorization": "tma " + sign_init_data(user, **kwargs)}


def trainer_unit(app: Flask) -> Unit:
    """A trainer's unit of work in `app`'s context, at the app's clock (a test's setup)."""
    return Unit(db.session(), app.config["SCHEDULE"], Actor.trainer(), now=app.config["CLOCK"]())


def client_unit(app: Flask, client: User) -> Unit:
    """`client`'s own unit of work in `app`'s context, at the app's clock (a test's setup)."""
    return Unit(db.session(), app.config["SCHEDULE"], Actor.client(client), app.config["CLOCK"]())


def make_user(telegram_id: int, language_code: str = "en") -> dict:
    return {"id": telegram_id, "first_name": f"User{telegram_id}", "language_code": language_code}


def build_app(database_url: str, clock: Clock, **config) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BOT_TOKEN": TEST_BOT_TOKEN,
            "ADMIN_IDS": frozenset({TRAINER["id"]}),
            "DEV_LOGIN": False,
            "SECRET_KEY": "test-secret",
            "CLOCK": clock,
            # Fair use off (tests/conftest.py UNLIMITED) unless a test is about it.
            "SCHEDULE": Settings(**UNLIMITED),
            **config,
        }
    )


@pytest.fixture
def clock(now) -> Clock:
    return Clock(now)


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url, clock) -> Iterator[Flask]:
    """The app over each database: a SQLite file, then PostgreSQL."""
    app = build_app(database_url, clock)
    yield app
    _dispose(app)


@pytest.fixture
def sqlite_app(sqlite_template, tmp_path, clock) -> Iterator[Flask]:
    """The app over a SQLite file only (page rendering does not depend on the database)."""
    app = build_app(sqlite_with_schema(sqlite_template, tmp_path / "booking.sqlite3"), clock)
    yield app
    _dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def page_client(sqlite_app):
    return sqlite_app.test_client()


def serve(app: Flask, threads: int = 8, **options) -> tuple[str, callable]:
    """Start waitress for `app` on a free loopback port (with waitress `options`, such as a
    systemd unit's); returns (base URL, stop)."""
    options = {"threads": threads, **options, "listen": "127.0.0.1:0"}
    server = waitress.create_server(app, **options)
    stopping = threading.Event()

    def run() -> None:
        # server.run() loops until its map is empty; closing sockets from another thread under
        # its select() fails with EBADF, so the loop thread closes them itself when told to stop.
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.01, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        server.asyncore.close_all(server._map)

    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)

    return f"http://127.0.0.1:{server.effective_port}", stop


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """The app (each database) served by waitress on loopback."""
    url, stop = serve(app, threads=20)
    yield url
    stop()


@pytest.fixture
def live_sqlite_url(sqlite_app) -> Iterator[str]:
    url, stop = serve(sqlite_app)
    yield url
    stop()
