"""The Mini App's page (served without auth: Telegram's init data lives in the URL fragment,
so the page itself loads everything else through htmx with the Authorization header), and
the entry to the trainer's tab (webapp/admin.py holds the rest of it)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from schedule.timegrid import parse_date

from .admin import day_page
from .auth import admin_required
from .i18n import language

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    g.lang = language(request.accept_languages.best_match(["ru", "en"]))
    return render_template("pages/index.html")


@bp.get("/app/admin")
@admin_required
def admin_tab():
    """The trainer's tab: the chosen day's visitors (today by default)."""
    return day_page(parse_date(request.args["date"]) if request.args.get("date") else None)
