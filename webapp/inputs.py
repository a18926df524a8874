"""Input no route can take, refused once at the door as a 400 with a message (InvalidInput, its
words from the catalogs in the caller's language).

- NUL bytes, in the path, the query, a form or a JSON body: PostgreSQL refuses them in any
  text column or comparison (the request would end as a 500 there and not on SQLite), and
  nobody types one. The bot's webhook is left to its own checks (Telegram sends the updates).
- JSON nested deeper than Python's parser recurses (20,000 brackets): json.loads raises
  RecursionError, which Flask would not turn into a 400 by itself.
"""

from __future__ import annotations

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from schedule import InvalidInput
from schedule.i18n import N_

ESCAPED_NUL = b"\\u0000"  # how JSON writes a NUL
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
EXEMPT_ENDPOINTS = frozenset({"static", "webhook.receive_update"})


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with too deep a nesting read as malformed JSON (a ValueError), so that
    get_json(silent=True) gives None and get_json() a 400."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_nul_bytes)


def refuse_nul_bytes() -> None:
    if request.endpoint in EXEMPT_ENDPOINTS:
        return
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        raise InvalidInput(N_("input_nul"))
    if request.mimetype in FORMS:
        if any("\x00" in value for value in request.form.values()):
            raise InvalidInput(N_("input_nul"))
    elif request.content_length:
        body = request.get_data(cache=True)
        if b"\x00" in body or ESCAPED_NUL in body:
            raise InvalidInput(N_("input_nul"))
