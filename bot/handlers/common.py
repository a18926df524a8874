"""What every handler shares: a session and the user per update, answered callbacks (a flood
of them throttled), and errors that end as a polite message instead of an exception in the
polling loop."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker
from telebot import TeleBot
from telebot.apihelper import ApiException
from telebot.types import CallbackQuery, InlineKeyboardMarkup, Message
from telebot.types import User as TelegramUser

from schedule import Settings, User, services
from schedule.events import EventHandler
from schedule.timegrid import today
from schedule.unit import Actor, Unit

from .. import callbacks as cb
from .. import models
from ..config import BotConfig
from ..telegram import is_blocked, is_not_modified
from ..texts import label, language, nlabel
from ..throttle import CallbackThrottle

log = logging.getLogger("bot")

View = tuple[str, InlineKeyboardMarkup]


@dataclass(frozen=True)
class BotContext:
    """What handlers need besides the update: configuration, the database, the clock."""

    config: BotConfig
    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime]
    on_event: EventHandler | None = None
    throttle: CallbackThrottle | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.throttle is None:
            object.__setattr__(self, "throttle", CallbackThrottle(self.config.settings))

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def is_admin(self, telegram_id: int) -> bool:
        return telegram_id in self.config.admin_ids

    def today(self) -> date:
        return today(self.clock(), self.settings)

    def client_unit(self, session: Session, user: User) -> Unit:
        """The update's unit of work for a client acting on their own bookings."""
        return Unit(session, self.settings, Actor.client(user), self.clock(), self.on_event)

    def trainer_unit(self, session: Session, user: User) -> Unit:
        """The update's unit of work for a trainer (the handler checked `is_admin`)."""
        return Unit(session, self.settings, Actor.trainer(user), self.clock(), self.on_event)


@dataclass(frozen=True)
class Answer:
    """How a callback query is answered: a toast, or an alert the user must close."""

    text: str = ""
    alert: bool = False


def telegram_user_fields(user: TelegramUser) -> dict[str, object]:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "language_code": user.language_code,
    }


class RetryLater(Exception):
    """A handler that must not lose its update (a payment to credit) could not finish: the
    update's claim is released and the update comes again (polling: the next getUpdates;
    webhook: the worker's next look at its inbox)."""


@contextmanager
def user_session(ctx: BotContext, telegram_user: TelegramUser) -> Iterator[tuple[Session, User]]:
    """A session for one update and the user who sent it (who evidently has not blocked us)."""
    with ctx.session_factory() as session:
        user = services.upsert_user(session, telegram_user_fields(telegram_user))
        if user.blocked_bot:
            user.blocked_bot = False
            session.commit()
        yield session, user


def mark_blocked(ctx: BotContext, telegram_id: int) -> None:
    with ctx.session_factory() as session:
        models.mark_blocked(session, telegram_id)


def _handle_failure(ctx: BotContext, telegram_id: int, error: Exception) -> None:
    if is_blocked(error):
        log.info("user %s blocked the bot", telegram_id)
        mark_blocked(ctx, telegram_id)
    else:
        log.exception("handler failed for user %s", telegram_id)


TAG = re.compile(r"<[^>]+>")


def shows_already(message: Message, view: View) -> bool:
    """Whether `message` (as the callback query carries it) already shows `view`: the same
    text, as Telegram keeps it (tags read, whitespace at the ends dropped), and the same
    buttons. Telegram refuses such an edit ("message is not modified")."""
    text, markup = view
    shown = message.reply_markup.to_dict() if message.reply_markup else None
    wanted = markup.to_dict() if markup is not None and markup.keyboard else None
    plain = html.unescape(TAG.sub("", text)).strip()
    return (message.text or "").strip() == plain and shown == wanted


