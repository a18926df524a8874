"""Flask configuration from the environment (and .env, which the flask CLI and wsgi.py load)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.config import BotConfig
from schedule import ConfigError
from schedule.models import utcnow
from schedule.settings import parse_bool

MAX_BODY_BYTES = 64 * 1024


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    env = os.environ if environ is None else environ
    bot = BotConfig.from_env(env)
    return {
        # Unset: create_app reads (or makes once) instance/secret_key (webapp.secret).
        "SECRET_KEY": env.get("SECRET_KEY", "").strip() or None,
        "SQLALCHEMY_DATABASE_URI": bot.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BOT": bot,
        "SCHEDULE": bot.settings,
        "BOT_TOKEN": bot.token,
        "ADMIN_IDS": bot.admin_ids,
        "PUBLIC_URL": bot.public_url,
        "CORS_ORIGINS": [o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
        "INIT_DATA_MAX_AGE": _int(env, "INIT_DATA_MAX_AGE", 86400),
        "DEV_LOGIN": parse_bool("DEV_LOGIN", env.get("DEV_LOGIN", "0")),
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        # Naive-UTC "now" for every rule; tests replace it with a controllable clock.
        "CLOCK": utcnow,
    }
