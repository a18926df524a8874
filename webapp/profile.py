"""The client's profile: the phone number, shared once through Telegram's own contact popup
(`Telegram.WebApp.requestContact`) when PHONE_REQUIRED=1."""

from __future__ import annotations

import json
import time

from flask import Blueprint, current_app, g, render_template, request

from schedule import InvalidInput, services
from schedule.i18n import N_

from .auth import AuthError, accepted_tokens, check_age, login_required, signed_fields
from .bookings import book_context
from .extensions import db
from .i18n import t

bp = Blueprint("profile", __name__, url_prefix="/app")


def shared_contact(raw: str) -> dict:
    """The contact in requestContact's signed `response` (signed like init data)."""
    for token in accepted_tokens():
        try:
            fields = signed_fields(raw, token)
            check_age(
                int(fields.get("auth_date", "0")),
                current_app.config["INIT_DATA_MAX_AGE"],
                time.time(),
            )
            contact = json.loads(fields.get("contact", ""))
        except (AuthError, ValueError):
            continue
        if isinstance(contact, dict):
            return contact
    raise InvalidInput(N_("contact_unverified"))


@bp.post("/phone")
@login_required
def share_phone():
    contact = shared_contact(request.form.get("response", ""))
    if contact.get("user_id") != g.user.telegram_id:
        raise InvalidInput(N_("phone_not_yours"))
    services.set_phone(db.session(), g.user, str(contact.get("phone_number", "")))
    return render_template("bookings/book.html", notice=t("phone_saved"), **book_context(None))
