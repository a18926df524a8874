"""/healthz and an authorised /metrics are never rate-limited: an uptime check or a scraper
behind the same address as many anonymous callers must still get in. A /metrics caller who
is not allowed is counted like any other (a token cannot be guessed at full speed)."""

from __future__ import annotations

import pytest

from schedule import Settings
from tests.conftest import UNLIMITED
from tests.fixtures_web import build_app
from webapp.extensions import db

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def client(sqlite_url, clock):
    from schedule.db import create_schema, make_engine

    engine = make_engine(sqlite_url)
    create_schema(engine)
    engine.dispose()
    settings = Settings(**{**UNLIMITED, "rate_limit_anonymous": "3/minute"})
    app = build_app(sqlite_url, clock, SCHEDULE=settings, METRICS_TOKEN="scrape-token")
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_healthz_and_an_authorised_metrics_answer_past_the_anonymous_limit(client):
    anonymous = [client.get("/api/openapi.json").status_code for _ in range(4)]
    assert anonymous == [200, 200, 200, 429]

    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert [client.get("/metrics").status_code for _ in range(5)] == [200] * 5  # 127.0.0.1
    bearer = {"Authorization": "Bearer scrape-token"}
    scraped = [client.get("/metrics", headers=bearer, environ_base=OUTSIDER) for _ in range(5)]
    assert [r.status_code for r in scraped] == [200] * 5


def test_a_wrong_metrics_token_is_counted_like_any_anonymous_call(client):
    wrong = {"Authorization": "Bearer guess"}
    guesses = [client.get("/metrics", headers=wrong, environ_base=OUTSIDER) for _ in range(4)]
    assert [r.status_code for r in guesses] == [403, 403, 403, 429]
    assert client.get("/healthz", environ_base=OUTSIDER).status_code == 200
