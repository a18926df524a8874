"""Links that open one training: the Mini App opened on a start (`startapp`), and the trainer's
share link of a start.

How a link opens. Telegram hands the Mini App the link's start parameter three ways: in
`Telegram.WebApp.initDataUnsafe.start_param`, as `tgWebAppStartParam` in the URL, and signed
inside the init data as `start_param`. The page (GET /, webapp/pages.py) never reads it: it
stays the same page for every open, so its caching (`private, max-age`, `Vary: Cookie`, an
ETag per viewer) holds as it is, and the first paint is as fast as any. app.js reads the
parameter and asks for the viewer's first tab here instead of at /app/book: the booking tab
on the link's day, whose last element asks for that start's sheet (the very request a tap on
the cell makes, so a linked start opens the sheet a tap would: book, join the waitlist, one's
own booking; a start the viewer cannot take opens a sheet saying why, as the cell does).
A parameter that opens nothing (schedule.links: unreadable, off the grid, past, beyond the
horizon) gives the tab /app/book would give, with a notice (`data-notice="link_<reason>"`).

Kinds and trainers: the parameter's `k` and `r` choose the picture of the day (the tab of that
kind with that trainer, `book_context`'s choice) and ride along as the sheet request's `kind` and
`trainer` query parameters, which the sheet reads as a tap on the cell would. A kind or trainer
the studio does not have (any more), or a trainer who does not give that kind, opens the
schedule with the bad-link notice (`link_unreadable`), as the bot answers it: both ask
schedule.links.in_catalog.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, request, url_for

from schedule import ScheduleError
from schedule.availability import DayView, SlotView
from schedule.i18n import N_
from schedule.kinds import load_catalog
from schedule.links import (
    StartLink,
    Unusable,
    app_link,
    in_catalog,
    read_start_param,
    start_param,
)
from schedule.settings import format_minutes

from . import contract
from .auth import login_required, staff_required
from .bookings import book_context, reason, span
from .current import now, settings
from .extensions import db
from .responses import fragment

bp = Blueprint("links", __name__)


@bp.get("/app/link")
@login_required
def open_link():
    """The viewer's booking tab opened by a link's start parameter (?start=d20261210t1800)."""
    link = read_start_param(request.args.get("start", ""), settings(), now())
    if isinstance(link, StartLink) and (link.kind is not None or link.trainer is not None):
        # A kind or trainer the studio does not have: the bad-link notice, as the bot says.
        link = in_catalog(link, load_catalog(db.session(), settings()))
    if isinstance(link, Unusable):
        return fragment("bookings/book.html", link_notice=link.notice, **book_context(None))
    context = book_context(link.day, choice=(link.kind, link.trainer))
    return fragment("links/tab.html", link=sheet_of(context["grid"], link), **context)


def slot_of(grid: DayView, link: StartLink) -> SlotView | None:
    """The link's start in the viewer's picture of its day (None: no training starts there)."""
    return next((slot for slot in grid.slots if slot.cell.minute == link.minute), None)


def sheet_of(grid: DayView, link: StartLink) -> dict:
    """What the link's start opens for the viewer: the URL a tap on its cell asks for, or why
    they cannot take it."""
    slot = slot_of(grid, link)
    extra = {"kind": link.kind, "trainer": link.trainer}
    carried = {key: value for key, value in extra.items() if value is not None}
    found = {"start": format_minutes(link.minute), "when": span(link.starts_at)}
    if slot is None or slot.past:
        return {**found, "refusal": "no_start", "why": None}
    if slot.own is not None:
        url = url_for("bookings.own_booking", booking_id=slot.own.booking_id, **carried)
        return {**found, "url": url}
    where = "?" + urlencode(
        {"date": link.day.isoformat(), "start": slot.start, **carried}, safe=":"
    )
    if slot.can_start:
        return {**found, "url": url_for("bookings.confirm") + where}
    if slot.can_wait:
        return {**found, "url": url_for("bookings.confirm_waitlist") + where}
    return {**found, "refusal": slot.refusal or "other", "why": reason(slot)}


# --- the trainer's share link -----------------------------------------------------------------


@bp.get("/api/admin/share")
@staff_required
def share():
    """The link that opens the Mini App on a start: https://t.me/<bot>/<app>?startapp=…
    (staff: an owner, or a trainer sharing a start of their own Day)."""
    asked: contract.ShareQuery = contract.query()
    short_name = current_app.config.get("MINIAPP_SHORT_NAME") or ""
    username = bot_username() if short_name else None
    if not short_name or not username:
        raise ScheduleError("share_off", N_("error_share_off"))
    return jsonify(url=app_link(username, short_name, start_param(asked.date, asked.start)))


def bot_username() -> str | None:
    """BOT_USERNAME, or the wired bot's own answer to getMe (None while unknown)."""
    named = current_app.config.get("BOT_USERNAME")
    if named:
        return named
    lookup = current_app.extensions.get("bot_username")
    return lookup() if lookup is not None else None


@bp.app_template_global()
def shareable(starts_at) -> bool:
    """Whether the trainer's Day offers a start's share link: links are on (MINIAPP_SHORT_NAME)
    and the start has not come (a link to it would open nothing)."""
    return bool(current_app.config.get("MINIAPP_SHORT_NAME")) and starts_at > now()
