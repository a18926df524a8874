"""What every response gets: error pages in the right shape, gzip, and cache headers."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from schedule import ScheduleError

from .api import json_error
from .extensions import db
from .i18n import language

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
    lang = language(request.accept_languages.best_match(["ru", "en"]))
    return render_template("errors/_error.html", error=error, lang=lang), error.code or 500


def refused(error: ScheduleError):
    """A request the rules refuse (or malformed input): JSON under /api, else shown in place."""
    db.session.rollback()
    message = error.message(g.get("lang"))
    if request.path.startswith("/api/"):
        return jsonify(error=error.code, message=message), error.http_status
    body = render_template("errors/_error.html", message=message)
    return body, error.http_status, {"HX-Trigger": json.dumps({"tg-haptic": "error"})}


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
