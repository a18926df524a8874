"""`flask --app webapp diagnose`: is this deployment fit to run? Python and packages, the
token (getMe) and the webhook, the database and its schema, the outbox, the configuration,
ngrok; exit 1 on a failure. Registered as a `flask.commands` entry point too, so that it runs
(and reports why) even when the app itself cannot load."""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from bot.config import TOKEN_PATTERN, BotConfig

from .dev import NGROK_TOKEN_URL
from .telegram_api import TOKEN_HINT, TelegramUnreachable, telegram_call

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: ("✓", "green"), WARN: ("!", "yellow"), FAIL: ("✗", "red")}
PACKAGES = (
    "flask",
    "flask-sqlalchemy",
    "sqlalchemy",
    "flask-migrate",
    "flask-cors",
    "pyTelegramBotAPI",
    "waitress",
    "pyngrok",
    "python-dotenv",
)


@dataclass(frozen=True)
class Check:
    name: str
    state: str
    detail: str
    hint: str = ""


def check_python(database_url: str = "") -> list[Check]:
    checks = [
        Check(
            "python",
            OK if sys.version_info >= (3, 11) else FAIL,
            platform.python_version(),
            "" if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed",
        )
    ]
    needed = PACKAGES + (("psycopg",) if database_url.startswith("postgresql") else ())
    for name in needed:
        try:
            checks.append(Check(name, OK, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, FAIL, "not installed", 'pip install -e ".[postgres]"'))
    return checks


def check_bot(config: BotConfig) -> list[Check]:
    if not config.token:
        return [Check("BOT_TOKEN", FAIL, "not set", TOKEN_HINT)]
    if not TOKEN_PATTERN.match(config.token):
        return [
            Check(
                "BOT_TOKEN",
                FAIL,
                "does not look like a bot token (digits:secret)",
                "copy it again from @BotFather (/mybots → API Token)",
            )
        ]
    checks = [Check("BOT_TOKEN", OK, "well formed")]
    try:
        me = telegram_call(config, "getMe")
    except TelegramUnreachable as error:
        where = config.api_url
        return checks + [
            Check("getMe", WARN, f"{where} is unreachable ({error})", "check the network")
        ]
    if not me.get("ok"):
        hint = (
            "revoke and copy the token again in @BotFather" if me.get("error_code") == 401 else ""
        )
        return checks + [Check("getMe", FAIL, f"Telegram refused: {me.get('description')}", hint)]
    bot = me.get("result", {})
    checks.append(Check("getMe", OK, f"@{bot.get('username')} (id {bot.get('id')})"))
    return checks + [check_webhook(config)]


def check_webhook(config: BotConfig) -> Check:
    try:
        answer = telegram_call(config, "getWebhookInfo")
    except TelegramUnreachable as error:
        return Check("webhook", WARN, f"unknown ({error})")
    if not answer.get("ok"):
        return Check("webhook", WARN, f"unknown: {answer.get('description')}")
    info = answer.get("result", {})
    url = info.get("url", "")
    if not url:
        return Check("webhook", OK, "none set (long polling mode)")
    pending = info.get("pending_update_count", 0)
    detail = f"{url} ({pending} updates pending)"
    if info.get("last_error_message"):
        return Check(
            "webhook",
            FAIL,
            f"{detail}; last error: {info['last_error_message']}",
            "is the web app reachable at that URL over HTTPS?",
        )
    if config.public_url and not url.startswith(config.public_url):
        return Check(
            "webhook", WARN, detail, f"it does not point at PUBLIC_URL {config.public_url}"
        )
    return Check("webhook", OK, detail)


def check_database(url: str) -> list[Check]:
    from alembic.migration import MigrationContext
    from sqlalchemy import make_url, text

    from schedule.db import make_engine

    from ..migrate import MIGRATIONS

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    sqlite_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    )
    if sqlite_file and not Path(parsed.database).exists():
        return [Check("database", FAIL, f"{shown}: no such file", "flask --app webapp db upgrade")]
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    engine = make_engine(url, connect_args=connect_args)
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # not "Context impl SQLiteImpl." in the report
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # noqa: BLE001 - any driver error means "cannot use it"
        message = str(error).splitlines()[0]
        return [
            Check("database", FAIL, f"{shown}: {message}", "is DATABASE_URL right, the server up?")
        ]
    finally:
        alembic_log.setLevel(level)
        engine.dispose()
    heads = set(_migration_heads(MIGRATIONS))
    checks = [Check("database", OK, f"{shown} answers")]
    if current == heads:
        checks.append(Check("schema", OK, f"at the latest migration ({', '.join(sorted(heads))})"))
    else:
        at = ", ".join(sorted(current)) or "no migration applied"
        checks.append(
            Check(
                "schema",
                FAIL,
                f"{at}; the latest is {', '.join(sorted(heads))}",
                "flask --app webapp db upgrade",
            )
        )
    return checks


def _migration_heads(directory: str) -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return list(ScriptDirectory.from_config(config).get_heads())


def check_public_url(url: str) -> Check:
    if not url:
        return Check(
            "PUBLIC_URL",
            WARN,
            "not set: the bot cannot offer the Mini App",
            "`flask --app webapp dev --tunnel` provides one in development",
        )
    if not url.startswith("https://"):
        return Check(
            "PUBLIC_URL", FAIL, f"{url} is not https", "Telegram opens Mini Apps over HTTPS only"
        )
    return Check("PUBLIC_URL", OK, url)


