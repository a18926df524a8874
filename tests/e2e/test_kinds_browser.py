"""The kind and trainer pickers in Chromium (DESIGN.md, "Trainers and kinds"): pick a personal
hour with one trainer, see that trainer's day, book it by tapping; the chips are 44 px tall and
nothing spills past a 390 px screen, in light and dark, English and Russian (screenshots in
test-artifacts/, and /tmp/shots/kinds/ when that folder exists)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schedule import Booking
from schedule.kinds import add_kind, add_trainer
from schedule.unit import Actor, Unit
from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import ANNA, TOMORROW
from webapp.extensions import db

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/kinds")


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
    page.locator(f"[data-date='{TOMORROW}'][aria-current=true]").wait_for()  # at the tap
    settled(page)  # the day's grid swapped in
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


def settled(page) -> None:
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / name, full_page=True)
    if SHOTS.is_dir():
        shutil.copy(artifacts / name, SHOTS / name)


def small_controls(page) -> list[str]:
    """Every visible control of the booking tab smaller than 44 px either way (a scrolled-away
    chip counts too: it is as big when scrolled to)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(`#app button, #app a[href], #app summary`)]
           .filter((el) => el.offsetParent !== null)
           .map((el) => [el, el.getBoundingClientRect()])
           .filter(([el, box]) => box.height < 44 || box.width < 44)
           .map(([el, box]) => `${el.outerHTML.slice(0, 80)} ${box.width}x${box.height}`)"""
    )


def fits(page) -> None:
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not small_controls(page), small_controls(page)


@pytest.mark.parametrize(
    ("lang", "scheme"), [("en", "light"), ("en", "dark"), ("ru", "light"), ("ru", "dark")]
)
def test_the_pickers_fit_a_phone(browser, sqlite_app, live_sqlite_url, artifacts, lang, scheme):
    """Three kinds (one with a long name) and three trainers: the pickers at 390 px, then a
    kind two trainers give with one of them picked."""
    with sqlite_app.app_context():
        owner = Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna").id
        boris = add_trainer(owner, 5002, "Boris", "12:00-20:00").id
        add_trainer(owner, 5003, "Konstantin Konstantinopolsky")
        personal = add_kind(owner, "Personal", 60, 1, [anna, boris]).id
        stretch = add_kind(owner, "Stretching and mobility", 120, 6, [anna]).id
    theme = DARK if scheme == "dark" else LIGHT
    user = {**ANNA, "language_code": lang}
    page = open_app(browser, live_sqlite_url, user=user, theme=theme, scheme=scheme)
    page.locator("[data-pickers]").wait_for()
    fits(page)
    shot(page, artifacts, f"pickers-{lang}-{scheme}.png")

    page.click(f"[data-kind='{personal}']")
    page.locator(f"[data-kind='{personal}'][aria-pressed=true]").wait_for()
    page.click(f"[data-trainer='{boris}']")
    page.locator(f"[data-trainer='{boris}'][aria-pressed=true]").wait_for()
    page.click(f"[data-date='{TOMORROW}']")
    page.locator(f"[data-date='{TOMORROW}'][aria-current=true]").wait_for()
    fits(page)
    shot(page, artifacts, f"personal-boris-{lang}-{scheme}.png")

    # The last kind, past the row's edge at first: chosen, it scrolls into sight.
    page.locator(f"[data-kind='{stretch}']").scroll_into_view_if_needed()
    page.click(f"[data-kind='{stretch}']")
    chosen = page.locator(f"[data-kind='{stretch}'][aria-pressed=true]")
    chosen.wait_for()
    fits(page)
    box = chosen.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.locator("[data-trainer]").count() == 0  # Anna alone gives it: no whom
    shot(page, artifacts, f"stretch-{lang}-{scheme}.png")
