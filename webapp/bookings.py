"""The Mini App's fragments: pick a day and a start, book, list, cancel and move bookings.

Each route renders an HTML fragment for htmx; the views that change something answer with
the whole tab re-rendered from the database (the truth), with the outcome in its notice.
A refused change answers 4xx with the same re-rendered tab and the reason in place.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from schedule import (
    Booking,
    InvalidInput,
    ScheduleError,
    User,
    consequences,
    passes,
    services,
    waitlist,
)
from schedule.availability import DayView, SlotView, Snapshot, horizon_days, view_kind
from schedule.consequences import Consequence
from schedule.db import is_row_id
from schedule.history import history
from schedule.i18n import N_, translate
from schedule.kinds import KindInfo, load_catalog
from schedule.limits import limit_message
from schedule.models import WaitlistEntry
from schedule.settings import format_minutes
from schedule.timegrid import parse_date, parse_start, start_instant, training_end

from . import admin, responses
from .auth import is_admin, is_staff, login_required
from .current import holdings, now, settings, snapshots, unit
from .extensions import db
from .i18n import current_language, day_label, duration, has, language, t, tn
from .ics import booking_calendar
from .present import clock, day_is_mine, local_day, viewer_notice, when
from .responses import fragment
from .waitlist import cache as waiting_cache

bp = Blueprint("bookings", __name__, url_prefix="/app")


def _refused(template: str, error: ScheduleError, **context) -> Response:
    """`template` again with the refusal's message in place (the service rolled back)."""
    return fragment(template, error.http_status, "error", error=error.message(g.lang), **context)


def _done(template: str, notice: str, **context) -> Response:
    return fragment(template, 200, "success", notice=notice, **context)


@bp.errorhandler(ScheduleError)
def stale(error: ScheduleError) -> Response:
    """A booking that is no longer the caller's to change (the trainer cancelled it while the
    app stayed open): My trainings as they are now, with why, in place of the tapped view.
    Malformed input is the app's generic refusal (webapp/responses.py)."""
    if isinstance(error, InvalidInput) or "user" not in g or not request.headers.get("HX-Request"):
        return responses.refused(error)
    db.session.rollback()
    gone = error.code in ("not_found", "not_active")
    message = t("stale_booking") if gone else error.message(g.lang)
    status = error.http_status
    response = fragment("bookings/my.html", status, "error", error=message, **my_context())
    response.headers.update({"HX-Retarget": "#app", "HX-Reswap": "innerHTML"})
    return response


class RenderedGrids:
    """The grid fragment's HTML by everything it shows. Many clients see a day's grid in the
    same state (and each client sees it again and again), so each state is rendered once."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def html(self, grid: DayView, moving: Booking | None) -> str:
        if viewer_notice(grid):  # rare, and it links the trainer's contact as it is now
            return render_template("bookings/_grid.html", grid=grid, moving=moving)
        # A slot is the whole picture of its start (schedule.availability.SlotView).
        key = (
            current_language(),
            request.script_root,
            grid.day,
            moving.id if moving else 0,
            tuple(sorted(kind_args().items())),  # the kind and trainer its links carry
            tuple(grid.slots),
            grid.limit,
        )
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                return body
        body = render_template("bookings/_grid.html", grid=grid, moving=moving)
        with self._lock:
            self._items[key] = body
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return body


def _moving(booking_id: str | None) -> Booking | None:
    """The caller's active booking being moved (?move=ID), or None."""
    if not booking_id:
        return None
    if not booking_id.isdigit():
        raise ScheduleError("not_found")
    return services.owned_active_booking(db.session(), int(booking_id), g.user)


def _query_id(name: str) -> int | None:
    value = request.values.get(name) or ""
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise InvalidInput(N_("input_whole"), field=name)
    return int(value)


Choice = tuple[int | None, int | None]  # a kind's id and a trainer's, None: default / any


