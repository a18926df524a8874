"""A trainer added through the API opens the trainer's tab in Chromium at 390 px (DESIGN.md,
"Trainers and kinds"): their own Day only, no owners' sections or tools, controls 44 px, nothing
spilling past the screen; light and dark, English and Russian (screenshots in test-artifacts)."""

from __future__ import annotations

import pytest

from schedule.kinds import add_kind, add_trainer
from schedule.unit import Actor, Unit
from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import ANNA, BORIS, TOMORROW, auth, make_user
from webapp.extensions import db

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "scheme"), [("en", "light"), ("en", "dark"), ("ru", "light"), ("ru", "dark")]
)
def test_a_trainer_opens_their_own_day(
    browser, sqlite_app, live_sqlite_url, artifacts, lang, scheme
):
    coach = make_user(5001, lang)
    with sqlite_app.app_context():
        session, rules = db.session(), sqlite_app.config["SCHEDULE"]
        owner = Unit(session, rules, Actor.trainer())
        anna = add_trainer(owner, coach["id"], "Coach Anna").id
        boris = add_trainer(owner, 5002, "Coach Boris").id
        personal = add_kind(owner, "Personal", 60, 1, [anna, boris]).id
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
    page.click(f"[data-admin-date='{TOMORROW}']")
    page.locator(f"[data-admin-date='{TOMORROW}'][aria-current=true]").wait_for()
    visitors = page.locator("[data-admin-booking-id]")
    assert visitors.count() == 1
    assert visitors.first.get_attribute("data-admin-booking-id") == str(made[anna])
    for owners in ("[data-admin-nav]", "[data-admin-trainer]", "[data-admin-action]"):
        assert page.locator(owners).count() == 0, owners
    cancel = page.locator("[data-action=cancel]")
    assert cancel.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / f"01-day-{lang}-{scheme}.png", full_page=True)

    cancel.click()
    page.locator("[data-sheet] textarea").fill("Ill" if lang == "en" else "Болею")
    page.screenshot(path=artifacts / f"02-cancel-{lang}-{scheme}.png", full_page=True)
    page.click("[data-action=confirm]")
    page.locator("[data-notice]:not([hidden])").wait_for()
    assert page.locator("[data-admin-booking-id]").count() == 0
    page.screenshot(path=artifacts / f"03-cancelled-{lang}-{scheme}.png", full_page=True)
    page.context.close()
