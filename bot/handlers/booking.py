"""/book in chat: bookable days → starts with their places → confirm → booked; a full
start (⏳) → confirm → on its waitlist, with the place in line.

The buttons render schedule's picture of the day (availability.view_day), the one the Mini
App's grid and /api/slots render too: which starts may be booked and with how many places,
which full ones may be waited for. The booking and the joining are schedule.services.book and
schedule.waitlist.join, which re-check every rule in their transactions.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message

from schedule import ScheduleError, User, consequences, limits, services, waitlist
from schedule.availability import (
    DayView,
    Snapshot,
    horizon_days,
    snapshot_for_days,
    snapshot_for_start,
    view_kind,
)
from schedule.errors import message_for
from schedule.kinds import DEFAULT_KIND_ID, KindInfo, load_catalog
from schedule.timegrid import start_instant, training_end
from schedule.trainer import trainer_contact

from .. import callbacks as cb
from .. import keyboards
from ..texts import consequence_lines, day_label, label, nlabel, ntext, text, when
from .common import Answer, BotContext, View, on_callback, on_message, send, show

# Refusals only the trainer can lift (a pass sold, a no-show pause lifted): the client is
# given the trainer's contact with the reason.
ASK_TRAINER = ("no_pass", "no_show_limit")


@dataclass(frozen=True)
class DayChoices:
    """What `/book` offers on a day: starts to book, full starts to wait for (or waited for)."""

    bookable: list[tuple[int, str, int]]  # (minute, 'HH:MM', places for a training there)
    full: list[tuple[int, str, bool]]  # (minute, 'HH:MM', whether the user is in line already)
    limit: str | None = None  # the fair-use limit refusing the day's starts (schedule.limits)

    def __bool__(self) -> bool:
        return bool(self.bookable or self.full)


def choices_of(view: DayView) -> DayChoices:
    """The day's picture (schedule.availability.view_day) as buttons: every start the user may
    book, with its places, and every full one they may wait for or already wait for."""
    bookable = [(s.cell.minute, s.start, s.places) for s in view.slots if s.can_start]
    full = [
        (s.cell.minute, s.start, s.in_line is not None)
        for s in view.slots
        if s.can_wait or s.in_line is not None
    ]
    return DayChoices(bookable, full, view.limit)


def day_picture(
    ctx: BotContext,
    session: Session,
    user: User,
    day: date,
    snapshot: Snapshot | None = None,
    moving: int = 0,
    kind: KindInfo | None = None,
    trainer: int | None = None,
) -> DayView:
    """`day` as `user` sees it now, their places in line included; while `moving` a booking
    (its id), weighed without it, as the Mini App's grid weighs a move. Of `kind` (None: the
    default kind) with `trainer` (None: any of its trainers)."""
    now = ctx.clock()
    snapshot = snapshot or snapshot_for_days(session, ctx.settings, day, day)
    held = limits.holdings(session, ctx.settings, user.id, now)
    in_line = waitlist.places_in_line(session, ctx.settings, user.id, day, now)
    return view_kind(snapshot, kind, trainer, day, user.id, now, moving, held, in_line)


def other_kind(session: Session, ctx: BotContext, kind_id: int | None) -> KindInfo | None:
    """A kind other than the default one, by id (None: the default one, or no such kind)."""
    if kind_id is None or kind_id == DEFAULT_KIND_ID:
        return None
    return load_catalog(session, ctx.settings).kind(kind_id)


def kinds_view(ctx: BotContext, session: Session, lang: str) -> View | None:
    """/book's first step: which kind of training, when there is more than one (else None)."""
    catalog = load_catalog(session, ctx.settings)
    if len(catalog.kinds) < 2:
        return None
    choices = [
        (
            kind.id,
            label(
                lang,
                "bot_kind_button",
                name=kind.name or label(lang, "kind_default"),
                length=nlabel(lang, "minutes", kind.minutes),
            ),
        )
        for kind in catalog.kinds
    ]
    return text(lang, "bot_pick_kind"), keyboards.kinds(lang, choices)


def ask_trainer_view(ctx: BotContext, session: Session, lang: str, refusal: str) -> View:
    """Why the client cannot book (no pass, paused) and a link to a chat with the trainer."""
    message = html.escape(message_for(refusal, lang), quote=False)
    contact = trainer_contact(session, ctx.config.admin_ids)
    if contact:
        link = f'<a href="{html.escape(contact)}">'
        message += "\n" + label(lang, "bot_ask_trainer", link=link)
    return message, keyboards.days(lang, [])


