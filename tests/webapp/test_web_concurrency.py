"""Capacity holds through the real server: clients racing for the last places over HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.fixtures_web import TOMORROW, auth, make_user

RACERS = 20


def post_booking(base_url: str, user: dict, start: str = "10:00") -> int:
    request = urllib.request.Request(
        f"{base_url}/api/bookings",
        data=json.dumps({"date": TOMORROW, "start": start}).encode(),
        headers={"Content-Type": "application/json", **auth(user)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        assert json.loads(error.read())["error"] == "full"
        return error.code


def get_json(base_url: str, path: str, user: dict) -> dict:
    request = urllib.request.Request(f"{base_url}{path}", headers=auth(user))
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def race(base_url: str, users: list[dict], start: str = "10:00") -> list[int]:
    """All users post at once (released together by a barrier)."""
    barrier = threading.Barrier(len(users))

    def one(user: dict) -> int:
        barrier.wait()
        return post_booking(base_url, user, start)

    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(one, users))


def test_twenty_clients_for_the_last_two_places_get_exactly_two(live_url):
    for n in range(2):
        assert post_booking(live_url, make_user(5000 + n)) == 201
    racers = [make_user(6000 + n) for n in range(RACERS)]
    for user in racers:  # sign everyone up first, so the race is for places only
        get_json(live_url, "/api/bookings", user)

    statuses = race(live_url, racers)

    assert sorted(statuses) == [201] * 2 + [409] * (RACERS - 2)
    slot = next(
        s
        for s in get_json(live_url, f"/api/slots?date={TOMORROW}", racers[0])["slots"]
        if s["start"] == "10:00"
    )
    assert (slot["booked"], slot["free"]) == (4, 0)
    winners = sum(len(get_json(live_url, "/api/bookings", u)["bookings"]) for u in racers)
    assert winners == 2


def test_racing_for_overlapping_starts_never_overfills_a_cell(live_url):
    """Starts 10:00, 10:30 and 11:00 share the 11:00 cell: it never holds more than capacity."""
    racers = [make_user(7000 + n) for n in range(RACERS)]
    for user in racers:
        get_json(live_url, "/api/bookings", user)
    barrier = threading.Barrier(RACERS)

    def one(index: int) -> int:
        barrier.wait()
        return post_booking(live_url, racers[index], ("10:00", "10:30", "11:00")[index % 3])

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = list(pool.map(one, range(RACERS)))

    assert statuses.count(201) == 4
    slots = get_json(live_url, f"/api/slots?date={TOMORROW}", racers[0])["slots"]
    assert max(s["booked"] for s in slots) == 4
