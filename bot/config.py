"""The bot's part of the configuration (token, Bot API, trainers, database, the studio's rules):
what the bot needs, filled from the environment by runtime.config."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from schedule import Settings
from schedule.db import DEFAULT_DEADLINE_S

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# Telegram allows 1-256 of these characters in a webhook's secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class BotConfig:
    """The bot's view of the configuration. The trainers and the news delay are the studio's
    rules (`settings.admin_ids`, `settings.trainer_news_delay`), read there."""

    token: str = ""
    api_url: str = DEFAULT_API_URL
    public_url: str = ""
    webhook_secret: str = ""
    database_url: str = ""
    settings: Settings = Settings()
    # BotFather -> Payments: the provider's token (a test one in development); empty: no sales.
    payment_provider_token: str = ""
    # The studio's Telegram channel (its numeric id, the bot one of its admins): the coming
    # week's free places are posted there each Sunday evening (bot/broadcasts.py); None: off.
    schedule_channel_id: int | None = None
    # How long a worker holds an outbox row or a webhook update it took without renewing it
    # (its heartbeat renews it every third of that): a killed worker's work is taken up by
    # another within this long.
    lease_seconds: float = 10.0
    # DEPENDENCY_DEADLINE_SECONDS: the longest a request or a loop waits on the database (or
    # any other dependency) before it fails; each wait's share of it is schedule.db.Deadlines.
    dependency_deadline: float = DEFAULT_DEADLINE_S

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def admin_ids(self) -> frozenset[int]:
        return self.settings.admin_ids

    @property
    def trainer_news_delay(self) -> float:
        """Seconds a trainer's news of a client's own action is held (a cancel within it
        folds it away)."""
        return self.settings.trainer_news_delay

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
