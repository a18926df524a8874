"""The trainer's tab: the day's visitors, the week's heat map, opening hours and closures,
clients, booking on a client's behalf and the CSV export. Every route is admin_required (the
owners in ADMIN_IDS), except the Day, its cancel and the Week: staff_required, where a trainer
added through the API sees their own day and week and acts only on their own bookings
(schedule.kinds.check_booking, a 403 otherwise).

Like webapp/bookings.py, each view renders the whole tab (the main nav, the trainer's own
sections, then one section) from the database; a change answers with the tab re-rendered and
its outcome in the notice, a refused change with a 4xx and the reason in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, current_app, g, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from schedule import (
    Booking,
    Closure,
    InvalidInput,
    ScheduleError,
    services,
    trainer,
    waitlist,
)
from schedule.availability import Snapshot, effective_hours, horizon_days, view_kind
from schedule.db import is_row_id
from schedule.i18n import N_
from schedule.kinds import DEFAULT_KIND_ID, KindInfo, check_booking, load_catalog
from schedule.models import ACTIVE
from schedule.settings import WEEKDAYS, format_minutes
from schedule.timegrid import (
    local_midnight_utc,
    minute_of_day,
    parse_date,
    parse_start,
    start_instant,
    today,
    training_end,
)
from schedule.trainer import week_occupancy

from . import admin_api, i18n
from .auth import admin_required, staff_required, viewer_staff
from .current import now, settings, snapshots, unit
from .extensions import db
from .i18n import day_label, t
from .present import clock, local_day, when
from .responses import fragment

bp = Blueprint("admin", __name__, url_prefix="/app/admin")

EXPORT_LINK_SECONDS = 3600
# The trainer's tabs (admin/_head.html names them t("admin_" + section)).
SECTIONS = (N_("admin_day"), N_("admin_week"), N_("admin_hours"), N_("admin_clients"))


def render(template: str, status: int = 200, haptic: str | None = None, **context) -> Response:
    return fragment(
        template,
        status,
        haptic,
        tab="admin",
        one_week=timedelta(days=7),
        weekday_names=weekday_names(),
        closure_label=closure_label,
        **context,
    )


def weekday_names() -> tuple[str, ...]:
    return i18n.weekdays()


def refused(template: str, error: ScheduleError, **context) -> Response:
    db.session.rollback()
    return render(template, error.http_status, "error", error=error.message(g.lang), **context)


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def closures_between(
    first_day: date, last_day: date, trainer_id: int | None = None
) -> list[Closure]:
    """The studio's closures of those days, and with `trainer_id` that trainer's own too."""
    end = local_midnight_utc(last_day + timedelta(days=1), settings())
    first = local_midnight_utc(first_day, settings())
    found = services.closures_after(db.session(), first)
    if trainer_id is not None:
        found += services.closures_after(db.session(), first, trainer_id=trainer_id)
    return sorted((c for c in found if c.starts_at < end), key=lambda c: c.starts_at)


# --- the day --------------------------------------------------------------------------------


def day_context(day: date, at: str | None = None) -> dict:
    """The day's trainings that have visitors or a waitlist: each start of each kind with each
    trainer (`day_starts`) with its visitors, its own kind's end, the places it still has
    (schedule's picture of that kind with that trainer) and who waits, first first; `at`
    ("HH:MM", a heat map cell) marks the start running then."""
    bookings = services.day_bookings(db.session(), settings(), day)
    snapshot = snapshots().get(db.session(), settings(), day, day)
    catalog = snapshot.kinds
    trainer = _trainer_filter(catalog)
    if trainer is not None:  # one trainer's day: theirs, and the studio's own bookings
        bookings = [b for b in bookings if b.trainer_id in (trainer, None)]
    lines = waitlist.day_lines(
        db.session(), settings(), day, trainer=trainer, default_name=t("kind_default")
    )
    starts = day_starts(snapshot, day, bookings, lines, trainer)
    return {
        "section": "day",
        "day": day,
        "today": today(now(), settings()),
        "week": week_of(day),
        "starts": starts,
        "focus": _running_at(starts, day, at),
        "closures": [
            admin_api.closure_json(c) for c in closures_between(day, day, trainer_id=trainer)
        ],
        "capacity": settings().capacity,
        "trainers": catalog.trainers,
        "trainer": trainer,
    }


def day_starts(
    snapshot: Snapshot,
    day: date,
    bookings: list[Booking],
    lines: dict[datetime, list[waitlist.Waiter]],
    trainer: int | None,
) -> list[DayStart]:
    """One line of the Day per start, kind and trainer: its visitors, then who waits for it (a
    client waiting for any trainer of the kind under the first such line there, else a line of
    their own). Its end and places are its kind's (a personal hour for one ends an hour later
    and is full with one visitor), the places with its trainer (or, for the studio's own
    bookings, the trainer the Day is filtered to, else any)."""
    catalog = snapshot.kinds
    several_kinds, named = len(catalog.kinds) > 1, trainer is None and len(catalog.trainers) > 1
    groups: dict[tuple[datetime, int | None, int | None], list] = {}
    for booking in bookings:
        key = (booking.starts_at, booking.kind_id, booking.trainer_id)
        groups.setdefault(key, [[], []])[0].append(booking)
    for starts_at, waiters in lines.items():
        for waiter in waiters:
            kind_id = waiter.kind.booking_kind
            key = (starts_at, kind_id, waiter.trainer_id)
            if waiter.trainer_id is None:
                key = next((k for k in groups if k[:2] == (starts_at, kind_id)), key)
            groups.setdefault(key, [[], []])[1].append(waiter)
    pictures: dict[tuple[int, int | None], dict[datetime, int]] = {}

    def places_of(kind: KindInfo, given_by: int | None) -> dict[datetime, int]:
        if (kind.id, given_by) not in pictures:
            picture = view_kind(snapshot, kind, given_by, day, None, now())
            pictures[kind.id, given_by] = {s.cell.starts_at: s.places for s in picture.slots}
        return pictures[kind.id, given_by]

    starts = []
    for (starts_at, kind_id, given_by), (visitors, waiting) in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2] or 0)
    ):
        kind = catalog.kind(kind_id)  # None: a kind the studio no longer has (a past day)
        if visitors:
            ends_at = visitors[0].ends_at
        else:
            ends_at = training_end(starts_at, (kind or catalog.default).rules(settings()))
        places = None
        if kind is not None:
            places = places_of(kind, given_by if given_by is not None else trainer).get(starts_at)
        parts = []
        if several_kinds and kind is not None:
            parts.append(kind.name or t("kind_default"))
        who = catalog.trainer(given_by) if given_by is not None and named else None
        if who is not None:
            parts.append(who.name)
        what = " · ".join(parts)
        starts.append(
            DayStart(
                starts_at, visitors, places, waiting, ends_at, kind_id or DEFAULT_KIND_ID, what
            )
        )
    return starts


def _trainer_filter(catalog) -> int | None:
    """The owner's ?trainer= filter of the Day (a trainer's id; unknown or none: everyone); a
    trainer's Day is always their own (schedule.kinds.Staff.day_filter)."""
    who = viewer_staff()
    if who is not None and not who.owner:
        return who.day_filter(None)
    wanted = request.args.get("trainer") or ""
    if not (wanted.isascii() and wanted.isdigit() and len(wanted) <= 9):
        return None
    return int(wanted) if catalog.trainer(int(wanted)) is not None else None


