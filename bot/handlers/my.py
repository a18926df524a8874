"""/my: the user's upcoming trainings, each with a cancel button and a confirm step, and the
starts they wait for, each with a leave button (one tap).

Whether a booking is the user's, still active and still cancellable is decided by
schedule.services.cancel; callback data naming someone else's booking changes nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message

from schedule import ScheduleError, User, passes, services, waitlist
from schedule.timegrid import training_end

from .. import callbacks as cb
from .. import keyboards
from ..texts import day_label, fit, label, text, when
from .booking import place_in_line, requested_start
from .common import Answer, BotContext, View, on_callback, on_message, send, show


def my_view(ctx: BotContext, session: Session, user: User, lang: str, note: str = "") -> View:
    settings = ctx.settings
    now = ctx.clock()
    bookings = services.upcoming_bookings(session, user, now)
    places = waitlist.user_entries(session, user, now, settings=settings)
    lines = [note] if note else []
    lines.extend(pass_lines(settings, session, user, lang, now))
    if bookings:
        lines.append(text(lang, "my_header"))
        lines.extend(
            "• " + when(booking.starts_at, booking.ends_at, settings, lang) for booking in bookings
        )
    else:
        lines.append(text(lang, "my_empty"))
    if places:
        lines.extend(["", text(lang, "my_waitlist_header")])
        lines.extend(
            text(
                lang,
                "my_waiting_line",
                when=when(
                    place.entry.starts_at,
                    training_end(place.entry.starts_at, settings),
                    settings,
                    lang,
                ),
                position=place.position,
            )
            for place in places
        )
    waiting = [place.entry.starts_at for place in places]
    cancellable = [b for b in bookings if services.client_may_change(b, settings, now)]
    markup = keyboards.my_bookings(lang, cancellable, settings, ctx.config.web_app_url, waiting)
    return fit(lines), markup


def pass_lines(settings, session: Session, user: User, lang: str, now) -> list[str]:
    """Visits left on each valid pass (none when the client never had one)."""
    views = passes.client_passes(session, settings, user, now)
    valid = [view for view in views if view.valid]
    if views and not valid:
        return [text(lang, "my_no_pass")]
    return [
        text(
            lang,
            "my_pass_line",
            n=view.remaining,
            total=view.sold.visits,
            until=day_label(view.sold.expires_on, lang),
        )
        for view in valid
    ]


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
            booking = services.owned_active_booking(session, data.booking_id, user)
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

    @on_callback(bot, ctx, cb.LEAVE)
    def leave(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        starts_at = requested_start(ctx, data)
        place = None if starts_at is None else place_in_line(ctx, session, user, starts_at)
        try:
            if place is None:
                raise ScheduleError("not_found")
            entry = waitlist.leave(session, place.entry.id, user)
        except ScheduleError:
            show(bot, call, my_view(ctx, session, user, lang))
            return Answer(label(lang, "not_waiting"), alert=True)
        span = when(entry.starts_at, training_end(entry.starts_at, settings), settings, lang)
        note = text(lang, "left_wait", when=span)
        show(bot, call, my_view(ctx, session, user, lang, note=note + "\n"))
        return Answer(label(lang, "toast_left"))