def chosen_kind(
    snapshot: Snapshot, moving: Booking | None = None, choice: Choice | None = None
) -> tuple[KindInfo, int | None]:
    """The kind and trainer the tab pictures (`choice`, else ?kind= and ?trainer=; a move: its
    booking's), checked against the studio's (an unknown one is a 400); their query parameters
    go on every link of the tab (`kind_args`)."""
    catalog = snapshot.kinds
    if moving is not None:
        kind, trainer = catalog.kind(moving.kind_id) or catalog.default, moving.trainer_id
    else:
        kind_id, trainer = choice or (_query_id("kind"), _query_id("trainer"))
        kind = catalog.resolve(kind_id, trainer)
    g.kind_args = {
        name: value
        for name, value in (("kind", None if kind.is_default else kind.id), ("trainer", trainer))
        if value is not None and moving is None
    }
    return kind, trainer


def kind_args() -> dict:
    return g.get("kind_args", {})


def picker_context(
    snapshot: Snapshot, kind: KindInfo, trainer: int | None, moving: Booking | None
) -> dict:
    """The kind and trainer pickers above the strip, when there is more than one to pick (not
    while moving a booking, which keeps its kind and trainer)."""
    catalog = snapshot.kinds
    shown = not catalog.simple and moving is None
    return {"catalog": catalog, "kind": kind, "trainer": trainer, "picker": shown}


def book_context(
    day: date | None, moving: Booking | None = None, choice: Choice | None = None
) -> dict:
    """The booking tab: the date strip over the horizon and the chosen day's grid, of the
    chosen kind with the chosen trainer (or any; `choice` a link's, else the request's)."""
    ignore, at = (moving.id if moving else 0), now()
    horizon = horizon_days(settings(), at)
    snapshot = snapshots().get(db.session(), settings(), horizon[0], horizon[-1])
    kind, trainer = chosen_kind(snapshot, moving, choice)
    held = holdings(snapshot)
    days = [view_kind(snapshot, kind, trainer, one, g.user.id, at, ignore, held) for one in horizon]
    chosen = day or next((view.day for view in days if view.available), horizon[0])
    tab = {
        "days": days,
        "moving": moving,
        "tab": "book",
        **picker_context(snapshot, kind, trainer, moving),
    }
    if chosen not in horizon:
        return {**tab, **grid_context(chosen, moving)}
    in_line = _in_line(snapshot, horizon[0], horizon[-1], at)
    grid = view_kind(snapshot, kind, trainer, chosen, g.user.id, at, ignore, held, in_line)
    return {**tab, **_rendered(grid, moving)}


def grid_context(day: date, moving: Booking | None) -> dict:
    """One day's grid as the caller sees it (schedule.availability.view_kind)."""
    at = now()
    snapshot = snapshots().get(db.session(), settings(), day, day)
    kind, trainer = chosen_kind(snapshot, moving)
    in_line = _in_line(snapshot, day, day, at)
    ignore = moving.id if moving else 0
    grid = view_kind(
        snapshot, kind, trainer, day, g.user.id, at, ignore, holdings(snapshot), in_line
    )
    return _rendered(grid, moving)


def _in_line(snapshot: Snapshot, first_day: date, last_day: date, at: datetime) -> dict:
    """Where the caller waits on those days, with their places in line."""
    places = waiting_cache().places(db.session(), settings(), snapshot, first_day, last_day, at)
    return places.get(g.user.id, {})


def _rendered(grid: DayView, moving: Booking | None) -> dict:
    return {"grid": grid, "grid_html": Markup(rendered_grid(grid, moving))}


def rendered_grid(grid: DayView, moving: Booking | None) -> str:
    grids = current_app.extensions.setdefault("rendered_grids", RenderedGrids())
    return grids.html(grid, moving)


# A cell's word for each refusal (schedule.availability.REFUSALS), looked up as f"reason_{code}";
# "reason_overlapping" and "reason_after_hours" name a time and are used directly.
REASONS = (
    N_("reason_too_soon"),
    N_("reason_too_far"),
    N_("reason_closed"),
    N_("reason_limit_reached"),
    N_("reason_no_show_limit"),
    N_("reason_week_limit"),
    N_("reason_no_pass"),
    N_("reason_full"),
)


