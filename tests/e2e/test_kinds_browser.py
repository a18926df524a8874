"""The kind and trainer pickers in Chromium (DESIGN.md, "Trainers and kinds"): pick a personal
hour with one trainer, see that trainer's day, book it by tapping; the chips are 44 px tall and
nothing spills past a 390 px screen."""

from __future__ import annotations

import pytest

from schedule import Booking
from schedule.kinds import add_kind, add_trainer
from schedule.unit import Actor, Unit
from tests.fixtures_browser import open_app
from tests.fixtures_web import TOMORROW
from webapp.extensions import db

pytestmark = pytest.mark.browser


def test_pick_a_kind_and_a_trainer_then_book(browser, sqlite_app, live_sqlite_url, artifacts):
    with sqlite_app.app_context():
        session, rules = db.session(), sqlite_app.config["SCHEDULE"]
        owner = Unit(session, rules, Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna").id
        boris = add_trainer(owner, 5002, "Boris", "12:00-20:00").id
        personal = add_kind(owner, "Personal", 60, 1, [anna, boris]).id
    page = open_app(browser, live_sqlite_url)
    page.locator("[data-pickers]").wait_for()
    page.screenshot(path=artifacts / "01-pickers.png")
    for chip in page.locator(".chip").all():
        box = chip.bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.click(f"[data-kind='{personal}']")
    page.locator(f"[data-kind='{personal}'][aria-pressed=true]").wait_for()
    page.click(f"[data-trainer='{boris}']")
    page.locator(f"[data-trainer='{boris}'][aria-pressed=true]").wait_for()
    page.click(f"[data-date='{TOMORROW}']")
    page.locator(f"[data-date='{TOMORROW}'][aria-current=true]").wait_for()
    first = page.locator("[data-slot-start]").first
    assert first.get_attribute("data-slot-start") == "12:00"  # Boris's day
    page.screenshot(path=artifacts / "02-boris.png")

    page.click("[data-slot-start='13:00']")
    confirm = page.locator("[data-action=confirm]")
    confirm.wait_for()
    assert "13:00–14:00" in page.locator("[data-sheet]").inner_text()
    confirm.click()
    page.locator("[data-notice]:not([hidden])").wait_for()
    page.locator(f"[data-trainer='{boris}'][aria-pressed=true]").wait_for()  # still Boris's day
    page.screenshot(path=artifacts / "03-booked.png")
    with sqlite_app.app_context():
        booking = db.session.query(Booking).one()
        assert (booking.kind_id, booking.trainer_id) == (personal, boris)
    page.context.close()
