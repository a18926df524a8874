"""The Mini App's page (served without auth: Telegram's init data lives in the URL fragment,
so the page itself loads everything else through htmx with the Authorization header), and
the trainer's tab (a day's bookings; the full trainer UI lives elsewhere)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from schedule import services
from schedule.availability import horizon_days
from schedule.timegrid import parse_date

from .api import now, settings
from .auth import admin_required
from .extensions import db
from .i18n import language
from .present import local_day

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    g.lang = language(request.accept_languages.best_match(["ru", "en"]))
    return render_template("pages/index.html")


@bp.get("/app/admin")
@admin_required
def admin_tab():
    days = horizon_days(settings(), now())
    day = parse_date(request.args["date"]) if request.args.get("date") else days[0]
    bookings = services.day_bookings(db.session(), settings(), day)
    return render_template(
        "pages/admin.html", tab="admin", day=day, days=days, bookings=bookings,
        local_day=lambda instant: local_day(instant, settings()),
    )
