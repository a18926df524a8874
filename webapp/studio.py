"""The owners' Studio screen in the trainer's tab (issue 25): the trainers (name, hours) and
kinds of training (length, places, who gives it), each added, changed and removed here, and a
trainer's own days off, which that trainer reaches from their Day too.

Thin adapters over schedule.kinds (which refuses a non-owner itself) and schedule.services'
closures, rendered like the other sections (webapp/admin.py): a change answers with the screen
re-rendered and its outcome in the notice, a refused one with a 4xx and the reason in place. A
card swaps itself for its edit form or its remove sheet (which says what removing does before
the confirm).
"""

from __future__ import annotations

from flask import Blueprint, g, request
from werkzeug.exceptions import Forbidden, NotFound

from schedule import InvalidInput, ScheduleError, kinds, services
from schedule.availability import effective_hours
from schedule.db import is_row_id
from schedule.i18n import N_
from schedule.kinds import STUDIO_HOURS, format_week
from schedule.models import Trainer
from schedule.settings import format_minutes
from schedule.timegrid import parse_date, today

from . import admin, admin_api
from .auth import admin_required, staff_required
from .current import now, settings, unit
from .extensions import db
from .i18n import t, weekdays

bp = Blueprint("studio", __name__, url_prefix="/app/admin/studio")

SECTION = N_("admin_studio")  # the trainer's sub-tab (admin/_head.html)


def hours_text(trainer: kinds.TrainerInfo) -> str:
    """A trainer's own hours written as OPENING_HOURS is (the edit form's value); "" for the
    studio's."""
    return format_week(trainer.hours) if trainer.hours else ""


def hours_shown(trainer: kinds.TrainerInfo) -> str:
    """A trainer's own hours as the viewer reads them, in their language: "12:00–20:00" when
    every day is alike, else runs of weekdays with the same hours ("Mon–Fri 12:00–20:00 ·
    Sat 10:00–14:00 · Sun closed"); "" for the studio's."""
    if not trainer.hours:
        return ""
    names = weekdays()
    days = [trainer.hours.get(n, ()) for n in range(7)]

    def times(intervals) -> str:
        if not intervals:
            return t("closed")
        return ", ".join(f"{format_minutes(a)}–{format_minutes(b)}" for a, b in intervals)

    if all(day == days[0] for day in days):
        return times(days[0])
    runs: list[tuple[int, int]] = []  # first and last weekday of each run of equal hours
    for n in range(7):
        if runs and days[runs[-1][1]] == days[n]:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return " · ".join(
        f"{names[a]}{'' if a == b else '–' + names[b]} {times(days[a])}" for a, b in runs
    )


def screen_context(**extra) -> dict:
    catalog = kinds.load_catalog(db.session(), settings())
    names = {trainer.id: trainer.name for trainer in catalog.trainers}
    days_off = {
        trainer.id: len(services.closures_after(db.session(), now(), trainer_id=trainer.id))
        for trainer in catalog.trainers
    }
    return {
        "section": "studio",
        "trainers": catalog.trainers,
        "default_kind": catalog.default,
        "kinds": catalog.kinds[1:],
        "names": names,
        "days_off": days_off,
        "studio_hours": format_week(effective_hours(db.session(), settings())),
        "hours_text": hours_text,
        "hours_shown": hours_shown,
        "slot": settings().slot_minutes,
        **extra,
    }


def screen(status: int = 200, haptic: str | None = None, **extra):
    return admin.render("studio/screen.html", status, haptic, **screen_context(**extra))


def refused(error: ScheduleError, **extra):
    db.session.rollback()
    return screen(error.http_status, "error", error=error.message(g.lang), **extra)


