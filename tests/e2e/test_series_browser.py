"""Standing bookings in Debian's Chromium at 390 px: tap a start, choose "Repeat weekly" in the
confirm sheet, confirm, and find the series grouped in My trainings (light/dark, en/ru).
Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import TOMORROW

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("user", "theme", "scheme"),
    [
        ({"id": 1201, "first_name": "Anna", "language_code": "en"}, LIGHT, "light"),
        ({"id": 1202, "first_name": "Борис", "language_code": "ru"}, DARK, "dark"),
    ],
    ids=["en-light", "ru-dark"],
)
def test_repeat_weekly_from_the_confirm_sheet(
    browser, sqlite_app, live_sqlite_url, artifacts, user, theme, scheme
):
    page = open_app(browser, live_sqlite_url, user=user, theme=theme, scheme=scheme)
    page.click(f"[data-date='{TOMORROW}']")
    page.locator("#grid h2", has_text="26").wait_for()
    page.click("[data-slot-start='10:00']")
    repeat = page.locator("[data-action=repeat-weekly]")
    repeat.wait_for()
    assert repeat.bounding_box()["height"] >= 44
    page.screenshot(path=artifacts / "01-confirm-sheet.png")
    repeat.click()
    weeks = page.locator("[data-series-weeks]")
    weeks.wait_for()
    assert weeks.bounding_box()["height"] >= 44
    page.screenshot(path=artifacts / "02-series-sheet.png")
    page.click("[data-series-sheet] [data-action=confirm]")
    series = page.locator("[data-series-list] li[data-series-id]")
    series.wait_for()
    assert series.locator("[data-booking-id]").count() == 1
    stop = page.locator("[data-action=stop-series]")
    assert stop.bounding_box()["height"] >= 44
    page.screenshot(path=artifacts / "03-my-trainings.png", full_page=True)
