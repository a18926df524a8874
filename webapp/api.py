"""The JSON API (DESIGN.md's contract): slots, the caller's bookings, the trainer's day. Each
route reads its body or query through webapp/contract.py, whose models and route table the
OpenAPI document is built from."""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from schedule import services, waitlist
from schedule.availability import DayView, view_kind
from schedule.history import history
from schedule.kinds import DEFAULT_KIND_ID, load_catalog

from . import contract
from .auth import login_required, staff_required
from .current import holdings, now, settings, snapshots, unit
from .extensions import db
from .present import admin_booking_json, booking_json, past_json, slots_json
from .responses import MIN_GZIP_BYTES, json_error
from .waitlist import cache as waiting_cache
from .waitlist import entry_json

bp = Blueprint("api", __name__, url_prefix="/api")


class SlotsAnswers:
    """/api/slots' JSON body, and its gzip, by everything it shows, as bookings.RenderedGrids
    keeps the grid fragment's HTML: the day and its picture for the viewer (each SlotView: the
    start's counts, the viewer's own booking, place in line and refusal, who could take it),
    and the kind's rules the answer quotes. The picture itself is drawn for every request (the
    clock, the viewer's holdings and lines go into it); only turning it into bytes is kept."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[tuple, list] = OrderedDict()  # key -> [body, gzip or None]
        self._lock = threading.Lock()

    def response(self, view: DayView, rules) -> Response:
        key = (
            view.day,
            rules.timezone,
            rules.capacity,
            rules.training_minutes,
            rules.slot_minutes,
            tuple(view.slots),
        )
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        if found is None:
            found = [answer_body(view, rules), None]
            with self._lock:
                self._items[key] = found
                if len(self._items) > self.size:
                    self._items.popitem(last=False)
        body = found[0]
        response = Response(body, mimetype=current_app.json.mimetype)
        # What webapp.responses.compress would do to it, done once per body.
        if len(body) < MIN_GZIP_BYTES:
            return response
        response.vary.add("Accept-Encoding")
        if "gzip" in request.headers.get("Accept-Encoding", "").lower():
            if found[1] is None:
                found[1] = gzip.compress(body, compresslevel=6)
            response.set_data(found[1])
            response.headers["Content-Encoding"] = "gzip"
        return response


def answer_body(view: DayView, rules) -> bytes:
    """/api/slots' JSON of `view` under the kind's `rules`."""
    answer = slots_json(view, rules)
    for slot, shown in zip(view.slots, answer["slots"], strict=True):
        if slot.trainer_ids is not None:  # any trainer of several: who could take it
            shown["trainer_ids"] = list(slot.trainer_ids)
    return jsonify(answer).get_data()


@bp.get("/slots")
@login_required
def slots():
    asked: contract.SlotsQuery = contract.query()
    day = asked.date
    snapshot = snapshots().get(db.session(), settings(), day, day)
    kind = snapshot.kinds.resolve(asked.kind, asked.trainer)  # 400 when unknown
    in_line = waiting_cache().places(db.session(), settings(), snapshot, day, day)
    view = view_kind(
        snapshot,
        kind,
        asked.trainer,
        day,
        g.user.id,
        now(),
        holdings=holdings(snapshot),
        in_line=in_line.get(g.user.id, {}),
    )
    answers = current_app.extensions.setdefault("slots_answers", SlotsAnswers())
    return answers.response(view, kind.rules(settings()))


def with_kind(answer: dict, booking) -> dict:
    """A booking's JSON with its kind (1: the default kind) and trainer (null: the studio)."""
    return {**answer, "kind": booking.kind_id or DEFAULT_KIND_ID, "trainer": booking.trainer_id}


def plain() -> bool:
    """Only the default kind and no trainer: every answer keeps its shape from before kinds."""
    found = load_catalog(db.session(), settings())
    return len(found.kinds) == 1 and not found.trainers


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
    wanted: contract.BookRequest = contract.body()
    booking = services.book(
        unit(),
        g.user,
        wanted.date,
        wanted.start,
        kind=wanted.kind,
        trainer=wanted.trainer,
    )
    answer = booking_json(booking, settings())
    named = wanted.kind is not None or wanted.trainer is not None
    if named or booking.kind_id is not None or booking.trainer_id is not None:
        answer = with_kind(answer, booking)
    return jsonify(answer), 201


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
    kinds = load_catalog(db.session(), settings())
    return jsonify(waitlist=[entry_json(p.entry, settings(), p.position, kinds) for p in entries])


@bp.post("/waitlist")
@login_required
def join_waitlist():
    """Wait at a full start, of a kind with a trainer (left out: the default kind, any)."""
    wanted: contract.BookRequest = contract.body()
    joined = waitlist.join(
        unit(),
        g.user,
        wanted.date,
        wanted.start,
        kind=wanted.kind,
        trainer=wanted.trainer,
    )
    named = wanted.kind is not None or wanted.trainer is not None
    kinds = load_catalog(db.session(), settings())
    answer = entry_json(joined.entry, settings(), joined.position, kinds, named)
    return jsonify(answer), 201


@bp.delete("/waitlist/<int:entry_id>")
@login_required
def leave_waitlist(entry_id: int):
    entry = waitlist.leave(db.session(), entry_id, g.user)
    kinds = load_catalog(db.session(), settings())
    return jsonify({**entry_json(entry, settings(), catalog=kinds), "status": "left"})


@bp.get("/admin/bookings")
@staff_required
def admin_bookings():
    """A day's bookings: an owner's everyone's (or one trainer's, ?trainer=), a trainer's their
    own (schedule.kinds.Staff.day_filter)."""
    asked: contract.AdminDayQuery = contract.query()
    bookings = services.day_bookings(
        db.session(), settings(), asked.date, include_cancelled=asked.status == "all"
    )
    trainer = g.staff.day_filter(asked.trainer)
    if trainer is not None:
        bookings = [b for b in bookings if b.trainer_id in (trainer, None)]
    answer = [admin_booking_json(b, settings()) for b in bookings]
    if not plain():
        answer = [with_kind(one, b) for one, b in zip(answer, bookings, strict=True)]
    return jsonify(bookings=answer)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return json_error(error)
