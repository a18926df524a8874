"""The bot's part of the configuration (token, Bot API, trainers, database, the studio's rules),
parsed from the environment mapping the composition root (bootstrap.py) hands it."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from schedule import ConfigError, Settings
from schedule.db import database_url

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# Telegram allows 1-256 of these characters in a webhook's secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def parse_admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"ADMIN_IDS: {part!r} is not a Telegram user id")
        ids.add(int(part))
    return frozenset(ids)


@dataclass(frozen=True)
class BotConfig:
    token: str = ""
    api_url: str = DEFAULT_API_URL
    public_url: str = ""
    admin_ids: frozenset[int] = frozenset()
    webhook_secret: str = ""
    database_url: str = ""
    settings: Settings = Settings()
    # Seconds a trainer's news of a client's own action is held (a cancel within it folds).
    trainer_news_delay: float = 60.0

    @property
    def web_app_url(self) -> str | None:
        """PUBLIC_URL when Telegram would accept it for a web_app button (https only)."""
        return self.public_url if self.public_url.startswith("https://") else None

    def _derived(self, purpose: str) -> str:
        return hmac.new(self.token.encode(), purpose.encode(), hashlib.sha256).hexdigest()

    @property
    def webhook_secret_token(self) -> str:
        """What Telegram sends in X-Telegram-Bot-Api-Secret-Token: WEBHOOK_SECRET, or one
        derived from the token, so that every web process agrees without extra config."""
        return self.webhook_secret or self._derived("webhook-secret-token")

    @property
    def webhook_path(self) -> str:
        """The secret last segment of the webhook URL (never the token itself)."""
        return self._derived("webhook-path")[:32]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BotConfig:
        api_url = env.get("TELEGRAM_API_URL", "").strip().rstrip("/") or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")) or api_url.endswith("/bot"):
            raise ConfigError(
                "TELEGRAM_API_URL must be a base URL like https://api.telegram.org "
                "(no trailing /bot)"
            )
        webhook_secret = env.get("WEBHOOK_SECRET", "").strip()
        if webhook_secret and not WEBHOOK_SECRET_PATTERN.match(webhook_secret):
            raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256 of them)")
        return cls(
            token=env.get("BOT_TOKEN", "").strip(),
            api_url=api_url,
            public_url=env.get("PUBLIC_URL", "").strip().rstrip("/"),
            admin_ids=parse_admin_ids(env.get("ADMIN_IDS", "")),
            webhook_secret=webhook_secret,
            database_url=_checked_database_url(env),
            settings=Settings.from_env(env),
            trainer_news_delay=_seconds(env, "TRAINER_NEWS_DELAY_SECONDS", 60.0),
        )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 86400, got {raw!r}")
    return value


def _checked_database_url(env: Mapping[str, str]) -> str:
    """DATABASE_URL (or the embedded default), refused at start-up unless SQLAlchemy can read
    it and knows its database."""
    url = database_url(env)
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ConfigError(
            "DATABASE_URL must be a database URL like postgresql://user:pass@host/db"
        ) from None
    return url
