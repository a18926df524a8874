"""The flask CLI commands: diagnose, purge, delete-user, demo-data (through the CLI runner)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from runtime.commands import diagnose
from schedule import ConfigError, maintenance, services
from schedule.models import Booking, User
from schedule.unit import Actor, Unit
from tests.initdata import TEST_BOT_TOKEN
from webapp import create_app
from webapp.extensions import db

NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
ENV = (
    "BOT_TOKEN",
    "TELEGRAM_API_URL",
    "PUBLIC_URL",
    "CORS_ORIGINS",
    "ADMIN_IDS",
    "NGROK_AUTHTOKEN",
    "METRICS_TOKEN",
    "METRICS_ALLOW",
    "LOG_DIR",
    "DATABASE_URL",
    "WEBHOOK_SECRET",
)


class FakeTelegram:
    """A Bot API on loopback: getMe, getWebhookInfo, setChatMenuButton; records every call."""

    def __init__(self) -> None:
        self.token = TEST_BOT_TOKEN
        self.webhook: dict = {"url": "", "pending_update_count": 0}
        self.calls: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.answer({})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self.answer(json.loads(body) if body else {})

            def answer(self, payload: dict) -> None:
                token, _, method = self.path.removeprefix("/bot").partition("/")
                fake.calls.append((method, payload))
                status, body = fake.reply(token, method)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def reply(self, token: str, method: str) -> tuple[int, dict]:
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method == "getMe":
            return 200, {
                "ok": True,
                "result": {"id": 123456789, "is_bot": True, "username": "test_booking_bot"},
            }
        if method == "getWebhookInfo":
            return 200, {"ok": True, "result": self.webhook}
        if method == "setChatMenuButton":
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def __enter__(self) -> FakeTelegram:
        # serve_forever looks for shutdown() between polls: at its default 0.5 s each test
        # ending a fake waited up to half a second for it.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def clean_env(monkeypatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def telegram(monkeypatch, clean_env) -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        monkeypatch.setenv("BOT_TOKEN", fake.token)
        monkeypatch.setenv("TELEGRAM_API_URL", fake.url)
        yield fake


def make_app(database_url: str, **config):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": lambda: NOW, **config}
    )
    return app


@pytest.fixture
def app_factory(clean_env) -> Iterator:
    made = []

    def build(database_url: str, **config):
        app = make_app(database_url, **config)
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory, database_url):
    return app_factory(database_url)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory) -> Path:
    """A SQLite file brought to the latest migration by `flask db upgrade` (through the CLI
    runner), once per module and worker: each diagnose test gets a copy instead of migrating."""
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV:
            patch.delenv(name, raising=False)
        app = make_app(f"sqlite:///{path}")
        try:
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def migrated_sqlite(app_factory, migrated_template, tmp_path):
    """An app (built with `config`) on a copy of the migrated file."""

    def build(**config):
        path = tmp_path / "migrated.sqlite3"
        shutil.copyfile(migrated_template, path)
        return app_factory(f"sqlite:///{path}", **config)

    return build


# diagnose ---------------------------------------------------------------------------------


def test_diagnose_passes_when_everything_is_in_place(migrated_sqlite, telegram, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://booking.example.com")
    monkeypatch.setenv("ADMIN_IDS", "900")
    app = migrated_sqlite()

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 0, result.output
    out = result.output
    assert "✓ python: 3." in out
    assert "✓ BOT_TOKEN: well formed" in out
    assert "✓ getMe: @test_booking_bot (id 123456789)" in out
    assert "✓ webhook: none set (long polling mode)" in out
    assert "✓ database:" in out and "✓ schema: at the latest migration" in out
    assert "✓ PUBLIC_URL: https://booking.example.com" in out
    assert "✓ TIMEZONE: Europe/Moscow" in out
    assert "✗" not in out
    assert "All checks passed." in out
    assert [method for method, _ in telegram.calls] == ["getMe", "getWebhookInfo"]


def test_diagnose_shows_the_outbox_and_warns_when_it_is_stuck(
    migrated_sqlite, telegram, monkeypatch
):
    from schedule import outbox

    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = migrated_sqlite()
    with app.app_context():
        outbox.enqueue(db.session, 1, "news", {}, now=NOW - timedelta(minutes=10))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert "! outbox: 1 pending (oldest 600 s), 0 refused for good, 0 expired" in result.output
    assert "bot_main.py` or `flask --app webapp worker` running?" in result.output
    assert "✓ SECRET_KEY: SECRET_KEY (environment, .env or instance/config.py)" in result.output


def test_diagnose_says_where_the_signing_key_comes_from_when_unset(migrated_sqlite):
    app = migrated_sqlite(SECRET_KEY=None)

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert "✓ SECRET_KEY: " in result.output and "secret_key (made once" in result.output
    assert "✓ outbox: 0 pending (oldest 0 s)" in result.output


def test_diagnose_fails_without_a_token_and_says_how_to_get_one(app):
    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    assert "✗ BOT_TOKEN: not set" in result.output
    assert "@BotFather" in result.output
    assert "check(s) failed" in result.output


def test_diagnose_rejects_a_malformed_token(app_factory, database_url, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "not-a-token")
    app = app_factory(database_url)

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    assert "✗ BOT_TOKEN: does not look like a bot token" in result.output


def test_diagnose_reports_a_token_telegram_refuses(migrated_sqlite, telegram):
    telegram.token = "987654321:" + "B" * 35  # the fake knows another bot
    app = migrated_sqlite()

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    assert "✗ getMe: Telegram refused: Unauthorized" in result.output
    assert "revoke and copy the token again" in result.output


def test_an_unreachable_bot_api_is_a_warning_not_a_failure(migrated_sqlite, clean_env, monkeypatch):
    with FakeTelegram() as fake:
        unreachable = fake.url  # closed when the block ends
    monkeypatch.setenv("BOT_TOKEN", TEST_BOT_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", unreachable)
    monkeypatch.setenv("PUBLIC_URL", "https://booking.example.com")
    app = migrated_sqlite()

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert f"! getMe: {unreachable} is unreachable" in result.output
    assert result.exit_code == 0, result.output


def test_diagnose_shows_a_failing_webhook(migrated_sqlite, telegram):
    telegram.webhook = {
        "url": "https://old.example.com/telegram/webhook",
        "pending_update_count": 12,
        "last_error_message": "Connection refused",
    }
    app = migrated_sqlite()

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    webhook = "✗ webhook: https://old.example.com/telegram/webhook (12 updates pending)"
    assert webhook in result.output
    assert "last error: Connection refused" in result.output


def test_diagnose_wants_https_and_real_origins(migrated_sqlite, telegram, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "http://booking.example.com")
    monkeypatch.setenv("CORS_ORIGINS", "https://ok.example.com,https://bad.example.com/path")
    app = migrated_sqlite()

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    assert "✗ PUBLIC_URL: http://booking.example.com is not https" in result.output
    assert "✗ CORS_ORIGINS: not origins: https://bad.example.com/path" in result.output


def test_diagnose_sees_a_schema_behind_the_migrations(app, telegram):
    # The database_url fixture creates the tables directly: Alembic has not stamped them.
    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    assert "✓ database:" in result.output
    assert "✗ schema: no migration applied; the latest is" in result.output
    assert "flask --app webapp db upgrade" in result.output


def test_diagnose_reports_an_unreachable_database(app_factory, telegram):
    app = app_factory("postgresql://postgres:secret@127.0.0.1:1/booking")

    result = app.test_cli_runner().invoke(args=["diagnose"])

    assert result.exit_code == 1
    assert "✗ database: postgresql+psycopg://postgres:***@127.0.0.1:1/booking" in result.output
    assert ":secret@" not in result.output  # the password
    assert "✓ psycopg: 3." in result.output  # the PostgreSQL driver is needed, and checked


def test_diagnose_reports_a_configuration_that_does_not_load(clean_env):
    def broken():
        raise ConfigError("TIMEZONE: unknown time zone 'Mars/Olympus'")

    result = CliRunner().invoke(diagnose.diagnose, obj=ScriptInfo(create_app=broken))

    assert result.exit_code == 1
    assert "✗ configuration: TIMEZONE: unknown time zone 'Mars/Olympus'" in result.output
    assert "✓ python" in result.output


# purge ------------------------------------------------------------------------------------


def book_history(app) -> None:
    """A past training, a cancelled one and an upcoming one, booked a week before NOW."""
    settings = app.config["SCHEDULE"]
    week_ago = NOW - timedelta(days=7)
    with app.app_context():
        session = db.session()
        anna = services.upsert_user(session, {"id": 501, "first_name": "Anna"})
        boris = services.upsert_user(session, {"id": 502, "first_name": "Борис"})
        services.book(
            Unit(session, settings, Actor.client(anna), now=week_ago), anna, date(2026, 11, 19), 600
        )
        gone = services.book(
            Unit(session, settings, Actor.client(boris), now=week_ago),
            boris,
            date(2026, 11, 20),
            600,
        )
        services.cancel(Unit(session, settings, Actor.client(boris), now=week_ago), gone.id)
        services.book(
            Unit(session, settings, Actor.client(anna), now=NOW), anna, date(2026, 11, 27), 600
        )


def bookings(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Booking))


def test_purge_is_a_dry_run_by_default(app):
    book_history(app)

    result = app.test_cli_runner().invoke(args=["purge", "--days", "3"])

    assert result.exit_code == 0, result.output
    assert "cancelled bookings: 1" in result.output
    assert "past bookings:      1" in result.output
    assert "Dry run: nothing deleted" in result.output
    assert bookings(app) == 3


def test_purge_yes_deletes(app):
    book_history(app)

    result = app.test_cli_runner().invoke(args=["purge", "--days", "3", "--yes"])

    assert result.exit_code == 0, result.output
    assert "Deleted rows: bookings 2." in result.output
    assert bookings(app) == 1


def test_purge_needs_days(app):
    runner = app.test_cli_runner()

    missing = runner.invoke(args=["purge"])
    negative = runner.invoke(args=["purge", "--days", "-1"])

    assert missing.exit_code == 2 and "Missing option '--days'" in missing.output
    assert negative.exit_code == 2 and "-1 is not in the range x>=0" in negative.output


# delete-user ------------------------------------------------------------------------------


def test_delete_user_shows_first_then_deletes_with_yes(app):
    book_history(app)
    runner = app.test_cli_runner()

    shown = runner.invoke(args=["delete-user", "501"])
    assert shown.exit_code == 0, shown.output
    assert "User 501 (Anna): 2 bookings, 1 of them upcoming." in shown.output
    assert "Nothing deleted" in shown.output
    assert bookings(app) == 3

    deleted = runner.invoke(args=["delete-user", "501", "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert "Deleted: bookings 2, users 1." in deleted.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.telegram_id == 501)) is None
    assert bookings(app) == 1


def test_delete_user_of_an_unknown_id_fails(app):
    result = app.test_cli_runner().invoke(args=["delete-user", "777", "--yes"])

    assert result.exit_code == 1
    assert "no user with Telegram id 777" in result.output


# demo-data --------------------------------------------------------------------------------


def test_demo_data_loads_a_week_and_clears_it(app):
    runner = app.test_cli_runner()

    loaded = runner.invoke(args=["demo-data", "--yes"])

    assert loaded.exit_code == 0, loaded.output
    assert f"Demo data: {len(maintenance.DEMO_PEOPLE)} users" in loaded.output
    assert bookings(app) > 20

    cleared = runner.invoke(args=["demo-data", "--clear"])

    assert cleared.exit_code == 0, cleared.output
    assert f"Removed {len(maintenance.DEMO_PEOPLE)} demo users" in cleared.output
    assert bookings(app) == 0


def test_commands_are_registered():
    app = make_app("sqlite://")
    names = set(app.cli.list_commands(None))
    assert {"dev", "diagnose", "logs", "purge", "delete-user", "demo-data"} <= names


def test_demo_data_asks_for_yes_outside_sqlite(app_factory):
    postgres = app_factory("postgresql://postgres@127.0.0.1:1/production")

    refused = postgres.test_cli_runner().invoke(args=["demo-data"])

    assert refused.exit_code == 1
    assert "demo bookings take real places" in refused.output and "--yes" in refused.output


def test_the_installed_diagnose_command_reports_a_broken_configuration(tmp_path):
    """`flask --app webapp diagnose` with CAPACITY=0: a ✗ naming it, exit 1, no traceback."""
    env = {
        **os.environ,
        "CAPACITY": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "diagnose"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "✗ configuration: CAPACITY must be at least 1" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
