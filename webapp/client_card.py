"""The trainer's card of one client, in the trainer's tab: their passes with each change, their
visits (attended, no-show, cancelled, unpaid), their bookings to come and of the last 90 days,
recording and correcting a pass, and lifting a no-show pause.

The card is where a trainer's notebook lives, so it reads like one page: everything about the
client, re-rendered from the database after each change. The rules (what a pass may hold,
when a client is paused) are schedule.passes and schedule.attendance; this module reads the
form's text into numbers and dates, calls them and renders the outcome. A refused change
answers 400 with the card again, the reason in its notice (in the trainer's words, a field
named as the form labels it) and the typed values kept.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from babel.numbers import get_currency_symbol
from flask import Blueprint, Response, g, request

from schedule import Booking, InvalidInput, ScheduleError, User, attendance, passes, services
from schedule import series as standing
from schedule.i18n import N_
from schedule.models import CANCELLED
from schedule.passes import MAX_DAYS, MAX_VISITS
from schedule.payments import format_price
from schedule.timegrid import parse_date, today

from . import admin
from .auth import admin_required
from .current import now, settings, unit
from .extensions import db
from .i18n import current_language, t
from .passes import adjust_pass, client_by_id, find_pass, record_pass

bp = Blueprint("client_card", __name__, url_prefix="/app/admin")

WHOLE = re.compile(r"[+-]?\d{1,6}")
AMOUNT = re.compile(r"\d{1,10}(?:[.,]\d{1,2})?")
# How far back the card lists a client's past and cancelled bookings.
PAST_DAYS = 90
FORM_FIELDS = ("visits", "valid_days", "starts", "price", "note")
ADJUST_FIELDS = ("visits", "extend_days", "reason")


# --- reading the form -----------------------------------------------------------------------


def whole(text: str, label: str, low: int, high: int, required: bool = True) -> int | None:
    """A typed whole number ('8', '+2', '-1') from `low` to `high` (schedule.passes' bounds,
    said here in the form's words); None when empty and not required."""
    text = text.strip()
    if not text and not required:
        return None
    if not WHOLE.fullmatch(text):
        raise InvalidInput(N_("form_whole"), field=t(label))
    number = int(text)
    if not low <= number <= high:
        raise InvalidInput(N_("form_range"), field=t(label), low=low, high=high)
    return number


def amount(text: str) -> float | None:
    """A typed price ('1500', '1500.50', '1500,50'); None when empty."""
    text = text.strip().replace(" ", "")
    if not text:
        return None
    if not AMOUNT.fullmatch(text):
        raise InvalidInput(N_("form_price"))
    return float(text.replace(",", "."))


def day(text: str) -> date | None:
    """A date from the form's date input; None when empty (the pass starts today)."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except InvalidInput:
        raise InvalidInput(N_("form_date")) from None


def typed(fields: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "")[:500] for name in fields}


# --- presenting -----------------------------------------------------------------------------


def money(cents: int) -> str:
    """A pass's price in the viewer's language and the studio's currency (PAYMENT_CURRENCY):
    '1 500 ₽', 'RUB 1,500.50'."""
    return format_price(cents, settings().payment_currency, current_language())


def client_bookings(user: User) -> tuple[list[Booking], list[Booking]]:
    """The client's bookings to come (soonest first), and those of the last PAST_DAYS days
    that are over or were cancelled (newest first)."""
    session, at = db.session(), now()
    upcoming = services.upcoming_bookings(session, user, at)
    past = session.scalars(
        db.select(Booking)
        .where(
            Booking.user_id == user.id,
            Booking.starts_at >= at - timedelta(days=PAST_DAYS),
            (Booking.ends_at <= at) | (Booking.status == CANCELLED),
        )
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    ).all()
    return upcoming, list(past)


# --- the card -------------------------------------------------------------------------------


def card_context(user: User, **forms) -> dict:
    """Everything the card shows about `user`, read now; `forms` are values typed before a
    refusal (record_form, or adjust_form with adjusting = the pass id)."""
    session, at = db.session(), now()
    views = passes.client_passes(session, settings(), user, at)
    authors = {c.by_telegram_id for v in views for c in v.sold.history if c.by_telegram_id}
    names = dict(
        session.execute(
            db.select(User.telegram_id, User.first_name).where(User.telegram_id.in_(authors))
        ).all()
    )
    upcoming, past = client_bookings(user)
    return {
        "section": "clients",
        "client": user,
        "passes": views,
        "stats": attendance.client_stats(session, user),
        "series": [
            standing.picture(session, settings(), running, at)
            for running in standing.active_series(session, settings(), at, user)
        ],
        "blocked": passes.standing(session, settings(), user.id, at).blocked(at),
        "authors": names,
        "money": money,
        "currency_name": get_currency_symbol(settings().payment_currency, current_language()),
        "upcoming": upcoming,
        "past": past,
        "past_days": PAST_DAYS,
        "from_day": from_day(),
        "record_form": forms.get("record_form")
        or {"starts": today(at, settings()).isoformat(), "visits": "", "valid_days": ""},
        "adjust_form": forms.get("adjust_form") or {},
        "adjusting": forms.get("adjusting"),
    }


def card(user: User, **outcome) -> Response:
    return admin.render("admin/client.html", **card_context(user), **outcome)


def refused_card(user: User, error: ScheduleError, **forms) -> Response:
    db.session.rollback()
    user = db.session.get(User, user.id)
    return admin.render(
        "admin/client.html",
        error.http_status,
        "error",
        error=error.message(g.lang),
        **card_context(user, **forms),
    )


def from_day() -> date | None:
    """The trainer's day the card was opened from (its back button returns there)."""
    text = request.values.get("day", "")
    try:
        return parse_date(text) if text else None
    except InvalidInput:
        return None


# --- routes ---------------------------------------------------------------------------------


@bp.get("/clients/<int:telegram_id>")
@admin_required
def show(telegram_id: int):
    return card(client_by_id(telegram_id))


@bp.post("/clients/<int:telegram_id>/passes")
@admin_required
def record(telegram_id: int):
    user = client_by_id(telegram_id)
    form = typed(FORM_FIELDS)
    try:
        starts = day(form["starts"])
        record_pass(
            user,
            {
                "visits": whole(form["visits"], "visits", 1, MAX_VISITS),
                "valid_days": whole(form["valid_days"], "valid_days", 1, MAX_DAYS),
                "starts": starts.isoformat() if starts else None,
                "price": amount(form["price"]),
                "note": form["note"],
            },
        )
    except InvalidInput as error:
        return refused_card(user, error, record_form=form)
    return card(user, notice=t("pass_recorded"), haptic="success")


@bp.post("/passes/<int:pass_id>/adjust")
@admin_required
def adjust(pass_id: int):
    user = find_pass(pass_id).user
    form = typed(ADJUST_FIELDS)
    try:
        visits = whole(form["visits"], "visits_delta", -MAX_VISITS, MAX_VISITS, required=False)
        days = whole(form["extend_days"], "extend_days", -MAX_DAYS, MAX_DAYS, required=False)
        if form["reason"].strip() and not visits and not days:
            raise InvalidInput(N_("form_change_something"))
        adjust_pass(pass_id, {"visits": visits, "extend_days": days, "reason": form["reason"]})
    except InvalidInput as error:
        return refused_card(user, error, adjust_form=form, adjusting=pass_id)
    return card(user, notice=t("pass_adjusted"), haptic="success")


@bp.post("/clients/<int:telegram_id>/unblock")
@admin_required
def unblock(telegram_id: int):
    user = attendance.unblock(unit(), client_by_id(telegram_id))
    return card(user, notice=t("unblocked"), haptic="success")
