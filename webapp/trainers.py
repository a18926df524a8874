"""Trainers and kinds of training (DESIGN.md, "Trainers and kinds"): the owners add, change and
remove them, anyone signed in lists them, and a trainer's own closures are managed by the owners
and by that trainer. Thin adapters over schedule.kinds and schedule.services, which check and
store them (and refuse a non-owner themselves)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from werkzeug.exceptions import Forbidden, NotFound

from schedule import Closure, ScheduleError, kinds, services
from schedule.availability import effective_hours
from schedule.db import is_row_id
from schedule.models import KindTrainer, Trainer
from schedule.timegrid import today

from . import admin_api, contract
from .auth import admin_required, login_required, staff_required
from .current import now, settings, snapshots, unit
from .extensions import db
from .i18n import t

bp = Blueprint("trainers", __name__)


def catalog() -> kinds.Catalog:
    """The kinds and trainers as of the schedule's last write (today's snapshot, cached,
    carries them)."""
    day = today(now(), settings())
    return snapshots().get(db.session(), settings(), day, day).kinds


@bp.get("/api/trainers")
@login_required
def trainers():
    return jsonify(trainers=[{"id": t_.id, "name": t_.name} for t_ in catalog().trainers])


@bp.get("/api/kinds")
@login_required
def kinds_list():
    default_name = t("kind_default")
    return jsonify(kinds=[kinds.kind_json(kind, default_name) for kind in catalog().kinds])


def trainer_json(trainer) -> dict:
    found = kinds.trainer_json(trainer, effective_hours(db.session(), settings()))
    return {**found, "retired": trainer.retired_at is not None}


def trainer_week(trainer):
    """The hours a trainer works: their own, else the studio's."""
    own = kinds.read_hours(trainer.opening_hours, settings()) if trainer.opening_hours else None
    return own or effective_hours(db.session(), settings())


@bp.post("/api/admin/trainers")
@admin_required
def add_trainer():
    wanted: contract.TrainerRequest = contract.body()
    trainer = kinds.add_trainer(unit(), wanted.telegram_id, wanted.name, wanted.opening_hours)
    return jsonify(kinds.trainer_json(trainer, effective_hours(db.session(), settings()))), 201


@bp.patch("/api/admin/trainers/<int:trainer_id>")
@admin_required
def edit_trainer(trainer_id: int):
    wanted: contract.TrainerEditRequest = contract.body()
    hours = None
    if "opening_hours" in wanted.model_fields_set:  # null: back to the studio's hours
        hours = kinds.STUDIO_HOURS if wanted.opening_hours is None else wanted.opening_hours
    trainer = services.edit_trainer(unit(), trainer_id, name=wanted.name, opening_hours=hours)
    outside = []
    if hours is not None:
        week = trainer_week(trainer)
        outside = kinds.bookings_outside(db.session(), settings(), trainer.id, week, now())
    return jsonify({**trainer_json(trainer), "outside_hours": admin_api.booking_list(outside)})


@bp.delete("/api/admin/trainers/<int:trainer_id>")
@admin_required
def retire_trainer(trainer_id: int):
    return jsonify(trainer_json(kinds.retire_trainer(unit(), trainer_id)))


@bp.post("/api/admin/kinds")
@admin_required
def add_kind():
    wanted: contract.KindRequest = contract.body()
    kind = kinds.add_kind(unit(), wanted.name, wanted.minutes, wanted.capacity, wanted.trainer_ids)
    return jsonify(kinds.kind_json(kind, "")), 201


@bp.patch("/api/admin/kinds/<int:kind_id>")
@admin_required
def edit_kind(kind_id: int):
    wanted: contract.KindEditRequest = contract.body()
    kind = kinds.edit_kind(
        unit(),
        kind_id,
        name=wanted.name,
        minutes=wanted.minutes,
        capacity=wanted.capacity,
        trainer_ids=wanted.trainer_ids,
    )
    return jsonify({**kinds.kind_json(kind, ""), "retired": False})


@bp.delete("/api/admin/kinds/<int:kind_id>")
@admin_required
def retire_kind(kind_id: int):
    kind = kinds.retire_kind(unit(), kind_id)
    info = kinds.KindInfo(kind.id, kind.name, kind.minutes, kind.capacity, ())
    given_by = [
        row.trainer_id
        for row in db.session.scalars(db.select(KindTrainer).where(KindTrainer.kind_id == kind.id))
    ]
    return jsonify({**kinds.kind_json(info, ""), "trainer_ids": sorted(given_by), "retired": True})


# --- a trainer's own closures (owners, and that trainer) ---------------------------------------


def may_manage(trainer_id: int) -> None:
    """403 unless the caller manages that trainer (an owner: anyone; a trainer: themself)."""
    if not g.staff.may_manage(trainer_id):
        raise Forbidden(t("error_403"))


def managed_trainer(trainer_id: int) -> int:
    """`trainer_id` when the caller manages that trainer, else 403; a trainer who does not
    exist (or was removed) is 404."""
    may_manage(trainer_id)
    found = db.session.get(Trainer, trainer_id) if is_row_id(trainer_id) else None
    if found is None or found.retired_at is not None:
        raise NotFound(t("trainer_not_found"))
    return trainer_id


def trainer_closure_json(closure: Closure) -> dict:
    return {**admin_api.closure_json(closure), "trainer_id": closure.trainer_id}


@bp.get("/api/admin/trainers/<int:trainer_id>/closures")
@staff_required
def trainer_closures(trainer_id: int):
    mine = services.closures_after(db.session(), now(), trainer_id=managed_trainer(trainer_id))
    return jsonify(closures=[trainer_closure_json(c) for c in mine])


@bp.post("/api/admin/trainers/<int:trainer_id>/closures")
@staff_required
def add_trainer_closure(trainer_id: int):
    may_manage(trainer_id)
    wanted: contract.ClosureRequest = contract.body()
    managed_trainer(trainer_id)
    start, end = admin_api.closure_times(wanted.start, wanted.end)
    try:
        closure, cancelled = admin_api.close(
            wanted.date, start, end, wanted.reason or "", wanted.cancel_bookings, trainer_id
        )
    except ScheduleError as error:
        if error.code != "has_bookings":
            raise
        db.session.rollback()
        inside = admin_api.bookings_inside(wanted.date, start, end, trainer_id)
        return jsonify(
            error=error.code,
            message=error.message(g.lang),
            bookings=admin_api.booking_list(inside),
        ), 409
    body = {**trainer_closure_json(closure), "cancelled": admin_api.booking_list(cancelled)}
    return jsonify(body), 201


@bp.delete("/api/admin/trainers/<int:trainer_id>/closures/<int:closure_id>")
@staff_required
def remove_trainer_closure(trainer_id: int, closure_id: int):
    managed_trainer(trainer_id)
    closure = db.session.get(Closure, closure_id) if is_row_id(closure_id) else None
    if closure is None or closure.trainer_id != trainer_id:
        raise NotFound(t("closure_not_found"))
    removed = trainer_closure_json(closure)
    services.remove_closure(unit(), closure_id, trainer_id=trainer_id)
    return jsonify(removed)
