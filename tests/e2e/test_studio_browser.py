"""The owners' Studio screen in Chromium (issue 25): add a kind, edit it in place, remove it
after the sheet that says what removing does; at 390 px every control is at least 44 px and
nothing spills sideways, in light and dark, English and Russian (screenshots in
test-artifacts/, and /tmp/shots/studio/ when that folder exists)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schedule.kinds import add_kind, add_trainer
from schedule.models import Kind
from schedule.unit import Actor, Unit
from tests.fixtures_browser import DARK, LIGHT, open_app
from tests.fixtures_web import TRAINER
from webapp.extensions import db

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/studio")


def tap(page, selector: str) -> None:
    """Click once htmx has settled, so that the element's own listener is in place."""
    page.locator(selector).first.wait_for()
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
    page.click(selector)


def settled(page) -> None:
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / name, full_page=True)
    if SHOTS.is_dir():
        shutil.copy(artifacts / name, SHOTS / name)


def small_controls(page) -> list[str]:
    """Every visible control of the Studio screen smaller than 44 px either way."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
             `.studio button, .studio summary, .studio label.choice,
              .studio input:not([type=checkbox])`)]
           .filter((el) => el.offsetParent !== null)
           .map((el) => [el, el.getBoundingClientRect()])
           .filter(([el, box]) => box.height < 44 || box.width < 44)
           .map(([el, box]) => `${el.outerHTML.slice(0, 80)} ${box.width}x${box.height}`)"""
    )


@pytest.fixture
def gym(sqlite_app):
    with sqlite_app.app_context():
        owner = Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna").id
        boris = add_trainer(owner, 5002, "Boris", "mon-fri 12:00-20:00; sat 10:00-14:00").id
        add_kind(owner, "Personal", 60, 1, [anna, boris])
    return anna, boris


def open_studio(browser, url, lang="en", theme=LIGHT, scheme="light"):
    page = open_app(
        browser, url, user={**TRAINER, "language_code": lang}, theme=theme, scheme=scheme
    )
    tap(page, "[data-nav=admin]")
    tap(page, "[data-admin-nav=studio]")
    page.locator("[data-admin-nav=studio][aria-current=page]").wait_for()
    page.locator("[data-studio-kinds]").wait_for()
    return page


def test_an_owner_adds_edits_and_removes_a_kind(
    browser, sqlite_app, live_sqlite_url, artifacts, gym
):
    anna, boris = gym
    page = open_studio(browser, live_sqlite_url)
    tap(page, "[data-studio-add=kind] summary")
    form = page.locator("[data-admin-form=kind]")
    form.locator("input[name=name]").fill("Stretching")
    form.locator("input[name=minutes]").fill("60")
    form.locator("input[name=capacity]").fill("5")
    form.locator(f"input[name=trainer_ids][value='{anna}']").check()
    tap(page, "[data-action=add-kind]")
    page.locator("[data-notice]:has-text('Added: Stretching.')").wait_for()
    card = page.locator(".kind:has-text('Stretching')")
    kind_id = card.get_attribute("data-kind-id")
    assert "60 min · 5 at once" in card.inner_text() and "Anna" in card.inner_text()

    tap(page, f"[data-kind-id='{kind_id}'] [data-action=edit-kind]")
    edit = page.locator(f"[data-kind-id='{kind_id}'] [data-admin-form=edit-kind]")
    edit.wait_for()
    shot(page, artifacts, "01-editing-a-kind.png")
    edit.locator("input[name=capacity]").fill("8")
    edit.locator(f"input[name=trainer_ids][value='{boris}']").check()
    tap(page, f"[data-kind-id='{kind_id}'] [data-action=save-kind]")
    page.locator("[data-notice]:has-text('Saved: Stretching.')").wait_for()
    card = page.locator(f"[data-kind-id='{kind_id}']")
    assert "60 min · 8 at once" in card.inner_text() and "Anna, Boris" in card.inner_text()

    tap(page, f"[data-kind-id='{kind_id}'] [data-action=retire-kind]")
    sheet = page.locator(f"[data-kind-id='{kind_id}'] [data-sheet]")
    sheet.wait_for()
    assert "Clients can no longer book it" in sheet.inner_text()
    settled(page)
    assert not small_controls(page), small_controls(page)
    shot(page, artifacts, "02-removing-a-kind.png")
    tap(page, f"[data-kind-id='{kind_id}'] [data-action=confirm]")
    page.locator("[data-notice]:has-text('is removed')").wait_for()
    page.locator(f"[data-kind-id='{kind_id}']").wait_for(state="detached")
    with sqlite_app.app_context():
        assert db.session.get(Kind, int(kind_id)).retired_at is not None


@pytest.mark.parametrize(
    ("lang", "scheme"), [("en", "light"), ("en", "dark"), ("ru", "light"), ("ru", "dark")]
)
def test_the_studio_fits_a_phone(
    browser, sqlite_app, live_sqlite_url, artifacts, gym, lang, scheme
):
    theme = DARK if scheme == "dark" else LIGHT
    page = open_studio(browser, live_sqlite_url, lang, theme, scheme)
    tap(page, "[data-studio-add=trainer] summary")
    tap(page, "[data-studio-add=kind] summary")
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not small_controls(page), small_controls(page)
    shot(page, artifacts, f"studio-{lang}-{scheme}.png")
    tap(page, f"[data-trainer-id='{gym[1]}'] [data-action=trainer-days-off]")
    page.locator("[data-action=add-trainer-closure]").wait_for()
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not small_controls(page), small_controls(page)
    shot(page, artifacts, f"days-off-{lang}-{scheme}.png")
