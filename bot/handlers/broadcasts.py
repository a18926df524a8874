"""/stop: the client wants no more of the trainer's broadcasts (schedule/broadcasts.py), those
already queued for them included; /start turns them back on (bot/handlers/start.py calls
`schedule.broadcasts.resume`). Messages about their own bookings are not broadcasts and go on."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import Message

from schedule import User, broadcasts
from schedule.i18n import N_

from ..texts import text
from .common import BotContext, on_message


def is_start(message: Message) -> bool:
    """/start (with or without a payload, addressed to the bot or not), not /help."""
    command = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    return command.split("@", 1)[0].lower() == "/start"


def register(bot: TeleBot, ctx: BotContext) -> None:
    @on_message(bot, ctx, commands=["stop"])
    def stop(message: Message, session: Session, user: User, lang: str) -> None:
        broadcasts.stop(session, user, ctx.clock())
        bot.send_message(message.chat.id, text(lang, N_("bot_broadcasts_stopped")))
