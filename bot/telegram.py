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


# Every logger that may print a Bot API URL (network errors do), so the token never reaches logs.
LOGGERS = ("bot", "bot.dispatcher", "bot.telegram", "webapp.webhook", "TeleBot")
REDACTED = "<BOT_TOKEN>"


def configure_api(api_url: str, token: str) -> None:
    """Point pyTelegramBotAPI at `<api_url>/bot<token>/<method>`, install the retrying sender,
    and keep `token` out of the logs."""
    base = api_url.rstrip("/")
    apihelper.API_URL = base + "/bot{0}/{1}"
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"
    apihelper.CUSTOM_REQUEST_SENDER = send_with_retries
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if token and not any(
            isinstance(f, RedactToken) and f.token == token for f in logger.filters
        ):
            logger.addFilter(RedactToken(token))


class RedactToken(logging.Filter):
    """Replaces the bot token in a record's message and traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, REDACTED), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, REDACTED)
        return True


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
