"""Request rates per Telegram user and per address, so that one client cannot flood the app.

Flask-Limiter counts every request against one of three application-wide limits (from
schedule.Settings, so the bot's callback throttle reads the same values):

- a request with valid init data is the Telegram user's: writes (POST, PUT, PATCH, DELETE)
  against RATE_LIMIT_WRITES and reads against RATE_LIMIT_READS, keyed by the user id, whatever
  address they come from;
- any other request (the page shell, a forged or missing header) is keyed by the client's
  address against RATE_LIMIT_ANONYMOUS. Static files are left out (nginx serves them in
  production), and so is the bot's webhook, which checks its own secret and throttles per user.

An empty value turns a limit off. The counters live in RATE_LIMIT_STORAGE: memory:// counts per
process, so with several waitress processes use Redis (redis://host:6379) for one count.
Past a limit the answer is 429 with Retry-After in seconds: JSON {"error": "rate_limited",
"message"} for the API, and for htmx a notice swapped into the page's notice line.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, current_app, g, jsonify, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import Unauthorized

from .auth import current_init_data
from .i18n import language, tn
from .responses import in_notice

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
EXEMPT_ENDPOINTS = frozenset({"static", "webhook.receive_update"})


def caller() -> dict | None:
    """The Telegram user of valid init data on this request, or None (checked once)."""
    if "rate_caller" not in g:
        try:
            g.rate_caller = current_init_data().user
        except Unauthorized:
            g.rate_caller = None
    return g.rate_caller


def caller_id() -> int | None:
    user = caller()
    return None if user is None else user["id"]


def _user_key() -> str:
    return f"user:{caller_id()}"


def _address_key() -> str:
    return f"addr:{get_remote_address()}"


def init_app(app: Flask) -> None:
    settings = app.config["SCHEDULE"]
    limits = [
        ApplicationLimit(rate, key_function=key, scope=scope, methods=methods, exempt_when=exempt)
        for rate, key, scope, methods, exempt in (
            (settings.rate_limit_writes, _user_key, "writes", WRITE_METHODS, _not_a_user),
            (settings.rate_limit_reads, _user_key, "reads", READ_METHODS, _not_a_user),
            (settings.rate_limit_anonymous, _address_key, "anonymous", None, _not_anonymous),
        )
        if rate
    ]
    limiter = Limiter(
        _address_key,
        application_limits=limits,
        storage_uri=settings.rate_limit_storage,
        strategy="moving-window",
        key_prefix=app.config.get("RATE_LIMIT_KEY_PREFIX", "booking"),
        # Redis away must not take the app down with it: requests go on, unlimited, logged.
        swallow_errors=True,
        enabled=bool(limits),
    )
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many)


def _not_a_user() -> bool:
    return caller_id() is None


def _not_anonymous() -> bool:
    return request.endpoint in EXEMPT_ENDPOINTS or caller_id() is not None


def retry_after() -> int:
    """Whole seconds until the breached limit lets a request through again (at least 1)."""
    limiter: Limiter = current_app.extensions["rate_limiter"]
    breached = limiter.current_limit
    if breached is None:
        return 1
    return max(1, math.ceil(breached.reset_at - time.time()))


def too_many(error: RateLimitExceeded) -> Response:
    seconds = retry_after()
    # Refused before any view ran: the language is the caller's own, or the browser's.
    user = caller() or {}
    g.lang = language(
        user.get("language_code") or request.accept_languages.best_match(["ru", "en"])
    )
    message = tn("rate_limited", seconds)
    headers = {"Retry-After": str(seconds)}
    if request.headers.get("HX-Request") and not request.path.startswith("/api/"):
        # htmx swaps 4xx answers (pages/index.html): put the notice where notices go.
        return in_notice(message, 429, headers)
    response = jsonify(error="rate_limited", message=message)
    response.status_code = 429
    response.headers.update(headers)
    return response
