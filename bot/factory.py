"""create_bot(): a TeleBot wired to the configuration, the database and the handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from telebot import ExceptionHandler, TeleBot
from telebot.types import Update

from schedule.events import EventHandler
from schedule.models import utcnow

from .config import BotConfig
from .handlers import register_all
from .handlers.common import BotContext, RetryLater
from .models import claim_update, release_update
from .telegram import configure_api

log = logging.getLogger("bot")


class _LogAndGoOn(ExceptionHandler):
    def handle(self, exception: Exception) -> bool:
        if isinstance(exception, RetryLater):
            return False  # raised on to handle_update
        log.error("update failed: %s", exception, exc_info=exception)
        return True


class BookingBot(TeleBot):
    """A TeleBot that knows its context and handles each update_id once."""

    def __init__(self, context: BotContext) -> None:
        super().__init__(
            context.config.token,
            parse_mode="HTML",
            threaded=False,  # updates run one by one, in the caller's thread (webhook: the request)
            exception_handler=_LogAndGoOn(),
        )
        self.context = context

    def handle_update(self, update: Update | Mapping[str, object]) -> bool:
        """Handle one update unless some process already took its update_id, or it cannot
        even be parsed (then False: it is logged and skipped, since a redelivery would fail
        the same way).

        A failing handler is logged, never raised; a database that cannot record the update_id
        raises, and so does a handler that asks for the update again (RetryLater), its claim
        released, so that the update is handled again later."""
        if not isinstance(update, Update):
            try:
                update = Update.de_json(dict(update))
            except Exception:
                log.exception("skipping update %s: not a valid update", update.get("update_id"))
                return False
        with self.context.session_factory() as session:
            if not claim_update(session, update.update_id):
                log.info("update %s was handled before; skipped", update.update_id)
                return False
        try:
            self.process_new_updates([update])
        except RetryLater:
            log.warning("update %s comes again: its handler could not finish", update.update_id)
            with self.context.session_factory() as session:
                release_update(session, update.update_id)
            raise
        except Exception:  # one bad update never kills the bot
            log.exception("update %s failed", update.update_id)
        return True


def create_bot(
    config: BotConfig,
    session_factory: sessionmaker[Session],
    *,
    clock: Callable[[], datetime] = utcnow,
    on_event: EventHandler | None = None,
) -> BookingBot:
    """The bot for `config`: it calls `<TELEGRAM_API_URL>/bot<token>/<method>`, and each
    handler opens its own session from `session_factory`. `on_event` observes the schedule's
    events (the web app's metrics count the bot's bookings through it)."""
    if not config.token:
        raise ValueError("BOT_TOKEN is not set")
    configure_api(config.api_url, config.token)
    bot = BookingBot(BotContext(config, session_factory, clock, on_event))
    register_all(bot, bot.context)
    return bot
