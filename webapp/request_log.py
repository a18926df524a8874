"""A request id and one "request" log line per web request.

The id is the caller's X-Request-ID when it is sane (nginx may set one), else a new one; it
goes back in the X-Request-ID header and onto every record logged while the request runs, so
one request's lines can be found across the web log.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
QUIET_PATHS = ("/static/", "/healthz", "/metrics")

log = logging.getLogger("webapp.request")


def init_app(app: Flask) -> None:
    """Request ids and one log line per request (where the lines go is the runtime's choice:
    runtime.logs.configure)."""
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]


def _finish_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    level = logging.DEBUG if request.path.startswith(QUIET_PATHS) else logging.INFO
    if response.status_code >= 500:
        level = logging.ERROR
    if log.isEnabledFor(level):
        log.log(
            level,
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
    return response
