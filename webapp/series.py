"""Standing bookings on the web: the JSON API (DESIGN.md, "Standing bookings") and the Mini
App's fragments for them. Thin adapters over schedule.series, which decides everything."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from schedule import Booking, InvalidInput, ScheduleError, Settings, consequences
from schedule import series as standing
from schedule.i18n import N_, WEEKLY
from schedule.timegrid import parse_date, parse_start, start_instant

from . import admin, bookings, contract
from .admin_api import required_reason
from .auth import admin_required, login_required
from .current import now, settings, unit
from .extensions import db
from .i18n import day_label, has, t
from .present import booking_json, clock, local_day
from .responses import fragment

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


@bp.post("/api/series")
@login_required
def start_series():
    wanted: contract.SeriesRequest = contract.body()
    made = standing.start(
        unit(),
        g.user,
        wanted.date,
        wanted.start,
        wanted.weeks,
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
    stopped = standing.stop(unit(), series_id)
    return jsonify(picture_json(standing.picture(session, rules, stopped, moment), rules))


@bp.post("/api/admin/series/<int:series_id>/stop")
@admin_required
def admin_stop_series(series_id: int):
    reason = contract.body().reason
    session, rules, moment = db.session(), settings(), now()
    stopped = standing.stop(
        unit(),
        series_id,
        reason=reason,
    )
    return jsonify(picture_json(standing.picture(session, rules, stopped, moment), rules))


# --- the Mini App ----------------------------------------------------------------------------


def label(weekday: int, start: str) -> str:
    """'Thursdays at 10:00' / 'по четвергам в 10:00'."""
    return t("series_label", weekdays=t(WEEKLY[weekday]), start=start)


def series_of(booking: Booking) -> int | None:
    """The series that made `booking`, if any (the trainer's mark, the client's grouping);
    remembered for the request. A page asks for each of its bookings in turn, so a miss looks
    up every booking the request has loaded at once: one lookup a page, not one a booking."""
    marks = g.setdefault("series_marks", {})
    if booking.id not in marks:
        loaded = {o.id for o in db.session().identity_map.values() if isinstance(o, Booking)}
        unknown = [i for i in loaded | {booking.id} if i not in marks]
        found = standing.series_of_bookings(db.session(), unknown)
        marks.update({i: found.get(i) for i in unknown})
    return marks[booking.id]


def running_series() -> list[standing.Picture]:
    """The caller's running series as My trainings shows them (read once per request)."""
    if "running_series" not in g:
        session, rules, moment = db.session(), settings(), now()
        g.running_series = [
            standing.picture(session, rules, s, moment)
            for s in standing.active_series(session, rules, moment, g.user)
        ]
    return g.running_series


def series_booking_ids() -> set[int]:
    return {b.id for picture in running_series() for b in picture.bookings}


# How a new series' notice words each date (dates_made).
DATE_LINES = (N_("series_line_booked"), N_("series_line_waiting"), N_("series_line_skipped"))


def dates_made(made: standing.Picture) -> list[str]:
    """Each date a new series settled, in order, with its state and why: 'Thu 26 Nov: booked'."""
    lines = [(local_day(b.starts_at, settings()), "series_line_booked", {}) for b in made.bookings]
    lines += [(o.occurs_on, "series_line_waiting", {}) for o in made.waiting]
    lines += [
        (o.occurs_on, "series_line_skipped", {"reason": skip_reason(o.reason)})
        for o in made.skipped
    ]
    return [t(key, day=day_label(day), **values) for day, key, values in sorted(lines)]


def skip_reason(code: str | None) -> str:
    key = f"reason_{code}"
    return t(key) if has(key) else t("series_skipped_line")


@bp.app_context_processor
def helpers() -> dict:
    return {
        "series_label": label,
        "series_of": series_of,
        "my_series": running_series,
        "series_booking_ids": series_booking_ids,
        "series_until": lambda s: (
            t("series_until", day=day_label(s.until)) if s.until else t("series_open_ended")
        ),
        "skip_reason": skip_reason,
    }


@bp.get("/app/series/new")
@login_required
def confirm_series():
    """The sheet that makes a booking's start (or a start in the grid) repeat every week."""
    day = parse_date(request.args.get("date"))
    start = request.args.get("start")
    minute = parse_start(start, settings())
    weeks = min(4, settings().series_max_weeks)  # the sheet's first choice
    return fragment(
        "bookings/_series_sheet.html",
        day=day,
        start=start,
        weekday=day.weekday(),
        week_choices=standing.week_choices(settings()),
        first_choice=weeks,
        consequences=_consequences(day, minute, weeks),
        act="series",
    )


def _consequences(day, minute: int, weeks: int | None) -> list:
    starts_at = start_instant(day, minute, settings())
    return consequences.of_series(db.session(), settings(), g.user, starts_at, weeks, now())


@bp.get("/app/series/consequences")
@login_required
def series_consequences():
    """What the weekly bookings will do for the number of weeks chosen in the sheet."""
    day = parse_date(request.args.get("date"))
    minute = parse_start(request.args.get("start"), settings())
    lines = _consequences(day, minute, _weeks(request.args.get("weeks")))
    return fragment("bookings/_consequences.html", consequences=lines, act="series")


def _weeks(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 3:
        raise InvalidInput(N_("input_weeks"), most=settings().series_max_weeks)
    return standing.check_weeks(int(raw), settings())


@bp.post("/app/series")
@login_required
def start_in_app():
    try:
        made = standing.start(
            unit(),
            g.user,
            parse_date(request.form.get("date")),
            parse_start(request.form.get("start"), settings()),
            _weeks(request.form.get("weeks")),
        )
    except ScheduleError as error:
        return bookings._refused("bookings/my.html", error, **bookings.my_context())
    notice = "\n".join(
        [
            t(
                "series_started",
                booked=len(made.bookings),
                waiting=len(made.waiting),
                skipped=len(made.skipped),
            ),
            *dates_made(made),
        ]
    )
    return bookings._done("bookings/my.html", notice, **bookings.my_context())


@bp.get("/app/series/<int:series_id>/stop")
@login_required
def confirm_stop(series_id: int):
    found = standing.owned(db.session(), series_id, g.user)
    return fragment("bookings/_series_stop.html", series=found)


@bp.delete("/app/series/<int:series_id>")
@login_required
def stop_in_app(series_id: int):
    try:
        stopped = standing.stop(
            unit(),
            series_id,
        )
    except ScheduleError as error:
        return bookings._refused("bookings/my.html", error, **bookings.my_context())
    notice = t("series_stopped", series=label(stopped.weekday, stopped.start))
    return bookings._done("bookings/my.html", notice, **bookings.my_context())


@bp.get("/app/admin/series/<int:series_id>/stop")
@admin_required
def admin_confirm_stop(series_id: int):
    found = standing.owned(db.session(), series_id, None)
    return fragment("admin/_series_stop.html", series=found)


@bp.post("/app/admin/series/<int:series_id>/stop")
@admin_required
def admin_stop_in_app(series_id: int):
    found = standing.owned(db.session(), series_id, None)
    raw_day = request.form.get("date")
    day = parse_date(raw_day) if raw_day else local_day(now(), settings())
    try:
        reason = required_reason(request.form.get("reason"))
        standing.stop(
            unit(),
            series_id,
            reason=reason,
        )
    except ScheduleError as error:
        return admin.refused("admin/day.html", error, **admin.day_context(day))
    notice = t("series_admin_stopped", name=found.user.name)
    return admin.day_page(day, notice=notice, haptic="success")
