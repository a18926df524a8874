"""Commands of `flask --app webapp …`: dev, diagnose, logs, purge, delete-user, demo-data.

Thin adapters: storage chores live in schedule.maintenance, the log format in webapp.logs.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import logging
import platform
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

from bot.config import TOKEN_PATTERN, BotConfig
from schedule import maintenance

from . import logs
from .extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NGROK_CONFIG = PROJECT_ROOT / "ngrok.yml"
TELEGRAM_TIMEOUT = 5
TOKEN_HINT = "create a bot with @BotFather (/newbot) and put BOT_TOKEN=<token> in .env"
NGROK_TOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"


def init_app(app: Flask) -> None:
    from .worker import worker

    for command in (dev, diagnose, logs_command, purge, delete_user, demo_data, worker):
        app.cli.add_command(command)


# The Bot API, as much as these commands need --------------------------------------------


class TelegramUnreachable(Exception):
    """No answer from the Bot API (network, DNS, timeout)."""


def telegram_call(config: BotConfig, method: str, payload: dict | None = None) -> dict:
    """`<api_url>/bot<token>/<method>`; Telegram's JSON answer, also for its 4xx refusals."""
    url = f"{config.api_url}/bot{config.token}/{method}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TELEGRAM_TIMEOUT) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            return json.loads(error.read())
        except ValueError:
            return {"ok": False, "error_code": error.code, "description": error.reason}
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        raise TelegramUnreachable(str(getattr(error, "reason", error))) from None


def point_menu_button(config: BotConfig, url: str) -> dict:
    """The bot's chat menu button opens the Mini App at `url` (for every chat)."""
    from bot.texts import EN, label

    button = {"type": "web_app", "text": label(EN, "btn_open_app"), "web_app": {"url": url}}
    return telegram_call(config, "setChatMenuButton", {"menu_button": button})


# dev ------------------------------------------------------------------------------------


class Delegate:
    """A WSGI app whose target is set once the tunnel (if any) has given the public URL."""

    def __init__(self) -> None:
        self.target: Flask | None = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


def open_tunnel(
    port: int, token: str, say: Callable[[str], None]
) -> tuple[str, Callable[[], None]] | None:
    """An HTTPS ngrok tunnel to `port` (settings in ngrok.yml, NGROK_AUTHTOKEN `token`), or
    None with the reason said."""
    if not token:
        say(
            "✗ tunnel: NGROK_AUTHTOKEN is not set. Copy your token from "
            f"{NGROK_TOKEN_URL} into .env as NGROK_AUTHTOKEN=<token>. Running locally only."
        )
        return None
    from pyngrok import conf, ngrok

    config = conf.PyngrokConfig(
        config_path=str(NGROK_CONFIG) if NGROK_CONFIG.exists() else None, auth_token=token
    )
    try:
        tunnel = ngrok.connect(str(port), "http", name="webapp", pyngrok_config=config)
    except Exception as error:  # noqa: BLE001 - pyngrok, download and network errors alike
        say(
            f"✗ tunnel: ngrok could not open a tunnel ({error.__class__.__name__}: {error}). "
            "Check the network and NGROK_AUTHTOKEN; running locally only."
        )
        return None
    url = tunnel.public_url or ""
    if url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    return url, lambda: _close_tunnel(ngrok, tunnel, config)


def _close_tunnel(ngrok, tunnel, config) -> None:
    try:
        ngrok.disconnect(tunnel.public_url, pyngrok_config=config)
        ngrok.kill(pyngrok_config=config)
    except Exception:  # noqa: BLE001 - shutting down anyway
        pass


def app_for_public_url(app: Flask, public_url: str) -> Flask:
    """A twin of `app` for this run: PUBLIC_URL and a CORS origin set to the tunnel."""
    from . import create_app

    origins = [o for o in app.config["CORS_ORIGINS"] if o != public_url] + [public_url]
    overrides = {
        "PUBLIC_URL": public_url,
        "CORS_ORIGINS": origins,
        "BOT": dataclasses.replace(app.config["BOT"], public_url=public_url),
    }
    return create_app({**app.config, **overrides}, config=app.config["CONFIG"])


