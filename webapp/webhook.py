"""The bot's webhook route.

Telegram POSTs each update to `<PUBLIC_URL>/telegram/webhook/<secret path>` with the header
X-Telegram-Bot-Api-Secret-Token; a wrong header is a 403. The route only records the update
(once per update_id, whichever web process receives it) and answers 200 at once;
`flask --app webapp worker` handles it. No waitress thread runs a handler, so none ever waits
on Telegram. The runtime wires the bot's side in (runtime.compose): the secret path and token,
and the function that records an update.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy.orm import Session

from .extensions import db

WEBHOOK_PREFIX = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# update_id is stored in a signed 64-bit column.
MAX_UPDATE_ID = 2**63

bp = Blueprint("webhook", __name__)


@dataclass(frozen=True)
class Webhook:
    """What the route needs of the bot, in app.extensions["webhook"]."""

    path: str  # the secret last segment of the URL (never the token itself)
    secret_token: str  # what Telegram sends in SECRET_HEADER
    record: Callable[[Session, Mapping, datetime], bool]  # False: seen before


def webhook_url(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}{WEBHOOK_PREFIX}/{path}"


@bp.post(f"{WEBHOOK_PREFIX}/<path_secret>")
def receive_update(path_secret: str):
    webhook: Webhook | None = current_app.extensions.get("webhook")
    if webhook is None or not hmac.compare_digest(path_secret.encode(), webhook.path.encode()):
        abort(404)
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, webhook.secret_token.encode()):
        return jsonify(error="forbidden", message="Wrong secret token."), 403
    payload = request.get_json(silent=True)
    update_id = payload.get("update_id") if isinstance(payload, dict) else None
    if (
        not isinstance(update_id, int)
        or isinstance(update_id, bool)
        or not 0 <= update_id < MAX_UPDATE_ID
    ):
        return jsonify(error="invalid", message="The body is not a Telegram update."), 400
    webhook.record(db.session(), payload, current_app.config["CLOCK"]())
    return jsonify(ok=True)
