"""/book in chat: bookable days → starts with their places → confirm → booked; a full
start (⏳) → confirm → on its waitlist, with the place in line. A studio with several kinds of
training asks which kind first; a kind that several trainers give, whom next (each trainer, or
any of them); from there every button carries the kind and the trainer (callbacks' TRAINER_*),
and each tap reads both afresh from the Catalog (`choice_of`): one retired meanwhile, or a
forged id, is an alert and the step that chooses again. Back buttons go back one step.

The buttons render schedule's picture of the day (availability.view_kind: of the kind with the
trainer, or any of the kind's), the one the Mini App's grid and /api/slots render too: which
starts may be booked and with how many places, which full ones may be waited for. The booking
and the joining are schedule.services.book and schedule.waitlist.join, which re-check every rule
in their transactions; a booking for any trainer goes to the one the rules pick
(schedule.kinds), and the booked message names them.
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
from schedule.kinds import Catalog, KindInfo, TrainerInfo, load_catalog
from schedule.models import WaitlistEntry
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


@dataclass(frozen=True)
class Choice:
    """What /book books once the studio offers a choice (several kinds, or several trainers of
    a kind): the kind (the default one too) and the trainer (None: any of the kind's), read
    from the Catalog afresh on every tap (`choice_of`: a kind or trainer retired meanwhile, or
    a forged id, is no choice)."""

    catalog: Catalog
    kind: KindInfo
    trainer: TrainerInfo | None = None

    @property
    def trainer_id(self) -> int | None:
        return self.trainer.id if self.trainer else None

    @property
    def several_kinds(self) -> bool:
        return len(self.catalog.kinds) > 1

    @property
    def several_trainers(self) -> bool:
        """Whether /book asks whom (more than one trainer gives the kind)."""
        return several_trainers(self.catalog, self.kind)

    @property
    def chosen(self) -> keyboards.Chosen:
        """The choice as the keyboards carry it, with the step before the days to go back to."""
        back = (
            cb.KIND_DAYS if self.several_trainers else cb.KINDS if self.several_kinds else cb.MENU
        )
        return keyboards.Chosen(self.kind.id, self.trainer_id or 0, back)

    def lines(self, lang: str, trainer_id: int | None = None) -> list[str]:
        """What a message says of the choice: the kind (when there are several) and the trainer
        (the one chosen, or `trainer_id`: the one a booking for any went to)."""
        lines = []
        if self.several_kinds:
            lines.append(text(lang, "bot_choice_kind", name=kind_name(lang, self.kind)))
        named = self.trainer or (
            self.catalog.trainer(trainer_id) if trainer_id is not None else None
        )
        if named is not None and (self.trainer or self.several_trainers):
            lines.append(text(lang, "bot_choice_trainer", name=named.name))
        return lines


class Stale(Exception):
    """Callback data naming a kind or trainer the studio does not have (any more), or a trainer
    who does not give that kind: `kind` the kind when only the trainer was wrong."""

    def __init__(self, catalog: Catalog, kind: KindInfo | None = None) -> None:
        super().__init__("stale kind or trainer")
        self.catalog = catalog
        self.kind = kind


def several_trainers(catalog: Catalog, kind: KindInfo) -> bool:
    return len([t for t in catalog.candidates(kind) if t is not None]) > 1


def choice_of(catalog: Catalog, kind_id: int | None, trainer_id: int | None) -> Choice:
    """The kind `kind_id` (None: the default) with the trainer `trainer_id` (None or 0: any),
    checked against the Catalog: Stale for an unknown kind or trainer, or one who does not
    give that kind."""
    kind = catalog.kind(kind_id)
    if kind is None:
        raise Stale(catalog)
    if not trainer_id:
        return Choice(catalog, kind)
    trainer = catalog.trainer(trainer_id)
    if trainer is None or trainer_id not in catalog.candidates(kind):
        raise Stale(catalog, kind)
    return Choice(catalog, kind, trainer)


def kind_name(lang: str, kind: KindInfo) -> str:
    return kind.name or label(lang, "kind_default")


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
                name=kind_name(lang, kind),
                length=nlabel(lang, "minutes", kind.minutes),
            ),
        )
        for kind in catalog.kinds
    ]
    return text(lang, "bot_pick_kind"), keyboards.kinds(lang, choices)


def trainers_view(lang: str, choice: Choice) -> View:
    """/book's step after the kind when several trainers give it: whom, or any of them."""
    catalog = choice.catalog
    names = [
        (trainer.id, trainer.name)
        for trainer in (catalog.trainer(t) for t in catalog.candidates(choice.kind) if t)
        if trainer is not None
    ]
    message = "\n".join([text(lang, "bot_pick_trainer"), *choice.lines(lang)])
    back = cb.KINDS if choice.several_kinds else cb.MENU
    return message, keyboards.trainers(lang, choice.kind.id, names, back)


def book_view(ctx: BotContext, session: Session, user: User, lang: str) -> View:
    """/book's first screen: which kind (several), else whom (several trainers of the one
    kind), else the days."""
    found = kinds_view(ctx, session, lang)
    if found is not None:
        return found
    catalog = load_catalog(session, ctx.settings)
    choice = Choice(catalog, catalog.default)
    if choice.several_trainers:
        return trainers_view(lang, choice)
    return days_view(ctx, session, user, lang)


def kind_view(ctx: BotContext, session: Session, user: User, lang: str, choice: Choice) -> View:
    """A kind chosen: whom, when several give it; else its days (the studio's days as before
    when it offers no choice at all)."""
    if choice.several_trainers:
        return trainers_view(lang, choice)
    if not choice.several_kinds:
        return days_view(ctx, session, user, lang)
    return days_view(ctx, session, user, lang, choice)


def ask_trainer_view(ctx: BotContext, session: Session, lang: str, refusal: str) -> View:
    """Why the client cannot book (no pass, paused) and a link to a chat with the trainer."""
    message = html.escape(message_for(refusal, lang), quote=False)
    contact = trainer_contact(session, ctx.config.admin_ids)
    if contact:
        link = f'<a href="{html.escape(contact)}">'
        message += "\n" + label(lang, "bot_ask_trainer", link=link)
    return message, keyboards.days(lang, [])


def days_view(
    ctx: BotContext, session: Session, user: User, lang: str, choice: Choice | None = None
) -> View:
    """The bookable days (of the chosen kind with the chosen trainer, or any of its)."""
    now = ctx.clock()
    horizon = horizon_days(ctx.settings, now)
    snapshot = snapshot_for_days(session, ctx.settings, horizon[0], horizon[-1])
    held = limits.holdings(session, ctx.settings, user.id, now)
    kind, trainer = (choice.kind, choice.trainer_id) if choice else (None, None)
    days = [
        day
        for day in horizon
        if choices_of(view_kind(snapshot, kind, trainer, day, user.id, now, 0, held))
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
    if choice is not None:
        message = "\n".join([message, *choice.lines(lang)])
    return message, keyboards.days(lang, days, choice.chosen if choice else None)


def day_view(
    ctx: BotContext,
    session: Session,
    user: User,
    lang: str,
    day: date,
    choice: Choice | None = None,
) -> View | str | None:
    """The starts of `day` to book or to wait for (of the chosen kind with the chosen trainer:
    that trainer's picture); when there are none (any more), the fair-use limit that refuses
    them (schedule.limits) or None."""
    kind, trainer = (choice.kind, choice.trainer_id) if choice else (None, None)
    choices = choices_of(day_picture(ctx, session, user, day, kind=kind, trainer=trainer))
    if not choices:
        return choices.limit
    lines = [text(lang, "bot_pick_start", day=day_label(day, lang))]
    if choice is not None:
        lines += choice.lines(lang)
    if choices.full:
        lines.append(text(lang, "pick_start_waitlist"))
    markup = keyboards.starts(
        lang, day, choices.bookable, choices.full, choice.chosen if choice else None
    )
    return "\n".join(lines), markup


def fresh_view(
    ctx: BotContext,
    session: Session,
    user: User,
    lang: str,
    day: date,
    choice: Choice | None = None,
) -> View:
    view = day_view(ctx, session, user, lang, day, choice)
    return view if isinstance(view, tuple) else days_view(ctx, session, user, lang, choice)


def line_of(choice: Choice | None) -> dict[str, int | None]:
    """The waitlist's keywords for the chosen kind and trainer (schedule.waitlist.join's
    `kind`, `trainer`): none chosen, the default kind with any trainer."""
    if choice is None:
        return {"kind": None, "trainer": None}
    return {"kind": choice.kind.id, "trainer": choice.trainer_id}


def requested_start(ctx: BotContext, data: cb.Callback) -> datetime | None:
    """The start a callback names, or None when no start of the grid is there (forged data,
    or a wall time a clock change skips)."""
    try:
        return start_instant(data.day, data.minute, ctx.settings)
    except ScheduleError:  # off the grid, or a wall time a clock change skips
        return None


def waiting_view(ctx: BotContext, session: Session, lang: str, place: waitlist.Position) -> View:
    """The client's place in a line: the start with its kind's end, and the kind (and trainer)
    waited for when the studio has several kinds (or the entry names a trainer)."""
    entry = place.entry
    settings = ctx.settings
    catalog = load_catalog(session, settings)
    span = when(entry.starts_at, waitlist.entry_end(catalog, entry, settings), settings, lang)
    lines = [text(lang, "waiting", when=span, position=place.position)]
    lines += waited_for(catalog, entry, lang)
    markup = keyboards.waiting(lang, entry.starts_at, settings, ctx.config.web_app_url)
    return "\n".join(lines), markup


def waited_for(catalog: Catalog, entry: WaitlistEntry, lang: str) -> list[str]:
    """What a waitlist entry waits for, as a message says it: the kind when the studio has
    several, the trainer when the entry names one (one it still has)."""
    lines = []
    if len(catalog.kinds) > 1:
        kind = waitlist.kind_of(catalog, entry)
        lines.append(text(lang, "bot_choice_kind", name=kind_name(lang, kind)))
    named = catalog.trainer(entry.trainer_id) if entry.trainer_id is not None else None
    if named is not None:
        lines.append(text(lang, "bot_choice_trainer", name=named.name))
    return lines


def place_in_line(
    ctx: BotContext, session: Session, user: User, starts_at: datetime
) -> waitlist.Position | None:
    """The user's place in line for `starts_at`, while the entry can still be promoted."""
    places = waitlist.user_entries(session, user, ctx.clock(), settings=ctx.settings)
    return next((p for p in places if p.entry.starts_at == starts_at), None)


def register(bot: TeleBot, ctx: BotContext) -> None:
    settings = ctx.settings

    def the_choice(session, data: cb.Callback) -> Choice | None:
        """The kind and trainer a callback names, checked against the Catalog (Stale when it
        names one the studio lacks); None for the studio's own flow (no kind named)."""
        if data.kind is None:
            return None
        return choice_of(load_catalog(session, settings), data.kind, data.trainer)

    def stale(call: CallbackQuery, gone: Stale, session, user, lang) -> Answer:
        """A kind or trainer that is no choice: the step that chooses it again, and an alert."""
        if gone.kind is not None and several_trainers(gone.catalog, gone.kind):
            show(bot, call, trainers_view(lang, Choice(gone.catalog, gone.kind)))
        else:
            show(bot, call, book_view(ctx, session, user, lang))
        return Answer(label(lang, "stale"), alert=True)

    @on_message(bot, ctx, commands=["book"])
    def book_command(message: Message, session: Session, user: User, lang: str) -> None:
        send(bot, message.chat.id, book_view(ctx, session, user, lang))

    @on_callback(bot, ctx, cb.DAYS, cb.KINDS)
    def pick_day(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        show(bot, call, book_view(ctx, session, user, lang))
        return None

    @on_callback(bot, ctx, cb.KIND_DAYS)
    def pick_kind(call: CallbackQuery, data, session, user, lang) -> Answer | None:
        try:
            choice = choice_of(load_catalog(session, settings), data.kind, None)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        show(bot, call, kind_view(ctx, session, user, lang, choice))
        return None

    @on_callback(bot, ctx, cb.TRAINER_DAYS)
    def pick_trainer_day(call: CallbackQuery, data, session, user, lang) -> Answer | None:
        try:
            choice = the_choice(session, data)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        show(bot, call, days_view(ctx, session, user, lang, choice))
        return None

    @on_callback(bot, ctx, cb.DAY, cb.KIND_DAY, cb.TRAINER_DAY)
    def pick_start(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            choice = the_choice(session, data)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        view = day_view(ctx, session, user, lang, data.day, choice)
        if not isinstance(view, tuple):
            show(bot, call, days_view(ctx, session, user, lang, choice))
            if view is not None:  # a fair-use limit: say which
                return Answer(limits.limit_message(view, settings, lang), alert=True)
            return Answer(label(lang, "day_full"), alert=True)
        show(bot, call, view)
        return None

    def confirm_lines(lang: str, key: str, starts_at, choice) -> list[str]:
        """A confirm's first lines: the start and its kind's end, then the kind and trainer
        chosen (when there was a choice)."""
        rules = choice.kind.rules(settings) if choice else settings
        ends_at = training_end(starts_at, rules)
        lines = [text(lang, key, when=when(starts_at, ends_at, settings, lang))]
        return lines + (choice.lines(lang) if choice is not None else [])

    @on_callback(bot, ctx, cb.PICK, cb.KIND_PICK, cb.TRAINER_PICK)
    def confirm(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            choice = the_choice(session, data)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        kind, trainer = (choice.kind, choice.trainer_id) if choice else (None, None)
        view = day_picture(ctx, session, user, data.day, kind=kind, trainer=trainer)
        slot = next((s for s in view.slots if s.cell.minute == data.minute and s.can_start), None)
        if slot is None:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day, choice))
            return Answer(label(lang, "stale"), alert=True)
        starts_at = slot.cell.starts_at
        lines = confirm_lines(lang, "confirm_booking", starts_at, choice)
        found = consequences.of_booking(session, settings, user, starts_at, ctx.clock())
        message = "\n".join([*lines, *consequence_lines(found, "book", settings, lang)])
        chosen = choice.chosen if choice else None
        show(bot, call, (message, keyboards.confirm_booking(lang, data.day, data.minute, chosen)))
        return None

    @on_callback(bot, ctx, cb.BOOK, cb.KIND_BOOK, cb.TRAINER_BOOK)
    def book(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            choice = the_choice(session, data)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        if requested_start(ctx, data) is None:
            show(bot, call, days_view(ctx, session, user, lang, choice))
            return Answer(label(lang, "stale"), alert=True)
        try:
            booking = services.book(
                ctx.client_unit(session, user),
                user,
                data.day,
                data.minute,
                source="bot",
                kind=choice.kind.id if choice else None,
                trainer=choice.trainer_id if choice else None,
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
                show(bot, call, fresh_view(ctx, session, user, lang, data.day, choice))
            return Answer(error.message(lang), alert=True)
        lines = [
            text(lang, "bot_booked", when=when(booking.starts_at, booking.ends_at, settings, lang))
        ]
        if choice is not None:
            lines += choice.lines(lang, booking.trainer_id)
        markup = keyboards.booked(lang, booking, settings, ctx.config.web_app_url)
        show(bot, call, ("\n".join(lines), markup))
        return Answer(label(lang, "toast_booked"))

    @on_callback(bot, ctx, cb.WAIT_ASK, cb.TRAINER_WAIT_ASK)
    def ask_wait(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        now = ctx.clock()
        try:
            choice = the_choice(session, data)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        starts_at = requested_start(ctx, data)
        if starts_at is None:
            show(bot, call, days_view(ctx, session, user, lang, choice))
            return Answer(label(lang, "stale"), alert=True)
        place = place_in_line(ctx, session, user, starts_at)
        if place is not None:
            show(bot, call, waiting_view(ctx, session, lang, place))
            return None
        snapshot = snapshot_for_start(session, settings, starts_at)
        held = limits.holdings(session, settings, user.id, now)
        line = line_of(choice)
        refusal = waitlist.join_refusal(snapshot, starts_at, user.id, now, held, **line)
        if refusal is not None:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day, choice))
            return Answer(limits.refused(refusal, held, starts_at, now).message(lang), alert=True)
        lines = confirm_lines(lang, "confirm_wait", starts_at, choice)
        found = consequences.of_waitlist(session, settings, user, starts_at, now, **line)
        message = "\n".join([*lines, *consequence_lines(found, "wait", settings, lang)])
        chosen = choice.chosen if choice else None
        show(bot, call, (message, keyboards.confirm_wait(lang, data.day, data.minute, chosen)))
        return None

    @on_callback(bot, ctx, cb.WAIT, cb.TRAINER_WAIT)
    def join_waitlist(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            choice = the_choice(session, data)
        except Stale as gone:
            return stale(call, gone, session, user, lang)
        if requested_start(ctx, data) is None:
            show(bot, call, days_view(ctx, session, user, lang, choice))
            return Answer(label(lang, "stale"), alert=True)
        try:
            place = waitlist.join(
                ctx.client_unit(session, user), user, data.day, data.minute, **line_of(choice)
            )
        except ScheduleError as error:
            show(bot, call, fresh_view(ctx, session, user, lang, data.day, choice))
            return Answer(error.message(lang), alert=True)
        show(bot, call, waiting_view(ctx, session, lang, place))
        return Answer(label(lang, "toast_waiting"))
