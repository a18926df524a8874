"""How the bot reaches the Bot API: the base URL, and retries for 429 and network errors.

pyTelegramBotAPI keeps both in module globals of `telebot.apihelper`, so every TeleBot in the
process shares them; `configure_api` is called by each factory with the same configuration.
"""

from __future__ import annotations

import logging
import time

import requests
from telebot import apihelper

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 0.5
# A flood wait longer than this is not slept through in a request: the call fails instead.
MAX_RETRY_AFTER_SECONDS = 60
RETRYABLE_STATUS = (502, 503, 504)


def configure_api(api_url: str) -> None:
    """Point pyTelegramBotAPI at `<api_url>/bot<token>/<method>` and install the retrying sender."""
    base = api_url.rstrip("/")
    apihelper.API_URL = base + "/bot{0}/{1}"
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"
    apihelper.CUSTOM_REQUEST_SENDER = send_with_retries


def retry_after(response: requests.Response) -> float | None:
    """Seconds Telegram asks us to wait (a 429's parameters.retry_after), or None."""
    if response.status_code != 429:
        return None
    try:
        seconds = response.json().get("parameters", {}).get("retry_after")
    except ValueError:
        seconds = None
    return float(seconds) if isinstance(seconds, int | float) else 1.0


def _retry_delay(response: requests.Response, backoff: float) -> float | None:
    wait = retry_after(response)
    if wait is not None:
        return wait if wait <= MAX_RETRY_AFTER_SECONDS else None
    return backoff if response.status_code in RETRYABLE_STATUS else None


def send_with_retries(method: str, url: str, **kwargs) -> requests.Response:
    """One Bot API call: a 429 waits `retry_after` and tries again; a refused or dropped
    connection and a 502-504 back off exponentially. Other answers go back to telebot."""
    session = apihelper._get_req_session()
    backoff = FIRST_BACKOFF_SECONDS
    attempt = 1
    while True:
        try:
            response = session.request(method, url, **kwargs)
        except requests.ConnectionError as error:
            if attempt >= MAX_ATTEMPTS:
                raise
            log.warning("Bot API unreachable (%s), retry in %.1fs", type(error).__name__, backoff)
            time.sleep(backoff)
        else:
            delay = _retry_delay(response, backoff)
            if delay is None or attempt >= MAX_ATTEMPTS:
                return response
            log.warning("Bot API answered %s, retry in %.1fs", response.status_code, delay)
            time.sleep(delay)
        attempt += 1
        backoff *= 2


def error_code(error: Exception) -> int | None:
    return getattr(error, "error_code", None) if isinstance(error, apihelper.ApiException) else None


def is_blocked(error: Exception) -> bool:
    """The user blocked the bot (or deleted their account): stop messaging them."""
    return error_code(error) == 403


def is_not_modified(error: Exception) -> bool:
    """Editing a message to exactly what it already shows; harmless."""
    return error_code(error) == 400 and "not modified" in str(getattr(error, "description", ""))
