"""What every response gets: error pages in the right shape, gzip, and cache headers; and the
Mini App's fragment (with its haptic) and notice that every blueprint answers with."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, current_app, g, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from schedule import InvalidInput, ScheduleError
from schedule.i18n import N_

from .health import rollback_quietly
from .i18n import has, language, t

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "text/calendar",
        "image/svg+xml",
    }
)
MIN_GZIP_BYTES = 512
YEAR = 365 * 24 * 3600
# Static files whose name carries their version (htmx-2.0.11.min.js) never change.
VERSIONED_NAME = re.compile(r"-\d+\.\d+\.\d+(\.min)?\.\w+$")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ScheduleError, refused)
    app.after_request(cache_headers)
    app.after_request(compress)
    app.extensions["gzip_static"] = {}
    app.extensions["gzip_lock"] = threading.Lock()
    app.jinja_env.globals["static_url"] = static_url


def http_error(error: HTTPException):
    """JSON under /api (and for API-like clients); a readable fragment for the Mini App."""
    if request.path.startswith("/api/") or not request.path.startswith("/app/"):
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return json_error(error)
        return error
    _set_language()
    # A lost sign-in's description is for programs; others given by a view are the user's.
    custom = error.code != 401 and error.description != type(error).description
    message = error.description if custom else _http_message(error.code or 500)
    return _in_place(message, error.code or 500, error=error)


def refused(error: ScheduleError):
    """A request the rules refuse (or malformed input): JSON under /api, else shown in place."""
    rollback_quietly()
    _set_language()  # refused before sign-in (webapp/inputs.py): the browser's language
    if request.path.startswith("/api/"):
        return jsonify(error=error.code, message=error.message(g.lang)), error.http_status
    return _in_place(app_message(error), error.http_status)


# The Mini App's dates and starts come from its own pages, never typed: one that does not read
# is a stale or forged page, and the app says so in one sentence a person can act on.
PICKED = frozenset({"input_date", "input_time", "input_time_of_day", "input_off_grid"})


def app_message(error: ScheduleError) -> str:
    """A refusal as the Mini App says it (every text from the catalogs, in the reader's
    language); a date or start that does not read is the app's own "pick one from the list"."""
    if isinstance(error, InvalidInput) and error.detail in PICKED:
        return t("bad_input")
    return error.message(g.lang)


# The HTTP errors with their own words, looked up as f"error_{code}".
HTTP_ERRORS = (
    N_("error_401"),
    N_("error_403"),
    N_("error_404"),
    N_("error_405"),
    N_("error_413"),
)


def _http_message(code: int) -> str:
    key = f"error_{code}"
    if has(key):
        return t(key)
    return t("bad_input") if code < 500 else t("error_other")


def _json_http_message(code: int) -> str:
    key = f"error_{code}"
    if has(key):
        return t(key)
    return t("error_invalid") if code < 500 else t("error_other")


def _set_language() -> None:
    if not g.get("lang"):
        g.lang = language(request.accept_languages.best_match(["ru", "en"]))


def _in_place(message: str, status: int, error: HTTPException | None = None) -> Response:
    """htmx keeps the page it has (tabs, the open view) and shows the message in its notice
    line; a plain request (or a lost sign-in, where nothing else works) gets the message alone."""
    if request.headers.get("HX-Request") and status != 401:
        return in_notice(message, status)
    return fragment("errors/_error.html", status, "error", error=error, message=message)


def haptic_header(kind: str) -> dict[str, str]:
    """The header that asks the page for Telegram's haptic notification ("success", "error")."""
    return {"HX-Trigger": json.dumps({"tg-haptic": kind})}


def fragment(template: str, status: int = 200, haptic: str | None = None, **context) -> Response:
    """An HTML fragment of the Mini App, with a haptic where the outcome calls for one."""
    headers = haptic_header(haptic) if haptic else {}
    return Response(render_template(template, **context), status, headers, mimetype="text/html")


def in_notice(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """A refusal for htmx shown in the page's notice line, the rest of the page kept."""
    swap = {"HX-Retarget": "[data-notice]", "HX-Reswap": "outerHTML", **(headers or {})}
    response = fragment("pages/_notice.html", status, "error", error=message)
    response.headers.update(swap)
    return response


@lru_cache(maxsize=64)
def _file_version(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_url(filename: str) -> str:
    """The URL of a static file with its content hash, so it may be cached for a year."""
    path = Path(current_app.static_folder or "") / filename
    if VERSIONED_NAME.search(filename):
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, v=_file_version(str(path), path.stat().st_mtime_ns))


def cache_headers(response: Response) -> Response:
    if request.endpoint == "static":
        filename = request.view_args.get("filename", "") if request.view_args else ""
        if response.status_code in (200, 304) and (
            VERSIONED_NAME.search(filename) or request.args.get("v")
        ):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
    elif request.path.startswith(("/app/", "/api/")):
        # Per-user content behind the Authorization header: never kept by shared caches.
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def compress(response: Response) -> Response:
    if (
        response.status_code != 200
        and response.status_code < 400
        or response.is_streamed
        and not response.direct_passthrough
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
    ):
        return response
    response.vary.add("Accept-Encoding")
    if "gzip" not in request.headers.get("Accept-Encoding", "").lower():
        return response
    if response.direct_passthrough:
        body = _gzipped_static(response)
    else:
        data = response.get_data()
        if len(data) < MIN_GZIP_BYTES:
            return response
        body = gzip.compress(data, compresslevel=6)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    return response


def repeated(body: str, mimetype: str = "text/html") -> Response:
    """A body that many requests get alike (the grid fragment, kept per state by
    bookings.RenderedGrids): its gzip is made once per body, not per request as `compress`
    would (on PostgreSQL that was a tenth of a grid read)."""
    response = Response(body, mimetype=mimetype)
    if len(body) < MIN_GZIP_BYTES:
        return response
    response.vary.add("Accept-Encoding")
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response.set_data(_gzip_of(body))
        response.headers["Content-Encoding"] = "gzip"
    return response


@lru_cache(maxsize=256)
def _gzip_of(body: str) -> bytes:
    return gzip.compress(body.encode(), compresslevel=6)


def _gzipped_static(response: Response) -> bytes:
    """A static file's gzip, computed once per version of the file (keyed by its ETag)."""
    cache: dict = current_app.extensions["gzip_static"]
    key = (request.path, response.get_etag()[0])
    body = cache.get(key)
    response.direct_passthrough = False
    if body is None:
        body = gzip.compress(response.get_data(), compresslevel=9)
        with current_app.extensions["gzip_lock"]:
            cache[key] = body
    else:
        response.close()
    return body


def json_error(error: HTTPException):
    """{"error", "message"} for an HTTP error (401, 403, 404, 405, 413, ...): the message is the
    one a view gave (read from the catalogs), else the catalogs' words for the status, in the
    caller's language; a lost sign-in always reads the catalogs' (its description is for logs)."""
    _set_language()
    custom = error.code != 401 and error.description != type(error).description
    message = error.description if custom else _json_http_message(error.code or 500)
    code = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }.get(error.code or 500, "invalid" if (error.code or 500) < 500 else "server_error")
    response = jsonify(error=code, message=message)
    response.status_code = error.code or 500
    if error.code == 405:
        response.headers["Allow"] = ", ".join(error.valid_methods or ())  # type: ignore[attr-defined]
    return response
