"""/healthz for load balancers and uptime checks: no auth, 503 while the database is down.

A database may also be frozen: connections open, nothing answers (a stopped server, a
network that drops packets). A query then waits with no end a client can set, so the check
runs in a thread of its own and /healthz answers 503 when it has not finished within
CHECK_SHARE of the dependency deadline (DEPENDENCY_DEADLINE_SECONDS: 4 s of the default 5,
within what an uptime check waits); calls meanwhile share that check (a stuck one answers them
503 at once when its time is up) rather than stacking more threads. Other requests fail
instead of hanging (schedule.db.Deadlines, shares of the same deadline: PostgreSQL's connect
and statement timeouts and the client's own deadline on every wait, SQLite's bounded busy
timeout), and such a failure is a 503 too; the rollback after it may fail as well (the
server going away), and the answer is still the 503.
"""

from __future__ import annotations

import contextlib
import threading
import time

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .extensions import db

bp = Blueprint("health", __name__)

CHECK_SHARE = 0.8  # of the dependency deadline: 4 s of 5, within what an uptime check waits


def check_seconds(deadline: float) -> float:
    """How long /healthz waits for its check within a dependency deadline of `deadline` s."""
    return deadline * CHECK_SHARE


class DatabaseCheck:
    """`SELECT 1` on a connection of its own, at most one at a time: calls that come while a
    check is running take its answer (waiting at most what is left of its `seconds`), so
    a stuck check answers every caller 503 once its time is up, and a busy probe never does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None
        self._result: list[bool] = []
        self._started = 0.0

    def ok(self, app: Flask, seconds: float) -> bool:
        with self._lock:
            if self._running is None or not self._running.is_alive():
                self._result = []
                self._running = threading.Thread(
                    target=self._check, args=(app, self._result), name="healthz", daemon=True
                )
                self._started = time.monotonic()
                self._running.start()
            running, result, started = self._running, self._result, self._started
        running.join(max(0.0, started + seconds - time.monotonic()))
        return bool(result) and result[0]

    @staticmethod
    def _check(app: Flask, result: list[bool]) -> None:
        with app.app_context():
            try:
                with db.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                result.append(True)
            except SQLAlchemyError:
                result.append(False)


@bp.get("/healthz")
def healthz():
    check: DatabaseCheck = current_app.extensions.setdefault("database_check", DatabaseCheck())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not check.ok(app, check_seconds(app.config["DEPENDENCY_DEADLINE_SECONDS"])):
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok")


def rollback_quietly() -> None:
    """Roll back the request's session where an error is being answered already: a rollback
    that fails too (the connection died with the server) drops the session's connections."""
    try:
        db.session.rollback()
    except SQLAlchemyError as error:
        current_app.logger.info("rollback failed: %s", error.__class__.__name__)
        with contextlib.suppress(SQLAlchemyError):  # nothing left to give back
            db.session().invalidate()


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(error: Exception):
    """A database that refused, timed out or is gone: 503, and the client may retry."""
    rollback_quietly()
    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
    body = {"error": "unavailable", "message": "The database is not answering; try again soon."}
    if request.path.startswith("/app/"):
        page = render_template("errors/_error.html", message=body["message"])
        return page, 503, {"Retry-After": "5"}
    return jsonify(body), 503, {"Retry-After": "5"}
