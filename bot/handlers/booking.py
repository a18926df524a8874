"""/book in chat: bookable days → starts with their free places → confirm → booked.

The availability is schedule's, the same the Mini App shows; the booking itself is
schedule.services.book, which re-checks every rule in its transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message

from schedule import ScheduleError, User, services
from schedule.availability import DayView, bookable_days, day_availability
from schedule.timegrid import occupied_instants, training_end

from .. import callbacks as cb
from .. import keyboards
from ..texts import day_label, label, text, when
from .common import Answer, BotContext, View, on_callback, on_message, send, show


def days_view(ctx: BotContext, session: Session, user: User, lang: str) -> View:
    days = bookable_days(session, ctx.settings, user.id, ctx.clock())
    if not days:
        message = text(lang, "no_days", days=ctx.settings.booking_horizon_days + 1)
    else:
        message = text(lang, "pick_day")
    return message, keyboards.days(lang, days)


def start_choices(view: DayView, ctx: BotContext) -> list[tuple[int, str, int]]:
    """(minute, 'HH:MM', free places for a whole training) for each start the user may take."""
    free_at = {slot.cell.starts_at: slot.free for slot in view.slots}
    return [
        (
            slot.cell.minute,
            slot.start,
            min(free_at.get(t, 0) for t in occupied_instants(slot.cell.starts_at, ctx.settings)),
        )
        for slot in view.slots
        if slot.can_start
    ]


def day_view(ctx: BotContext, session: Session, user: User, lang: str, day: date) -> View | None:
    """The starts of `day`, or None when the user can start nothing there (any more)."""
    view = day_availability(session, ctx.settings, day, user.id, ctx.clock())
    choices = start_choices(view, ctx)
    if not choices:
        return None
    return text(lang, "pick_start", day=day_label(day, lang)), keyboards.starts(lang, day, choices)


def fresh_view(ctx: BotContext, session: Session, user: User, lang: str, day: date) -> View:
    return day_view(ctx, session, user, lang, day) or days_view(ctx, session, user, lang)


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    @on_message(bot, ctx, commands=["book"])
    def book_command(message: Message, session: Session, user: User, lang: str) -> None:
        send(bot, message.chat.id, days_view(ctx, session, user, lang))

    @on_callback(bot, ctx, cb.DAYS)
    def pick_day(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        show(bot, call, days_view(ctx, session, user, lang))
        return None

    @on_callback(bot, ctx, cb.DAY)
    def pick_start(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        view = day_view(ctx, session, user, lang, data.day)
        if view is None:
            show(bot, call, days_view(ctx, session, user, lang))
            return Answer(label(lang, "day_full"), alert=True)
        show(bot, call, view)
        return None

    @on_callback(bot, ctx, cb.PICK)
    def confirm(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        view = day_availability(session, settings, data.day, user.id, ctx.clock())
        slot = next((s for s in view.slots if s.cell.minute == data.minute and s.can_start), None)
        if slot is None:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day))
            return Answer(label(lang, "stale"), alert=True)
        starts_at = slot.cell.starts_at
        message = text(
            lang,
            "confirm_booking",
            when=when(starts_at, training_end(starts_at, settings), settings, lang),
        )
        show(bot, call, (message, keyboards.confirm_booking(lang, data.day, data.minute)))
        return None

    @on_callback(bot, ctx, cb.BOOK)
    def book(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.book(
                session,
                settings,
                user,
                data.day,
                data.minute,
                now=ctx.clock(),
                source="bot",
                on_event=ctx.on_event,
            )
        except ScheduleError as error:
            if error.code == "phone_required":
                bot.send_message(
                    call.from_user.id,
                    text(lang, "ask_phone"),
                    reply_markup=keyboards.share_phone(lang),
                )
            else:
                show(bot, call, fresh_view(ctx, session, user, lang, data.day))
            return Answer(error.message(lang), alert=True)
        message = text(
            lang, "booked", when=when(booking.starts_at, booking.ends_at, settings, lang)
        )
        markup = keyboards.booked(lang, booking, settings, ctx.config.web_app_url)
        show(bot, call, (message, markup))
        return Answer(label(lang, "toast_booked"))
