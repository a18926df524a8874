"""/start (also with a deep-link payload `book`, `my` or a start: bot/handlers/links.py), the
menu, the phone number, help."""

from __future__ import annotations

import html

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message, ReplyKeyboardRemove

from schedule import InvalidInput, User, broadcasts, services
from schedule.i18n import N_

from .. import callbacks as cb
from .. import keyboards
from ..texts import label, ntext, text
from .booking import book_view
from .broadcasts import is_start
from .common import Answer, BotContext, View, on_callback, on_message, send, show
from .links import is_start_link, link_view
from .my import my_view


def menu_view(ctx: BotContext, user: User, lang: str) -> View:
    lines = [
        ntext(
            lang,
            "greeting",
            ctx.settings.training_minutes,
            name=user.first_name or user.name,
            minutes=ctx.settings.training_minutes,
        ),
    ]
    if not ctx.config.web_app_url:
        lines.append(text(lang, "no_app"))
    lines.append("")
    lines.append(text(lang, "help"))
    if ctx.is_admin(user.telegram_id):
        lines.append(text(lang, "help_admin"))
    markup = keyboards.menu(
        lang, ctx.config.web_app_url, ctx.is_admin(user.telegram_id), ctx.today()
    )
    return "\n".join(lines), markup


def needs_phone(ctx: BotContext, user: User) -> bool:
    return ctx.settings.phone_required and not user.phone


def register(bot: TeleBot, ctx: BotContext) -> None:
    @on_message(bot, ctx, commands=["start", "help"])
    def start(message: Message, session: Session, user: User, lang: str) -> None:
        payload = (message.text or "").partition(" ")[2].strip().lower()
        if payload == "book":
            send(bot, message.chat.id, book_view(ctx, session, user, lang))
        elif payload == "my":
            send(bot, message.chat.id, my_view(ctx, session, user, lang))
        elif is_start_link(payload):  # https://t.me/<bot>?start=d20261210t1800
            send(bot, message.chat.id, link_view(ctx, session, user, lang, payload))
        else:
            send(bot, message.chat.id, menu_view(ctx, user, lang))
        if needs_phone(ctx, user):
            bot.send_message(
                message.chat.id, text(lang, "ask_phone"), reply_markup=keyboards.share_phone(lang)
            )
        if is_start(message) and broadcasts.resume(session, user):
            bot.send_message(message.chat.id, text(lang, N_("bot_broadcasts_resumed")))

    @on_callback(bot, ctx, cb.MENU)
    def menu(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        show(bot, call, menu_view(ctx, user, lang))
        return None

    @on_message(bot, ctx, content_types=["contact"])
    def contact(message: Message, session: Session, user: User, lang: str) -> None:
        if message.contact.user_id != message.from_user.id:
            bot.send_message(message.chat.id, text(lang, "phone_not_yours"))
            return
        try:
            services.set_phone(session, user, message.contact.phone_number)
        except InvalidInput as error:
            reason = html.escape(error.message(lang), quote=False)
            bot.send_message(message.chat.id, text(lang, "error") + " " + reason)
            return
        bot.send_message(
            message.chat.id, text(lang, "bot_phone_saved"), reply_markup=ReplyKeyboardRemove()
        )


def register_fallbacks(bot: TeleBot, ctx: BotContext) -> None:
    """Registered last: any other text gets the menu; any other button is stale."""

    @on_message(bot, ctx, content_types=["text"])
    def anything_else(message: Message, session: Session, user: User, lang: str) -> None:
        send(bot, message.chat.id, menu_view(ctx, user, lang))

    @on_callback(bot, ctx, any_data=True)
    def stale_button(call: CallbackQuery, data: None, session, user, lang) -> Answer:
        """Buttons of an older version of the bot, or data nobody made: a fresh menu."""
        show(bot, call, menu_view(ctx, user, lang))
        return Answer(label(lang, "stale"), alert=True)
