"""/metrics: who may read it, and what it counts."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest

from schedule import services
from schedule.db import create_schema, make_engine
from schedule.events import BookingCancelled, BookingMade, BookingMoved
from webapp.extensions import db
from webapp.metrics import CountingHandler

from .test_cli import ENV, NOW, make_app

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}
SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="(?:[^"\\]|\\.)*",?)+\})? -?[0-9.e+]+$')


@pytest.fixture
def make(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    made = []
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()

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

    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 2' in text
    assert 'http_requests_total{method="GET",route="<unmatched>",status="404"} 1' in text
    assert 'http_request_duration_seconds_bucket{le="+Inf",route="/healthz"} 2' in text
    assert 'http_request_duration_seconds_count{route="/healthz"} 2' in text
    assert "/no/such/page" not in text  # unmatched paths do not each make a series
    buckets = [
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("http_request_duration_seconds_bucket{") and '"/healthz"' in line
    ]
    assert buckets == sorted(buckets)  # cumulative


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
    assert 'http_errors_total{route="/boom"} 1' in text
    assert 'http_errors_total{route="/unavailable"} 1' in text
    assert 'http_errors_total{route="/healthz"}' not in text


def test_bookings_are_counted_from_schedule_events_and_passed_on(make):
    app = make(CLOCK=lambda: NOW)
    handler = app.extensions["booking_events"]
    settings = app.config["SCHEDULE"]
    with app.app_context():
        session = db.session()
        anna = services.upsert_user(session, {"id": 501, "first_name": "Anna"})
        made = services.book(
            session,
            settings,
            anna,
            date(2026, 11, 27),
            600,
            now=NOW,
            source="bot",
            on_event=handler,
        )
        services.reschedule(
            session, settings, made.id, anna, date(2026, 11, 27), 720, now=NOW, on_event=handler
        )
        services.cancel(session, settings, made.id, None, now=NOW, on_event=handler)

    text = scrape(app)

    assert 'bookings_made_total{source="bot"} 1' in text
    assert "bookings_moved_total 1" in text
    assert 'bookings_cancelled_total{by="admin"} 1' in text


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
    assert 'bookings_made_total{source="miniapp"} 1' in text
    assert 'bookings_cancelled_total{by="client"} 1' in text


def test_every_sample_line_is_in_the_exposition_format(make):
    app = make()
    app.test_client().get("/healthz")
    app.extensions["booking_events"](BookingMade(SimpleNamespace(source='we"ird\\')))

    text = scrape(app)

    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# "):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
        else:
            assert SAMPLE.match(line), line
    assert 'source="we\\"ird\\\\"' in text


def test_webhook_deliveries_are_counted_as_bot_updates(make):
    app = make()
    client = app.test_client()
    client.post("/telegram/webhook/not-the-secret", json={"update_id": 1})
    client.get("/healthz")

    text = scrape(app)

    assert 'bot_updates_total{status="404"} 1' in text
    assert text.count("bot_updates_total{") == 1  # other routes are not bot updates
