"""Standing bookings on the web: the JSON API (DESIGN.md, "Standing bookings") and the Mini
App's fragments for them. Thin adapters over schedule.series, which decides everything."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from schedule import InvalidInput, Settings
from schedule import series as standing
from schedule.timegrid import parse_date, parse_start

from .admin_api import required_reason
from .api import events, now, settings
from .auth import admin_required, login_required
from .extensions import db
from .present import booking_json, clock, local_day

bp = Blueprint("series", __name__)


def picture_json(picture: standing.Picture, settings: Settings) -> dict:
    series = picture.series
    return {
        "id": series.id,
        "weekday": series.weekday,
        "start": series.start,
        "weeks": series.weeks,
        "until": series.until.isoformat() if series.until else None,
        "status": series.status,
        "bookings": [booking_json(b, settings) for b in picture.bookings],
        "skipped": [{"date": o.occurs_on.isoformat(), "reason": o.reason} for o in picture.skipped],
        "waiting": [
            {
                "date": local_day(o.starts_at, settings).isoformat(),
                "start": clock(o.starts_at, settings),
            }
            for o in picture.waiting
            if o.starts_at is not None
        ],
    }


def series_body() -> tuple:
    """(day, minute, weeks) from {"date", "start", "weeks"}; weeks null or missing: until
    stopped."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(
            'send a JSON object like {"date": "2026-01-31", "start": "18:00", "weeks": 4}'
        )
    weeks = standing.check_weeks(body.get("weeks"), settings())
    return parse_date(body.get("date")), parse_start(body.get("start"), settings()), weeks


@bp.post("/api/series")
@login_required
def start_series():
    day, minute, weeks = series_body()
    made = standing.start(
        db.session(), settings(), g.user, day, minute, weeks, now=now(), on_event=events()
    )
    return jsonify(picture_json(made, settings())), 201


@bp.get("/api/series")
@login_required
def my_series():
    session, rules, moment = db.session(), settings(), now()
    running = standing.active_series(session, rules, moment, g.user)
    return jsonify(
        series=[picture_json(standing.picture(session, rules, s, moment), rules) for s in running]
    )


@bp.delete("/api/series/<int:series_id>")
@login_required
def stop_series(series_id: int):
    session, rules, moment = db.session(), settings(), now()
    stopped = standing.stop(session, rules, series_id, g.user, now=moment, on_event=events())
    return jsonify(picture_json(standing.picture(session, rules, stopped, moment), rules))


@bp.post("/api/admin/series/<int:series_id>/stop")
@admin_required
def admin_stop_series(series_id: int):
    body = request.get_json(silent=True)
    reason = required_reason(body.get("reason") if isinstance(body, dict) else None)
    session, rules, moment = db.session(), settings(), now()
    stopped = standing.stop(
        session, rules, series_id, None, reason=reason, now=moment, on_event=events()
    )
    return jsonify(picture_json(standing.picture(session, rules, stopped, moment), rules))