def days_view(
    ctx: BotContext, session: Session, user: User, lang: str, kind: KindInfo | None = None
) -> View:
    now = ctx.clock()
    horizon = horizon_days(ctx.settings, now)
    snapshot = snapshot_for_days(session, ctx.settings, horizon[0], horizon[-1])
    held = limits.holdings(session, ctx.settings, user.id, now)
    days = [
        day
        for day in horizon
        if choices_of(view_kind(snapshot, kind, None, day, user.id, now, 0, held))
    ]
    shut_out = next(filter(None, (held.standing_refusal(day, now) for day in horizon)), None)
    if not days and shut_out in ASK_TRAINER:
        return ask_trainer_view(ctx, session, lang, shut_out)
    if not days and held.at_active_limit(now):
        message = limits.limit_message(limits.ACTIVE_BOOKINGS, ctx.settings, lang)
    elif not days:
        days_ahead = ctx.settings.booking_horizon_days + 1
        message = ntext(lang, "no_days", days_ahead, days=days_ahead)
    else:
        message = text(lang, "pick_day")
    return message, keyboards.days(lang, days, kind.id if kind else None)


def day_view(
    ctx: BotContext,
    session: Session,
    user: User,
    lang: str,
    day: date,
    kind: KindInfo | None = None,
) -> View | str | None:
    """The starts of `day` to book or to wait for; when there are none (any more), the
    fair-use limit that refuses them (schedule.limits) or None."""
    choices = choices_of(day_picture(ctx, session, user, day, kind=kind))
    if not choices:
        return choices.limit
    message = text(lang, "bot_pick_start", day=day_label(day, lang))
    if choices.full:
        message += "\n" + text(lang, "pick_start_waitlist")
    kind_id = kind.id if kind else None
    return message, keyboards.starts(lang, day, choices.bookable, choices.full, kind_id)


def fresh_view(
    ctx: BotContext,
    session: Session,
    user: User,
    lang: str,
    day: date,
    kind: KindInfo | None = None,
) -> View:
    view = day_view(ctx, session, user, lang, day, kind)
    return view if isinstance(view, tuple) else days_view(ctx, session, user, lang, kind)


def requested_start(ctx: BotContext, data: cb.Callback) -> datetime | None:
    """The start a callback names, or None when no start of the grid is there (forged data,
    or a wall time a clock change skips)."""
    try:
        return start_instant(data.day, data.minute, ctx.settings)
    except ScheduleError:  # off the grid, or a wall time a clock change skips
        return None


def waiting_view(ctx: BotContext, lang: str, place: waitlist.Position) -> View:
    starts_at = place.entry.starts_at
    settings = ctx.settings
    message = text(
        lang,
        "waiting",
        when=when(starts_at, training_end(starts_at, settings), settings, lang),
        position=place.position,
    )
    return message, keyboards.waiting(lang, starts_at, settings, ctx.config.web_app_url)


