"""Moving a booking in chat, from /my or a message about it: the days it may go to → the starts
of a day (with their places) → what the move will do (schedule.consequences) → moved.

The days and starts are schedule's picture of each day weighed without the booking moved
(availability.view_day's ignore_booking), the one the Mini App's grid shows while moving; the
move itself is schedule.services.reschedule, which re-checks every rule and the deadline in its
transaction and leaves the booking as it was when the new start cannot be had. Every tap reads
the booking afresh as the user's own: a forged id, someone else's, or one cancelled meanwhile
is an alert and /my again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery

from schedule import Booking, ScheduleError, User, consequences, services
from schedule.availability import horizon_days, snapshot_for_days, view_kind
from schedule.kinds import KindInfo, load_catalog
from schedule.limits import holdings
from schedule.timegrid import training_end

from .. import callbacks as cb
from .. import keyboards
from ..texts import consequence_lines, day_label, label, text, when
from .booking import day_picture
from .common import Answer, BotContext, View, on_callback, show
from .my import my_view


def movable(ctx: BotContext, session: Session, user: User, booking_id: int) -> Booking:
    """The user's own active booking that they may still move (ScheduleError otherwise)."""
    booking = services.owned_active_booking(session, booking_id, user)
    if not services.client_may_change(booking, ctx.settings, ctx.clock()):
        raise ScheduleError("deadline_passed")
    return booking


def starts_for(ctx: BotContext, session: Session, user: User, booking: Booking, day: date):
    """The starts of `day` the booking may move to: (minute, 'HH:MM', places), its own start
    left out."""
    kind = kind_of(ctx, session, booking)
    view = day_picture(
        ctx, session, user, day, moving=booking.id, kind=kind, trainer=booking.trainer_id
    )
    return [
        (slot.cell.minute, slot.start, slot.places)
        for slot in view.slots
        if slot.can_start and slot.cell.starts_at != booking.starts_at
    ]


def kind_of(ctx: BotContext, session: Session, booking: Booking) -> KindInfo | None:
    """The kind a move keeps (the service keeps it, and the trainer, too): None, the default."""
    return (
        None
        if booking.kind_id is None
        else load_catalog(session, ctx.settings).kind(booking.kind_id)
    )


def days_view(ctx: BotContext, session: Session, user: User, lang: str, booking: Booking) -> View:
    now, settings = ctx.clock(), ctx.settings
    horizon = horizon_days(settings, now)
    snapshot = snapshot_for_days(session, settings, horizon[0], horizon[-1])
    held = holdings(session, settings, user.id, now)
    kind = kind_of(ctx, session, booking)
    days = [
        day
        for day in horizon
        if any(
            slot.can_start and slot.cell.starts_at != booking.starts_at
            for slot in view_kind(
                snapshot, kind, booking.trainer_id, day, user.id, now, booking.id, held
            ).slots
        )
    ]
    span = when(booking.starts_at, booking.ends_at, settings, lang)
    if not days:
        return text(lang, "bot_move_no_days", when=span), keyboards.move_days(lang, booking.id, [])
    return text(lang, "bot_move_pick_day", when=span), keyboards.move_days(lang, booking.id, days)


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    def refused(call: CallbackQuery, error: ScheduleError, session, user, lang) -> Answer:
        show(bot, call, my_view(ctx, session, user, lang))
        return Answer(error.message(lang), alert=True)

    @on_callback(bot, ctx, cb.MOVE_ASK)
    def ask_day(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = movable(ctx, session, user, data.booking_id)
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        show(bot, call, days_view(ctx, session, user, lang, booking))
        return None

    @on_callback(bot, ctx, cb.MOVE_DAY)
    def ask_start(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = movable(ctx, session, user, data.booking_id)
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        starts = starts_for(ctx, session, user, booking, data.day)
        if not starts:
            show(bot, call, days_view(ctx, session, user, lang, booking))
            return Answer(label(lang, "day_full"), alert=True)
        message = text(lang, "bot_pick_start", day=day_label(data.day, lang))
        show(bot, call, (message, keyboards.move_starts(lang, booking.id, data.day, starts)))
        return None

    @on_callback(bot, ctx, cb.MOVE_PICK)
    def confirm(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = movable(ctx, session, user, data.booking_id)
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        kind = kind_of(ctx, session, booking)
        view = day_picture(
            ctx, session, user, data.day, moving=booking.id, kind=kind, trainer=booking.trainer_id
        )
        slot = next((s for s in view.slots if s.cell.minute == data.minute and s.can_start), None)
        if slot is None or slot.cell.starts_at == booking.starts_at:
            show(bot, call, days_view(ctx, session, user, lang, booking))
            return Answer(label(lang, "stale"), alert=True)
        starts_at = slot.cell.starts_at
        rules = kind.rules(settings) if kind else settings  # the move keeps the kind's length
        message = text(
            lang,
            "bot_confirm_move",
            old=when(booking.starts_at, booking.ends_at, settings, lang),
            when=when(starts_at, training_end(starts_at, rules), settings, lang),
        )
        lines = consequences.of_booking(
            session, settings, user, starts_at, ctx.clock(), moving=booking
        )
        message = "\n".join([message, *consequence_lines(lines, "book", settings, lang)])
        markup = keyboards.confirm_move(lang, booking.id, data.day, data.minute)
        show(bot, call, (message, markup))
        return None

    @on_callback(bot, ctx, cb.MOVE)
    def move(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.reschedule(
                ctx.client_unit(session, user),
                data.booking_id,
                data.day,
                data.minute,
            )
        except ScheduleError as error:
            return refused(call, error, session, user, lang)
        span = when(booking.starts_at, booking.ends_at, settings, lang)
        note = text(lang, "bot_moved", when=span)
        show(bot, call, my_view(ctx, session, user, lang, note=note + "\n"))
        return Answer(label(lang, "toast_moved"))
