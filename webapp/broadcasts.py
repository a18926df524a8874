"""The trainer's messages to clients (DESIGN.md, "Links and broadcasts"): the JSON API and the
trainer's Messages screen. Thin adapters over schedule.broadcasts, which decides whom a message
goes to, writes it to the outbox and counts what became of it.

The screen puts the consequence first: the text and the audience are read, then a sheet says
how many clients the message will go to before the confirm; once sent, each broadcast's card
shows how many were delivered and how many failed, refreshed by htmx while any is pending.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify, request

from schedule import InvalidInput
from schedule import broadcasts as domain
from schedule.i18n import N_
from schedule.timegrid import parse_date, today

from . import admin, contract
from .auth import admin_required
from .current import now, settings
from .extensions import db
from .i18n import day_label, t, tn
from .present import clock, local_day

bp = Blueprint("broadcasts", __name__)

SECTION = N_("admin_messages")  # the trainer's sub-tab (admin/_head.html)
REFRESH_SECONDS = 2  # how often a card still sending asks again


def progress_json(progress: domain.Progress) -> dict:
    return {
        "id": progress.id,
        "recipients": progress.recipients,
        "sent": progress.sent,
        "failed": progress.failed,
    }


@bp.post("/api/admin/broadcasts")
@admin_required
def create():
    wanted: contract.BroadcastRequest = contract.body()
    session = db.session()
    audience = domain.parse_audience(session, wanted.audience)
    sent = domain.send(session, settings(), wanted.text, audience, now=now(), by=g.user.telegram_id)
    return jsonify(id=sent.id, recipients=sent.recipients, sent=0), 202


@bp.get("/api/admin/broadcasts/<int:broadcast_id>")
@admin_required
def show(broadcast_id: int):
    return jsonify(progress_json(domain.progress(db.session(), broadcast_id)))


# --- the Mini App: the trainer's Messages screen ------------------------------------------------


def audience_label(audience: str) -> str:
    """'All clients', 'Booked on Thu 26 Nov', 'Clients of kind 2', 'Channel: the week from Mon
    30 Nov'."""
    scope, _, value = audience.partition(":")
    if scope == "date":
        return t("broadcast_to_date", day=day_label(date.fromisoformat(value)))
    if scope == "kind":
        return t("broadcast_to_kind", kind=value)
    if scope == "week":  # the Sunday post of the week's free places to the studio's channel
        return t("broadcast_to_channel", day=day_label(date.fromisoformat(value)))
    return t("broadcast_to_all")


def card(broadcast: domain.Broadcast) -> dict:
    """What a broadcast's card shows."""
    rules = settings()
    return {
        "broadcast": broadcast,
        "progress": domain.progress(db.session(), broadcast.id),
        "audience": audience_label(broadcast.audience),
        "sent_on": f"{day_label(local_day(broadcast.created_at, rules))}, "
        f"{clock(broadcast.created_at, rules)}",
    }


def screen_context(form: dict | None = None) -> dict:
    return {
        "section": "messages",
        "form": form or {"scope": "all", "date": today(now(), settings()).isoformat()},
        "cards": [card(b) for b in domain.recent(db.session())],
        "max_text": domain.MAX_TEXT,
        "refresh_seconds": REFRESH_SECONDS,
    }


def typed_form() -> dict:
    return {
        "text": request.form.get("text", ""),
        "scope": request.form.get("scope", "all"),
        "date": request.form.get("date", "").strip(),
    }


def typed_audience(form: dict) -> domain.Audience:
    """The audience the form names: everyone, or those booked on its date."""
    if form["scope"] == "date":
        if not form["date"]:
            raise InvalidInput(N_("broadcast_pick_date"))
        return domain.Audience("date", day=parse_date(form["date"]))
    if form["scope"] != "all":
        return domain.parse_audience(db.session(), form["scope"])
    return domain.Audience("all")


@bp.get("/app/admin/messages")
@admin_required
def screen():
    return admin.render("admin/messages.html", **screen_context())


@bp.post("/app/admin/messages/preview")
@admin_required
def preview():
    """The sheet before sending: how many clients it will go to, the text as they will read
    it, and the confirm."""
    form = typed_form()
    body = domain.check_text(form["text"])
    audience = typed_audience(form)
    return admin.render(
        "admin/_broadcast_confirm.html",
        text=body,
        audience=str(audience),
        audience_label=audience_label(str(audience)),
        recipients=domain.count(db.session(), settings(), audience),
    )


@bp.post("/app/admin/messages")
@admin_required
def send():
    form = typed_form()
    session = db.session()
    audience = domain.parse_audience(session, request.form.get("audience", ""))
    sent = domain.send(
        session, settings(), form["text"], audience, now=now(), by=g.user.telegram_id
    )
    notice = tn("broadcast_queued", sent.recipients) if sent.recipients else None
    return admin.render(
        "admin/messages.html",
        haptic="success",
        notice=notice or t("broadcast_nobody"),
        **screen_context(),
    )


@bp.get("/app/admin/messages/<int:broadcast_id>")
@admin_required
def progress_card(broadcast_id: int):
    """One broadcast's card, as it stands now (the card asks again while any is pending)."""
    return admin.render(
        "admin/_broadcast.html",
        refresh_seconds=REFRESH_SECONDS,
        **card(domain.find(db.session(), broadcast_id)),
    )