def _start_bot(config: BotConfig, stop: threading.Event, say) -> threading.Thread | None:
    if not config.token:
        say(f"• bot: BOT_TOKEN is not set, running the web app alone ({TOKEN_HINT}).")
        return None
    try:
        from bot.runner import run_polling
    except ImportError as error:
        say(f"✗ bot: cannot start it ({error}); running the web app alone.")
        return None

    def run() -> None:
        try:
            run_polling(config, stop_event=stop)
        except Exception:  # noqa: BLE001 - the web app keeps running
            logging.getLogger("bot.dev").exception("the bot stopped")

    thread = threading.Thread(target=run, name="bot", daemon=True)
    thread.start()
    return thread


def wait_for_interrupt(stop: threading.Event) -> None:
    """Block until Ctrl+C (a KeyboardInterrupt) or `stop` is set."""
    while not stop.wait(0.5):
        pass


@click.command("dev")
@click.option("--tunnel", is_flag=True, help="Open an HTTPS ngrok tunnel and use it as PUBLIC_URL.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@with_appcontext
def dev(tunnel: bool, port: int, host: str) -> None:
    """Run the web app and the bot (long polling) together; Ctrl+C stops both."""
    from werkzeug.serving import make_server

    app: Flask = current_app._get_current_object()
    say = click.echo
    delegate = Delegate()
    try:
        server = make_server(host, port, delegate, threaded=True)
    except (OSError, SystemExit) as error:  # werkzeug exits by itself on a busy port
        reason = getattr(error, "strerror", None) or "the port is taken or not allowed"
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    local_url = f"http://{host}:{server.server_port}"
    stop = threading.Event()
    close_tunnel = bot = None
    serving = False
    try:
        public_url = app.config["PUBLIC_URL"]
        token = app.config["CONFIG"].ngrok_authtoken
        if tunnel and (opened := open_tunnel(server.server_port, token, say)):
            public_url, close_tunnel = opened
        delegate.target = app_for_public_url(app, public_url) if close_tunnel else app
        # Configured last: creating an app may run migrations, which reset logging.
        write_files = not app.testing or bool(app.config.get("LOG_DIR"))
        logs.configure(
            ("web", "bot"),
            directory=logs.log_dir(app),
            files=write_files,
            no_color=app.config["CONFIG"].no_color,
        )
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
        serving = True
        say(f"• web: the Mini App at {local_url}")
        bot_config = dataclasses.replace(app.config["BOT"], public_url=public_url)
        if close_tunnel:
            say(f"• tunnel: {public_url} → {local_url}")
            say(f"  Give BotFather this URL: /newapp (or /setmenubutton) → {public_url}")
            _point_menu(bot_config, public_url, say)
        bot = _start_bot(bot_config, stop, say)
        say("Press Ctrl+C to stop.")
        wait_for_interrupt(stop)
    except KeyboardInterrupt:
        pass
    finally:
        say("Stopping…")
        stop.set()
        if serving:
            server.shutdown()
        server.server_close()
        if bot is not None:
            bot.join(timeout=10)
        if close_tunnel:
            close_tunnel()
        say("Stopped.")
        logs.reset()


def _point_menu(config: BotConfig, url: str, say) -> None:
    if not config.token:
        return
    try:
        answer = point_menu_button(config, url)
    except TelegramUnreachable as error:
        say(f"✗ menu button: Telegram is unreachable ({error}); set it later with /setmenubutton.")
        return
    if answer.get("ok"):
        say(f"✓ menu button: the bot's menu opens {url}")
    else:
        say(f"✗ menu button: Telegram refused it: {answer.get('description')}")


# diagnose -------------------------------------------------------------------------------

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
    info = answer.get("result", {}) if answer.get("ok") else {}
    if not answer.get("ok"):
        return Check("webhook", WARN, f"unknown: {answer.get('description')}")
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

    from . import MIGRATIONS

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
    from .secret import key_source

    source = key_source(
        app.config.get("SECRET_KEY"), app.config["CONFIG"].secret_key, app.instance_path
    )
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
        config: BotConfig = app.config["BOT"]
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


# logs -----------------------------------------------------------------------------------


@click.command("logs")
@click.option(
    "--service", type=click.Choice(["all", *logs.SERVICES]), default="all", show_default=True
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl+C.")
@click.option("--tail", "-n", type=click.IntRange(min=0), default=50, show_default=True)
@click.option(
    "--level",
    type=click.Choice(logs.LEVELS, case_sensitive=False),
    default="DEBUG",
    show_default=True,
    help="Show this level and above.",
)
@with_appcontext
def logs_command(service: str, follow: bool, tail: int, level: str) -> None:
    """Show the JSON logs of logs/<service>.log as readable lines."""
    directory = logs.log_dir(current_app)
    services = logs.SERVICES if service == "all" else (service,)
    paths = [directory / f"{name}.log" for name in services]
    if not any(path.exists() and path.stat().st_size for path in paths) and not follow:
        raise click.ClickException(
            f"no logs in {directory} ({', '.join(p.name for p in paths)}); they appear once "
            "the web app or the bot has run"
        )
    color = sys.stdout.isatty()
    ends = logs.sizes(paths)
    entries = [e for path in paths for e in logs.read_entries(path, tail, level, ends[path])]
    entries.sort(key=logs.instant)
    for entry in entries[-tail:] if tail else []:
        click.echo(logs.format_line(entry, color))
    if follow:
        try:
            for entry in logs.follow(paths, level, positions=ends):
                click.echo(logs.format_line(entry, color))
        except KeyboardInterrupt:
            pass


# data -----------------------------------------------------------------------------------


def _now() -> datetime:
    return current_app.config["CLOCK"]()


@click.command("purge")
@click.option("--days", type=click.IntRange(min=0), required=True, help="Keep the last N days.")
@click.option("--yes", is_flag=True, help="Delete; without it nothing changes (a dry run).")
@with_appcontext
def purge(days: int, yes: bool) -> None:
    """Delete cancelled bookings, past trainings and closures older than N days."""
    report = maintenance.purge(db.session(), days, now=_now(), dry_run=not yes)
    cutoff = _now() - timedelta(days=days)
    click.echo(f"Older than {days} days (before {cutoff:%Y-%m-%d %H:%M} UTC):")
    click.echo(f"  cancelled bookings: {report.cancelled}")
    click.echo(f"  past bookings:      {report.past}")
    click.echo(f"  past closures:      {report.closures}")
    click.echo(f"  settled messages:   {report.messages}")
    if not yes:
        click.echo("Dry run: nothing deleted. Run again with --yes to delete.")
    else:
        rows = ", ".join(f"{table} {n}" for table, n in sorted(report.tables.items())) or "none"
        click.echo(f"Deleted rows: {rows}.")


@click.command("delete-user")
@click.argument("telegram_id", type=int)
@click.option("--yes", is_flag=True, help="Delete; without it only show what would go.")
@with_appcontext
def delete_user(telegram_id: int, yes: bool) -> None:
    """Delete a user and everything stored about them (a privacy request)."""
    found = maintenance.user_footprint(db.session(), telegram_id, now=_now())
    if found is None:
        raise click.ClickException(f"no user with Telegram id {telegram_id}")
    click.echo(
        f"User {found.telegram_id} ({found.name}): {found.bookings} bookings, "
        f"{found.upcoming} of them upcoming."
    )
    if not yes:
        click.echo("Nothing deleted. Run again with --yes to delete this user and their data.")
        return
    removed = maintenance.delete_user(db.session(), telegram_id) or {}
    rows = ", ".join(f"{table} {n}" for table, n in sorted(removed.items()))
    click.echo(f"Deleted: {rows}.")


@click.command("demo-data")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--clear", is_flag=True, help="Remove the demo users and their bookings instead.")
@click.option("--yes", is_flag=True, help="Needed on PostgreSQL, where real clients may book.")
@with_appcontext
def demo_data(seed: int, clear: bool, yes: bool) -> None:
    """Demo clients (Russian and English names) and a week of bookings, by the booking rules."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not clear and not yes and not url.startswith("sqlite"):
        raise click.ClickException(
            "demo bookings take real places; this is not a SQLite database, so add --yes "
            "if nobody books here"
        )
    if clear:
        ids = maintenance.demo_users(db.session())
        for telegram_id in ids:
            maintenance.delete_user(db.session(), telegram_id)
        click.echo(f"Removed {len(ids)} demo users and their bookings.")
        return
    report = maintenance.load_demo_week(
        db.session(), current_app.config["SCHEDULE"], now=_now(), seed=seed
    )
    click.echo(
        f"Demo data: {report.users} users, {report.booked} bookings over the next week "
        f"({report.cancelled} of them cancelled)."
    )
    if report.full_start is not None:
        local = report.full_start.replace(tzinfo=UTC).astimezone(
            current_app.config["SCHEDULE"].zone
        )
        click.echo(f"Full start: {local:%a %d %b %H:%M}, {report.waiting} clients waiting.")
    click.echo("Running it again replaces the demo data; real clients are never touched.")
    click.echo("Remove it with `flask --app webapp demo-data --clear`.")
