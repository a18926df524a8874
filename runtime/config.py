"""The one reader of the environment: `os.environ` (and `.env`, which the entry points load
first) read once per process into one immutable `Config`.

Each package declares the configuration it needs and receives it from here, never reading the
environment itself (tests/test_layers.py holds that): `schedule.Settings` (the studio's rules),
`bot.config.BotConfig` (token, Bot API, trainers, database, and the rules), and the web app's
fields below, which webapp.config turns into Flask's keys. Overrides (instance/config.py, a
test's configuration) are applied to this object by `overridden`, so that the web app and the
bot are given views of the same final configuration, never copies rebuilt apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bot.config import DEFAULT_API_URL, WEBHOOK_SECRET_PATTERN, BotConfig
from schedule import ConfigError, Settings
from schedule.db import database_url
from schedule.settings import parse_bool

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_METRICS_ALLOW = "127.0.0.1,::1"


@dataclass(frozen=True)
class Config:
    """The project's configuration: the bot's part (BotConfig, which holds the studio's rules as
    `settings` and the database URL), and what only the web app, the logs and the commands use."""

    bot: BotConfig = field(default_factory=BotConfig)
    # Unset: the runtime reads (or makes once) instance/secret_key (runtime.secret).
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
    # Links that open one training (schedule/links.py): the Mini App's short name in
    # https://t.me/<bot>/<app> (BotFather → /newapp), and the bot's username, asked of getMe
    # when unset. Without a short name the trainer's share links are off (409 share_off).
    miniapp_short_name: str = ""
    bot_username: str = ""

    @property
    def settings(self) -> Settings:
        return self.bot.settings

    @property
    def database_url(self) -> str:
        return self.bot.database_url

    @property
    def dependency_deadline(self) -> float:
        return self.bot.dependency_deadline


def read_config(environ: Mapping[str, str]) -> Config:
    """The whole configuration from `environ`; a bad value is a ConfigError naming it."""
    log_dir = environ.get("LOG_DIR", "").strip()
    return Config(
        bot=read_bot_config(environ),
        secret_key=environ.get("SECRET_KEY", "").strip(),
        cors_origins=_list(environ.get("CORS_ORIGINS", "")),
        init_data_max_age=_int(environ, "INIT_DATA_MAX_AGE", 86400),
        dev_login=parse_bool("DEV_LOGIN", environ.get("DEV_LOGIN", "0")),
        metrics_token=environ.get("METRICS_TOKEN", "").strip(),
        metrics_allow=environ.get("METRICS_ALLOW", DEFAULT_METRICS_ALLOW),
        metrics_multiprocess_dir=environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
        log_dir=Path(log_dir) if log_dir else PROJECT_ROOT / "logs",
        no_color=bool(environ.get("NO_COLOR")),
        ngrok_authtoken=environ.get("NGROK_AUTHTOKEN", "").strip(),
        miniapp_short_name=_short_name(environ.get("MINIAPP_SHORT_NAME", "")),
        bot_username=_bot_username(environ.get("BOT_USERNAME", "")),
    )


def load_config() -> Config:
    """This process's configuration: the environment, read here and nowhere else."""
    return read_config(os.environ)


def read_bot_config(environ: Mapping[str, str]) -> BotConfig:
    api_url = environ.get("TELEGRAM_API_URL", "").strip().rstrip("/") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")) or api_url.endswith("/bot"):
        raise ConfigError(
            "TELEGRAM_API_URL must be a base URL like https://api.telegram.org (no trailing /bot)"
        )
    webhook_secret = environ.get("WEBHOOK_SECRET", "").strip()
    if webhook_secret and not WEBHOOK_SECRET_PATTERN.match(webhook_secret):
        raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256 of them)")
    settings = Settings.from_env(environ)  # ADMIN_IDS, TRAINER_NEWS_DELAY_SECONDS too
    return BotConfig(
        token=environ.get("BOT_TOKEN", "").strip(),
        api_url=api_url,
        public_url=environ.get("PUBLIC_URL", "").strip().rstrip("/"),
        webhook_secret=webhook_secret,
        database_url=_checked_database_url(environ),
        settings=settings,
        payment_provider_token=environ.get("PAYMENT_PROVIDER_TOKEN", "").strip(),
        schedule_channel_id=_channel_id(environ.get("SCHEDULE_CHANNEL_ID", "")),
        lease_seconds=_lease(environ.get("WORKER_LEASE_SECONDS", "")),
        dependency_deadline=_deadline(environ.get("DEPENDENCY_DEADLINE_SECONDS", "")),
    )


