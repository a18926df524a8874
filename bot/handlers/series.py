"""Standing bookings in chat, from /my: repeat a booked training weekly (for a few weeks or
until stopped) and stop a series after a confirm step, as the Mini App offers them.

Callback data is user-controlled, so every tap reads its booking or series afresh as the
user's own (a forged id, someone else's, one stopped meanwhile: an alert, nothing changed), and
schedule.series decides the rest (which dates are booked, queued or skipped; what a stop may
cancel). Repeat and stop are writes for the throttle (bot/throttle.py).
"""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import CallbackQuery

from schedule import ScheduleError, consequences, services
from schedule import series as standing
from schedule.settings import format_minutes
from schedule.timegrid import minute_of_day

from .. import callbacks as cb
from .. import keyboards
from ..series import label as series_label
from ..texts import consequence_lines, day_label, label, nlabel, text
from .common import Answer, BotContext, on_callback, show
from .my import my_view


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    def refused(call: CallbackQuery, error: ScheduleError, session, user, lang) -> Answer:
        show(bot, call, my_view(ctx, session, user, lang))
        return Answer(error.message(lang), alert=True)

    @on_callback(bot, ctx, cb.REPEAT_ASK)
    def ask_weeks(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.owned_active_booking(session, data.booking_id, user)
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        day, minute = minute_of_day(booking.starts_at, settings)
        name = series_label(lang, day.weekday(), format_minutes(minute))
        message = text(lang, "repeat_pick_weeks", series=name, day=day_label(day, lang))
        choices = standing.week_choices(settings)
        show(bot, call, (message, keyboards.repeat_weeks(lang, booking.id, choices)))
        return None

    @on_callback(bot, ctx, cb.REPEAT_PICK)
    def confirm(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.owned_active_booking(session, data.booking_id, user)
            weeks = standing.check_weeks(data.weeks or None, settings)  # 0: until stopped
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        day, minute = minute_of_day(booking.starts_at, settings)
        name = series_label(lang, day.weekday(), format_minutes(minute))
        length = (
            nlabel(lang, "btn_weeks", weeks) if weeks else label(lang, "btn_until_stopped").lower()
        )
        message = text(lang, "repeat_confirm", series=name, day=day_label(day, lang), weeks=length)
        lines = consequences.of_series(
            session, settings, user, booking.starts_at, weeks, ctx.clock()
        )
        message = "\n".join([message, *consequence_lines(lines, "series", settings, lang)])
        markup = keyboards.confirm_repeat(lang, booking.id, data.weeks)
        show(bot, call, (message, markup))
        return None

    @on_callback(bot, ctx, cb.REPEAT)
    def repeat(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.owned_active_booking(session, data.booking_id, user)
            day, minute = minute_of_day(booking.starts_at, settings)
            made = standing.start(
                ctx.client_unit(session, user),
                user,
                day,
                minute,
                data.weeks or None,
            )
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        note = text(
            lang,
            "bot_series_started",
            series=series_label(lang, made.series.weekday, made.series.start),
            booked=len(made.bookings),
            waiting=len(made.waiting),
            skipped=len(made.skipped),
        )
        show(bot, call, my_view(ctx, session, user, lang, note=note + "\n"))
        return Answer(label(lang, "toast_series_started"))

    @on_callback(bot, ctx, cb.SERIES_STOP_ASK)
    def ask_stop(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        running = standing.active_series(session, settings, ctx.clock(), user)
        found = next((series for series in running if series.id == data.series_id), None)
        if found is None:  # forged, someone else's, or stopped meanwhile
            return refused(call, ScheduleError("series_not_found"), session, user, lang)
        name = series_label(lang, found.weekday, found.start)
        message = text(lang, "confirm_stop_series", series=name)
        show(bot, call, (message, keyboards.confirm_stop_series(lang, found.id)))
        return None

    @on_callback(bot, ctx, cb.SERIES_STOP)
    def stop(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            stopped = standing.stop(
                ctx.client_unit(session, user),
                data.series_id,
            )
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        name = series_label(lang, stopped.weekday, stopped.start)
        note = text(lang, "series_stopped_by_you", series=name)
        show(bot, call, my_view(ctx, session, user, lang, note=note + "\n"))
        return Answer(label(lang, "toast_series_stopped"))
