"""The bot's username, which links to the Mini App need (https://t.me/<bot>/<app>).

BOT_USERNAME names it; unset, the runtime hands the web app `username_lookup(config)`
(app.extensions["bot_username"]), which asks getMe once and keeps the answer. A request never
waits on Telegram for more than LOOKUP_TIMEOUT seconds, and a failed lookup is not tried again
for RETRY_SECONDS (the share route says links are off meanwhile).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import requests

from .config import BotConfig

log = logging.getLogger("bot")

LOOKUP_TIMEOUT = 3.0
RETRY_SECONDS = 60.0


def username_lookup(config: BotConfig) -> Callable[[], str | None]:
    """A callable answering the bot's username (getMe, asked once), or None while unknown."""
    lock = threading.Lock()
    known: dict[str, object] = {"name": None, "failed_at": None}

    def lookup() -> str | None:
        with lock:
            if known["name"] is not None:
                return known["name"]
            failed_at = known["failed_at"]
            if failed_at is not None and time.monotonic() - failed_at < RETRY_SECONDS:
                return None
            try:
                answer = requests.get(
                    f"{config.api_url}/bot{config.token}/getMe", timeout=LOOKUP_TIMEOUT
                ).json()
                name = answer["result"]["username"] if answer.get("ok") else None
            except (requests.RequestException, ValueError, KeyError, TypeError) as error:
                log.warning("getMe failed: %s", type(error).__name__)
                name = None
            if not isinstance(name, str) or not name:
                known["failed_at"] = time.monotonic()
                return None
            known["name"] = name
            return name

    return lookup
