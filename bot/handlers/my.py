"""/my: the user's upcoming trainings, each with a cancel button and a confirm step.

Whether a booking is the user's, still active and still cancellable is decided by
schedule.services.cancel; callback data naming someone else's booking changes nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message

from schedule import Booking, ScheduleError, User, services

from .. import callbacks as cb
from .. import keyboards
from ..texts import label, text, when
from .common import Answer, BotContext, View, on_callback, on_message, send, show


def my_view(ctx: BotContext, session: Session, user: User, lang: str, note: str = "") -> View:
    settings = ctx.settings
    bookings = services.upcoming_bookings(session, user, ctx.clock())
    lines = [note] if note else []
    if bookings:
        lines.append(text(lang, "my_header"))
        lines.extend(
            "• " + when(booking.starts_at, booking.ends_at, settings, lang) for booking in bookings
        )
    else:
        lines.append(text(lang, "my_empty"))
    markup = keyboards.my_bookings(lang, bookings, settings, ctx.config.web_app_url)
    return "\n".join(lines), markup


def own_active_booking(session: Session, user: User, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id, populate_existing=True)
    if booking is None or booking.user_id != user.id:
        raise ScheduleError("not_found")
    if not booking.is_active:
        raise ScheduleError("not_active")
    return booking


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    @on_message(bot, ctx, commands=["my"])
    def my_command(message: Message, session: Session, user: User, lang: str) -> None:
        send(bot, message.chat.id, my_view(ctx, session, user, lang))

    @on_callback(bot, ctx, cb.MY)
    def my_list(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        show(bot, call, my_view(ctx, session, user, lang))
        return None

    @on_callback(bot, ctx, cb.CANCEL_ASK)
    def ask_cancel(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = own_active_booking(session, user, data.booking_id)
        except ScheduleError as error:
            show(bot, call, my_view(ctx, session, user, lang))
            return Answer(error.message(lang), alert=True)
        message = text(
            lang, "confirm_cancel", when=when(booking.starts_at, booking.ends_at, settings, lang)
        )
        show(bot, call, (message, keyboards.confirm_cancel(lang, booking.id)))
        return None

    @on_callback(bot, ctx, cb.CANCEL)
    def cancel(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.cancel(
                session, settings, data.booking_id, user, now=ctx.clock(), on_event=ctx.on_event
            )
        except ScheduleError as error:
            show(bot, call, my_view(ctx, session, user, lang))
            return Answer(error.message(lang), alert=True)
        note = text(
            lang, "cancelled", when=when(booking.starts_at, booking.ends_at, settings, lang)
        )
        show(bot, call, my_view(ctx, session, user, lang, note=note + "\n"))
        return Answer(label(lang, "toast_cancelled"))
