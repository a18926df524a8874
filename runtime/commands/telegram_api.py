"""The Bot API, as much as `dev` and `diagnose` need, over plain HTTP: these commands must
answer (and say what is wrong) even where the bot itself cannot be built."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from bot.config import BotConfig

TELEGRAM_TIMEOUT = 5
TOKEN_HINT = "create a bot with @BotFather (/newbot) and put BOT_TOKEN=<token> in .env"


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
    from bot.texts import label
    from schedule.i18n import DEFAULT

    button = {"type": "web_app", "text": label(DEFAULT, "btn_open_app"), "web_app": {"url": url}}
    return telegram_call(config, "setChatMenuButton", {"menu_button": button})
