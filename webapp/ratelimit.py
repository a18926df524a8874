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
"message"} for the API, and for htmx a notice swapped into the page's notice line. /healthz
and an authorised /metrics are never counted: monitors behind a shared address must get in.

Redis away must not take the app with it. A Redis that stopped answering without closing its
connections (a stalled host, a partition) would hold each request for as long as it lasts, so
its client gives up after a tenth of the dependency deadline (DEPENDENCY_DEADLINE_SECONDS: 0.5 s
at the default 5 s), without retrying; the request then goes on
uncounted (fail open), counted instead in the rate_limit_storage_failures metric. For
RETRY_SECONDS after a failure requests go on without asking Redis, then one asks again. The
log says so at most once every REPORT_SECONDS, and once when Redis answers again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import Unauthorized

from .auth import current_init_data
from .i18n import language, tn
from .metrics import refusal as metrics_refusal
from .responses import in_notice

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
EXEMPT_ENDPOINTS = frozenset({"static", "webhook.receive_update"})
# Redis's connect and read timeouts, as a share of the dependency deadline: what a frozen Redis
# costs a request (0.5 s of the default 5 s; the database's waits take 0.8 of it at most).
STORAGE_TIMEOUT_SHARE = 0.1
RETRY_SECONDS = 5.0  # after a storage failure, requests go on uncounted this long
REPORT_SECONDS = 60.0  # at most one warning this often while the storage fails

log = logging.getLogger(__name__)


class StorageOutage:
    """Whether the rate-limit storage is failing, and what the log has said about it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.failing = False
        self.retry_at = 0.0
        self.reported = False  # a warning was logged in this outage
        self.reported_at: float | None = None
        self.unreported = 0  # requests let through since the last warning

    def skip(self) -> bool:
        """True while a recent failure says not to ask the storage yet."""
        with self._lock:
            return self.failing and self.clock() < self.retry_at

    def let_through(self, error: Exception | None = None) -> None:
        """A request goes on uncounted: after `error`, or skipped during the outage."""
        now = self.clock()
        with self._lock:
            if error is not None:
                if not self.failing:
                    self.failing, self.reported = True, False
                self.retry_at = now + RETRY_SECONDS
            self.unreported += 1
            if self.reported_at is not None and now - self.reported_at < REPORT_SECONDS:
                return
            self.reported, self.reported_at = True, now
            count, self.unreported = self.unreported, 0
        log.warning(
            "rate-limit storage not answering (%s): %d request(s) went on uncounted since the "
            "last report; asking it again every %g s",
            type(error).__name__ if error is not None else "still failing",
            count,
            RETRY_SECONDS,
        )

    def answered(self) -> None:
        with self._lock:
            if not self.failing:
                return
            self.failing = False
            reported = self.reported
        if reported:
            log.warning("rate-limit storage answers again: requests are counted")


class FailOpenLimiter(Limiter):
    """Flask-Limiter whose storage failing (or not answering in time) lets the request go on."""

    outage: StorageOutage

    def _check_request_limit(self, *args, **kwargs) -> None:
        if self.outage.skip():
            if request.endpoint not in EXEMPT_ENDPOINTS and not _never_limited():
                self._uncounted(None)
            return
        try:
            super()._check_request_limit(*args, **kwargs)
        except RateLimitExceeded:
            raise
        except Exception as error:  # noqa: BLE001 - whatever the storage's client raised
            self._uncounted(error)
            return
        if self.current_limits:  # the storage was asked, and it answered
            self.outage.answered()

    def _uncounted(self, error: Exception | None) -> None:
        self.outage.let_through(error)
        metrics = current_app.extensions.get("metrics")
        if metrics is not None:
            metrics.rate_limit_storage_failures.inc()


def storage_timeout(deadline: float) -> float:
    """Redis's connect and read timeouts within a dependency deadline of `deadline` seconds."""
    return deadline * STORAGE_TIMEOUT_SHARE


def storage_options(uri: str, deadline: float) -> dict:
    """Timeouts for a Redis storage's client, and no retries (each retry would wait again)."""
    if not uri.startswith("redis"):
        return {}
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    timeout = storage_timeout(deadline)
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }


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
    limiter = FailOpenLimiter(
        _address_key,
        application_limits=limits,
        storage_uri=settings.rate_limit_storage,
        storage_options=storage_options(
            settings.rate_limit_storage, app.config["DEPENDENCY_DEADLINE_SECONDS"]
        ),
        strategy="moving-window",
        key_prefix=app.config.get("RATE_LIMIT_KEY_PREFIX", "booking"),
        # FailOpenLimiter handles a storage error (a line a minute in the log, not per request).
        swallow_errors=False,
        enabled=bool(limits),
    )
    limiter.outage = StorageOutage(app.config.get("RATE_LIMIT_CLOCK", time.monotonic))
    limiter.request_filter(_never_limited)
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many)


def _never_limited() -> bool:
    """/healthz, and /metrics for whoever may read it."""
    if request.endpoint == "health.healthz":
        return True
    return request.endpoint == "metrics.metrics" and metrics_refusal() is None


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
    try:
        reset_at = breached.reset_at
    except Exception:  # noqa: BLE001 - the storage failed just now: a guess beats a 500
        return 1
    return max(1, math.ceil(reset_at - time.time()))


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
