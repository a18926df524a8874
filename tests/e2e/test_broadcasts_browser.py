"""The trainer's Messages screen in Chromium at 390 px: write, choose whom, read how many it will
reach, confirm, and watch the card count the deliveries (htmx asks again while any is
pending); every control 44 px, nothing off screen, no serious axe finding, light and dark,
English and Russian."""

from __future__ import annotations

from datetime import datetime

import pytest

from schedule import outbox
from tests.e2e.test_native_browser import SETTLED, axe_problems, small_controls, tap
from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import ANNA, BORIS, TRAINER, auth
from webapp import broadcasts
from webapp.extensions import db

pytestmark = pytest.mark.browser
CONTROLS = ".broadcasts button, .broadcasts label.choice, .broadcasts input[type=date]"


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_trainer_sends_a_message_and_sees_it_delivered(
    browser, sqlite_app, live_sqlite_url, artifacts, theme, lang, monkeypatch
):
    # A card still sending asks again every 2 s; here every 0.2 s (the wait below is for it).
    monkeypatch.setattr(broadcasts, "REFRESH_SECONDS", 0.2)
    client = sqlite_app.test_client()
    for user in (ANNA, BORIS):
        assert client.get("/api/bookings", headers=auth(user)).status_code == 200
    page = open_app(
        browser,
        live_sqlite_url,
        user={**TRAINER, "language_code": lang},
        theme=DARK if theme == "dark" else LIGHT,
        scheme=theme,
    )
    tap(page, "[data-admin-nav=messages]")
    page.locator("[data-admin-nav=messages][aria-current=page]").wait_for()
    page.fill("textarea[name=text]", "Hall closed on Friday <27 Nov> & Saturday")
    tap(page, "[data-admin-action=preview-broadcast]")
    page.locator("[data-broadcast-confirm]").wait_for()
    page.wait_for_function(SETTLED)
    assert page.get_attribute("[data-consequence=recipients]", "data-recipients") == "2"
    page.screenshot(path=artifacts / "confirm.png", full_page=True)
    assert small_controls(page, CONTROLS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_problems(page) == []

    tap(page, "[data-broadcast-confirm] [data-action=confirm]")
    card = page.locator("[data-broadcast-id]")
    card.wait_for()
    assert card.get_attribute("data-sent") == "0"
    with sqlite_app.app_context():  # a dispatcher sends both
        session = db.session()
        now = datetime(2026, 11, 25, 6, 0)
        outbox.mark_sent(session, outbox.claim(session, 10, now), now)
    page.locator("[data-broadcast-id][data-sent='2'][data-pending='0']").wait_for()
    assert page.locator("[data-broadcast-id]").count() == 1
    page.screenshot(path=artifacts / "sent.png", full_page=True)
    assert axe_problems(page) == []
