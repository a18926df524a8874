"""The JSON API (DESIGN.md's contract): slots, the caller's bookings, the trainer's day. Each
route reads its body or query through webapp/contract.py, whose models and route table the
OpenAPI document is built from."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from werkzeug.exceptions import HTTPException

from schedule import services, waitlist
from schedule.availability import view_day
from schedule.history import history

from . import contract
from .auth import admin_required, login_required
from .current import holdings, now, settings, snapshots, unit
from .extensions import db
from .present import admin_booking_json, booking_json, past_json, slots_json
from .responses import json_error
from .waitlist import cache as waiting_cache
from .waitlist import entry_json

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/slots")
@login_required
def slots():
    day = contract.query().date
    snapshot = snapshots().get(db.session(), settings(), day, day)
    in_line = waiting_cache().places(db.session(), settings(), snapshot, day, day)
    view = view_day(
        snapshot,
        day,
        g.user.id,
        now(),
        holdings=holdings(snapshot),
        in_line=in_line.get(g.user.id, {}),
    )
    return jsonify(slots_json(view, settings()))


@bp.get("/bookings")
@login_required
def my_bookings():
    if contract.query().scope == "history":
        return jsonify(
            bookings=[past_json(p, settings()) for p in history(db.session(), g.user, now())]
        )
    bookings = services.upcoming_bookings(db.session(), g.user, now())
    return jsonify(bookings=[booking_json(b, settings()) for b in bookings])


@bp.post("/bookings")
@login_required
def book():
    wanted: contract.StartRequest = contract.body()
    booking = services.book(
        unit(),
        g.user,
        wanted.date,
        wanted.start,
    )
    return jsonify(booking_json(booking, settings())), 201


@bp.delete("/bookings/<int:booking_id>")
@login_required
def cancel(booking_id: int):
    booking = services.cancel(
        unit(),
        booking_id,
    )
    return jsonify(booking_json(booking, settings()))


@bp.post("/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int):
    wanted: contract.StartRequest = contract.body()
    booking = services.reschedule(
        unit(),
        booking_id,
        wanted.date,
        wanted.start,
    )
    return jsonify(booking_json(booking, settings()))


@bp.get("/waitlist")
@login_required
def my_waitlist():
    """The caller's waitlist entries for starts to come, with their places in line."""
    entries = waitlist.user_entries(db.session(), g.user, now(), settings=settings())
    return jsonify(waitlist=[entry_json(p.entry, settings(), p.position) for p in entries])


@bp.post("/waitlist")
@login_required
def join_waitlist():
    wanted: contract.StartRequest = contract.body()
    joined = waitlist.join(
        unit(),
        g.user,
        wanted.date,
        wanted.start,
    )
    return jsonify(entry_json(joined.entry, settings(), joined.position)), 201


@bp.delete("/waitlist/<int:entry_id>")
@login_required
def leave_waitlist(entry_id: int):
    entry = waitlist.leave(db.session(), entry_id, g.user)
    return jsonify({**entry_json(entry, settings()), "status": "left"})


@bp.get("/admin/bookings")
@admin_required
def admin_bookings():
    asked: contract.AdminDayQuery = contract.query()
    bookings = services.day_bookings(
        db.session(), settings(), asked.date, include_cancelled=asked.status == "all"
    )
    return jsonify(bookings=[admin_booking_json(b, settings()) for b in bookings])


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return json_error(error)
