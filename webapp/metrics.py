"""Prometheus metrics at /metrics, in the plain text exposition format, written by hand.

Requests and their latency by route, 5xx errors, bookings made / cancelled / moved (counted
from the schedule events the app hands to app.extensions["booking_events"]), bot webhook
updates. Open to a bearer token (METRICS_TOKEN) or to addresses in METRICS_ALLOW
(comma-separated IPs or networks, default 127.0.0.1 and ::1); others get a 403 (wrong token)
or a 404. Counters live in this process: with several web processes, scrape each.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache

from flask import Blueprint, Flask, Response, abort, current_app, g, request

from schedule.events import BookingCancelled, BookingMade, BookingMoved, Event, EventHandler

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DEFAULT_ALLOW = "127.0.0.1,::1"
UNMATCHED = "<unmatched>"

bp = Blueprint("metrics", __name__)

Labels = tuple[tuple[str, str], ...]


class Registry:
    """Counters and one latency histogram, safe across waitress's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self.counters[name][key] += amount

    def observe(self, route: str, seconds: float) -> None:
        index = bisect_left(BUCKETS, seconds)
        with self._lock:
            buckets = self.latency.setdefault(route, [0] * (len(BUCKETS) + 1))
            buckets[index] += 1
            self.latency_sum[route] += seconds

    def render(self) -> str:
        with self._lock:
            counters = {name: dict(values) for name, values in self.counters.items()}
            latency = {route: list(b) for route, b in self.latency.items()}
            sums = dict(self.latency_sum)
        lines: list[str] = []
        for name, help_text in HELP.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for labels, value in sorted(counters.get(name, {}).items()):
                lines.append(f"{name}{_labels(labels)} {_number(value)}")
        name = "http_request_duration_seconds"
        lines += [f"# HELP {name} Time to answer a request, by route.", f"# TYPE {name} histogram"]
        for route, buckets in sorted(latency.items()):
            running = 0
            for bound, count in zip((*BUCKETS, "+Inf"), buckets, strict=True):
                running += count
                le = bound if bound == "+Inf" else _number(bound)
                lines.append(f"{name}_bucket{_labels((('le', le), ('route', route)))} {running}")
            lines.append(f"{name}_sum{_labels((('route', route),))} {sums[route]:.6f}")
            lines.append(f"{name}_count{_labels((('route', route),))} {running}")
        return "\n".join(lines) + "\n"


HELP = {
    "http_requests_total": "Requests answered, by method, route and status.",
    "http_errors_total": "Requests answered with a 5xx status, by route.",
    "bookings_made_total": "Bookings made, by source.",
    "bookings_cancelled_total": "Bookings cancelled, by who cancelled.",
    "bookings_moved_total": "Bookings moved to another start.",
    "bot_updates_total": "Telegram updates received by the webhook, by status.",
}


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class CountingHandler:
    """Counts schedule events, then hands them to the handler that was installed before."""

    def __init__(self, registry: Registry, inner: EventHandler | None) -> None:
        self.registry = registry
        self.inner = inner

    def __call__(self, event: Event) -> None:
        if isinstance(event, BookingMade):
            self.registry.inc("bookings_made_total", source=event.booking.source)
        elif isinstance(event, BookingCancelled):
            who = "admin" if event.by_admin else "client"
            self.registry.inc("bookings_cancelled_total", by=who)
        elif isinstance(event, BookingMoved):
            self.registry.inc("bookings_moved_total")
        if self.inner is not None:
            self.inner(event)


def init_app(app: Flask) -> None:
    """Count requests and schedule events; serve /metrics."""
    app.config.setdefault("METRICS_TOKEN", os.environ.get("METRICS_TOKEN", "").strip())
    app.config.setdefault("METRICS_ALLOW", os.environ.get("METRICS_ALLOW", DEFAULT_ALLOW))
    registry = Registry()
    app.extensions["metrics"] = registry
    app.extensions["booking_events"] = CountingHandler(
        registry, app.extensions.get("booking_events")
    )
    app.before_request(_start_timer)
    app.after_request(_count_request)
    app.register_blueprint(bp)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()
    handler = current_app.extensions.get("booking_events")
    if not isinstance(handler, CountingHandler):  # replaced after init_app: wrap it again
        registry = current_app.extensions["metrics"]
        current_app.extensions["booking_events"] = CountingHandler(registry, handler)


def _count_request(response):
    registry: Registry = current_app.extensions["metrics"]
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    status = response.status_code
    registry.inc("http_requests_total", method=request.method, route=route, status=str(status))
    if status >= 500:
        registry.inc("http_errors_total", route=route)
    if request.endpoint and "webhook" in request.endpoint:
        registry.inc("bot_updates_total", status=str(status))
    started = g.get("metrics_started")
    if started is not None:
        registry.observe(route, time.perf_counter() - started)
    return response


@lru_cache(maxsize=8)
def allowed_networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """METRICS_ALLOW parsed; a bad entry is logged and left out."""
    networks = []
    for part in raw.split(","):
        part = part.strip()
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                logging.getLogger(__name__).warning("METRICS_ALLOW: %r is not an address", part)
    return tuple(networks)


def _client_allowed() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = allowed_networks(current_app.config["METRICS_ALLOW"])
    return any(address in network for network in networks)


@bp.get("/metrics")
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if not token or not hmac.compare_digest(header[7:].encode(), token.encode()):
            abort(403)
    elif not _client_allowed():
        abort(404)
    body = current_app.extensions["metrics"].render()
    return Response(body, mimetype="text/plain; version=0.0.4")
