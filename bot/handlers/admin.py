"""The trainer (ADMIN_IDS): /today and a day picker listing each training with its visitors,
cancelling a client's booking with a reason the client is told, and, once a training has
started, marking each visitor attended or no-show (one tap).

The reason is free text, as in the Mini App: the cancel button asks for it in a message the
trainer replies to (Telegram's ForceReply), and the reply cancels. The question names the
booking (`#42`, read back from the message replied to), so no state waits in memory between
the two updates and any process may handle the reply; the booking is read afresh then.
"""

from __future__ import annotations

import html
import re
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
from schedule.unit import Unit

from .. import callbacks as cb
from .. import keyboards
from ..texts import day_label, fit, label, text, when
from .common import Answer, BotContext, View, on_callback, on_message, send, show

MARKS = {ATTENDED: N_("mark_attended"), NO_SHOW: N_("mark_no_show")}
# The booking a reason question is about: its last '#<id>' (a client's name may hold others).
ASKED_ABOUT = re.compile(r"#(\d{1,12})")


def asked_booking(message: Message, bot_id: int) -> int | None:
    """The booking id of the bot's reason question that `message` replies to, else None (a
    command is never a reason)."""
    question = message.reply_to_message
    if question is None or question.from_user is None or question.from_user.id != bot_id:
        return None
    if (message.text or "").startswith("/"):
        return None
    found = ASKED_ABOUT.findall(question.text or "")
    return int(found[-1]) if found else None


def visitor_line(booking: Booking, lang: str = "en") -> str:
    """'  • ✅ Anna @anna +7…', with '(unpaid)' where no pass pays, as the Mini App's day shows."""
    user = booking.user
    parts = [text(lang, MARKS[booking.attendance])] if booking.attendance in MARKS else []
    parts.append(html.escape(user.name, quote=False))
    if user.username:
        parts.append("@" + html.escape(user.username, quote=False))
    if user.phone:
        parts.append(html.escape(user.phone, quote=False))
    if booking.pass_id is None:
        parts.append(f"({text(lang, 'visit_unpaid')})")
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
            lines.extend(visitor_line(booking, lang) for booking in visitors)
    horizon = horizon_days(settings, ctx.clock())
    markup = keyboards.admin_day(lang, day, horizon, bookings, settings, ctx.clock())
    return fit(lines), markup


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings
    bot_id = int(ctx.config.token.split(":")[0])  # the id a bot token starts with

    @on_message(bot, ctx, commands=["today"])
    def today_command(message: Message, session: Session, user: User, lang: str) -> None:
        if not ctx.is_admin(message.from_user.id):
            bot.send_message(message.chat.id, text(lang, "admin_only"))
            return
        send(bot, message.chat.id, admin_day_view(ctx, session, lang, ctx.today()))

    @on_callback(bot, ctx, cb.ADMIN_DAY, cb.ADMIN_CANCEL_ASK, cb.ADMIN_ATTENDED, cb.ADMIN_NO_SHOW)
    def trainer(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        if not ctx.is_admin(call.from_user.id):
            return Answer(label(lang, "admin_only"), alert=True)
        if data.action == cb.ADMIN_DAY:
            show(bot, call, admin_day_view(ctx, session, lang, data.day))
            return None
        if data.action in (cb.ADMIN_ATTENDED, cb.ADMIN_NO_SHOW):
            return mark(call, ctx.trainer_unit(session, user), lang, data)
        try:
            booking = services.owned_active_booking(session, data.booking_id, None)
        except ScheduleError as error:
            show(bot, call, admin_day_view(ctx, session, lang, ctx.today()))
            return Answer(error.message(lang), alert=True)
        question = text(
            lang,
            "admin_ask_reason",
            name=booking.user.name,
            when=when(booking.starts_at, booking.ends_at, settings, lang),
            booking=booking.id,
        )
        bot.send_message(call.from_user.id, question, reply_markup=keyboards.ask_reason(lang))
        return None

    def mark(call: CallbackQuery, unit: Unit, lang: str, data: cb.Callback) -> Answer:
        session = unit.session
        status = ATTENDED if data.action == cb.ADMIN_ATTENDED else NO_SHOW
        try:
            booking = attendance.mark(unit, data.booking_id, status)
        except ScheduleError as error:
            show(bot, call, admin_day_view(ctx, session, lang, ctx.today()))
            return Answer(error.message(lang), alert=True)
        show(bot, call, admin_day_view(ctx, session, lang, local_date(booking.starts_at, settings)))
        return Answer(label(lang, "toast_marked"))

    @on_message(
        bot,
        ctx,
        content_types=["text"],
        func=lambda message: asked_booking(message, bot_id) is not None,
    )
    def reason_typed(message: Message, session: Session, user: User, lang: str) -> None:
        """The trainer's reply to a reason question: the booking cancelled with that reason."""
        if not ctx.is_admin(message.from_user.id):
            bot.send_message(message.chat.id, text(lang, "admin_only"))
            return
        booking_id = asked_booking(message, bot_id)
        reason = (message.text or "").strip()
        try:
            booking = services.cancel(
                ctx.trainer_unit(session, user),
                booking_id,
                reason=reason,
            )
        except ScheduleError as error:
            bot.send_message(message.chat.id, html.escape(error.message(lang), quote=False))
            send(bot, message.chat.id, admin_day_view(ctx, session, lang, ctx.today()))
            return
        span = when(booking.starts_at, booking.ends_at, settings, lang)
        note = text(lang, "admin_cancelled", name=booking.user.name, when=span)
        day = admin_day_view(ctx, session, lang, local_date(booking.starts_at, settings))
        send(bot, message.chat.id, (note + "\n\n" + day[0], day[1]))