@dataclass(frozen=True)
class DayStart:
    """A training on the trainer's Day: one start of one kind with one trainer."""

    starts_at: datetime
    visitors: list[Booking]
    places: int | None  # None: the start is not on the day's grid any more (hours changed)
    waiting: list[waitlist.Waiter]  # who waits, first first, with what they wait for
    ends_at: datetime  # its kind's end
    kind_id: int = DEFAULT_KIND_ID
    what: str = ""  # the kind (several) and the trainer (the owner's unfiltered Day)


def _running_at(starts: list[DayStart], day: date, at: str | None) -> datetime | None:
    """The start whose training runs at `at` on `day` (the first such), else the next one."""
    if not at:
        return None
    moment = start_instant(day, parse_start(at, settings()), settings())
    running = [s.starts_at for s in starts if s.starts_at <= moment < s.ends_at]
    later = [s.starts_at for s in starts if s.starts_at > moment]
    return (running or later or [None])[0]


def day_page(day: date | None = None, at: str | None = None, **outcome) -> Response:
    """The trainer's tab opened on `day` (by default the day it lands on), at the start
    running `at`."""
    context = day_context(day or landing_day(), at)
    return render("admin/day.html", **context, **outcome)


def landing_day() -> date:
    """Where the trainer's tab opens: the day of the next training not yet over (today while
    one of today's runs or is to come); with none booked, today until its opening hours are
    over, then tomorrow, so a Sunday evening opens on the coming week, not the past one."""
    at, current = now(), today(now(), settings())
    query = select(func.min(Booking.starts_at)).where(
        Booking.status == ACTIVE, Booking.ends_at > at
    )
    who = viewer_staff()
    if who is not None and not who.owner:  # a trainer's next training, not another's
        mine = Booking.trainer_id == who.trainer_id
        query = query.where(mine | Booking.trainer_id.is_(None))
    next_start = db.session.scalar(query)
    if next_start is not None:
        return max(local_day(next_start, settings()), current)
    hours = effective_hours(db.session(), settings())[current.weekday()]
    closes = max((closing for _, closing in hours), default=0)
    _, minute = minute_of_day(at, settings())
    return current if minute < closes else current + timedelta(days=1)


