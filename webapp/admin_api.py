"""The trainer's JSON API under /api/admin: the week, cancelling, booking on behalf, opening
hours, closures, clients and the CSV export. Every route is admin_required (403 otherwise).

GET /api/admin/bookings (DESIGN.md's contract) stays in webapp/api.py. The helpers here that
read and check the trainer's input are shared with the trainer's tab (webapp/admin.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Blueprint, Response, current_app, g, jsonify
from werkzeug.exceptions import NotFound

from schedule import (
    Booking,
    Closure,
    ConfigError,
    InvalidInput,
    ScheduleError,
    User,
    services,
    trainer,
)
from schedule.availability import effective_hours
from schedule.db import is_row_id
from schedule.events import BookingCancelled
from schedule.i18n import N_, Nn_
from schedule.kinds import check_booking
from schedule.settings import WEEKDAYS, WeekHours, format_minutes, parse_intervals, parse_minutes
from schedule.timegrid import parse_date, to_local, today
from schedule.trainer import ClientSummary, export_csv, week_occupancy

from . import contract, i18n
from .auth import admin_required, staff_required
from .contract import required_reason  # noqa: F401 (the trainer's forms read it here)
from .current import events, now, settings, unit
from .extensions import db
from .i18n import t
from .present import admin_booking_json, local_date_or_none, person_json

bp = Blueprint("admin_api", __name__, url_prefix="/api/admin")

MAX_EXPORT_DAYS = 400


# --- reading the trainer's input (the JSON routes' shapes are webapp/contract.py's) ----------


def closure_times(start: object, end: object) -> tuple[int | None, int | None]:
    """(start, end) minutes of a closure's time range, or (None, None) for the whole day."""
    start, end = start or None, end or None
    if start is None and end is None:
        return None, None
    try:
        start_minute = parse_minutes(start) if isinstance(start, str) else None
        end_minute = parse_minutes(end, allow_midnight_end=True) if isinstance(end, str) else None
    except ValueError:
        start_minute = end_minute = None
    if start_minute is None or end_minute is None or start_minute >= end_minute:
        raise InvalidInput(N_("closure_range"))
    return start_minute, end_minute


def week_hours(value: Mapping[str, str | list[str]]) -> WeekHours:
    """{"mon": ["08:00-12:00", "14:00-20:00"], "tue": "closed", ...} by weekday (mon ... sun),
    as the contract and the trainer's form give them; days left out are closed."""
    week: WeekHours = {day: () for day in range(7)}
    for name, intervals in value.items():
        day = WEEKDAYS.index(name)
        try:
            week[day] = parse_intervals(
                ",".join(intervals) if isinstance(intervals, list) else intervals
            )
        except ValueError:
            raise InvalidInput(N_("hours_invalid"), day=i18n.weekdays()[day]) from None
    return week


def save_hours(week: WeekHours) -> WeekHours:
    if not any(week.values()):
        raise InvalidInput(N_("hours_all_closed"))
    try:
        return services.set_opening_hours(unit(), week)
    except ConfigError:
        grid = settings().slot_minutes
        raise InvalidInput(Nn_("hours_off_grid"), count=grid) from None


def find_client(telegram_id: object) -> User:
    if not trainer.is_telegram_id(telegram_id):
        raise InvalidInput(N_("input_telegram_id"))
    user = db.session.scalar(db.select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise NotFound(t("client_not_found"))
    return user


def known_clients(query: str = "") -> list[ClientSummary]:
    """The clients the trainer's list shows for `query` (schedule.trainer.find_clients)."""
    return trainer.find_clients(db.session(), query, current_app.config["ADMIN_IDS"], now())


def export_range(first: str | date | None, last: str | date | None) -> tuple[date, date]:
    """The days from `first` to `last` (either way round), at most MAX_EXPORT_DAYS."""
    first_day, last_day = (d if isinstance(d, date) else parse_date(d) for d in (first, last))
    if last_day < first_day:
        first_day, last_day = last_day, first_day
    if (last_day - first_day).days >= MAX_EXPORT_DAYS:
        raise InvalidInput(Nn_("export_too_long"), count=MAX_EXPORT_DAYS)
    return first_day, last_day


def csv_response(first_day: date, last_day: date) -> Response:
    body = export_csv(db.session(), settings(), first_day, last_day)
    name = f"bookings-{first_day.isoformat()}-{last_day.isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def bookings_inside(
    day: date, start: int | None, end: int | None, trainer_id: int | None = None
) -> list[Booking]:
    """The active bookings a closure of `day` (or of its range start-end) would hold (with
    `trainer_id`, a closure of that trainer's: their bookings)."""
    span = services.closure_span(settings(), day, start, end)
    return services.bookings_between(db.session(), *span, trainer_id=trainer_id)


def close(
    day: date,
    start: int | None,
    end: int | None,
    reason: str,
    cancel_bookings: bool,
    trainer_id: int | None = None,
) -> tuple[Closure, list[Booking]]:
    """Add a closure (ScheduleError "has_bookings" unless `cancel_bookings`), the studio's or
    with `trainer_id` that trainer's; the closure and the bookings it cancelled, each client
    told (schedule.notices)."""
    cancelled: list[Booking] = []
    notify = events()

    def record(event) -> None:
        if isinstance(event, BookingCancelled):
            cancelled.append(event.booking)
        if notify is not None:
            notify(event)

    closure = services.add_closure(
        unit().observed_by(record),
        day,
        start_minute=start,
        end_minute=end,
        reason=reason,
        cancel_bookings=cancel_bookings,
        trainer_id=trainer_id,
    )
    return closure, cancelled


