"""The Mini App's page, and the entry to the trainer's tab (webapp/admin.py holds the rest).

The page is usable at first paint: it already holds the date strip and the slot grid of the
day it opens on, so a phone shows bookable starts with the first response instead of after
the shell, htmx and a second request. Telegram puts the init data in the URL fragment, which
the server never sees on this request, so that grid is drawn for nobody in particular: starts,
places left and the refusals that are the same for everyone (too soon, too far, closed, full).
No names, no bookings, no waitlist places. htmx then asks for the viewer's own booking tab with
the init data and swaps it in (their bookings, overlaps, limits, waitlist); a tap before that
is checked by the server like any other.

Once init data has proved who the viewer is, the viewer cookie names them (webapp/auth.py), and
the page opens on their own tab instead: the same fragment /app/book would swap in, so a client
at a limit sees why before anything else. That cookie only chooses what this read paints; every
other request still needs the init data, and the tab request still follows (a stale cookie, or
another account on the same phone, is corrected within it). A trainer, or a cookie that is
forged, expired or names nobody stored, gets everyone's page.

The page holds a moment of the schedule. The clock changes it only at known instants (a start
comes or enters the minimum notice, a day enters the horizon: schedule.availability's
`unchanged_until`), so the phone may keep it until the next one (`max-age`, at most one
SLOT_MINUTES): opened again within that time, the grid paints from the phone's own cache
without a round trip. What other clients did since is not in that copy, but nothing depends
on it for long: the viewer's own tab replaces it within one request, and a tap is checked by
the server. `Vary: Cookie` keeps a copy for the viewer it was painted for (the cookie changes
with each of their writes, so a kept copy never predates their own last act). `private` keeps
shared proxies from storing it at all (a proxy serving stale copies on error or by heuristics
would show yesterday's strip); once expired, the ETag (never the same for two viewers) turns
an unchanged page into a 304 without a body.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from schedule import User
from schedule.availability import DayView, horizon_days, unchanged_until, view_kind
from schedule.timegrid import parse_date

from .admin import day_page
from .auth import cookie_viewer, is_admin, staff_required
from .bookings import book_context, rendered_grid
from .current import now, settings, snapshots
from .extensions import db
from .i18n import language

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    at = now()
    viewer = cookie_user()
    if viewer is None:
        g.lang = language(request.accept_languages.best_match(["ru", "en"]))
        context = first_paint_context(at)
    else:
        g.user, g.lang = viewer, language(viewer.language_code)
        # The day everyone's page opens on: the one the viewer's tab request asks for too.
        context = {**book_context(everyones_days(at)[1].day), "first_paint": True}
    response = Response(render_template("pages/index.html", **context), mimetype="text/html")
    lifetime = unchanged_until(settings(), at) - at
    response.headers["Cache-Control"] = f"private, max-age={int(lifetime.total_seconds())}"
    response.vary.update(("Accept-Language", "Cookie"))
    # Two viewers may see the same picture; a copy validated for one never serves another.
    whose = str(viewer.telegram_id).encode() if viewer else b""
    response.set_etag(hashlib.sha256(whose + b"\0" + response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)


def cookie_user() -> User | None:
    """The client the viewer cookie names (read only: no row is created or changed), or None
    for a trainer (who opens on the Day) and for a cookie that names nobody."""
    telegram_id = cookie_viewer()
    if telegram_id is None:
        return None
    user = db.session().scalar(select(User).where(User.telegram_id == telegram_id))
    return None if user is None or is_admin(user) else user


def first_paint_context(at: datetime) -> dict:
    """The booking tab as anyone sees it at `at`: the strip over the horizon and the first day
    with a start anyone may book (the first day when there is none)."""
    days, grid = everyones_days(at)
    return {
        "days": days,
        "grid": grid,
        "moving": None,
        "tab": "book",
        "anonymous": True,
        "first_paint": True,
        "grid_html": Markup(rendered_grid(grid, None)),
    }


def everyones_days(at: datetime) -> tuple[list[DayView], DayView]:
    """Every day of the horizon as anyone sees it at `at`, and the one the page opens on."""
    horizon = horizon_days(settings(), at)
    snapshot = snapshots().get(db.session(), settings(), horizon[0], horizon[-1])
    days = [view_kind(snapshot, None, None, day, None, at) for day in horizon]
    return days, next((view for view in days if view.available), days[0])


@bp.get("/favicon.ico")
def favicon():
    """The app's icon, where a browser (or Telegram's web client) looks for one by default."""
    response = current_app.send_static_file("favicon.svg")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.app_template_global()
def inline_static(filename: str) -> Markup:
    """A static file's text for an inline <style>: the critical CSS travels with the page
    instead of costing a render-blocking request."""
    path = Path(current_app.static_folder or "") / filename
    return Markup(_read(str(path), path.stat().st_mtime_ns))


@lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int) -> str:
    return Path(path).read_text(encoding="utf-8")


@bp.get("/app/admin")
@staff_required
def admin_tab():
    """The trainer's tab: the chosen day's visitors (today by default); an owner's everyone's,
    a trainer's their own (webapp/admin.py)."""
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    return day_page(day, request.args.get("at"))