# A past booking's state in My trainings' history (bookings/_past.html), as f"hist_{state}".
HISTORY_STATES = (
    N_("hist_attended"),
    N_("hist_no_show"),
    N_("hist_done"),
    N_("hist_cancelled_client"),
    N_("hist_cancelled_studio"),
)


def reason(slot: SlotView, offer_wait: bool = True) -> str:
    """A cell's short line: the places a training there has, or why it cannot be booked."""
    if slot.refusal is None:
        return t("free", n=slot.places)
    if slot.in_line:
        return t("waitlist_place", n=slot.in_line)
    if slot.can_wait and offer_wait:
        return t("waitlist_join_short")
    if slot.clash is not None:
        return t("reason_overlapping", time=clock(slot.clash.starts_at, settings()))
    if slot.closes_at is not None:
        return t("reason_after_hours", time=clock(slot.closes_at, settings()))
    key = f"reason_{slot.refusal}"  # one of REASONS
    return t(key) if has(key) else t("reason_other")


@dataclass(frozen=True)
class WaitingLine:
    """A waiting entry in My trainings: its place in line, when the training waited for would
    end (its kind's length), and what it waits for when the studio has several kinds (the
    kind's name, and the trainer asked for), else None."""

    entry: WaitlistEntry
    position: int
    ends_at: datetime
    what: str | None = None


def waiting_lines(places: list[waitlist.Position]) -> list[WaitingLine]:
    if not places:
        return []
    catalog = load_catalog(db.session(), settings())
    lines = []
    for place in places:
        entry = place.entry
        parts = []
        if len(catalog.kinds) > 1:
            parts.append(waitlist.kind_of(catalog, entry).name or t("kind_default"))
        named = catalog.trainer(entry.trainer_id) if entry.trainer_id is not None else None
        if named is not None and len(catalog.trainers) > 1:
            parts.append(named.name)
        what = " · ".join(parts) or None
        ends_at = waitlist.entry_end(catalog, entry, settings())
        lines.append(WaitingLine(entry, place.position, ends_at, what))
    return lines


def my_context() -> dict:
    at = now()
    bookings = services.upcoming_bookings(db.session(), g.user, at)
    waiting = waiting_lines(waitlist.user_entries(db.session(), g.user, at, settings=settings()))
    held = passes.client_passes(db.session(), settings(), g.user, at)
    past = history(db.session(), g.user, at)
    return {"bookings": bookings, "waiting": waiting, "passes": held, "past": past, "tab": "my"}


def hours(starts_at: datetime) -> str:
    """'10:00–11:30' for a training starting at `starts_at`."""
    ends_at = training_end(starts_at, settings())
    return f"{clock(starts_at, settings())}–{clock(ends_at, settings())}"


def span(starts_at: datetime) -> str:
    """'Thu 26 Nov, 10:00–11:30'."""
    return f"{day_label(local_day(starts_at, settings()))}, {hours(starts_at)}"


def waiting_span(entry: WaitlistEntry) -> str:
    """'Thu 26 Nov, 10:00–11:00' for the training a waiting entry waits for (its kind's)."""
    ends_at = waitlist.entry_end(load_catalog(db.session(), settings()), entry, settings())
    starts = f"{clock(entry.starts_at, settings())}–{clock(ends_at, settings())}"
    return f"{day_label(local_day(entry.starts_at, settings()))}, {starts}"


def can_change(booking: Booking) -> bool:
    return services.client_may_change(booking, settings(), now())


def consequence_text(line: Consequence, act: str) -> str:
    """What a consequence says on a sheet (schedule.consequences.describe, as the bot says it)."""
    return consequences.describe(line, act, settings(), current_language())


def calendar_url(booking: Booking) -> str:
    token = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="ics").dumps(booking.id)
    return url_for("bookings.calendar", token=token)


