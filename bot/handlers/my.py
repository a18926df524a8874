"""/my: the user's upcoming trainings, each with a cancel button and a confirm step, the starts
they wait for, each with a leave button (one tap), and their standing bookings (schedule.series'
picture of each: its bookings, waiting and skipped dates) with a stop button; a booking not in
one offers to repeat weekly (bot/handlers/series.py handles those taps).

Whether a booking is the user's, still active and still cancellable is decided by
schedule.services.cancel; callback data naming someone else's booking changes nothing.
"""

from __future__ import annotations

import html

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import CallbackQuery, Message

from schedule import (
    ScheduleError,
    Settings,
    User,
    consequences,
    passes,
    payments,
    services,
    waitlist,
)
from schedule import series as standing
from schedule.errors import message_for
from schedule.i18n import N_
from schedule.kinds import Catalog, load_catalog
from schedule.models import WaitlistEntry
from schedule.timegrid import to_local

from .. import callbacks as cb
from .. import keyboards
from ..series import label as series_label
from ..texts import consequence_lines, day_label, fit, label, ntext, text, when
from .booking import kind_name, place_in_line, requested_start
from .common import Answer, BotContext, View, on_callback, on_message, send, show


def my_view(ctx: BotContext, session: Session, user: User, lang: str, note: str = "") -> View:
    settings = ctx.settings
    now = ctx.clock()
    bookings = services.upcoming_bookings(session, user, now)
    places = waitlist.user_entries(session, user, now, settings=settings)
    running = [
        standing.picture(session, settings, series, now)
        for series in standing.active_series(session, settings, now, user)
    ]
    in_series = {booking.id for picture in running for booking in picture.bookings}
    single = [booking for booking in bookings if booking.id not in in_series]
    lines = [note] if note else []
    lines.extend(pass_lines(settings, session, user, lang, now))
    for picture in running:
        lines.extend(series_lines(settings, picture, lang))
    if single:
        lines.extend(["", text(lang, "my_header")] if running else [text(lang, "my_header")])
        lines.extend(
            "• " + when(booking.starts_at, booking.ends_at, settings, lang) for booking in single
        )
    elif not running:
        lines.append(text(lang, "my_empty"))
    if places:
        lines.extend(["", text(lang, "my_waitlist_header")])
        lines.extend(waiting_lines(settings, load_catalog(session, settings), places, lang))
    waiting = [place.entry.starts_at for place in places]
    cancellable = [
        b
        for b in bookings
        if services.client_may_change(b, settings, now) or payments.forfeits(b, settings, now)
    ]
    stops = [(p.series.id, series_label(lang, p.series.weekday, p.series.start)) for p in running]
    markup = keyboards.my_bookings(
        lang,
        cancellable,
        settings,
        ctx.config.web_app_url,
        waiting,
        repeatable=single,
        series=stops,
    )
    return fit(lines), markup


def waiting_lines(
    settings: Settings, catalog: Catalog, places: list[waitlist.Position], lang: str
) -> list[str]:
    """The starts waited for: each with its kind's end and place in line, and the kind (and
    trainer) waited for when the studio has several kinds or the entry names a trainer."""
    lines = []
    for place in places:
        entry = place.entry
        span = when(entry.starts_at, waitlist.entry_end(catalog, entry, settings), settings, lang)
        line = text(lang, "my_waiting_line", when=span, position=place.position)
        what = waited_names(catalog, entry, lang)
        lines.append(f"{line} ({what})" if what else line)
    return lines


def waited_names(catalog: Catalog, entry: WaitlistEntry, lang: str) -> str:
    """The kind (with several) and the trainer named, for one line of /my."""
    parts = []
    if len(catalog.kinds) > 1:
        parts.append(kind_name(lang, waitlist.kind_of(catalog, entry)))
    named = catalog.trainer(entry.trainer_id) if entry.trainer_id is not None else None
    if named is not None:
        parts.append(named.name)
    return html.escape(", ".join(parts), quote=False)


def series_lines(settings: Settings, picture: standing.Picture, lang: str) -> list[str]:
    """A running series: weekday and start, weeks or until stopped, then by date its bookings
    to come, the dates it waits for and the dates skipped with why."""
    series = picture.series
    name = series_label(lang, series.weekday, series.start)
    if series.until is None:
        head = text(lang, "my_series_open", series=name)
    else:
        head = text(lang, "my_series_line", series=name, until=day_label(series.until, lang))
    dated = [
        (
            to_local(b.starts_at, settings).date(),
            "  • " + when(b.starts_at, b.ends_at, settings, lang),
        )
        for b in picture.bookings
    ]
    for o in picture.waiting:
        dated.append(
            (o.occurs_on, text(lang, "my_series_waiting", day=day_label(o.occurs_on, lang)))
        )
    for o in picture.skipped:
        reason = message_for(o.reason or "invalid", lang)
        line = text(lang, "my_series_skipped", day=day_label(o.occurs_on, lang), reason=reason)
        dated.append((o.occurs_on, line))
    return [head, *(line for _, line in sorted(dated, key=lambda pair: pair[0]))]


def pass_lines(settings, session: Session, user: User, lang: str, now) -> list[str]:
    """Visits left on each valid pass (none when the client never had one)."""
    views = passes.client_passes(session, settings, user, now)
    valid = [view for view in views if view.valid]
    if views and not valid:
        return [text(lang, "my_no_pass")]
    return [
        text(lang, N_("my_membership_line"), until=day_label(view.sold.expires_on, lang))
        if view.sold.visits is None
        else ntext(
            lang,
            "my_pass_line",
            view.sold.visits,  # "of 10 visits"
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
            lang,
            "bot_confirm_cancel",
            when=when(booking.starts_at, booking.ends_at, settings, lang),
        )
        lines = consequences.of_cancel(session, settings, booking, ctx.clock())
        message = "\n".join([message, *consequence_lines(lines, "cancel", settings, lang)])
        late = any(c.code == "late" and c.facts["policy"] != consequences.FORFEIT for c in lines)
        show(bot, call, (message, keyboards.confirm_cancel(lang, booking.id, may_cancel=not late)))
        return None

    @on_callback(bot, ctx, cb.CANCEL)
    def cancel(call: CallbackQuery, data: cb.Callback, session, user, lang) -> Answer | None:
        try:
            booking = services.cancel(
                ctx.client_unit(session, user),
                data.booking_id,
            )
        except ScheduleError as error:
            show(bot, call, my_view(ctx, session, user, lang))
            return Answer(error.message(lang), alert=True)
        note = text(
            lang, "bot_cancelled", when=when(booking.starts_at, booking.ends_at, settings, lang)
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
        end = waitlist.entry_end(load_catalog(session, settings), entry, settings)
        note = text(lang, "left_wait", when=when(entry.starts_at, end, settings, lang))
        show(bot, call, my_view(ctx, session, user, lang, note=note + "\n"))
        return Answer(label(lang, "toast_left"))
