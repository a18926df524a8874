"""The JSON API (DESIGN.md's contract): slots, the caller's bookings, the trainer's day."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from schedule import InvalidInput, services, waitlist
from schedule.availability import view_day
from schedule.timegrid import parse_date, parse_start

from .auth import admin_required, login_required
from .current import events, holdings, now, settings, snapshots
from .extensions import db
from .present import admin_booking_json, booking_json, slots_json
from .responses import json_error
from .waitlist import cache as waiting_cache
from .waitlist import entry_json

bp = Blueprint("api", __name__, url_prefix="/api")


def json_body() -> tuple:
    """(day, minute) from a JSON body {"date": "YYYY-MM-DD", "start": "HH:MM"}; 400 otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput('send a JSON object like {"date": "2026-01-31", "start": "09:30"}')
    return parse_date(body.get("date")), parse_start(body.get("start"), settings())


@bp.get("/slots")
@login_required
def slots():
    day = parse_date(request.args.get("date"))
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
    bookings = services.upcoming_bookings(db.session(), g.user, now())
    return jsonify(bookings=[booking_json(b, settings()) for b in bookings])


@bp.post("/bookings")
@login_required
def book():
    day, minute = json_body()
    booking = services.book(
        db.session(), settings(), g.user, day, minute, now=now(), on_event=events()
    )
    return jsonify(booking_json(booking, settings())), 201


@bp.delete("/bookings/<int:booking_id>")
@login_required
def cancel(booking_id: int):
    booking = services.cancel(
        db.session(),
        settings(),
        booking_id,
        g.user,
        now=now(),
        on_event=events(),
    )
    return jsonify(booking_json(booking, settings()))


@bp.post("/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int):
    day, minute = json_body()
    booking = services.reschedule(
        db.session(), settings(), booking_id, g.user, day, minute, now=now(), on_event=events()
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
    day, minute = json_body()
    joined = waitlist.join(db.session(), settings(), g.user, day, minute, now=now())
    return jsonify(entry_json(joined.entry, settings(), joined.position)), 201


@bp.delete("/waitlist/<int:entry_id>")
@login_required
def leave_waitlist(entry_id: int):
    entry = waitlist.leave(db.session(), entry_id, g.user)
    return jsonify({**entry_json(entry, settings()), "status": "left"})


@bp.get("/admin/bookings")
@admin_required
def admin_bookings():
    day = parse_date(request.args.get("date"))
    status = request.args.get("status", "active")
    if status not in ("active", "all"):
        raise InvalidInput("status must be active or all")
    bookings = services.day_bookings(
        db.session(), settings(), day, include_cancelled=status == "all"
    )
    return jsonify(bookings=[admin_booking_json(b, settings()) for b in bookings])


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return json_error(error)