def outside_hours(week: WeekHours) -> list[Booking]:
    return trainer.outside_hours(db.session(), settings(), week, now())


# --- presenting -----------------------------------------------------------------------------


def hours_json(week: WeekHours) -> dict:
    return {
        "timezone": settings().timezone,
        "hours": {
            WEEKDAYS[day]: [f"{format_minutes(a)}-{format_minutes(b)}" for a, b in week[day]]
            for day in range(7)
        },
    }


def closure_bounds(closure: Closure) -> tuple[date, str, str, bool]:
    """(local date, start, end, whole day) of a closure; an end at the next midnight is 24:00."""
    starts, ends = to_local(closure.starts_at, settings()), to_local(closure.ends_at, settings())
    day = starts.date()
    whole_day = (closure.starts_at, closure.ends_at) == services.closure_span(settings(), day)
    end = "24:00" if ends.date() > day and ends.hour == ends.minute == 0 else ends.strftime("%H:%M")
    return day, starts.strftime("%H:%M"), end, whole_day


def closure_json(closure: Closure) -> dict:
    day, start, end, whole_day = closure_bounds(closure)
    return {
        "id": closure.id,
        "date": day.isoformat(),
        "start": start,
        "end": end,
        "whole_day": whole_day,
        "reason": closure.reason,
    }


def client_json(summary: ClientSummary) -> dict:
    return {
        **person_json(summary.user),
        "upcoming": summary.upcoming,
        "past": summary.past,
        "last_visit": local_date_or_none(summary.last_visit, settings()),
    }


def booking_list(bookings: list[Booking]) -> list[dict]:
    return [admin_booking_json(booking, settings()) for booking in bookings]


def cancelled_json(booking: Booking) -> dict:
    return {**admin_booking_json(booking, settings()), "cancel_reason": booking.cancel_reason}


# --- routes ---------------------------------------------------------------------------------


@bp.get("/week")
@admin_required
def week():
    first_day = contract.query().first or today(now(), settings())
    views = week_occupancy(db.session(), settings(), first_day)
    return jsonify(
        {
            "from": first_day.isoformat(),
            "capacity": settings().capacity,
            "days": [
                {
                    "date": view.day.isoformat(),
                    "booked": sum(slot.booked for slot in view.slots),
                    "cells": [
                        {"start": slot.start, "booked": slot.booked, "free": slot.free}
                        for slot in view.slots
                    ],
                }
                for view in views
            ],
        }
    )


@bp.post("/bookings/<int:booking_id>/cancel")
@staff_required
def cancel(booking_id: int):
    """An owner cancels any booking, a trainer added through the API their own."""
    reason = contract.body().reason
    check_booking(db.session(), g.staff, booking_id)
    booking = services.cancel(unit(), booking_id, reason=reason)
    return jsonify(cancelled_json(booking))


@bp.post("/bookings")
@admin_required
def book():
    wanted: contract.AdminBookRequest = contract.body()
    client = find_client(wanted.telegram_id)
    booking = services.book(
        unit(),
        client,
        wanted.date,
        wanted.start,
        source="admin",
    )
    return jsonify(admin_booking_json(booking, settings())), 201


@bp.get("/hours")
@admin_required
def hours():
    return jsonify(hours_json(effective_hours(db.session(), settings())))


@bp.put("/hours")
@admin_required
def set_hours():
    saved = save_hours(week_hours(contract.body().hours))
    return jsonify({**hours_json(saved), "outside_hours": booking_list(outside_hours(saved))})


@bp.get("/closures")
@admin_required
def closures():
    upcoming = services.closures_after(db.session(), now())
    return jsonify(closures=[closure_json(closure) for closure in upcoming])


@bp.post("/closures")
@admin_required
def add_closure():
    wanted: contract.ClosureRequest = contract.body()
    day = wanted.date
    start, end = closure_times(wanted.start, wanted.end)
    try:
        closure, cancelled = close(day, start, end, wanted.reason or "", wanted.cancel_bookings)
    except ScheduleError as error:
        if error.code != "has_bookings":
            raise
        db.session.rollback()
        inside = bookings_inside(day, start, end)
        return jsonify(
            error=error.code, message=error.message(g.lang), bookings=booking_list(inside)
        ), 409
    return jsonify({**closure_json(closure), "cancelled": booking_list(cancelled)}), 201


@bp.delete("/closures/<int:closure_id>")
@admin_required
def remove_closure(closure_id: int):
    closure = db.session.get(Closure, closure_id) if is_row_id(closure_id) else None
    if closure is None:
        raise NotFound(t("closure_not_found"))
    removed = closure_json(closure)
    services.remove_closure(unit(), closure_id)
    return jsonify(removed)


@bp.get("/clients")
@admin_required
def client_list():
    found = known_clients(contract.query().q[:64])
    return jsonify(clients=[client_json(summary) for summary in found])


@bp.get("/export.csv")
@admin_required
def export():
    asked: contract.ExportQuery = contract.query()
    return csv_response(*export_range(asked.first, asked.last))
