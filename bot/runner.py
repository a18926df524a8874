"""Running the bot: start-up settings (commands, menu button) and long polling, with the
outbox dispatcher and the reminder loop (bot.worker) in threads beside it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from telebot import TeleBot, apihelper
from telebot.types import (
    BotCommand,
    BotCommandScopeChat,
    MenuButtonCommands,
    MenuButtonWebApp,
    WebAppInfo,
)

from schedule.db import make_session_factory
from schedule.i18n import DEFAULT, LANGUAGES
from schedule.models import utcnow

from .config import BotConfig
from .factory import BookingBot, create_bot
from .reminders import REMINDER_INTERVAL_SECONDS
from .texts import ADMIN_COMMANDS, COMMANDS, label
from .worker import start_background

log = logging.getLogger("bot")

# Also how long a stop may wait for the long poll in flight to return.
POLL_TIMEOUT_SECONDS = 10
# After a failed call or update: 0.5 s, doubling up to a minute (tests shorten the first).
FIRST_ERROR_PAUSE_SECONDS = 0.5
MAX_ERROR_PAUSE_SECONDS = 60


def _commands(pairs, lang: str) -> list[BotCommand]:
    return [BotCommand(command, label(lang, description)) for command, description in pairs]


def configure_commands(bot: TeleBot, config: BotConfig) -> None:
    """The command list in Russian and English (admins also see /today) and the menu button."""
    for lang in LANGUAGES:
        bot.set_my_commands(_commands(COMMANDS, lang), language_code=lang)
    bot.set_my_commands(_commands(COMMANDS, DEFAULT))
    for admin_id in sorted(config.admin_ids):
        for lang in LANGUAGES:
            try:
                bot.set_my_commands(
                    _commands(COMMANDS + ADMIN_COMMANDS, lang),
                    scope=BotCommandScopeChat(admin_id),
                    language_code=lang,
                )
            except Exception as error:  # the admin has not opened the bot yet: chat not found
                log.warning("could not set the trainer's commands for %s: %s", admin_id, error)
    set_menu_button(bot, config.web_app_url)


def set_menu_button(bot: TeleBot, web_app_url: str | None) -> None:
    """The chat menu button opens the Mini App at `web_app_url` (https), else lists commands."""
    if web_app_url:
        button = MenuButtonWebApp(label(DEFAULT, "btn_open_app"), WebAppInfo(web_app_url))
    else:
        log.warning("PUBLIC_URL is not an https URL: the menu button shows the commands")
        button = MenuButtonCommands()
    bot.set_chat_menu_button(menu_button=button)


def run_polling(
    config: BotConfig,
    stop_event: threading.Event | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] = utcnow,
    poll_timeout: int = POLL_TIMEOUT_SECONDS,
    ready: threading.Event | None = None,
    reminder_interval: float | None = REMINDER_INTERVAL_SECONDS,
    dispatcher_options: dict | None = None,
) -> None:
    """Long-poll until `stop_event` is set: remove any webhook, set the commands and the menu
    button, then handle updates one by one, with the outbox dispatcher and the reminders
    (every `reminder_interval` seconds; None: not here) in threads beside. Errors pause with
    a growing backoff; no update and no outage ends the loop. `ready` is set once polling
    has begun."""
    stop_event = stop_event or threading.Event()
    own_sessions = session_factory is None
    session_factory = session_factory or make_session_factory(
        config.database_url, config.dependency_deadline
    )
    bot = create_bot(config, session_factory, clock=clock)
    pause = _Backoff()
    background_stop = threading.Event()
    background: list[threading.Thread] = []
    try:
        _start(bot, config, stop_event, pause)
        if not stop_event.is_set():
            background = start_background(
                config,
                session_factory,
                background_stop,
                clock=clock,
                reminder_interval=reminder_interval,
                dispatcher_options=dispatcher_options,
            )
        if ready is not None:
            ready.set()
        offset = None
        while not stop_event.is_set():
            try:
                updates = apihelper.get_updates(
                    config.token,
                    offset=offset,
                    timeout=poll_timeout + 10,
                    long_polling_timeout=poll_timeout,
                )
            except Exception as error:
                log.error("getUpdates failed: %s", error)
                stop_event.wait(pause.next())
                continue
            handled = _handle_all(bot, updates)
            if handled:
                offset = handled[-1]["update_id"] + 1
            if len(handled) < len(updates):
                stop_event.wait(pause.next())
            else:
                pause.reset()
        if offset is not None:
            _confirm(bot, offset)
    finally:
        background_stop.set()
        for thread in background:
            thread.join()
        if own_sessions:
            session_factory.kw["bind"].dispose()
        log.info("polling stopped")


def _start(bot: TeleBot, config: BotConfig, stop_event: threading.Event, pause: _Backoff) -> None:
    """Remove any webhook (polling and a webhook exclude each other), set the commands and
    the menu button; retried until the Bot API answers or a stop is asked for."""
    while not stop_event.is_set():
        try:
            bot.delete_webhook()
            configure_commands(bot, config)
        except Exception as error:
            log.error("could not reach the Bot API at start-up: %s", error)
            stop_event.wait(pause.next())
        else:
            pause.reset()
            log.info("polling for updates")
            return


def _handle_all(bot: BookingBot, updates: list[dict]) -> list[dict]:
    """Handle updates in order; the ones handled. It stops at one whose id the database could
    not record: that one and those after it come again with the next getUpdates. One that
    cannot even be parsed is skipped and confirmed with the rest, so it blocks nothing."""
    handled = []
    for raw in updates:
        try:
            bot.handle_update(raw)
        except Exception:
            log.exception("update %s not handled; retrying later", raw.get("update_id"))
            break
        handled.append(raw)
    return handled


def _confirm(bot: TeleBot, offset: int) -> None:
    """Tell Telegram the updates before `offset` are done, so it will not deliver them again."""
    try:
        bot.get_updates(offset=offset, limit=1, timeout=5, long_polling_timeout=1)
    except Exception as error:  # the update ids are recorded anyway: no update runs twice
        log.warning("could not confirm the last updates: %s", error)


class _Backoff:
    def __init__(self) -> None:
        self.seconds = 0.0

    def next(self) -> float:
        first = FIRST_ERROR_PAUSE_SECONDS
        self.seconds = min(max(self.seconds * 2, first), MAX_ERROR_PAUSE_SECONDS)
        return self.seconds

    def reset(self) -> None:
        self.seconds = 0.0
