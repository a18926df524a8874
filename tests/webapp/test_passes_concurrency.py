"""A 2-visit pass never pays for 3 bookings: one client's bookings racing through the real
server (waitress, threads), PASS_REQUIRED=1, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.fixtures_web import ANNA, TRAINER, auth, serve

# Distinct days and starts that do not overlap: only the pass limits the racers.
STARTS = [(f"2026-11-{day}", start) for day in range(26, 31) for start in ("10:00", "14:00")]


def call(base_url: str, method: str, path: str, user: dict, body=None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **auth(user)},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def strict_live_url(app):
    app.config["SCHEDULE"] = replace(app.config["SCHEDULE"], pass_required=True)
    url, stop = serve(app, threads=len(STARTS))
    yield url
    stop()


def test_racing_bookings_never_overdraw_a_two_visit_pass(strict_live_url):
    url = strict_live_url
    assert call(url, "GET", "/api/bookings", ANNA)[0] == 200
    sold = {"telegram_id": ANNA["id"], "visits": 2, "valid_days": 30}
    assert call(url, "POST", "/api/admin/passes", TRAINER, sold)[0] == 201
    barrier = threading.Barrier(len(STARTS))

    def one(start: tuple[str, str]) -> tuple[int, dict]:
        barrier.wait()
        return call(url, "POST", "/api/bookings", ANNA, {"date": start[0], "start": start[1]})

    with ThreadPoolExecutor(len(STARTS)) as pool:
        answers = list(pool.map(one, STARTS))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 2 + [409] * (len(STARTS) - 2)
    assert {body["error"] for status, body in answers if status == 409} == {"no_pass"}
    passes = call(url, "GET", "/api/passes", ANNA)[1]["passes"]
    assert [(p["used"], p["remaining"]) for p in passes] == [(2, 0)]
    bookings = call(url, "GET", "/api/bookings", ANNA)[1]["bookings"]
    assert len(bookings) == 2 and {b["pass_id"] for b in bookings} == {passes[0]["id"]}