@bp.app_template_global()
def clients_told() -> bool:
    """Whether a client hears of the trainer's change: the notices are always written to the
    outbox, but only a wired bot (its worker) sends them, not a bare dev app."""
    return current_app.extensions["clients_told"]


@bp.app_template_global()
def may_touch(booking: Booking) -> bool:
    """Whether the viewer may cancel or mark `booking` (the rule is schedule.kinds')."""
    who = viewer_staff()
    return who is not None and who.may_manage(booking.trainer_id)


@bp.get("/bookings/<int:booking_id>/cancel")
@staff_required
def confirm_cancel(booking_id: int):
    check_booking(db.session(), g.staff, booking_id)
    booking = services.owned_active_booking(db.session(), booking_id, None)
    return render("admin/_visitor.html", booking=booking, confirming=True)


@bp.post("/bookings/<int:booking_id>/cancel")
@staff_required
def cancel(booking_id: int):
    booking = db.session.get(Booking, booking_id) if is_row_id(booking_id) else None
    day = local_day(booking.starts_at, settings()) if booking else None
    try:
        check_booking(db.session(), g.staff, booking_id)
        reason = admin_api.required_reason(request.form.get("reason"))
        booking = services.cancel(
            unit(),
            booking_id,
            reason=reason,
        )
    except ScheduleError as error:
        return refused("admin/day.html", error, **day_context(day or today(now(), settings())))
    told = N_("admin_cancelled") if clients_told() else N_("admin_cancelled_quiet")
    notice = t(told, name=booking.user.name, when=when(booking, settings()))
    return day_page(day, notice=notice, haptic="success")


# --- the week -------------------------------------------------------------------------------