@bp.app_context_processor
def helpers() -> dict:
    """Template helpers of every Mini App fragment (the pages blueprint's too)."""
    return {
        "t": t,
        "tn": tn,
        "day_label": day_label,
        "clock": lambda instant: clock(instant, settings()),
        "local_day": lambda instant: local_day(instant, settings()),
        "when": lambda booking: when(booking, settings()),
        "span": span,
        "hours": hours,
        "can_change": can_change,
        "consequence_text": consequence_text,
        "viewer_notice": viewer_notice,
        "day_is_mine": day_is_mine,
        "calendar_url": calendar_url,
        "is_admin": lambda: "user" in g and is_admin(g.user),
        "deadline": lambda: duration(settings().cancel_deadline_minutes),
        "limit_notice": lambda limit: limit_message(limit, settings(), current_language()),
        "reason": reason,
        "kind_args": kind_args,
    }


@bp.get("/book")
@login_required
def book_tab():
    if request.headers.get("HX-Trigger") == "app" and is_staff():
        return admin.day_page()  # the app's first load (#app): a trainer starts on Day
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    moving = _moving(request.args.get("move"))
    return fragment("bookings/book.html", **book_context(day, moving))


@bp.get("/grid")
@login_required
def grid():
    day = parse_date(request.args.get("date"))
    moving = _moving(request.args.get("move"))
    return responses.repeated(str(grid_context(day, moving)["grid_html"]))


@bp.get("/confirm")
@login_required
def confirm():
    """The sheet that confirms booking (or moving to) the tapped start."""
    day = parse_date(request.args.get("date"))
    minute = parse_start(request.args.get("start"), settings())
    starts_at = start_instant(day, minute, settings())
    moving = _moving(request.args.get("move"))
    if needs_phone():
        return fragment("bookings/_phone.html")
    snapshot = snapshots().get(db.session(), settings(), day, day)
    kind, _ = chosen_kind(snapshot, moving)
    lines = consequences.of_booking(
        db.session(), settings(), g.user, starts_at, now(), moving=moving
    )
    return fragment(
        "bookings/_confirm.html",
        day=day,
        start=format_minutes(minute),
        moving=moving,
        consequences=lines,
        act="book",
        label=f"{day_label(day)}, {format_minutes(minute)}–"
        f"{clock(training_end(starts_at, kind.rules(settings())), settings())}",
    )


def needs_phone() -> bool:
    """PHONE_REQUIRED and no phone yet: the phone is asked before the first confirm sheet.
    Read afresh: on a read, g.user is the row as it was when this init data was first seen."""
    if not settings().phone_required:
        return False
    return not db.session.scalar(select(User.phone).where(User.id == g.user.id))


@bp.post("/bookings")
@login_required
def book():
    day = parse_date(request.form.get("date"))
    minute = parse_start(request.form.get("start"), settings())
    try:
        booking = services.book(
            unit(),
            g.user,
            day,
            minute,
            kind=_query_id("kind"),
            trainer=_query_id("trainer"),
        )
    except ScheduleError as error:
        return _refused(
            "bookings/book.html",
            error,
            share_phone=error.code == "phone_required",
            **book_context(day),
        )
    return _done(
        "bookings/book.html",
        t("booked", when=when(booking, settings())),
        **book_context(day),
    )


@bp.get("/my")
@login_required
def my_tab():
    return fragment("bookings/my.html", **my_context())


@bp.get("/bookings/<int:booking_id>")
@login_required
def own_booking(booking_id: int):
    """The sheet a tap on one's own booking in the grid opens: move it or cancel it."""
    return fragment("bookings/_own.html", booking=_moving(str(booking_id)))


@bp.get("/bookings/<int:booking_id>/cancel")
@login_required
def confirm_cancel(booking_id: int):
    """The cancel's confirm with what it will do: in the card of My trainings, or (?sheet=1,
    from the grid's own-booking sheet) as a sheet of its own."""
    booking = _moving(str(booking_id))
    lines = consequences.of_cancel(db.session(), settings(), booking, now())
    template = "bookings/_cancel.html" if request.args.get("sheet") else "bookings/_booking.html"
    return fragment(template, booking=booking, confirming=True, consequences=lines, act="cancel")