def form_number(name: str, detail: str, **values) -> int:
    text = (request.form.get(name) or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise InvalidInput(detail, **values)
    return int(text)


def form_trainers() -> list[int]:
    wanted = []
    for text in request.form.getlist("trainer_ids"):
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            raise InvalidInput(N_("input_unknown_trainer"), trainer=text[:20])
        wanted.append(int(text))
    return wanted


def typed(*names: str) -> dict:
    return {name: (request.form.get(name) or "").strip() for name in names}


@bp.get("")
@admin_required
def show():
    return screen()


# --- trainers ------------------------------------------------------------------------------


def trainer_info(trainer_id: int) -> kinds.TrainerInfo:
    found = kinds.load_catalog(db.session(), settings()).trainer(trainer_id)
    if found is None:
        raise NotFound(t("trainer_not_found"))
    return found


@bp.post("/trainers")
@admin_required
def add_trainer():
    form = typed("telegram_id", "name", "opening_hours")
    try:
        telegram_id = admin._telegram_id(form["telegram_id"])
        trainer = kinds.add_trainer(
            unit(), telegram_id, form["name"], form["opening_hours"] or None
        )
    except ScheduleError as error:
        return refused(error, trainer_form=form, open_form="trainer")
    return screen(haptic="success", notice=t("studio_trainer_added", name=trainer.name))


@bp.get("/trainers/<int:trainer_id>")
@admin_required
def trainer_card(trainer_id: int):
    return card("studio/_trainer.html", trainer=trainer_info(trainer_id))


def card(template: str, **item) -> str:
    """One card of the screen (a trainer's, a kind's): as listed, with its edit form
    (?mode=edit) or its remove sheet (?mode=retire)."""
    mode = request.args.get("mode", "")
    return admin.render(
        template,
        **screen_context(),
        **item,
        editing=mode == "edit",
        confirming=mode == "retire",
    )


@bp.post("/trainers/<int:trainer_id>")
@admin_required
def edit_trainer(trainer_id: int):
    form = typed("name", "opening_hours")
    try:
        trainer = services.edit_trainer(
            unit(),
            trainer_id,
            name=form["name"],
            opening_hours=form["opening_hours"] or STUDIO_HOURS,
        )
    except ScheduleError as error:
        return refused(error)
    week = trainer_info(trainer.id).hours or effective_hours(db.session(), settings())
    outside = kinds.bookings_outside(db.session(), settings(), trainer.id, week, now())
    notice = t("studio_trainer_saved", name=trainer.name)
    return screen(haptic="success", notice=notice, outside=outside)


@bp.post("/trainers/<int:trainer_id>/retire")
@admin_required
def retire_trainer(trainer_id: int):
    try:
        trainer = kinds.retire_trainer(unit(), trainer_id)
    except ScheduleError as error:
        return refused(error)
    return screen(haptic="success", notice=t("studio_trainer_removed", name=trainer.name))


# --- kinds ---------------------------------------------------------------------------------


def kind_info(kind_id: int) -> kinds.KindInfo:
    found = kinds.load_catalog(db.session(), settings()).kind(kind_id)
    if found is None or found.is_default:
        raise NotFound(t("kind_not_found"))
    return found


def kind_form() -> tuple[dict, int, int, list[int]]:
    form = typed("name", "minutes", "capacity")
    form["trainer_ids"] = request.form.getlist("trainer_ids")
    slot = settings().slot_minutes
    minutes = form_number("minutes", N_("input_kind_minutes"), slot=slot)
    capacity = form_number("capacity", N_("input_kind_capacity"))
    return form, minutes, capacity, form_trainers()


@bp.post("/kinds")
@admin_required
def add_kind():
    form = {
        **typed("name", "minutes", "capacity"),
        "trainer_ids": request.form.getlist("trainer_ids"),
    }
    try:
        form, minutes, capacity, trainer_ids = kind_form()
        kind = kinds.add_kind(unit(), form["name"], minutes, capacity, trainer_ids)
    except ScheduleError as error:
        return refused(error, kind_form=form, open_form="kind")
    return screen(haptic="success", notice=t("studio_kind_added", name=kind.name))


@bp.get("/kinds/<int:kind_id>")
@admin_required
def kind_card(kind_id: int):
    return card("studio/_kind.html", kind=kind_info(kind_id))


@bp.post("/kinds/<int:kind_id>")
@admin_required
def edit_kind(kind_id: int):
    try:
        form, minutes, capacity, trainer_ids = kind_form()
        kind = kinds.edit_kind(
            unit(),
            kind_id,
            name=form["name"],
            minutes=minutes,
            capacity=capacity,
            trainer_ids=trainer_ids,
        )
    except ScheduleError as error:
        return refused(error)
    return screen(haptic="success", notice=t("studio_kind_saved", name=kind.name))


@bp.post("/kinds/<int:kind_id>/retire")
@admin_required
def retire_kind(kind_id: int):
    try:
        kind = kinds.retire_kind(unit(), kind_id)
    except ScheduleError as error:
        return refused(error)
    return screen(haptic="success", notice=t("studio_kind_removed", name=kind.name))


# --- a trainer's own days off (owners, and that trainer) ----------------------------------------


def managed(trainer_id: int) -> Trainer:
    if not g.staff.may_manage(trainer_id):
        raise Forbidden(t("error_403"))
    found = db.session.get(Trainer, trainer_id) if is_row_id(trainer_id) else None
    if found is None or found.retired_at is not None:
        raise NotFound(t("trainer_not_found"))
    return found


def days_off_context(trainer: Trainer, form: dict | None = None, **extra) -> dict:
    mine = services.closures_after(db.session(), now(), trainer_id=trainer.id)
    return {
        "section": "studio" if g.staff.owner else "day",
        "trainer": trainer,
        "closures": [admin_api.closure_json(c) for c in mine],
        "closure_form": form or {"date": today(now(), settings()).isoformat()},
        **extra,
    }


def days_off(trainer: Trainer, status: int = 200, haptic: str | None = None, **extra):
    return admin.render(
        "studio/days_off.html", status, haptic, **days_off_context(trainer, **extra)
    )


@bp.get("/trainers/<int:trainer_id>/closures")
@staff_required
def trainer_days_off(trainer_id: int):
    return days_off(managed(trainer_id))


@bp.post("/trainers/<int:trainer_id>/closures")
@staff_required
def add_trainer_closure(trainer_id: int):
    trainer = managed(trainer_id)
    form = typed("date", "start", "end", "reason")
    confirmed = request.form.get("cancel_bookings") == "1"
    try:
        day = parse_date(form["date"])
        start, end = admin_api.closure_times(form["start"], form["end"])
        closure, cancelled = admin_api.close(day, start, end, form["reason"], confirmed, trainer.id)
    except ScheduleError as error:
        db.session.rollback()
        if error.code != "has_bookings":
            return days_off(
                trainer, error.http_status, "error", form=form, error=error.message(g.lang)
            )
        inside = admin_api.bookings_inside(day, start, end, trainer.id)
        return days_off(trainer, 409, "warning", form=form, conflict=inside)
    notice = t("closed_notice", when=admin.closure_label(admin_api.closure_json(closure)))
    if cancelled:
        told = N_("closed_cancelled") if admin.clients_told() else N_("closed_cancelled_quiet")
        notice += " " + t(told, n=len(cancelled))
    return days_off(trainer, haptic="success", notice=notice)


@bp.delete("/trainers/<int:trainer_id>/closures/<int:closure_id>")
@staff_required
def remove_trainer_closure(trainer_id: int, closure_id: int):
    trainer = managed(trainer_id)
    try:
        services.remove_closure(unit(), closure_id, trainer_id=trainer.id)
    except ScheduleError as error:
        db.session.rollback()
        return days_off(trainer, error.http_status, "error", error=error.message(g.lang))
    return days_off(trainer, haptic="success", notice=t("reopened"))