def heat_level(booked: int, capacity: int) -> int:
    """0 (empty) to 4 (full): the shade of a heat map cell."""
    return 0 if booked <= 0 else min(4, -(-booked * 4 // capacity))


@bp.get("/week")
@staff_required
def week():
    """The week's heat map: the studio's for an owner (or one trainer's, ?trainer=), a
    trainer's own for a trainer (any ?trainer= of theirs is ignored, as on the Day)."""
    first = request.args.get("from")
    days = week_of(parse_date(first) if first else landing_day())
    catalog = load_catalog(db.session(), settings())
    trainer = _trainer_filter(catalog)
    views = week_occupancy(db.session(), settings(), days[0], trainer_id=trainer)
    minutes = sorted({slot.cell.minute for view in views for slot in view.slots})
    rows = []
    for minute in minutes:
        cells = []
        for view in views:
            slot = next((s for s in view.slots if s.cell.minute == minute), None)
            cells.append((view.day, slot, slot is not None and slot.closed))
        rows.append((format_minutes(minute), cells))
    capacity = settings().capacity
    return render(
        "admin/week.html",
        section="week",
        days=days,
        rows=rows,
        capacity=capacity,
        today=today(now(), settings()),
        heat_level=heat_level,
        trainings=[len(_bookings_of(d, trainer)) for d in days],
        trainers=catalog.trainers,
        trainer=trainer,
    )


def _bookings_of(day: date, trainer: int | None) -> list[Booking]:
    """The day's bookings: everyone's, or one trainer's and the studio's own (as their Day)."""
    bookings = services.day_bookings(db.session(), settings(), day)
    return bookings if trainer is None else [b for b in bookings if b.trainer_id in (trainer, None)]


# --- opening hours and closures ----------------------------------------------------------------


# An interval row of the hours form, as typed: ("08:00", "12:00").
Rows = dict[str, list[tuple[str, str]]]


def hours_context(
    closure_day: date | None = None, form: dict | None = None, rows: Rows | None = None
) -> dict:
    if rows is None:
        week = effective_hours(db.session(), settings())
        rows = {
            WEEKDAYS[d]: [(format_minutes(a), format_minutes(b % 1440)) for a, b in week[d]]
            for d in range(7)
        }
    return {
        "section": "hours",
        "rows": rows,
        "closures": [
            admin_api.closure_json(c) for c in services.closures_after(db.session(), now())
        ],
        "closure_form": form or {"date": (closure_day or today(now(), settings())).isoformat()},
    }


def typed_rows() -> Rows:
    """The hours form's intervals as typed ({day}_opens and {day}_closes, in pairs)."""
    return {
        name: list(
            zip(
                request.form.getlist(f"{name}_opens"),
                request.form.getlist(f"{name}_closes"),
                strict=False,
            )
        )
        for name in WEEKDAYS
    }


def rows_week(rows: Rows) -> dict[str, list[str]]:
    """Typed rows as admin_api.week_hours reads them; empty rows are dropped, and a closing
    time of 00:00 is midnight at the end of the day."""
    week = {}
    for name, intervals in rows.items():
        filled = [(opens, closes) for opens, closes in intervals if opens or closes]
        week[name] = [
            f"{opens}-{'24:00' if closes == '00:00' else closes}" for opens, closes in filled
        ]
    return week


@bp.get("/hours")
@admin_required
def hours():
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    return render("admin/hours.html", **hours_context(day))


@bp.post("/hours/rows")
@admin_required
def hours_rows():
    """The hours form with an interval added (add=DAY) or removed (remove=DAY:N); not saved."""
    rows = typed_rows()
    added, removed = request.form.get("add_interval", ""), request.form.get("remove_interval", "")
    if added in rows:
        last = rows[added][-1][1] if rows[added] else ""
        rows[added].append((last, ""))
    name, _, index = removed.partition(":")
    if name in rows and index.isdigit() and int(index) < len(rows[name]):
        del rows[name][int(index)]
    return render("admin/_hours_form.html", rows=rows)


@bp.post("/hours")
@admin_required
def save_hours():
    rows = typed_rows()
    try:
        saved = admin_api.save_hours(admin_api.week_hours(rows_week(rows)))
    except ScheduleError as error:
        return refused("admin/hours.html", error, **hours_context(rows=rows))
    return render(
        "admin/hours.html",
        haptic="success",
        notice=t("hours_saved"),
        outside=admin_api.outside_hours(saved),
        **hours_context(),
    )


@bp.post("/closures")
@admin_required
def add_closure():
    form = {k: request.form.get(k, "").strip() for k in ("date", "start", "end", "reason")}
    confirmed = request.form.get("cancel_bookings") == "1"
    try:
        day = parse_date(form["date"])
        start, end = admin_api.closure_times(form["start"], form["end"])
        closure, cancelled = admin_api.close(day, start, end, form["reason"], confirmed)
    except ScheduleError as error:
        db.session.rollback()
        context = hours_context(form=form)
        if error.code != "has_bookings":
            return refused("admin/hours.html", error, **context)
        inside = admin_api.bookings_inside(day, start, end)
        return render("admin/hours.html", 409, "warning", conflict=inside, **context)
    notice = t("closed_notice", when=closure_label(admin_api.closure_json(closure)))
    if cancelled:
        told = N_("closed_cancelled") if clients_told() else N_("closed_cancelled_quiet")
        notice += " " + t(told, n=len(cancelled))
    return render("admin/hours.html", haptic="success", notice=notice, **hours_context())


def closure_label(closure: dict) -> str:
    """'Thu 26 Nov, all day', or 'Thu 26 Nov, 12:00–14:00' for a time range."""
    day = parse_date(closure["date"])
    if closure["whole_day"]:
        return day_label(day) + ", " + t("all_day")
    return f"{day_label(day)}, {closure['start']}–{closure['end']}"


@bp.delete("/closures/<int:closure_id>")
@admin_required
def remove_closure(closure_id: int):
    try:
        services.remove_closure(unit(), closure_id)
    except ScheduleError as error:
        return refused("admin/hours.html", error, **hours_context())
    return render("admin/hours.html", haptic="success", notice=t("reopened"), **hours_context())


# --- clients, booking on their behalf, the export ------------------------------------------------


def export_link(first_day: date, last_day: date) -> str:
    """A signed download link: Telegram opens it in a browser, without the init data header."""
    token = _export_signer().dumps(
        [g.user.telegram_id, first_day.isoformat(), last_day.isoformat()]
    )
    return url_for("admin.download", token=token)


def _export_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="admin-export")


def default_export_range() -> tuple[date, date]:
    """This month, from its first day to its last."""
    first = today(now(), settings()).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def clients_context(query: str = "", day: date | None = None) -> dict:
    first, last = default_export_range()
    return {
        "section": "clients",
        "query": query,
        "listed": admin_api.known_clients(query),
        "for_day": day,
        "export_from": first,
        "export_to": last,
        "export_url": export_link(first, last),
    }


@bp.get("/clients")
@admin_required
def client_list():
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    context = clients_context(request.args.get("q", "").strip()[:64], day)
    if request.headers.get("HX-Target") == "clients":
        return render("admin/_clients.html", **context)
    return render("admin/clients.html", **context)


@bp.get("/export")
@admin_required
def export_form():
    try:
        first_day, last_day = admin_api.export_range(
            request.args.get("from"), request.args.get("to")
        )
    except ScheduleError as error:
        first_day, last_day = default_export_range()
        return render(
            "admin/_export.html",
            error.http_status,
            "error",
            export_from=first_day,
            export_to=last_day,
            export_error=error.message(g.lang),
        )
    return render(
        "admin/_export.html",
        export_from=first_day,
        export_to=last_day,
        export_url=export_link(first_day, last_day),
    )


@bp.get("/export/<token>.csv")
def download(token: str):
    """The CSV behind a signed link: the token names the trainer, who must still be an admin."""
    try:
        admin_id, first, last = _export_signer().loads(token, max_age=EXPORT_LINK_SECONDS)
    except (BadSignature, ValueError, TypeError):
        raise Forbidden(t("export_expired")) from None
    if admin_id not in current_app.config["ADMIN_IDS"]:
        raise Forbidden(t("error_403"))
    return admin_api.csv_response(*admin_api.export_range(first, last))


def book_context(client, day: date | None) -> dict:
    days = horizon_days(settings(), now())
    chosen = day or days[0]
    grid = snapshots().day(db.session(), settings(), chosen, client.id, now())
    return {"section": "clients", "client": client, "days": days, "grid": grid}


@bp.get("/book")
@admin_required
def book_form():
    client = admin_api.find_client(_telegram_id(request.args.get("client")))
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    return render("admin/book.html", **book_context(client, day))


@bp.get("/book/confirm")
@admin_required
def confirm_book():
    client = admin_api.find_client(_telegram_id(request.args.get("client")))
    day = parse_date(request.args.get("date"))
    minute = parse_start(request.args.get("start"), settings())
    starts_at = start_instant(day, minute, settings())
    ends_at = training_end(starts_at, settings())
    return render(
        "admin/_book_confirm.html",
        client=client,
        day=day,
        start=format_minutes(minute),
        label=f"{day_label(day)}, {format_minutes(minute)}–{clock(ends_at, settings())}",
    )


@bp.post("/book")
@admin_required
def book():
    client = admin_api.find_client(_telegram_id(request.form.get("client")))
    day = parse_date(request.form.get("date"))
    minute = parse_start(request.form.get("start"), settings())
    try:
        booking = services.book(
            unit(),
            client,
            day,
            minute,
            source="admin",
        )
    except ScheduleError as error:
        return refused("admin/book.html", error, **book_context(client, day))
    notice = t("admin_booked", name=client.name, when=when(booking, settings()))
    return day_page(day, notice=notice, haptic="success")


def _telegram_id(text: str | None) -> int:
    telegram_id = trainer.telegram_id_from_text(text)
    if telegram_id is None:
        raise InvalidInput(N_("input_telegram_id"))
    return telegram_id
