"""/metrics: who may read it, what it counts, and that Prometheus can read it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from schedule import services
from schedule.events import BookingCancelled, BookingMade, BookingMoved
from schedule.unit import Actor, Unit
from tests.conftest import sqlite_with_schema
from tests.runtime.test_cli import ENV, NOW, make_app
from webapp import metrics
from webapp.extensions import db
from webapp.metrics import CountingHandler

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make(sqlite_template, tmp_path, monkeypatch):
    for name in (*ENV, metrics.MULTIPROC_DIR):
        monkeypatch.delenv(name, raising=False)
    made = []
    url = sqlite_with_schema(sqlite_template, tmp_path / "db.sqlite3")

    def build(**config):
        app = make_app(url, **config)
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


def scrape(app, **kwargs) -> str:
    response = app.test_client().get("/metrics", **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def samples(text: str) -> dict[tuple, float]:
    """Every sample of a Prometheus text exposition, parsed by prometheus-client's parser:
    {(name, (label, value), ...): value}."""
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, *sorted(labels.items())))


def test_localhost_may_read_by_default(make):
    assert "http_requests_total" in scrape(make())


def test_others_get_a_404(make):
    response = make().test_client().get("/metrics", environ_base=OUTSIDER)

    assert response.status_code == 404


def test_the_allow_list_takes_addresses_and_networks(make):
    app = make(METRICS_ALLOW="10.0.0.0/8, 192.0.2.7")
    client = app.test_client()

    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer listed


def test_a_bearer_token_opens_it_from_anywhere(make):
    app = make(METRICS_TOKEN="s3cret-token")
    client = app.test_client()

    good = client.get(
        "/metrics", environ_base=OUTSIDER, headers={"Authorization": "Bearer s3cret-token"}
    )
    wrong = client.get("/metrics", environ_base=OUTSIDER, headers={"Authorization": "Bearer guess"})

    assert good.status_code == 200
    assert wrong.status_code == 403


def test_a_token_is_refused_when_none_is_configured(make):
    response = make().test_client().get("/metrics", headers={"Authorization": "Bearer anything"})

    assert response.status_code == 403


def test_the_token_comes_from_the_environment(make, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "from-env")
    app = make()

    response = app.test_client().get(
        "/metrics", environ_base=OUTSIDER, headers={"Authorization": "Bearer from-env"}
    )

    assert response.status_code == 200


def test_requests_are_counted_by_route_with_latency(make):
    app = make()
    client = app.test_client()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page/42")

    text = scrape(app)

    get = {"method": "GET"}
    assert value(text, "http_requests_total", **get, route="/healthz", status="200") == 2
    assert value(text, "http_requests_total", **get, route="<unmatched>", status="404") == 1
    assert value(text, "http_request_duration_seconds_bucket", le="+Inf", route="/healthz") == 2
    assert value(text, "http_request_duration_seconds_count", route="/healthz") == 2
    assert "/no/such/page" not in text  # unmatched paths do not each make a series
    bounds = [*(str(b) for b in metrics.BUCKETS), "+Inf"]
    buckets = [
        value(text, "http_request_duration_seconds_bucket", le=le, route="/healthz")
        for le in bounds
    ]
    assert None not in buckets and buckets == sorted(buckets)  # cumulative


def test_server_errors_are_counted(make):
    app = make(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    @app.get("/unavailable")
    def unavailable():
        return "later", 503

    client = app.test_client()
    assert client.get("/boom").status_code == 500
    client.get("/unavailable")

    text = scrape(app)
    assert value(text, "http_errors_total", route="/boom") == 1
    assert value(text, "http_errors_total", route="/unavailable") == 1
    assert value(text, "http_errors_total", route="/healthz") is None


def test_bookings_are_counted_from_schedule_events_and_passed_on(make):
    app = make(CLOCK=lambda: NOW)
    handler = app.extensions["booking_events"]
    settings = app.config["SCHEDULE"]
    with app.app_context():
        session = db.session()
        anna = services.upsert_user(session, {"id": 501, "first_name": "Anna"})
        made = services.book(
            Unit(session, settings, Actor.client(anna), now=NOW, observe=handler),
            anna,
            date(2026, 11, 27),
            600,
            source="bot",
        )
        services.reschedule(
            Unit(session, settings, Actor.client(anna), now=NOW, observe=handler),
            made.id,
            date(2026, 11, 27),
            720,
        )
        services.cancel(Unit(session, settings, Actor.trainer(), now=NOW, observe=handler), made.id)

    text = scrape(app)

    assert value(text, "bookings_made_total", source="bot") == 1
    assert value(text, "bookings_moved_total") == 1
    assert value(text, "bookings_cancelled_total", by="admin") == 1


def test_the_counter_composes_with_the_handler_already_installed(make):
    app = make()
    seen = []
    booking = SimpleNamespace(source="miniapp")
    # Another module installs its handler after metrics: the next request wraps it again.
    app.extensions["booking_events"] = seen.append
    app.test_client().get("/healthz")
    handler = app.extensions["booking_events"]
    assert isinstance(handler, CountingHandler)

    handler(BookingMade(booking))
    handler(BookingCancelled(booking, by_admin=False))
    handler(BookingMoved(booking, NOW))

    assert [type(e) for e in seen] == [BookingMade, BookingCancelled, BookingMoved]
    text = scrape(app)
    assert value(text, "bookings_made_total", source="miniapp") == 1
    assert value(text, "bookings_cancelled_total", by="client") == 1


def test_the_exposition_parses_and_escapes_label_values(make):
    app = make()
    app.test_client().get("/healthz")
    app.extensions["booking_events"](BookingMade(SimpleNamespace(source='we"ird\\\nline')))

    text = scrape(app)

    assert text.endswith("\n")
    assert value(text, "bookings_made_total", source='we"ird\\\nline') == 1
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"http_requests", "http_request_duration_seconds", "bookings_made"} <= names


def test_process_and_python_collectors_are_included(make):
    text = scrape(make())

    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info"} <= names
    assert "python_gc_objects_collected" in names


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(make):
    app = make()
    app.test_client().get("/healthz")

    response = app.test_client().get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )

    assert response.mimetype == "application/openmetrics-text"
    text = response.get_data(as_text=True)
    assert text.endswith("# EOF\n")
    families = {family.name: family for family in openmetrics(text)}
    assert families["http_requests"].type == "counter"


def test_state_gauges_are_read_at_each_scrape(make):
    """The hook the outbox's gauges use: a function asked for its values on every scrape;
    one that fails is logged and the others still show."""
    app = make()
    pending = iter([3, 5])

    def outbox() -> dict:
        return {"demo_pending": ("Messages waiting.", next(pending))}

    def broken() -> dict:
        raise RuntimeError("database gone")

    metrics.add_state_gauges(app, broken)
    metrics.add_state_gauges(app, outbox)

    assert value(scrape(app), "demo_pending") == 3
    assert value(scrape(app), "demo_pending") == 5
    assert value(scrape(app), "http_requests_total", method="GET", route="/metrics", status="200")


def test_the_outbox_is_on_metrics(make):
    from schedule import outbox

    app = make(CLOCK=lambda: datetime(2026, 11, 25, 6, 0))
    with app.app_context():
        outbox.enqueue(db.session, 1, "news", {}, now=datetime(2026, 11, 25, 5, 58))
        refused = outbox.enqueue(db.session, 2, "news", {}, now=datetime(2026, 11, 25, 5, 59))
        refused.status = outbox.FAILED
        lost_answer = outbox.enqueue(db.session, 3, "news", {}, now=datetime(2026, 11, 25, 5, 59))
        lost_answer.status = outbox.SENT
        lost_answer.last_error = f"{outbox.UNCONFIRMED}: no answer within 60 s"
        db.session.commit()

    text = scrape(app)

    assert value(text, "outbox_pending") == 1
    assert value(text, "outbox_oldest_pending_age_seconds") == 120
    assert value(text, "outbox_failed") == 1
    assert value(text, "outbox_unconfirmed") == 1
    assert value(text, "webhook_updates_pending") == 0


def test_webhook_deliveries_are_counted_as_bot_updates(make):
    app = make()
    client = app.test_client()
    client.post("/telegram/webhook/not-the-secret", json={"update_id": 1})
    client.get("/healthz")

    text = scrape(app)

    assert value(text, "bot_updates_total", status="404") == 1
    assert text.count("bot_updates_total{") == 1  # other routes are not bot updates


PROCESS = """
import os
import sys
from datetime import datetime
from webapp import create_app

def web_process(requests):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                      "CLOCK": lambda: datetime(2026, 11, 25, 6)})
    client = app.test_client()
    for _ in range(requests):
        client.get("/healthz")
    return client

first = os.fork()  # the imports are paid once; each process builds its own app
if first == 0:
    web_process(2)
    os._exit(0)
if os.waitstatus_to_exitcode(os.waitpid(first, 0)[1]) != 0:
    sys.exit("the first web process failed")
sys.stdout.write(web_process(3).get("/metrics").get_data(as_text=True))
"""


def test_several_processes_are_summed_in_multiprocess_mode(make, tmp_path):
    """Two web processes count into PROMETHEUS_MULTIPROC_DIR; either one answers the sum.
    They are two OS processes forked from one interpreter after its imports, as a pre-forking
    server runs them (two interpreters paid the ~1 CPU-s of imports twice)."""
    make()  # the database
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env[metrics.MULTIPROC_DIR] = str(directory)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    done = subprocess.run(
        [sys.executable, "-c", PROCESS, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout

    route = {"method": "GET", "route": "/healthz", "status": "200"}
    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per process
    assert value(text, "http_requests_total", **route) == 5
    assert value(text, "http_request_duration_seconds_count", route="/healthz") == 5
