"""The bot's configuration from the environment; the web app reads the same variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from schedule import ConfigError, Settings
from schedule.db import database_url

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")


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

    @property
    def web_app_url(self) -> str | None:
        """PUBLIC_URL when Telegram would accept it for a web_app button (https only)."""
        return self.public_url if self.public_url.startswith("https://") else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BotConfig:
        env = os.environ if environ is None else environ
        api_url = env.get("TELEGRAM_API_URL", "").strip().rstrip("/") or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")) or api_url.endswith("/bot"):
            raise ConfigError(
                "TELEGRAM_API_URL must be a base URL like https://api.telegram.org "
                "(no trailing /bot)"
            )
        return cls(
            token=env.get("BOT_TOKEN", "").strip(),
            api_url=api_url,
            public_url=env.get("PUBLIC_URL", "").strip().rstrip("/"),
            admin_ids=parse_admin_ids(env.get("ADMIN_IDS", "")),
            webhook_secret=env.get("WEBHOOK_SECRET", "").strip(),
            database_url=database_url(env),
            settings=Settings.from_env(env),
        )
