"""The Mini App's fragments: pick a day and a start, book, list, cancel and move bookings.

Each route renders an HTML fragment for htmx; the views that change something answer with
the whole tab re-rendered from the database (the truth), with the outcome in its notice.
A refused change answers 4xx with the same re-rendered tab and the reason in place.
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from schedule import Booking, ScheduleError, services
from schedule.models import ACTIVE
from schedule.settings import format_minutes
from schedule.timegrid import parse_date, parse_start, start_instant, training_end

from .api import events, now, settings, snapshots
from .auth import is_admin, login_required
from .extensions import db
from .i18n import TEXTS, day_label, duration, language, t
from .present import clock, local_day, when

bp = Blueprint("bookings", __name__, url_prefix="/app")


def _haptic(response: Response, kind: str) -> Response:
    """Ask the page for Telegram's haptic notification ("success", "error")."""
    response.headers["HX-Trigger"] = json.dumps({"tg-haptic": kind})
    return response


def _render(template: str, status: int = 200, haptic: str | None = None, **context) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    return _haptic(response, haptic) if haptic else response


def _moving(booking_id: str | None) -> Booking | None:
    """The caller's active booking being moved (?move=ID), or None."""
    if not booking_id:
        return None
    if not booking_id.isdigit():
        raise ScheduleError("not_found")
    if len(booking_id) > 9:  # beyond any row id; PostgreSQL would refuse the comparison
        raise ScheduleError("not_found")
    booking = db.session.get(Booking, int(booking_id))
    if booking is None or booking.user_id != g.user.id or booking.status != ACTIVE:
        raise ScheduleError("not_found")
    return booking


def book_context(day: date | None, moving: Booking | None = None) -> dict:
    """The booking tab: the date strip over the horizon and the chosen day's grid."""
    ignore = moving.id if moving else 0
    days = snapshots().horizon(db.session(), settings(), g.user.id, now(), ignore)
    chosen = day or next((view.day for view in days if view.available), days[0].day)
    grid = next((view for view in days if view.day == chosen), None)
    if grid is None:
        grid = snapshots().day(db.session(), settings(), chosen, g.user.id, now(), ignore)
    return {"days": days, "grid": grid, "moving": moving, "tab": "book"}


def my_context() -> dict:
    bookings = services.upcoming_bookings(db.session(), g.user, now())
    return {"bookings": bookings, "tab": "my"}


def can_change(booking: Booking) -> bool:
    return services.client_may_change(booking, settings(), now())


def calendar_url(booking: Booking) -> str:
    token = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="ics").dumps(booking.id)
    return url_for("bookings.calendar", token=token)


@bp.app_context_processor
def helpers() -> dict:
    """Template helpers of every Mini App fragment (the pages blueprint's too)."""
    return {
        "t": t,
        "day_label": day_label,
        "clock": lambda instant: clock(instant, settings()),
        "local_day": lambda instant: local_day(instant, settings()),
        "when": lambda booking: when(booking, settings()),
        "can_change": can_change,
        "calendar_url": calendar_url,
        "is_admin": lambda: "user" in g and is_admin(g.user),
        "deadline": lambda: duration(settings().cancel_deadline_minutes),
    }


@bp.get("/book")
@login_required
def book_tab():
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    moving = _moving(request.args.get("move"))
    return _render("bookings/book.html", **book_context(day, moving))


@bp.get("/grid")
@login_required
def grid():
    day = parse_date(request.args.get("date"))
    moving = _moving(request.args.get("move"))
    ignore = moving.id if moving else 0
    view = snapshots().day(db.session(), settings(), day, g.user.id, now(), ignore)
    return _render("bookings/_grid.html", grid=view, moving=moving)


@bp.get("/confirm")
@login_required
def confirm():
    """The sheet that confirms booking (or moving to) the tapped start."""
    day = parse_date(request.args.get("date"))
    minute = parse_start(request.args.get("start"), settings())
    starts_at = start_instant(day, minute, settings())
    return _render(
        "bookings/_confirm.html",
        day=day, start=format_minutes(minute), moving=_moving(request.args.get("move")),
        label=f"{day_label(day)}, {format_minutes(minute)}–"
        f"{clock(training_end(starts_at, settings()), settings())}",
    )


@bp.post("/bookings")
@login_required
def book():
    day = parse_date(request.form.get("date"))
    minute = parse_start(request.form.get("start"), settings())
    try:
        booking = services.book(
            db.session(), settings(), g.user, day, minute, now=now(), on_event=events()
        )
    except ScheduleError as error:
        db.session.rollback()
        return _render("bookings/book.html", error.http_status, "error",
                       error=error.message(g.lang), share_phone=error.code == "phone_required",
                       **book_context(day))
    return _render("bookings/book.html", 200, "success",
                   notice=t("booked", when=when(booking, settings())), **book_context(day))


@bp.get("/my")
@login_required
def my_tab():
    return _render("bookings/my.html", **my_context())


@bp.get("/bookings/<int:booking_id>/cancel")
@login_required
def confirm_cancel(booking_id: int):
    return _render("bookings/_booking.html", booking=_moving(str(booking_id)), confirming=True)


@bp.delete("/bookings/<int:booking_id>")
@login_required
def cancel(booking_id: int):
    try:
        booking = services.cancel(
            db.session(), settings(), booking_id, g.user, now=now(),
            on_event=events(),
        )
    except ScheduleError as error:
        db.session.rollback()
        return _render("bookings/my.html", error.http_status, "error",
                       error=error.message(g.lang), **my_context())
    return _render("bookings/my.html", 200, "success",
                   notice=t("cancelled", when=when(booking, settings())), **my_context())


@bp.post("/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int):
    moving = _moving(str(booking_id))
    day = parse_date(request.form.get("date"))
    minute = parse_start(request.form.get("start"), settings())
    try:
        booking = services.reschedule(
            db.session(), settings(), moving.id, g.user, day, minute, now=now(), on_event=events()
        )
    except ScheduleError as error:
        db.session.rollback()
        moving = db.session.get(Booking, moving.id, populate_existing=True)
        return _render("bookings/book.html", error.http_status, "error",
                       error=error.message(g.lang), **book_context(day, moving))
    return _render("bookings/my.html", 200, "success",
                   notice=t("moved", when=when(booking, settings())), **my_context())


@bp.get("/calendar/<token>.ics")
def calendar(token: str):
    """An iCalendar file for one booking; the signed token stands in for the auth header,
    so that a plain link (or Telegram's openLink) can download it."""
    try:
        booking_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="ics").loads(token)
    except BadSignature:
        abort(404)
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    body = render_template(
        "bookings/booking.ics", booking=booking, stamp=now(), host=request.host.split(":")[0],
        summary=TEXTS["training_of"][language(booking.user.language_code)],
    ).replace("\n", "\r\n") + "\r\n"
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f"attachment; filename=training-{booking.id}.ics",
    })