def show(bot: TeleBot, call: CallbackQuery, view: View) -> None:
    """Put `view` in place of the message whose button was pressed (or send it anew); a
    message that shows it already is left as it is (a refusal that redraws the same screen,
    a second tap on the same button)."""
    text, markup = view
    message = call.message
    if message is not None and message.date:
        if shows_already(message, view):
            return
        try:
            bot.edit_message_text(text, message.chat.id, message.message_id, reply_markup=markup)
            return
        except ApiException as error:
            if is_blocked(error):
                raise
            if not is_not_modified(error):
                log.warning("could not edit message %s: %s", message.message_id, error)
                bot.send_message(call.from_user.id, text, reply_markup=markup)
                return
            # Changed meanwhile to this very view (two taps racing): it shows what it should.
            log.info("message %s already showed its new view", message.message_id)
            return
    bot.send_message(call.from_user.id, text, reply_markup=markup)


def send(bot: TeleBot, chat_id: int, view: View) -> None:
    text, markup = view
    bot.send_message(chat_id, text, reply_markup=markup)


def answer(bot: TeleBot, call: CallbackQuery, reply: Answer) -> None:
    try:
        bot.answer_callback_query(call.id, reply.text or None, show_alert=reply.alert or None)
    except ApiException as error:  # a query older than Telegram keeps them; nothing to do
        log.warning("could not answer callback query: %s", error)


def action_of(data: str | None) -> str | None:
    try:
        return cb.decode(data).action
    except cb.BadCallback:
        return None


CallbackFn = Callable[[CallbackQuery, cb.Callback, Session, User, str], Answer | None]
CommandFn = Callable[[Message, Session, User, str], None]


def on_callback(
    bot: TeleBot, ctx: BotContext, *actions: str, any_data: bool = False
) -> Callable[[CallbackFn], CallbackFn]:
    """Register a handler for callback data of `actions` (with `any_data`, for whatever data
    no earlier handler took; it gets None for the data). The query is always answered."""

    def decorator(fn: CallbackFn) -> CallbackFn:
        @functools.wraps(fn)
        def handler(call: CallbackQuery) -> None:
            lang = language(call.from_user.language_code)
            wait = ctx.throttle.wait_seconds(call.from_user.id, action_of(call.data))
            if wait:  # a flood of taps: say so, do nothing
                answer(bot, call, Answer(nlabel(lang, "too_fast", wait), alert=True))
                return
            reply = Answer()
            try:
                with user_session(ctx, call.from_user) as (session, user):
                    data = None if any_data else cb.decode(call.data)
                    reply = fn(call, data, session, user, lang) or Answer()
            except Exception as error:  # one bad update must not stop the bot
                _handle_failure(ctx, call.from_user.id, error)
                reply = Answer(label(lang, "error"), alert=True)
            finally:
                answer(bot, call, reply)

        if any_data:
            bot.callback_query_handler(func=lambda call: True)(handler)
        else:
            bot.callback_query_handler(func=lambda call: action_of(call.data) in actions)(handler)
        return fn

    return decorator


def on_message(
    bot: TeleBot, ctx: BotContext, **filters: object
) -> Callable[[CommandFn], CommandFn]:
    """Register a message handler that runs with a session and replies politely on failure."""

    def decorator(fn: CommandFn) -> CommandFn:
        @functools.wraps(fn)
        def handler(message: Message) -> None:
            if message.from_user is None:
                return
            lang = language(message.from_user.language_code)
            try:
                with user_session(ctx, message.from_user) as (session, user):
                    fn(message, session, user, lang)
            except Exception as error:  # one bad update must not stop the bot
                _handle_failure(ctx, message.from_user.id, error)
                if not is_blocked(error):
                    _try_send(bot, message.chat.id, label(lang, "error"))

        bot.message_handler(**filters)(handler)
        return fn

    return decorator


def _try_send(bot: TeleBot, chat_id: int, text: str) -> None:
    try:
        bot.send_message(chat_id, text)
    except Exception:  # noqa: BLE001 - already failing; the log has the first error
        log.warning("could not tell chat %s about an error", chat_id)