@bp.delete("/bookings/<int:booking_id>")
@login_required
def cancel(booking_id: int):
    try:
        booking = services.cancel(
            unit(),
            booking_id,
        )
    except ScheduleError as error:
        return _refused(
            "bookings/my.html",
            error,
            **my_context(),
        )
    return _done(
        "bookings/my.html",
        t("cancelled", when=when(booking, settings())),
        **my_context(),
    )


@bp.post("/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int):
    moving = _moving(str(booking_id))
    day = parse_date(request.form.get("date"))
    minute = parse_start(request.form.get("start"), settings())
    try:
        booking = services.reschedule(
            unit(),
            moving.id,
            day,
            minute,
        )
    except ScheduleError as error:
        moving = db.session.get(Booking, moving.id, populate_existing=True)
        return _refused(
            "bookings/book.html",
            error,
            **book_context(day, moving),
        )
    return _done(
        "bookings/my.html",
        t("moved", when=when(booking, settings())),
        **my_context(),
    )


@bp.get("/waitlist/confirm")
@login_required
def confirm_waitlist():
    """The sheet that confirms joining the waitlist of the tapped full start."""
    day = parse_date(request.args.get("date"))
    minute = parse_start(request.args.get("start"), settings())
    starts_at = start_instant(day, minute, settings())
    if needs_phone():
        return fragment("bookings/_phone.html")
    snapshot = snapshots().get(db.session(), settings(), day, day)
    kind, trainer = chosen_kind(snapshot)  # its kind and trainer go on the confirm (kind_args)
    lines = consequences.of_waitlist(
        db.session(), settings(), g.user, starts_at, now(), kind=kind.id, trainer=trainer
    )
    return fragment(
        "bookings/_confirm.html",
        day=day,
        start=format_minutes(minute),
        joining=True,
        consequences=lines,
        act="wait",
        label=f"{day_label(day)}, {format_minutes(minute)}–"
        f"{clock(training_end(starts_at, kind.rules(settings())), settings())}",
    )


@bp.post("/waitlist")
@login_required
def join_waitlist():
    day = parse_date(request.form.get("date"))
    minute = parse_start(request.form.get("start"), settings())
    try:
        joined = waitlist.join(
            unit(), g.user, day, minute, kind=_query_id("kind"), trainer=_query_id("trainer")
        )
    except ScheduleError as error:
        return _refused(
            "bookings/book.html",
            error,
            **book_context(day),
        )
    notice = t("waiting_now", when=waiting_span(joined.entry), n=joined.position)
    return fragment("bookings/book.html", 200, "success", notice=notice, **book_context(day))


@bp.delete("/waitlist/<int:entry_id>")
@login_required
def leave_waitlist(entry_id: int):
    try:
        entry = waitlist.leave(db.session(), entry_id, g.user)
    except ScheduleError as error:
        return _refused(
            "bookings/my.html",
            error,
            **my_context(),
        )
    return _done(
        "bookings/my.html",
        t("left_waitlist", when=waiting_span(entry)),
        **my_context(),
    )


@bp.get("/calendar/<token>.ics")
def calendar(token: str):
    """An iCalendar file for one booking; the signed token stands in for the auth header,
    so that a plain link (or Telegram's openLink) can download it."""
    try:
        booking_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="ics").loads(token)
    except BadSignature:
        abort(404)
    # Signed by us, yet only a row id names a booking (a token from elsewhere may hold a list).
    booking = db.session.get(Booking, booking_id) if is_row_id(booking_id) else None
    if booking is None:
        abort(404)
    body = booking_calendar(
        booking,
        summary=translate(language(booking.user.language_code), "training_of"),
        host=request.host.split(":")[0],
        stamp=now(),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f"attachment; filename=training-{booking.id}.ics",
        },
    )
