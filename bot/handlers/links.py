"""`/start d20261210t1800` (the deep link https://t.me/<bot>?start=d20261210t1800): the start a
link names, answered as /book would answer a tap on it, with a button that opens the Mini App
on it.

The parameter is schedule.links' (the Mini App's `startapp` reads the same). A start the user
may book gets the booking's confirm (what booking will do, then "Book it"); a full one they may
wait for, the waitlist's confirm; their own booking, its actions; one they cannot take, why,
with that day's other starts. A parameter that opens nothing (unreadable, off the grid, past,
beyond the horizon) says so over the days to book. A link naming a kind and a trainer (`k`, `r`)
answers of that kind's start with that trainer (that trainer's picture, or any of the kind's
without `r`), and its buttons and the app button carry both; a kind or trainer the studio does
not have (any more), or a trainer who does not give that kind, says what the Mini App says of a
bad link (`link_unreadable`) over the days to book.
"""

from __future__ import annotations

import html
import re

from sqlalchemy.orm import Session
from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from schedule import User, consequences
from schedule.errors import message_for
from schedule.kinds import load_catalog
from schedule.limits import limit_message
from schedule.links import StartLink, Unusable, in_catalog, read_start_param
from schedule.timegrid import training_end

from .. import keyboards
from ..texts import consequence_lines, label, ntext, text, when
from .booking import Choice, choice_of, day_picture, day_view, days_view, line_of
from .common import BotContext, View

# A /start payload that is meant as a link to a start (others keep their own meaning).
LINK_PAYLOAD = re.compile(r"d[0-9]", re.IGNORECASE)


def is_start_link(payload: str) -> bool:
    return bool(LINK_PAYLOAD.match(payload))


def app_url(web_app_url: str, param: str) -> str:
    """The Mini App opened on a start: its URL with the start parameter, which app.js reads as
    Telegram's own `tgWebAppStartParam`."""
    joiner = "&" if "?" in web_app_url else "/?" if web_app_url.count("/") <= 2 else "?"
    return f"{web_app_url}{joiner}tgWebAppStartParam={param}"


def with_app_button(
    markup: InlineKeyboardMarkup, ctx: BotContext, lang: str, param: str
) -> InlineKeyboardMarkup:
    """`markup` with a first row that opens the Mini App on the start (where there is an app)."""
    web_app_url = ctx.config.web_app_url
    if not web_app_url:
        return markup
    button = InlineKeyboardButton(
        label(lang, "btn_open_app"), web_app=WebAppInfo(app_url(web_app_url, param))
    )
    markup.keyboard.insert(0, [button])
    return markup


def link_view(ctx: BotContext, session: Session, user: User, lang: str, payload: str) -> View:
    link = read_start_param(payload, ctx.settings, ctx.clock())
    choice = None
    if isinstance(link, StartLink) and (link.kind is not None or link.trainer is not None):
        # A kind or trainer the studio lacks: the Mini App's bad-link notice (one rule for both).
        catalog = load_catalog(session, ctx.settings)
        link = in_catalog(link, catalog)
        if isinstance(link, StartLink):
            choice = choice_of(catalog, link.kind, link.trainer)
    if isinstance(link, Unusable):
        message, markup = days_view(ctx, session, user, lang)
        return text(lang, link.notice) + "\n\n" + message, markup
    message, markup = start_view(ctx, session, user, lang, link, choice)
    return message, with_app_button(markup, ctx, lang, link.param)


def start_view(
    ctx: BotContext,
    session: Session,
    user: User,
    lang: str,
    link: StartLink,
    choice: Choice | None = None,
) -> View:
    """The link's start in the user's picture of its day: of the kind with the trainer the link
    names (`choice`; None: the default kind, any trainer), as /book would picture it."""
    settings, now = ctx.settings, ctx.clock()
    kind, trainer = (choice.kind, choice.trainer_id) if choice else (None, None)
    picture = day_picture(ctx, session, user, link.day, kind=kind, trainer=trainer)
    slot = next((s for s in picture.slots if s.cell.minute == link.minute), None)
    rules = kind.rules(settings) if kind else settings
    span = when(link.starts_at, training_end(link.starts_at, rules), settings, lang)
    said = choice.lines(lang) if choice else []
    chosen = choice.chosen if choice else None
    if slot is not None and slot.own is not None:
        own = slot.own
        message = text(
            lang, "bot_link_yours", when=when(own.starts_at, own.ends_at, settings, lang)
        )
        markup = keyboards.booking_actions(
            lang, own.booking_id, own.starts_at, settings, None, may_cancel=False
        )
        return message, markup
    if slot is not None and slot.can_start:
        lines = consequences.of_booking(session, settings, user, link.starts_at, now)
        message = "\n".join(
            [
                text(lang, "confirm_booking", when=span),
                *said,
                ntext(lang, "places_left", slot.places),
                *consequence_lines(lines, "book", settings, lang),
            ]
        )
        return message, keyboards.confirm_booking(lang, link.day, link.minute, chosen)
    if slot is not None and slot.can_wait:
        lines = consequences.of_waitlist(
            session, settings, user, link.starts_at, now, **line_of(choice)
        )
        message = "\n".join(
            [
                text(lang, "confirm_wait", when=span),
                *said,
                *consequence_lines(lines, "wait", settings, lang),
            ]
        )
        return message, keyboards.confirm_wait(lang, link.day, link.minute, chosen)
    if slot is None or slot.past:
        why = text(lang, "link_no_start")
    elif slot.refusal == "limit_reached" and picture.limit:
        why = limit_message(picture.limit, settings, lang)
    else:
        why = message_for(slot.refusal or "invalid", lang)
    message = "\n".join(
        [text(lang, "bot_link_start", when=span), *said, html.escape(why, quote=False)]
    )
    others = day_view(ctx, session, user, lang, link.day, choice)
    if isinstance(others, tuple):  # that day's other starts to book or to wait for
        return message + "\n\n" + others[0], others[1]
    return message, days_view(ctx, session, user, lang, choice)[1]
