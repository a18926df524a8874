"""The trainer (ADMIN_IDS): /today and a day picker listing each training with its visitors,
cancelling a client's booking with a reason the client is told, and, once a training has
started, marking each visitor attended or no-show (one tap)."""

from __future__ import annotations

import html
from datetime import date
from itertools import groupby

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message

from schedule import Booking, ScheduleError, User, attendance, services
from schedule.availability import horizon_days
from schedule.i18n import N_
from schedule.models import ATTENDED, NO_SHOW
from schedule.timegrid import local_date, to_local

from .. import callbacks as cb
from .. import keyboards
from ..texts import REASONS, day_label, fit, label, language, text, when
from .common import Answer, BotContext, View, on_callback, on_message, send, show

MARKS = {ATTENDED: N_("mark_attended"), NO_SHOW: N_("mark_no_show")}


def visitor_line(user: User, mark: str | None = None, lang: str = "en") -> str:
    parts = [text(lang, MARKS[mark])] if mark in MARKS else []
    parts.append(html.escape(user.name, quote=False))
    if user.username:
        parts.append("@" + html.escape(user.username, quote=False))
    if user.phone:
        parts.append(html.escape(user.phone, quote=False))
    return "  • " + " ".join(parts)


def admin_day_view(ctx: BotContext, session: Session, lang: str, day: date) -> View:
    settings = ctx.settings
    bookings = services.day_bookings(session, settings, day)
    if not bookings:
        lines = [text(lang, "admin_day_empty", day=day_label(day, lang))]
    else:
        lines = [text(lang, "bot_admin_day", day=day_label(day, lang))]
        for starts_at, group in groupby(bookings, key=lambda booking: booking.starts_at):
            visitors = list(group)
            start, end = to_local(starts_at, settings), to_local(visitors[0].ends_at, settings)
            lines.append("")
            lines.append(
                text(
                    lang,
                    "admin_slot",
                    time=f"{start:%H:%M}–{end:%H:%M}",
                    count=len(visitors),
                    capacity=settings.capacity,
                )
            )
            lines.extend(
                visitor_line(booking.user, booking.attendance, lang) for booking in visitors
            )
    horizon = horizon_days(settings, ctx.clock())
    markup = keyboards.admin_day(lang, day, horizon, bookings, settings, ctx.clock())
    return fit(lines), markup


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    @on_message(bot, ctx, commands=["today"])
    def today_command(message: Message, session: Session, user: User, lang: str) -> None:
        if not ctx.is_admin(message.from_user.id):
            bot.send_message(message.chat.id, text(lang, "admin_only"))
            return
        send(bot, message.chat.id, admin_day_view(ctx, session, lang, ctx.today()))

    @on_callback(
        bot,
        ctx,
        cb.ADMIN_DAY,
        cb.ADMIN_CANCEL_ASK,
        cb.ADMIN_CANCEL,
        cb.ADMIN_ATTENDED,
        cb.ADMIN_NO_SHOW,
    )
    def trainer(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        if not ctx.is_admin(call.from_user.id):
            return Answer(label(lang, "admin_only"), alert=True)
        if data.action == cb.ADMIN_DAY:
            show(bot, call, admin_day_view(ctx, session, lang, data.day))
            return None
        if data.action in (cb.ADMIN_ATTENDED, cb.ADMIN_NO_SHOW):
            return mark(call, session, lang, data)
        try:
            booking = services.owned_active_booking(session, data.booking_id, None)
        except ScheduleError as error:
            show(bot, call, admin_day_view(ctx, session, lang, ctx.today()))
            return Answer(error.message(lang), alert=True)
        day = local_date(booking.starts_at, settings)
        if data.action == cb.ADMIN_CANCEL_ASK:
            message = text(
                lang,
                "admin_pick_reason",
                name=booking.user.name,
                when=when(booking.starts_at, booking.ends_at, settings, lang),
            )
            show(bot, call, (message, keyboards.admin_reasons(lang, booking.id, day)))
            return None
        return cancel_with_reason(call, session, lang, booking, data.reason, day)

    def mark(call: CallbackQuery, session: Session, lang: str, data: cb.Callback) -> Answer:
        status = ATTENDED if data.action == cb.ADMIN_ATTENDED else NO_SHOW
        try:
            booking = attendance.mark(session, data.booking_id, status, now=ctx.clock())
        except ScheduleError as error:
            show(bot, call, admin_day_view(ctx, session, lang, ctx.today()))
            return Answer(error.message(lang), alert=True)
        show(bot, call, admin_day_view(ctx, session, lang, local_date(booking.starts_at, settings)))
        return Answer(label(lang, "toast_marked"))

    def cancel_with_reason(
        call: CallbackQuery, session: Session, lang: str, booking: Booking, reason: int, day: date
    ) -> Answer:
        # The client reads the reason, so it is stored in the client's language.
        client_lang = language(booking.user.language_code)
        try:
            services.cancel(
                session,
                settings,
                booking.id,
                None,
                now=ctx.clock(),
                reason=label(client_lang, REASONS[reason]),
                on_event=ctx.on_event,
            )
        except ScheduleError as error:
            show(bot, call, admin_day_view(ctx, session, lang, day))
            return Answer(error.message(lang), alert=True)
        show(bot, call, admin_day_view(ctx, session, lang, day))
        return Answer(label(lang, "toast_cancelled"))
