"""The composition root: the one place that reads the environment and wires the parts.

Every entry point starts here: `flask --app webapp …` and the tests (through
webapp.create_app), `waitress-serve wsgi:app`, `python bot_main.py`. The environment (and
`.env`, which those entry points load first) is read once per process start into a `Config`;
the parts receive it and never read `os.environ` themselves (tests/test_layers.py holds that).
Flask's app is built by webapp.build_app, which knows nothing of the bot; the bot, its notifier
and the session factory they share are wired to it here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import sessionmaker

from bot.config import DEFAULT_API_URL, BotConfig
from schedule import ConfigError, Settings
from schedule.settings import parse_bool

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_METRICS_ALLOW = "127.0.0.1,::1"
DEV_LOGIN_REFUSED = (
    "DEV_LOGIN=1 lets anyone act as any user: it is refused outside `flask run --debug`"
)


@dataclass(frozen=True)
class Config:
    """The project's configuration: the studio's rules and the bot's part (BotConfig, which
    holds the rules as `settings`), and what only the web app, the logs and the commands use."""

    bot: BotConfig = field(default_factory=BotConfig)
    # Unset: the web app reads (or makes once) instance/secret_key (webapp.secret).
    secret_key: str = ""
    cors_origins: tuple[str, ...] = ()
    init_data_max_age: int = 86400
    dev_login: bool = False
    metrics_token: str = ""
    metrics_allow: str = DEFAULT_METRICS_ALLOW
    # Several web processes sum their metrics through files there (prometheus_client).
    metrics_multiprocess_dir: str = ""
    log_dir: Path = PROJECT_ROOT / "logs"
    # NO_COLOR (no-color.org): terminal log lines without colours.
    no_color: bool = False
    ngrok_authtoken: str = ""

    @property
    def settings(self) -> Settings:
        return self.bot.settings

    @property
    def database_url(self) -> str:
        return self.bot.database_url


def read_config(environ: Mapping[str, str]) -> Config:
    """The whole configuration from `environ`; a bad value is a ConfigError naming it."""
    log_dir = environ.get("LOG_DIR", "").strip()
    return Config(
        bot=BotConfig.from_env(environ),
        secret_key=environ.get("SECRET_KEY", "").strip(),
        cors_origins=tuple(
            o.strip() for o in environ.get("CORS_ORIGINS", "").split(",") if o.strip()
        ),
        init_data_max_age=_int(environ, "INIT_DATA_MAX_AGE", 86400),
        dev_login=parse_bool("DEV_LOGIN", environ.get("DEV_LOGIN", "0")),
        metrics_token=environ.get("METRICS_TOKEN", "").strip(),
        metrics_allow=environ.get("METRICS_ALLOW", DEFAULT_METRICS_ALLOW),
        metrics_multiprocess_dir=environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
        log_dir=Path(log_dir) if log_dir else PROJECT_ROOT / "logs",
        no_color=bool(environ.get("NO_COLOR")),
        ngrok_authtoken=environ.get("NGROK_AUTHTOKEN", "").strip(),
    )


def load_config() -> Config:
    """This process's configuration: the environment, read here and nowhere else."""
    return read_config(os.environ)


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


# The web app ----------------------------------------------------------------------------


def web_app(test_config: Mapping | None = None, *, config: Config | None = None) -> Flask:
    """The web app as it runs: Flask built from `config` (the environment's unless given) with
    `test_config` over it, then the bot and its notifier wired in, then the event counters."""
    from webapp import build_app, metrics

    app = build_app(config or load_config(), test_config)
    wire_telegram(app)
    metrics.count_events(app)  # wraps booking_events, so after the notifier is installed
    return app


def production_app() -> Flask:
    """`waitress-serve wsgi:app`: refuses DEV_LOGIN, which only `flask run --debug` allows."""
    config = load_config()
    if config.dev_login:
        sys.exit(DEV_LOGIN_REFUSED)
    return web_app(config=config)


def wire_telegram(app: Flask) -> None:
    """With BOT_TOKEN set, build the bot on the app's database and install its notifier as the
    app's booking_events (webapp.webhook.Telegram in app.extensions["telegram"]). Under testing,
    nothing ever calls the real api.telegram.org: the bot is built only when TELEGRAM_API_URL
    points elsewhere."""
    from bot.factory import create_bot
    from bot.notify import Notifier
    from webapp.extensions import db
    from webapp.webhook import Telegram, bot_config

    config = bot_config(app)
    if not config.token or (app.testing and config.api_url == DEFAULT_API_URL):
        return
    with app.app_context():
        session_factory = sessionmaker(db.engine, expire_on_commit=False)
    notifier = Notifier(config)
    bot = create_bot(
        config,
        session_factory,
        clock=lambda: app.config["CLOCK"](),
        # Through the app's hook, so that whatever wraps the notifier sees bot bookings too.
        on_event=lambda event: app.extensions["booking_events"](event),
    )
    app.extensions["telegram"] = Telegram(config, bot, notifier)
    app.extensions["booking_events"] = notifier
