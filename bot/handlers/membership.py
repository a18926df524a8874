"""Telegram says when a user blocks the bot (or unblocks it): no message is wasted on them."""

from __future__ import annotations

from sqlalchemy import update
from telebot import TeleBot
from telebot.types import ChatMemberUpdated

from schedule import User

from .common import BotContext, log

LEFT = ("kicked", "left")


def register(bot: TeleBot, ctx: BotContext) -> None:
    @bot.my_chat_member_handler(func=lambda change: change.chat.type == "private")
    def membership(change: ChatMemberUpdated) -> None:
        blocked = change.new_chat_member.status in LEFT
        try:
            with ctx.session_factory() as session:
                session.execute(
                    update(User)
                    .where(User.telegram_id == change.from_user.id)
                    .values(blocked_bot=blocked)
                )
                session.commit()
        except Exception:  # one bad update must not stop the bot
            log.exception("could not record that %s blocked the bot", change.from_user.id)
