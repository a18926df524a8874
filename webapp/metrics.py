"""Prometheus metrics at /metrics, kept by prometheus-client.

Why this module: operators scrape the web app for requests and their latency by route, 5xx
errors, bookings made / cancelled / moved (counted from the schedule events the app hands to
app.extensions["booking_events"]) and bot webhook updates. The library writes the exposition
format and answers content negotiation (Prometheus text, or OpenMetrics when the scraper asks),
and adds the process and Python collectors.

Several waitress processes: set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them
(wiped at each start) before the processes start. Every process then writes its counts there,
and any one of them answers /metrics with the sum over all (prometheus-client's multiprocess
mode); the per-process collectors are left out there, as they would describe only the process
that happened to answer. Without it, counts live in the process that made them: scrape each.

Gauges that describe shared state rather than this process (the outbox's pending, oldest
pending age and failed messages) are read when scraped: see add_state_gauges.

Open to a bearer token (METRICS_TOKEN) or to addresses in METRICS_ALLOW (comma-separated IPs
or networks, default 127.0.0.1 and ::1); others get a 403 (wrong token) or a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from schedule.events import BookingCancelled, BookingMade, BookingMoved, Event, EventHandler

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DEFAULT_ALLOW = "127.0.0.1,::1"
UNMATCHED = "<unmatched>"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# {metric name: (help text, value)}, read at each scrape.
StateGauges = Callable[[], Mapping[str, tuple[str, float]]]

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)


class Metrics:
    """This app's counters and latency histogram, in a registry of its own (several apps may
    live in one process, as in the tests)."""

    def __init__(self, multiprocess_dir: str = "") -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self.state_gauges: list[StateGauges] = []
        # The shared process, platform and GC collectors describe this process.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.registry.register(StateCollector(self.state_gauges))
        register = {"registry": self.registry}
        self.requests = Counter(
            "http_requests",
            "Requests answered, by method, route and status.",
            ("method", "route", "status"),
            **register,
        )
        self.errors = Counter(
            "http_errors", "Requests answered with a 5xx status, by route.", ("route",), **register
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by route.",
            ("route",),
            buckets=BUCKETS,
            **register,
        )
        self.made = Counter("bookings_made", "Bookings made, by source.", ("source",), **register)
        self.cancelled = Counter(
            "bookings_cancelled", "Bookings cancelled, by who cancelled.", ("by",), **register
        )
        self.moved = Counter("bookings_moved", "Bookings moved to another start.", **register)
        self.bot_updates = Counter(
            "bot_updates",
            "Telegram updates received by the webhook, by status.",
            ("status",),
            **register,
        )
        self.rate_limit_storage_failures = Counter(
            "rate_limit_storage_failures",
            "Requests let through uncounted because the rate-limit storage did not answer.",
            **register,
        )

    def exposition_registry(self) -> CollectorRegistry:
        """What /metrics shows: this registry, or the sum of every process's files."""
        if not self.multiprocess_dir:
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(StateCollector(self.state_gauges))
        return registry


class StateCollector:
    """Gauges computed at scrape time by the functions given to add_state_gauges."""

    def __init__(self, sources: list[StateGauges]) -> None:
        self.sources = sources

    def describe(self) -> list[Metric]:
        return []  # names are known only when collected

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            try:
                values = source()
            except Exception:  # noqa: BLE001 - one broken reader must not hide every metric
                log.exception("metrics: %s failed", getattr(source, "__name__", source))
                continue
            for name, (help_text, value) in values.items():
                yield GaugeMetricFamily(name, help_text, value=value)


def add_state_gauges(app: Flask, source: StateGauges) -> None:
    """Show the gauges `source()` returns ({name: (help, value)}) on every scrape.

    For shared state read from the database, so the same in every process; the place for the
    outbox's gauges (outbox_pending, outbox_oldest_pending_age_seconds, outbox_failed). The
    function runs inside the /metrics request (an app context, db.session available).
    """
    app.extensions["metrics"].state_gauges.append(source)


class CountingHandler:
    """Counts schedule events, then hands them to the handler that was installed before."""

    def __init__(self, metrics: Metrics, inner: EventHandler | None) -> None:
        self.metrics = metrics
        self.inner = inner

    def __call__(self, event: Event) -> None:
        if isinstance(event, BookingMade):
            self.metrics.made.labels(source=event.booking.source).inc()
        elif isinstance(event, BookingCancelled):
            self.metrics.cancelled.labels(by="admin" if event.by_admin else "client").inc()
        elif isinstance(event, BookingMoved):
            self.metrics.moved.inc()
        if self.inner is not None:
            self.inner(event)


def init_app(app: Flask) -> None:
    """Count requests; serve /metrics (count_events adds the schedule's events)."""
    app.config.setdefault("METRICS_TOKEN", "")
    app.config.setdefault("METRICS_ALLOW", DEFAULT_ALLOW)
    project = app.config.get("CONFIG")
    metrics = Metrics(project.metrics_multiprocess_dir if project is not None else "")
    app.extensions["metrics"] = metrics
    app.before_request(_start_timer)
    app.after_request(_count_request)
    app.register_blueprint(bp)


def count_events(app: Flask) -> None:
    """Count the schedule's events, then hand them to the handler installed before."""
    app.extensions["booking_events"] = CountingHandler(
        app.extensions["metrics"], app.extensions.get("booking_events")
    )


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()
    handler = current_app.extensions.get("booking_events")
    if not isinstance(handler, CountingHandler):  # replaced after init_app: wrap it again
        metrics = current_app.extensions["metrics"]
        current_app.extensions["booking_events"] = CountingHandler(metrics, handler)


def _count_request(response):
    metrics: Metrics = current_app.extensions["metrics"]
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    status = str(response.status_code)
    metrics.requests.labels(method=request.method, route=route, status=status).inc()
    if response.status_code >= 500:
        metrics.errors.labels(route=route).inc()
    if request.endpoint and "webhook" in request.endpoint:
        metrics.bot_updates.labels(status=status).inc()
    started = g.get("metrics_started")
    if started is not None:
        metrics.latency.labels(route=route).observe(time.perf_counter() - started)
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
                log.warning("METRICS_ALLOW: %r is not an address", part)
    return tuple(networks)


def _client_allowed() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = allowed_networks(current_app.config["METRICS_ALLOW"])
    return any(address in network for network in networks)


def refusal() -> int | None:
    """None when this request may read /metrics; else 403 (a wrong token) or 404."""
    token = current_app.config["METRICS_TOKEN"]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if not token or not hmac.compare_digest(header[7:].encode(), token.encode()):
            return 403
    elif not _client_allowed():
        return 404
    return None


@bp.get("/metrics")
def metrics():
    if (status := refusal()) is not None:
        abort(status)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    registry = current_app.extensions["metrics"].exposition_registry()
    return Response(encode(registry), headers={"Content-Type": content_type})
