"""Security headers on every response: what the Mini App may load, and who may frame it.

The page runs its own static scripts and Telegram's telegram-web-app.js, and nothing inline:
a Content-Security-Policy that allows exactly those means an injected <script> (or an
attribute handler) does not run even if some text ever escaped unescaped. Styles may be inline
(the page inlines its critical CSS, and htmx adds its indicator style). Telegram's web clients
show the Mini App in an iframe, so they, and only they, may frame it (`frame-ancestors`);
the phone and desktop apps use their own web views, which have no ancestor to check.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
# web.telegram.org (its /k/ and /a/ clients) and the webk./webz. hosts of the same clients.
TELEGRAM_WEB_CLIENTS = ("https://web.telegram.org", "https://*.web.telegram.org")
TELEGRAM_WEB_HOSTS = ("https://webk.telegram.org", "https://webz.telegram.org")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' {TELEGRAM_SCRIPT}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self' " + " ".join((*TELEGRAM_WEB_CLIENTS, *TELEGRAM_WEB_HOSTS)),
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Nothing about the app (its paths, a booking's calendar link) leaks to other sites.
    "Referrer-Policy": "no-referrer",
}


def init_app(app: Flask) -> None:
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
