"""A trainer added through the API opens the trainer's tab in Chromium at 390 px (DESIGN.md,
"Trainers and kinds"): their own Day and Week only, no owners' sections or tools, controls
44 px, nothing spilling past the screen; light and dark, English and Russian (screenshots in
test-artifacts)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from schedule import services
from schedule.kinds import add_kind, add_trainer
from schedule.unit import Actor, Unit
from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import ANNA, BORIS, TOMORROW, auth, make_user
from webapp.extensions import db

pytestmark = pytest.mark.browser
IDLE = "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


@pytest.mark.parametrize(
    ("lang", "scheme"), [("en", "light"), ("en", "dark"), ("ru", "light"), ("ru", "dark")]
)
def test_a_trainer_opens_their_own_day(
    browser, sqlite_app, live_sqlite_url, artifacts, lang, scheme
):
    coach = make_user(5001, lang)
    with sqlite_app.app_context():
        session, rules = db.session(), sqlite_app.config["SCHEDULE"]
        owner = Unit(session, rules, Actor.trainer(), now=sqlite_app.config["CLOCK"]())
        anna = add_trainer(owner, coach["id"], "Coach Anna").id
        boris = add_trainer(owner, 5002, "Coach Boris").id
        personal = add_kind(owner, "Personal", 60, 1, [anna, boris]).id
        day_off = date.fromisoformat(TOMORROW) + timedelta(days=1)  # Coach Anna's
        services.add_closure(owner, day_off, trainer_id=anna)
    api = sqlite_app.test_client()
    made = {}
    for user, start, trainer in ((ANNA, "10:00", anna), (BORIS, "13:00", boris)):
        body = {"date": TOMORROW, "start": start, "kind": personal, "trainer": trainer}
        response = api.post("/api/bookings", json=body, headers=auth(user))
        assert response.status_code == 201, response.get_data(as_text=True)
        made[trainer] = response.json["id"]

    theme = DARK if scheme == "dark" else LIGHT
    page = open_app(browser, live_sqlite_url, user=coach, theme=theme, scheme=scheme)
    tab = page.locator("[data-nav=admin]")
    tab.wait_for()  # the app opens on their Day: its nav may still be coming in
    assert tab.bounding_box()["height"] >= 44
    tab.click()
    page.locator("[data-admin-date]").first.wait_for()
    page.wait_for_function(IDLE)
    page.click(f"[data-admin-date='{TOMORROW}']")
    # The day is marked chosen at the tap; its visitors come with the swap.
    page.locator(f"[data-admin-date='{TOMORROW}'][aria-current=true]").wait_for()
    page.wait_for_function(IDLE)
    visitors = page.locator("[data-admin-booking-id]")
    assert visitors.count() == 1
    assert visitors.first.get_attribute("data-admin-booking-id") == str(made[anna])
    sections = page.locator("[data-admin-nav]")
    assert [sections.nth(n).get_attribute("data-admin-nav") for n in range(2)] == ["day", "week"]
    assert sections.count() == 2
    for owners in ("[data-admin-trainer]", "[data-admin-action]"):
        assert page.locator(owners).count() == 0, owners
    cancel = page.locator("[data-action=cancel]")
    assert cancel.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / f"01-day-{lang}-{scheme}.png", full_page=True)

    # Their Week: their own visitors (10:00), not Boris's (13:00), and back to their Day
    page.click("[data-admin-nav=week]")
    page.locator(f"[data-heat-cell='{TOMORROW} 10:00']").wait_for()
    assert page.get_attribute(f"[data-heat-cell='{TOMORROW} 10:00']", "data-booked") == "1"
    assert page.get_attribute(f"[data-heat-cell='{TOMORROW} 13:00']", "data-booked") == "0"
    assert page.locator("[data-admin-trainer]").count() == 0
    assert "closed" in page.get_attribute(f"[data-heat-cell='{day_off} 10:00']", "class")
    assert "closed" not in page.get_attribute(f"[data-heat-cell='{TOMORROW} 10:00']", "class")
    assert too_small(page) == []
    assert overflowing(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / f"01-week-{lang}-{scheme}.png", full_page=True)
    shots = Path("/tmp/shots/week")
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / f"trainer-week-{lang}-{scheme}.png", full_page=True)
    page.click(f"[data-heat-date='{TOMORROW}']")
    page.locator(f"[data-admin-date='{TOMORROW}'][aria-current=true]").wait_for()
    assert page.locator("[data-admin-booking-id]").count() == 1

    cancel.click()
    page.locator("[data-sheet] textarea").fill("Ill" if lang == "en" else "Болею")
    page.screenshot(path=artifacts / f"02-cancel-{lang}-{scheme}.png", full_page=True)
    page.click("[data-action=confirm]")
    page.locator("[data-notice]:not([hidden])").wait_for()
    assert page.locator("[data-admin-booking-id]").count() == 0
    page.screenshot(path=artifacts / f"03-cancelled-{lang}-{scheme}.png", full_page=True)


def too_small(page) -> list[str]:
    """Visible controls of the tab (its navs and screen) smaller than 44 × 44 px."""
    return page.evaluate(
        """() => [...document.querySelectorAll('nav button, nav a, .view button, .view a')]
             .filter(el => {
               const r = el.getBoundingClientRect();
               return r.width > 0 && r.height > 0 && (r.width < 44 || r.height < 44);
             }).map(el => el.outerHTML.slice(0, 120) + ' ' +
               Math.round(el.getBoundingClientRect().width) + 'x' +
               Math.round(el.getBoundingClientRect().height))"""
    )


def overflowing(page) -> list[str]:
    """Elements that run past the 390 px viewport (cut off or scrolled sideways)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.view *, nav *')].filter(el => {
             const r = el.getBoundingClientRect();
             return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5);
           }).map(el => el.outerHTML.slice(0, 100))"""
    )
