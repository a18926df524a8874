"""Trainers and kinds of training (DESIGN.md, "Trainers and kinds"): the owners add them, anyone
signed in lists them. Thin adapters over schedule.kinds, which checks and stores them."""

from __future__ import annotations

from flask import Blueprint, jsonify

from schedule import kinds
from schedule.availability import effective_hours
from schedule.timegrid import today

from . import contract
from .auth import admin_required, login_required
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


@bp.post("/api/admin/trainers")
@admin_required
def add_trainer():
    wanted: contract.TrainerRequest = contract.body()
    session = db.session()
    trainer = kinds.add_trainer(unit(), wanted.telegram_id, wanted.name, wanted.opening_hours)
    return jsonify(kinds.trainer_json(trainer, effective_hours(session, settings()))), 201


@bp.post("/api/admin/kinds")
@admin_required
def add_kind():
    wanted: contract.KindRequest = contract.body()
    kind = kinds.add_kind(unit(), wanted.name, wanted.minutes, wanted.capacity, wanted.trainer_ids)
    return jsonify(kinds.kind_json(kind, "")), 201
