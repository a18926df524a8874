"""Fair use over HTTP: per-client limits as 409 limit_reached (API and grid alike), request
rates as 429 with Retry-After (memory and the Redis server), and the security headers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from schedule import Settings
from tests.conftest import UNLIMITED
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, build_app
from webapp.extensions import db

REDIS_URL = "redis://127.0.0.1:6379"
DAY_AFTER = "2026-11-27"


def limited(**changes) -> Settings:
    """The default limits per client, rates as given (off unless named)."""
    base = {**UNLIMITED, "max_bookings_per_day": 1, "max_active_bookings": 4}
    return Settings(**{**base, "max_waitlist_entries": 3, **changes})


def book(client, user=ANNA, date=TOMORROW, start="10:00", **headers):
    return client.post(
        "/api/bookings", json={"date": date, "start": start}, headers={**auth(user), **headers}
    )


@pytest.fixture
def limited_client(database_url, clock) -> Iterator:
    app = build_app(database_url, clock, SCHEDULE=limited())
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- per-client limits --------------------------------------------------------------------


def test_a_client_past_a_limit_gets_409_limit_reached_saying_which(limited_client):
    assert book(limited_client).status_code == 201

    again = book(limited_client, start="14:00")
    russian = book(limited_client, BORIS, start="10:00")
    russian_again = book(limited_client, BORIS, start="15:00")

    assert again.status_code == 409
    assert again.json == {
        "error": "limit_reached",
        "message": "Limit reached: at most 1 booking on one day.",
    }
    assert russian.status_code == 201
    assert russian_again.status_code == 409
    assert russian_again.json["message"] == "Достигнут лимит: не больше 1 записи на один день."


def test_slots_say_limit_reached_where_booking_would_be_refused(limited_client):
    book(limited_client)
    slots = limited_client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).json["slots"]
    by_start = {s["start"]: s for s in slots}
    assert (by_start["14:00"]["can_start"], by_start["14:00"]["refusal"]) == (
        False,
        "limit_reached",
    )
    assert by_start["10:00"]["refusal"] == "overlapping"
    others = limited_client.get(f"/api/slots?date={TOMORROW}", headers=auth(BORIS)).json
    assert {s["start"]: s["refusal"] for s in others["slots"]}["14:00"] is None


def test_the_grid_shows_the_limit_and_refuses_alike(limited_client):
    book(limited_client)
    page = limited_client.get(f"/app/book?date={TOMORROW}", headers=auth(ANNA))
    body = page.get_data(as_text=True)
    tag = re.search(r'<button [^>]*data-slot-start="14:00"[^>]*>', body).group(0)
    assert 'data-can-start="false"' in tag and 'data-refusal="limit_reached"' in tag
    assert 'data-limit="per_day"' in body
    assert "at most 1 booking on one day" in body
    refused = limited_client.post(
        "/app/bookings", data={"date": TOMORROW, "start": "14:00"}, headers=auth(ANNA)
    )
    assert refused.status_code == 409
    assert "at most 1 booking on one day" in refused.get_data(as_text=True)


def test_the_trainer_may_still_book_for_a_client_past_a_limit(limited_client):
    book(limited_client)
    response = limited_client.post(
        "/api/admin/bookings",
        json={"telegram_id": ANNA["id"], "date": TOMORROW, "start": "14:00"},
        headers=auth(TRAINER),
    )
    assert response.status_code == 201, response.json


def test_the_fifth_upcoming_booking_is_refused(limited_client):
    for n in range(4):
        assert book(limited_client, date=f"2026-11-{26 + n}").status_code == 201
    fifth = book(limited_client, date="2026-11-30")
    assert (fifth.status_code, fifth.json["error"]) == (409, "limit_reached")
    assert "4 upcoming" in fifth.json["message"]


# --- request rates ------------------------------------------------------------------------


def rate_app(database_url, clock, prefix: str | None = None, **rates):
    settings = limited(max_bookings_per_day=0, max_active_bookings=0, **rates)
    config = {"SCHEDULE": settings}
    if prefix:
        config["RATE_LIMIT_KEY_PREFIX"] = prefix
    return build_app(database_url, clock, **config)


def burst_of_writes(client, user, count: int) -> list:
    """Book and cancel, `count` requests in all."""
    answers = []
    while len(answers) < count:
        made = book(client, user)
        answers.append(made)
        if made.status_code == 201:
            answers.append(client.delete(f"/api/bookings/{made.json['id']}", headers=auth(user)))
    return answers[:count]


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert response.json["error"] == "rate_limited" and response.json["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # a minute, rounded up


def check_writes_are_limited_per_user(app) -> None:
    client = app.test_client()
    answers = burst_of_writes(client, ANNA, 6)
    assert [r.status_code for r in answers[:5]] == [201, 200, 201, 200, 201]
    assert_rate_limited(answers[5])
    # Another client is served normally meanwhile, and Anna may still read.
    assert book(client, BORIS, start="14:00").status_code == 201
    assert client.get("/api/bookings", headers=auth(ANNA)).status_code == 200


def test_a_burst_of_writes_gets_429_while_another_client_is_served(database_url, clock):
    app = rate_app(database_url, clock, rate_limit_writes="5/minute")
    check_writes_are_limited_per_user(app)


def test_the_redis_storage_counts_across_processes(database_url, clock):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        from tests.conftest import require

        require(f"Redis is not reachable at {REDIS_URL}: {error}")
    prefix = f"test-{uuid.uuid4().hex}"
    first, second = (
        rate_app(
            database_url,
            clock,
            prefix,
            rate_limit_writes="5/minute",
            rate_limit_storage=REDIS_URL,
        )
        for _ in range(2)
    )
    try:
        # Two apps (two processes' worth of limiters) share one count in Redis.
        assert [r.status_code for r in burst_of_writes(first.test_client(), ANNA, 5)] == [
            201,
            200,
            201,
            200,
            201,
        ]
        assert_rate_limited(book(second.test_client(), ANNA, start="14:00"))
        keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
        assert keys, "the limiter's counters are not in Redis"
    finally:
        server = redis.Redis.from_url(REDIS_URL)
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)


def test_reads_have_their_own_limit_per_user(database_url, clock):
    app = rate_app(database_url, clock, rate_limit_reads="3/minute")
    client = app.test_client()
    answers = [client.get("/api/bookings", headers=auth(ANNA)) for _ in range(4)]
    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    assert_rate_limited(answers[3])
    assert client.get("/api/bookings", headers=auth(BORIS)).status_code == 200
    assert book(client).status_code == 201  # writes are counted apart


def test_requests_without_valid_init_data_are_limited_per_address(database_url, clock):
    app = rate_app(database_url, clock, rate_limit_anonymous="3/minute")
    client = app.test_client()
    forged = {"Authorization": "tma user=%7B%22id%22%3A1%7D&hash=00"}
    answers = [client.get("/api/bookings", headers=forged) for _ in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 401]
    assert_rate_limited(client.get("/api/openapi.json"))
    other = client.get("/api/openapi.json", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    assert client.get("/api/bookings", headers=auth(ANNA)).status_code == 200  # a user's own


def test_an_empty_rate_turns_the_limit_off(database_url, clock):
    app = rate_app(database_url, clock)  # every rate empty
    client = app.test_client()
    assert all(r.status_code in (200, 201) for r in burst_of_writes(client, ANNA, 40))


def test_a_429_on_an_htmx_request_is_shown_in_the_page(database_url, clock):
    app = rate_app(database_url, clock, rate_limit_reads="1/minute")
    client = app.test_client()
    headers = {**auth(BORIS), "HX-Request": "true"}
    assert client.get("/app/my", headers=headers).status_code == 200

    refused = client.get("/app/my", headers=headers)

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["HX-Retarget"] == "[data-notice]"
    assert refused.headers["HX-Reswap"] == "outerHTML"
    body = refused.get_data(as_text=True)
    assert "data-notice" in body and "Слишком много запросов" in body


# --- security headers ---------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(client):
    for response in (
        client.get("/"),
        client.get("/healthz"),
        client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)),
        client.get("/api/bookings"),  # a 401
    ):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self' https://telegram.org/js/telegram-web-app.js" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "style-src 'self' 'unsafe-inline'" in csp
        assert "frame-ancestors 'self' https://web.telegram.org" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
