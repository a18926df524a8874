"""The waitlist in Debian's Chromium: a client taps a full start to wait for it, another
cancels, and the first in line finds the training in their list. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import time

import pytest

from tests.fixtures_browser import fill_slot, open_app
from tests.fixtures_web import TOMORROW, auth

pytestmark = pytest.mark.browser

ANNE = {"id": 1101, "first_name": "Anne", "language_code": "en"}  # A: holds the last place
BEN = {"id": 1102, "first_name": "Ben", "language_code": "en"}  # B: waits for it


def show_tomorrow(page) -> None:
    page.click(f"[data-date='{TOMORROW}']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")


def test_wait_for_a_full_start_and_be_booked_when_a_place_frees(
    browser,
    sqlite_app,
    live_sqlite_url,
    artifacts,
):
    fill_slot(sqlite_app, "10:00", 3)
    api = sqlite_app.test_client()
    anne = api.post("/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNE))
    assert anne.status_code == 201

    page = open_app(browser, live_sqlite_url, user=BEN)
    show_tomorrow(page)
    full = page.locator("[data-slot-start='10:00']")
    assert (full.get_attribute("data-free"), full.get_attribute("data-waitlist")) == ("0", "false")
    page.screenshot(path=artifacts / "01-full.png")

    page.click("[data-join-start='10:00']")  # the tap lands on the full cell's waitlist control
    sheet = page.locator("[data-sheet]")
    sheet.wait_for()
    assert "10:00–11:30" in sheet.inner_text() and "waitlist" in sheet.inner_text().lower()
    how, buttons = sheet.locator(".wait-how").bounding_box(), sheet.locator(".row").bounding_box()
    assert buttons["y"] - (how["y"] + how["height"]) >= 8  # the explanation clear of the buttons
    page.screenshot(path=artifacts / "02-confirm.png")
    page.click("[data-action=confirm]")
    waiting = page.locator("[data-slot-start='10:00'][data-waitlist=true]")
    waiting.wait_for()
    assert "#1 in line" in waiting.inner_text()
    assert "#1 in line" in page.locator("[data-notice]:not([hidden])").inner_text()
    page.screenshot(path=artifacts / "03-waiting.png")

    page.click("[data-nav=my]")
    entry = page.locator("[data-waitlist-entry]")
    entry.wait_for()
    assert "10:00–11:30" in entry.inner_text() and "#1 in line" in entry.inner_text()
    assert entry.locator("[data-action=leave-waitlist]").is_visible()
    assert page.locator("[data-booking-id]").count() == 0
    page.screenshot(path=artifacts / "04-my-waitlist.png")

    cancelled = api.delete(f"/api/bookings/{anne.json['id']}", headers=auth(ANNE))
    assert cancelled.status_code == 200
    freed_at = time.monotonic()
    page.click("[data-nav=my]")
    booking = page.locator("[data-booking-id]")
    booking.wait_for(timeout=1000)
    assert time.monotonic() - freed_at < 1.0
    assert "10:00–11:30" in booking.inner_text()
    assert page.locator("[data-waitlist-entry]").count() == 0
    page.screenshot(path=artifacts / "05-promoted.png")

    page.click("[data-nav=book]")
    page.locator("[data-nav=book][aria-current=page]").wait_for()
    show_tomorrow(page)
    cell = page.locator("[data-slot-start='10:00']")
    assert cell.get_attribute("data-waitlist") == "false"
    assert "mine" in cell.get_attribute("class")
    page.screenshot(path=artifacts / "06-booked.png")


def test_leaving_the_waitlist_in_one_tap(
    browser,
    sqlite_app,
    live_sqlite_url,
    artifacts,
):
    fill_slot(sqlite_app, "12:00", 4)
    page = open_app(browser, live_sqlite_url, user=BEN)
    show_tomorrow(page)
    page.click("[data-join-start='12:00']")
    page.click("[data-action=confirm]")
    page.locator("[data-slot-start='12:00'][data-waitlist=true]").wait_for()
    page.click("[data-nav=my]")
    page.click("[data-action=leave-waitlist]")
    page.locator("[data-waitlist-entry]").wait_for(state="detached")
    assert "left the waitlist" in page.locator("[data-notice]:not([hidden])").inner_text()
    page.screenshot(path=artifacts / "left.png")
