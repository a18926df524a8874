"""The same day, three ways: /api/slots, the Mini App grid's attributes and the bot's keyboard
render schedule's one picture of it, and agree (issue 12's scenario: four others at 10:30,
the viewer at 14:00)."""

from __future__ import annotations

import re

import pytest

from schedule import services
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED
from tests.fixtures_bot import ALICE
from tests.fixtures_web import TOMORROW, auth, make_user
from webapp.extensions import db

FULL = ("09:30", "10:00", "10:30", "11:00", "11:30")
BOOKABLE = ("09:00", "12:00")


@pytest.fixture
def scenario(app):
    """Four other clients at 10:30 and Alice at 14:00, tomorrow."""
    settings, day = app.config["SCHEDULE"], parse_date(TOMORROW)
    assert settings.max_bookings_per_day == UNLIMITED["max_bookings_per_day"]
    with app.app_context():
        session = db.session()
        for n in range(4):
            other = services.upsert_user(session, make_user(4000 + n))
            services.book(
                Unit(session, settings, Actor.client(other), now=app.config["CLOCK"]()),
                other,
                day,
                10 * 60 + 30,
            )
        alice = services.upsert_user(session, ALICE)
        services.book(
            Unit(session, settings, Actor.client(alice), now=app.config["CLOCK"]()),
            alice,
            day,
            14 * 60,
        )
    return app


def api_picture(client) -> dict[str, dict]:
    response = client.get(f"/api/slots?date={TOMORROW}", headers=auth(ALICE))
    assert response.status_code == 200
    return {s["start"]: s for s in response.json["slots"]}


def grid_picture(client) -> dict[str, dict]:
    response = client.get(f"/app/grid?date={TOMORROW}", headers=auth(ALICE))
    assert response.status_code == 200
    cells = {}
    for tag in re.findall(r"<(?:button|i) [^>]*data-slot-start=[^>]*>", response.text):
        attributes = dict(re.findall(r'(data-[\w-]+)="([^"]*)"', tag))
        cells[attributes["data-slot-start"]] = attributes
    return cells


def bot_picture(chat) -> dict[str, str]:
    """{"HH:MM": its button's text} of /book's starts for the day."""
    alice = chat(ALICE)
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    buttons = {}
    for button in alice.buttons():
        found = re.search(r"\d\d:\d\d", button["text"])
        if found:
            buttons[found.group(0)] = button["text"]
    return buttons


def test_the_api_the_grid_and_the_bot_agree(scenario, client, chat):
    api, grid, bot = api_picture(client), grid_picture(client), bot_picture(chat)

    for start in FULL:
        assert (api[start]["refusal"], api[start]["places"], api[start]["can_wait"]) == (
            "full",
            0,
            True,
        ), start
        assert (grid[start]["data-refusal"], grid[start]["data-places"]) == ("full", "0"), start
        assert grid[start]["data-can-wait"] == "true" and "data-join-start" in grid[start]
        assert bot[start] == f"⏳ {start}"
    for start in BOOKABLE:
        assert (api[start]["refusal"], api[start]["places"], api[start]["can_start"]) == (
            None,
            4,
            True,
        )
        assert (grid[start]["data-refusal"], grid[start]["data-places"]) == ("", "4")
        assert grid[start]["data-can-start"] == "true"
        assert bot[start] == f"{start} (4)"
    assert api["13:00"]["refusal"] == grid["13:00"]["data-refusal"] == "overlapping"
    assert api["17:00"]["refusal"] == grid["17:00"]["data-refusal"] == "after_hours"
    assert "13:00" not in bot and "17:00" not in bot and "14:00" not in bot

    # One rule, one answer: every start the API lists agrees with its cell and its button.
    for start, slot in api.items():
        cell = grid[start]
        assert cell["data-refusal"] == (slot["refusal"] or ""), start
        assert cell["data-places"] == str(slot["places"]), start
        assert cell["data-can-wait"] == ("true" if slot["can_wait"] else "false"), start
        offered = slot["can_start"] or slot["can_wait"] or slot["waitlisted"]
        assert (start in bot) == offered, start
