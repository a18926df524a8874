"""Handlers by concern; the order of registration is the order telebot tries them."""

from __future__ import annotations

from telebot import TeleBot

from . import admin, booking, broadcasts, membership, moving, my, payments, series, start
from .common import BotContext


def register_all(bot: TeleBot, ctx: BotContext) -> None:
    start.register(bot, ctx)
    broadcasts.register(bot, ctx)
    booking.register(bot, ctx)
    my.register(bot, ctx)
    moving.register(bot, ctx)
    series.register(bot, ctx)
    admin.register(bot, ctx)
    membership.register(bot, ctx)
    payments.register(bot, ctx)
    start.register_fallbacks(bot, ctx)