# Keys of instance/config.py or a test's configuration that are the project's configuration
# (the rest, such as TESTING or CLOCK, are Flask's own and go to Flask as they are).
_BOT_KEYS = {
    "SQLALCHEMY_DATABASE_URI": ("database_url", str),
    "BOT_TOKEN": ("token", str),
    "PUBLIC_URL": ("public_url", lambda v: str(v).rstrip("/")),
    "DEPENDENCY_DEADLINE_SECONDS": ("dependency_deadline", lambda v: _deadline(str(v))),
}
_OWN_KEYS = {
    "SECRET_KEY": ("secret_key", lambda v: v or ""),
    "CORS_ORIGINS": ("cors_origins", tuple),
    "INIT_DATA_MAX_AGE": ("init_data_max_age", int),
    "DEV_LOGIN": ("dev_login", bool),
    "METRICS_TOKEN": ("metrics_token", str),
    "METRICS_ALLOW": ("metrics_allow", str),
    "LOG_DIR": ("log_dir", Path),
    "MINIAPP_SHORT_NAME": ("miniapp_short_name", lambda v: _short_name(str(v))),
    "BOT_USERNAME": ("bot_username", lambda v: _bot_username(str(v))),
}
PROJECT_KEYS = frozenset(
    {*_BOT_KEYS, *_OWN_KEYS, "BOT", "CONFIG", "SCHEDULE", "ADMIN_IDS", "TRAINER_NEWS_DELAY_SECONDS"}
    - {"LOG_DIR"}  # also Flask's: under testing, log files are written only when it is given
)


def overridden(config: Config, keys: Mapping[str, object]) -> Config:
    """`config` with the keys of instance/config.py or a test's configuration applied (BOT, a
    whole bot part; then SCHEDULE, BOT_TOKEN, ADMIN_IDS, SQLALCHEMY_DATABASE_URI, … over it):
    one final configuration that the web app's keys and the bot are both made from."""
    base = keys.get("BOT", config.bot)
    bot = {name: cast(keys[key]) for key, (name, cast) in _BOT_KEYS.items() if key in keys}
    own = {name: cast(keys[key]) for key, (name, cast) in _OWN_KEYS.items() if key in keys}
    return replace(config, bot=replace(base, settings=_rules(base, keys), **bot), **own)


def flask_only(keys: Mapping[str, object]) -> dict[str, object]:
    """The keys that are Flask's own, not the project's (those went into the Config)."""
    return {key: value for key, value in keys.items() if key not in PROJECT_KEYS}


def _rules(bot: BotConfig, keys: Mapping[str, object]) -> Settings:
    """The studio's rules after the overrides: SCHEDULE replaces them, ADMIN_IDS and
    TRAINER_NEWS_DELAY_SECONDS are set over it (a SCHEDULE naming no trainers keeps those
    already configured)."""
    settings = keys.get("SCHEDULE", bot.settings)
    admin_ids = keys.get("ADMIN_IDS", settings.admin_ids or bot.settings.admin_ids)
    delay = keys.get("TRAINER_NEWS_DELAY_SECONDS", settings.trainer_news_delay)
    return replace(settings, admin_ids=frozenset(admin_ids), trainer_news_delay=float(delay))


# What Telegram allows: a Mini App's short name is 3-30 letters, digits and underscores; a
# bot's username 5-32 of them (written with or without the @).
_SHORT_NAME = re.compile(r"[A-Za-z0-9_]{3,30}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


def _channel_id(raw: str) -> int | None:
    """SCHEDULE_CHANNEL_ID: a channel's numeric id (-100…, as the Bot API gives it); empty:
    no channel. The outbox addresses chats by number, so an @username is not taken."""
    value = raw.strip()
    if not value:
        return None
    if not re.fullmatch(r"-?[0-9]{1,18}", value) or int(value) == 0:
        raise ConfigError(
            "SCHEDULE_CHANNEL_ID must be the channel's numeric id as the Bot API gives it, "
            "like -1001234567890"
        )
    return int(value)


def _lease(raw: str) -> float:
    """WORKER_LEASE_SECONDS [10]: 1-30 (DESIGN.md: a dead worker frees what it held within
    30 s; under 1 s a busy database could let a live worker's lease lapse)."""
    return _seconds(raw, "WORKER_LEASE_SECONDS", BotConfig.lease_seconds)


def _deadline(raw: str) -> float:
    """DEPENDENCY_DEADLINE_SECONDS [5]: 1-30 (DESIGN.md: a request never waits more than 5 s on
    a dependency; under 1 s a busy but living database would fail requests)."""
    return _seconds(raw, "DEPENDENCY_DEADLINE_SECONDS", BotConfig.dependency_deadline)


def _seconds(raw: str, name: str, default: float) -> float:
    """A number of seconds from 1 to 30; empty is the default."""
    value = raw.strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 30:
        raise ConfigError(f"{name} must be a number of seconds from 1 to 30")
    return seconds


def _short_name(raw: str) -> str:
    name = raw.strip()
    if name and not _SHORT_NAME.fullmatch(name):
        raise ConfigError(
            "MINIAPP_SHORT_NAME must be the Mini App's short name from BotFather "
            "(3-30 letters, digits or _), as in https://t.me/<bot>/<short name>"
        )
    return name


def _bot_username(raw: str) -> str:
    name = raw.strip().removeprefix("@")
    if name and not _USERNAME.fullmatch(name):
        raise ConfigError("BOT_USERNAME must be the bot's username (5-32 letters, digits or _)")
    return name


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _checked_database_url(environ: Mapping[str, str]) -> str:
    """DATABASE_URL (or the embedded default), refused at start-up unless SQLAlchemy can read
    it and knows its database."""
    url = database_url(environ)
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ConfigError(
            "DATABASE_URL must be a database URL like postgresql://user:pass@host/db"
        ) from None
    return url
