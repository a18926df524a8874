"""The Flask configuration the web app starts from: the project's final configuration (read
from the environment by runtime.config, overrides applied there) as Flask config keys.

`ProjectConfig` names what the web app reads of it; runtime.config.Config is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from schedule import Settings
from schedule.db import engine_options
from schedule.models import utcnow

MAX_BODY_BYTES = 64 * 1024


class BotPart(Protocol):
    token: str
    public_url: str
    admin_ids: frozenset[int]


class ProjectConfig(Protocol):
    bot: BotPart
    secret_key: str
    cors_origins: tuple[str, ...]
    init_data_max_age: int
    dev_login: bool
    metrics_token: str
    metrics_allow: str
    metrics_multiprocess_dir: str
    log_dir: Path
    miniapp_short_name: str
    bot_username: str

    @property
    def settings(self) -> Settings: ...

    @property
    def database_url(self) -> str: ...

    @property
    def dependency_deadline(self) -> float: ...


def flask_config(config: ProjectConfig) -> dict[str, object]:
    bot = config.bot
    return {
        # The whole configuration, for the parts that need more than the keys below.
        "CONFIG": config,
        "SECRET_KEY": config.secret_key or None,
        "SQLALCHEMY_DATABASE_URI": config.database_url,
        # Every wait on the database within the dependency deadline (schedule.db.Deadlines).
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            **engine_options(config.dependency_deadline),
        },
        # Redis's (webapp.ratelimit) and /healthz's (webapp.health) waits are shares of it too.
        "DEPENDENCY_DEADLINE_SECONDS": config.dependency_deadline,
        "SCHEDULE": config.settings,
        "BOT_TOKEN": bot.token,
        "ADMIN_IDS": bot.admin_ids,
        "PUBLIC_URL": bot.public_url,
        "CORS_ORIGINS": list(config.cors_origins),
        "INIT_DATA_MAX_AGE": config.init_data_max_age,
        "DEV_LOGIN": config.dev_login,
        "METRICS_TOKEN": config.metrics_token,
        "METRICS_ALLOW": config.metrics_allow,
        # Links that open one training (webapp/links.py): t.me/<BOT_USERNAME>/<MINIAPP_SHORT_NAME>.
        "MINIAPP_SHORT_NAME": config.miniapp_short_name,
        "BOT_USERNAME": config.bot_username,
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        # Naive-UTC "now" for every rule; tests replace it with a controllable clock.
        "CLOCK": utcnow,
    }