def check_cors(origins: list[str]) -> Check:
    if not origins:
        return Check("CORS_ORIGINS", OK, "none (the Mini App is same-origin and needs none)")
    from urllib.parse import urlsplit

    bad = []
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            bad.append(origin)
    if bad:
        return Check(
            "CORS_ORIGINS",
            FAIL,
            f"not origins: {', '.join(bad)}",
            "write scheme://host[:port], no path, no trailing slash, no *",
        )
    return Check("CORS_ORIGINS", OK, ", ".join(origins))


def check_ngrok(token: str) -> list[Check]:
    from pyngrok import conf

    path = conf.get_default().ngrok_path
    binary = (
        Check("ngrok", OK, path)
        if Path(path).exists()
        else Check(
            "ngrok",
            WARN,
            f"no binary at {path}",
            "pyngrok downloads it on the first `dev --tunnel` (needs the network)",
        )
    )
    token = (
        Check("NGROK_AUTHTOKEN", OK, "set")
        if token
        else Check(
            "NGROK_AUTHTOKEN", WARN, "not set (only `dev --tunnel` needs it)", NGROK_TOKEN_URL
        )
    )
    return [binary, token]


def check_timezone(app: Flask) -> Check:
    settings = app.config["SCHEDULE"]
    local = datetime.now(UTC).astimezone(settings.zone)
    return Check("TIMEZONE", OK, f"{settings.timezone}: now {local:%Y-%m-%d %H:%M} ({local:%z})")


def check_admins(app: Flask) -> Check:
    admins = app.config["ADMIN_IDS"]
    if not admins:
        return Check(
            "ADMIN_IDS", WARN, "none: nobody gets the trainer's view", "ADMIN_IDS=<your id>"
        )
    return Check("ADMIN_IDS", OK, ", ".join(str(i) for i in sorted(admins)))


def check_secret_key(app: Flask) -> Check:
    from ..secret import key_source

    source = key_source(app.config.get("SECRET_KEY"), app.instance_path)
    return Check("SECRET_KEY", OK, source)


# A message older than this still waiting means nothing is sending (or Telegram is away).
OUTBOX_STALE_SECONDS = 300


def check_outbox(app: Flask, url: str) -> list[Check]:
    """Messages waiting, how long the oldest has, and those Telegram refused for good."""
    from sqlalchemy.orm import Session

    from bot.models import inbox_stats
    from schedule import outbox
    from schedule.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            stats = outbox.stats(session, app.config["CLOCK"]())
            updates, _ = inbox_stats(session)
    except Exception as error:  # noqa: BLE001 - no outbox table yet: the schema check says why
        return [Check("outbox", WARN, f"cannot read it: {str(error).splitlines()[0]}")]
    finally:
        engine.dispose()
    detail = (
        f"{stats.pending} pending (oldest {stats.oldest_pending_seconds:.0f} s), "
        f"{stats.failed} refused for good, {stats.expired} expired; "
        f"{updates} webhook update(s) waiting"
    )
    stale = stats.oldest_pending_seconds > OUTBOX_STALE_SECONDS
    hint = (
        "is `python bot_main.py` or `flask --app webapp worker` running? "
        "Telegram reachable? (`flask --app webapp logs --service bot`)"
    )
    return [Check("outbox", WARN if stale else OK, detail, hint)]


def run_checks(app: Flask | None, load_error: Exception | None) -> list[Check]:
    checks = check_python(app.config["SQLALCHEMY_DATABASE_URI"] if app is not None else "")
    if app is None:
        checks.append(
            Check("configuration", FAIL, str(load_error), "fix the variable named above in .env")
        )
    else:
        config: BotConfig = app.config["CONFIG"].bot
        checks += check_bot(config)
        database = check_database(app.config["SQLALCHEMY_DATABASE_URI"])
        checks += database
        if all(check.state == OK for check in database):
            checks += check_outbox(app, app.config["SQLALCHEMY_DATABASE_URI"])
        checks += [
            check_secret_key(app),
            check_public_url(app.config["PUBLIC_URL"]),
            check_cors(app.config["CORS_ORIGINS"]),
            check_admins(app),
            check_timezone(app),
        ]
    return checks + check_ngrok(app.config["CONFIG"].ngrok_authtoken if app is not None else "")


@click.command("diagnose")
@click.pass_context
def diagnose(ctx: click.Context) -> None:
    """Check the token, database, tunnel, webhook and configuration; exit 1 on a failure."""
    app, load_error = None, None
    try:
        app = current_app._get_current_object() if current_app else None
        app = app or ctx.ensure_object(ScriptInfo).load_app()
    except Exception as error:  # noqa: BLE001 - a broken configuration is what we report
        load_error = error
    checks = run_checks(app, load_error)
    for check in checks:
        mark, color = MARKS[check.state]
        click.echo(f"{click.style(mark, fg=color)} {check.name}: {check.detail}")
        if check.hint and check.state != OK:
            click.echo(f"    → {check.hint}")
    failed = [c for c in checks if c.state == FAIL]
    if failed:
        click.echo(f"\n{len(failed)} check(s) failed.", err=True)
        ctx.exit(1)
    click.echo("\nAll checks passed.")
