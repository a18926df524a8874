"""The Flask configuration the web app starts from: the project's Config (read from the
environment by the composition root, bootstrap.py) as Flask config keys, which
instance/config.py and the tests' configuration may then override one by one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schedule.models import utcnow

if TYPE_CHECKING:
    from bootstrap import Config

MAX_BODY_BYTES = 64 * 1024


def flask_config(config: Config) -> dict[str, object]:
    bot = config.bot
    return {
        # The whole configuration, for the parts that need more than the keys below.
        "CONFIG": config,
        # Unset: build_app reads (or makes once) instance/secret_key (webapp.secret).
        "SECRET_KEY": config.secret_key or None,
        "SQLALCHEMY_DATABASE_URI": bot.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BOT": bot,
        "SCHEDULE": bot.settings,
        "BOT_TOKEN": bot.token,
        "ADMIN_IDS": bot.admin_ids,
        "PUBLIC_URL": bot.public_url,
        "CORS_ORIGINS": list(config.cors_origins),
        "INIT_DATA_MAX_AGE": config.init_data_max_age,
        "DEV_LOGIN": config.dev_login,
        "METRICS_TOKEN": config.metrics_token,
        "METRICS_ALLOW": config.metrics_allow,
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        # Naive-UTC "now" for every rule; tests replace it with a controllable clock.
        "CLOCK": utcnow,
    }
