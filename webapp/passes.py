"""Passes, attendance and the trainer's client card as JSON (DESIGN.md, "Passes and attendance").

A thin adapter over schedule.passes and schedule.attendance: it reads and checks the request,
calls the service (one transaction each) and presents the result. The trainer's tab
(webapp/admin.py) and My trainings render the same values through the helpers here.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from werkzeug.exceptions import NotFound

from schedule import Settings, User, attendance, passes
from schedule.db import is_row_id
from schedule.errors import message_for
from schedule.i18n import N_
from schedule.kinds import check_booking
from schedule.models import Pass
from schedule.timegrid import parse_date
from schedule.trainer import is_telegram_id
from schedule.trainer import trainer_contact as contact_link

from . import contract
from .admin_api import find_client
from .auth import admin_required, login_required, staff_required
from .current import now, settings, unit
from .extensions import db
from .i18n import current_language, t
from .present import admin_booking_json, local_date_or_none, person_json
from .responses import fragment

bp = Blueprint("passes", __name__, url_prefix="/api")
# A pass change's kind in its history (admin/_pass.html words it t("change_" + kind)).
CHANGES = (
    N_("change_created"),
    N_("change_adjusted"),
    N_("change_frozen"),
    N_("change_refunded"),
    N_("change_forgiven"),
)
# The trainer's tab: attendance in the Day view (fragments, like webapp/admin.py's).
pages = Blueprint("pass_pages", __name__, url_prefix="/app/admin")


# --- presenting -----------------------------------------------------------------------------


def price(cents: int | None) -> float | int | None:
    if cents is None:
        return None
    return cents // 100 if cents % 100 == 0 else cents / 100


def change_json(change, settings: Settings) -> dict:
    return {
        "kind": change.kind,
        "visits": change.visits_delta,
        "days": change.days_delta,
        "reason": change.reason,
        "by": change.by_telegram_id,
        "at": change.at.isoformat(timespec="seconds") + "Z",
    }


def pass_json(view: passes.PassView, settings: Settings, *, history: bool = False) -> dict:
    sold = view.sold
    found = {
        "id": sold.id,
        "telegram_id": sold.user.telegram_id,
        "visits": sold.visits,
        "used": view.used,
        "remaining": view.remaining,
        "starts": sold.starts_on.isoformat(),
        "expires": sold.expires_on.isoformat(),
        "price": price(sold.price_cents),
        "note": sold.note,
        "valid": view.valid,
        "product_id": sold.product_id,
        "payment_id": sold.payment_id,
        "per_week": sold.per_week,
        "frozen_days": sold.frozen_days or 0,
    }
    if history:
        found["history"] = [change_json(change, settings) for change in sold.history]
    return found


def client_card(user: User) -> dict:
    """The trainer's card of a client: passes with history, visits, block state."""
    stats = attendance.client_stats(db.session(), user)
    views = passes.client_passes(db.session(), settings(), user, now())
    standing = passes.standing(db.session(), settings(), user.id, now())
    return {
        **person_json(user),
        "passes": [pass_json(view, settings(), history=True) for view in views],
        "stats": {
            "attended": stats.attended,
            "no_show": stats.no_show,
            "cancelled": stats.cancelled,
            "unpaid": stats.unpaid,
            "last_visit": local_date_or_none(stats.last_visit, settings()),
        },
        "blocked": standing.blocked(now()),
    }


def trainer_contact() -> str | None:
    """The link a client follows to ask the trainer for a pass (schedule.trainer decides)."""
    return contact_link(db.session(), current_app.config["ADMIN_IDS"])


# --- reading the trainer's input ------------------------------------------------------------


def find_pass(pass_id: int) -> Pass:
    found = db.session.get(Pass, pass_id) if is_row_id(pass_id) else None
    if found is None:
        raise NotFound(t("pass_not_found"))
    return found


def record_pass(client: User, data: dict) -> passes.PassView:
    """Record a pass from `data` (the API's PassRequest, or the card's form: "starts" a date,
    YYYY-MM-DD text or None)."""
    starts = data.get("starts")
    sold = passes.record(
        unit(),
        client,
        visits=data.get("visits"),
        valid_days=data.get("valid_days"),
        starts=parse_date(starts) if isinstance(starts, str) else starts,
        price=data.get("price"),
        note=data.get("note"),
    )
    return passes.view(db.session(), settings(), sold, now())


def adjust_pass(pass_id: int, data: dict) -> passes.PassView:
    find_pass(pass_id)
    sold = passes.adjust(
        unit(),
        pass_id,
        visits=data.get("visits"),
        extend_days=data.get("extend_days"),
        reason=data.get("reason"),
    )
    return passes.view(db.session(), settings(), sold, now())


# --- routes ---------------------------------------------------------------------------------


@bp.get("/passes")
@login_required
def my_passes():
    views = passes.client_passes(db.session(), settings(), g.user, now())
    return jsonify(passes=[pass_json(view, settings()) for view in views])


@bp.post("/admin/passes")
@admin_required
def record():
    wanted: contract.PassRequest = contract.body()
    client = find_client(wanted.telegram_id)
    recorded = record_pass(client, wanted.model_dump())
    return jsonify(pass_json(recorded, settings(), history=True)), 201


@bp.post("/admin/passes/<int:pass_id>/adjust")
@admin_required
def adjust(pass_id: int):
    wanted: contract.PassAdjustRequest = contract.body()
    return jsonify(pass_json(adjust_pass(pass_id, wanted.model_dump()), settings(), history=True))


@bp.post("/admin/bookings/<int:booking_id>/attendance")
@staff_required
def mark(booking_id: int):
    """An owner marks anyone; a trainer their own bookings (schedule.kinds.check_booking)."""
    wanted: contract.AttendanceRequest = contract.body()
    check_booking(db.session(), g.staff, booking_id)
    booking = attendance.mark(unit(), booking_id, wanted.status)
    return jsonify(admin_booking_json(booking, settings()))


def client_by_id(telegram_id: int) -> User:
    if not is_telegram_id(telegram_id):
        raise NotFound(t("client_not_found"))
    return find_client(telegram_id)


@bp.get("/admin/clients/<int:telegram_id>")
@admin_required
def client(telegram_id: int):
    return jsonify(client_card(client_by_id(telegram_id)))


@bp.post("/admin/clients/<int:telegram_id>/unblock")
@admin_required
def unblock(telegram_id: int):
    user = attendance.unblock(unit(), client_by_id(telegram_id))
    return jsonify(client_card(user))


# --- the trainer's tab ----------------------------------------------------------------------


@pages.app_context_processor
def helpers() -> dict:
    return {
        "started": lambda booking: attendance.may_mark(booking, now()),
        "trainer_contact": trainer_contact,
        "refusal_text": lambda code: message_for(code, current_language()),
    }


@pages.post("/bookings/<int:booking_id>/attendance/<status>")
@staff_required
def mark_in_day(booking_id: int, status: str):
    """One tap in the Day view: the visitor's row again, marked (a trainer: their own only)."""
    check_booking(db.session(), g.staff, booking_id)
    booking = attendance.mark(unit(), booking_id, status)
    return fragment("admin/_visitor.html", haptic="success", booking=booking)
