"""The waitlist of one kind in Chromium (issue 25): a full personal hour is waited for from its
own grid, the group's free 10:00 stays bookable and no line of the viewer's, and My trainings
says which kind the entry waits for; at 390 px in light and dark, English and Russian (controls
at least 44 px, nothing sideways). Screenshots in test-artifacts/ and /tmp/shots/waitlist/."""

from __future__ import annotations

from pathlib import Path

import pytest

from schedule import services
from schedule.kinds import add_kind, add_trainer
from schedule.timegrid import parse_date
from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import TOMORROW, client_unit, make_user, trainer_unit
from webapp.extensions import db

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/waitlist")
KEEN = {
    "en": {"id": 1201, "first_name": "Kate", "language_code": "en"},
    "ru": {"id": 1202, "first_name": "Катя", "language_code": "ru"},
}
WORDS = {"en": ("#1 in line", "Personal"), "ru": ("1-й в очереди", "Personal")}


def fits(page) -> None:
    """Every control of the view at least 44 px tall, nothing past the 390 px screen. In one
    evaluate (a bounding_box per button was a round trip to Chromium each)."""
    low = page.evaluate(
        """() => [...document.querySelectorAll('#app button')].filter(el => {
             const r = el.getBoundingClientRect();  // visible as Playwright's :visible means it
             return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'
               && r.height < 44;
           }).map(el => el.outerHTML)"""
    )
    assert low == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize(
    ("lang", "scheme"), [("en", "light"), ("en", "dark"), ("ru", "light"), ("ru", "dark")]
)
def test_wait_for_a_personal_hour_from_its_own_grid(
    browser, sqlite_app, live_sqlite_url, artifacts, lang, scheme
):
    with sqlite_app.app_context():
        owner = trainer_unit(sqlite_app)
        anna = add_trainer(owner, 5001, "Anna").id
        add_trainer(owner, 5002, "Boris")
        personal = add_kind(owner, "Personal", 60, 1, [anna]).id
        holder = services.upsert_user(db.session(), make_user(4000))
        services.book(
            client_unit(sqlite_app, holder), holder, parse_date(TOMORROW), 600, kind=personal
        )
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = f"{lang}-{scheme}"
    theme = DARK if scheme == "dark" else LIGHT
    page = open_app(browser, live_sqlite_url, user=KEEN[lang], theme=theme, scheme=scheme)
    in_line, kind_name = WORDS[lang]

    page.click(f"[data-kind='{personal}']")
    page.locator(f"[data-kind='{personal}'][aria-pressed=true]").wait_for()
    page.click(f"[data-date='{TOMORROW}']")
    page.locator(f"#grid[data-grid-date='{TOMORROW}']").wait_for()
    full = page.locator("[data-slot-start='10:00']")
    assert full.get_attribute("data-can-wait") == "true", full.evaluate("e => e.outerHTML")
    page.click("[data-join-start='10:00']")
    sheet = page.locator("[data-sheet]")
    sheet.wait_for()
    assert "10:00–11:00" in sheet.inner_text()
    fits(page)
    page.screenshot(path=artifacts / f"01-{name}-confirm.png")
    page.screenshot(path=SHOTS / f"{name}-1-confirm.png")
    page.click("[data-action=confirm]")
    waiting = page.locator("[data-slot-start='10:00'][data-waitlist=true]")
    waiting.wait_for()
    assert in_line in waiting.inner_text()
    page.locator(f"[data-kind='{personal}'][aria-pressed=true]").wait_for()  # its own grid still
    fits(page)
    page.screenshot(path=artifacts / f"02-{name}-waiting.png")
    page.screenshot(path=SHOTS / f"{name}-2-waiting.png")

    page.click("[data-kind='1']")  # the group's day: the pickers open the tab on the grid's day
    page.locator("[data-kind='1'][aria-pressed=true]").wait_for()
    page.locator(f"#grid[data-grid-date='{TOMORROW}']").wait_for()
    group = page.locator("[data-slot-start='10:00']")
    assert group.get_attribute("data-waitlist") == "false"
    assert group.get_attribute("data-can-start") == "true"

    page.click("[data-nav=my]")
    entry = page.locator("[data-waitlist-entry]")
    entry.wait_for()
    text = entry.inner_text()
    assert "10:00–11:00" in text and in_line in text and kind_name in text
    assert entry.locator(f"[data-waitlist-kind='{personal}']").is_visible()
    fits(page)
    page.screenshot(path=artifacts / f"03-{name}-my.png")
    page.screenshot(path=SHOTS / f"{name}-3-my.png")