def place_in_line(
    ctx: BotContext, session: Session, user: User, starts_at: datetime
) -> waitlist.Position | None:
    """The user's place in line for `starts_at`, while the entry can still be promoted."""
    places = waitlist.user_entries(session, user, ctx.clock(), settings=ctx.settings)
    return next((p for p in places if p.entry.starts_at == starts_at), None)


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    def the_kind(session, data: cb.Callback) -> KindInfo | None:
        """The kind a callback names (other than the default); a forged one is stale."""
        kind = other_kind(session, ctx, data.kind)
        if data.kind not in (None, DEFAULT_KIND_ID) and kind is None:
            raise ScheduleError("not_found")
        return kind

    def stale_kind(call: CallbackQuery, session, user, lang) -> Answer:
        show(bot, call, kinds_view(ctx, session, lang) or days_view(ctx, session, user, lang))
        return Answer(label(lang, "stale"), alert=True)

    @on_message(bot, ctx, commands=["book"])
    def book_command(message: Message, session: Session, user: User, lang: str) -> None:
        view = kinds_view(ctx, session, lang) or days_view(ctx, session, user, lang)
        send(bot, message.chat.id, view)

    @on_callback(bot, ctx, cb.DAYS)
    def pick_day(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        show(bot, call, kinds_view(ctx, session, lang) or days_view(ctx, session, user, lang))
        return None

    @on_callback(bot, ctx, cb.KINDS)
    def pick_kind(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        show(bot, call, kinds_view(ctx, session, lang) or days_view(ctx, session, user, lang))
        return None

    @on_callback(bot, ctx, cb.KIND_DAYS)
    def pick_kind_day(call: CallbackQuery, data, session, user, lang) -> Answer | None:
        try:
            kind = the_kind(session, data)
        except ScheduleError:
            return stale_kind(call, session, user, lang)
        show(bot, call, days_view(ctx, session, user, lang, kind))
        return None

    @on_callback(bot, ctx, cb.DAY, cb.KIND_DAY)
    def pick_start(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            kind = the_kind(session, data)
        except ScheduleError:
            return stale_kind(call, session, user, lang)
        view = day_view(ctx, session, user, lang, data.day, kind)
        if not isinstance(view, tuple):
            show(bot, call, days_view(ctx, session, user, lang, kind))
            if view is not None:  # a fair-use limit: say which
                return Answer(limits.limit_message(view, settings, lang), alert=True)
            return Answer(label(lang, "day_full"), alert=True)
        show(bot, call, view)
        return None

    @on_callback(bot, ctx, cb.PICK, cb.KIND_PICK)
    def confirm(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            kind = the_kind(session, data)
        except ScheduleError:
            return stale_kind(call, session, user, lang)
        view = day_picture(ctx, session, user, data.day, kind=kind)
        slot = next((s for s in view.slots if s.cell.minute == data.minute and s.can_start), None)
        if slot is None:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day, kind))
            return Answer(label(lang, "stale"), alert=True)
        starts_at = slot.cell.starts_at
        rules = kind.rules(settings) if kind else settings
        message = text(
            lang,
            "confirm_booking",
            when=when(starts_at, training_end(starts_at, rules), settings, lang),
        )
        lines = consequences.of_booking(session, settings, user, starts_at, ctx.clock())
        message = "\n".join([message, *consequence_lines(lines, "book", settings, lang)])
        markup = keyboards.confirm_booking(lang, data.day, data.minute, kind.id if kind else None)
        show(bot, call, (message, markup))
        return None

    @on_callback(bot, ctx, cb.BOOK, cb.KIND_BOOK)
    def book(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            kind = the_kind(session, data)
        except ScheduleError:
            return stale_kind(call, session, user, lang)
        if requested_start(ctx, data) is None:
            show(bot, call, days_view(ctx, session, user, lang, kind))
            return Answer(label(lang, "stale"), alert=True)
        try:
            booking = services.book(
                ctx.client_unit(session, user),
                user,
                data.day,
                data.minute,
                source="bot",
                kind=kind.id if kind else None,
            )
        except ScheduleError as error:
            if error.code == "phone_required":
                bot.send_message(
                    call.from_user.id,
                    text(lang, "ask_phone"),
                    reply_markup=keyboards.share_phone(lang),
                )
            elif error.code in ASK_TRAINER:
                show(bot, call, ask_trainer_view(ctx, session, lang, error.code))
            else:
                show(bot, call, fresh_view(ctx, session, user, lang, data.day, kind))
            return Answer(error.message(lang), alert=True)
        message = text(
            lang, "bot_booked", when=when(booking.starts_at, booking.ends_at, settings, lang)
        )
        markup = keyboards.booked(lang, booking, settings, ctx.config.web_app_url)
        show(bot, call, (message, markup))
        return Answer(label(lang, "toast_booked"))

    @on_callback(bot, ctx, cb.WAIT_ASK)
    def ask_wait(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        now = ctx.clock()
        starts_at = requested_start(ctx, data)
        if starts_at is None:
            show(bot, call, days_view(ctx, session, user, lang))
            return Answer(label(lang, "stale"), alert=True)
        place = place_in_line(ctx, session, user, starts_at)
        if place is not None:
            show(bot, call, waiting_view(ctx, lang, place))
            return None
        snapshot = snapshot_for_start(session, settings, starts_at)
        held = limits.holdings(session, settings, user.id, now)
        refusal = waitlist.join_refusal(snapshot, starts_at, user.id, now, held)
        if refusal is not None:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day))
            return Answer(limits.refused(refusal, held, starts_at, now).message(lang), alert=True)
        message = text(
            lang,
            "confirm_wait",
            when=when(starts_at, training_end(starts_at, settings), settings, lang),
        )
        lines = consequences.of_waitlist(session, settings, user, starts_at, now)
        message = "\n".join([message, *consequence_lines(lines, "wait", settings, lang)])
        show(bot, call, (message, keyboards.confirm_wait(lang, data.day, data.minute)))
        return None

    @on_callback(bot, ctx, cb.WAIT)
    def join_waitlist(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        if requested_start(ctx, data) is None:
            show(bot, call, days_view(ctx, session, user, lang))
            return Answer(label(lang, "stale"), alert=True)
        try:
            place = waitlist.join(
                ctx.client_unit(session, user),
                user,
                data.day,
                data.minute,
            )
        except ScheduleError as error:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day))
            return Answer(error.message(lang), alert=True)
        show(bot, call, waiting_view(ctx, lang, place))
        return Answer(label(lang, "toast_waiting"))
