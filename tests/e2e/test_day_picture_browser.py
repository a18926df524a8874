"""Issue 12's day in Chromium at 390 px, light and dark, English and Russian: every start that
cannot be booked says why in its cell, full starts offer the waitlist, the viewer's own booking
is one block that opens move / cancel, past starts are not cells, and every control is at least
44 px. Screenshots in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from schedule import services
from schedule.timegrid import parse_date
from tests.fixtures_browser import DARK, LIGHT, fill_slot, open_app
from tests.fixtures_web import ANNA, BORIS, TOMORROW, trainer_unit
from tests.webapp.test_first_paint import book_as

pytestmark = pytest.mark.browser

# What a cell says, by refusal (the catalogs' reason_* and waitlist_join_short).
SAYS = {
    "en": {"full": "full · wait", "overlapping": "overlaps your 14:00", "closed": "closed",
           "after_hours": "ends after 18:00"},
    "ru": {"full": "мест нет · ждать", "overlapping": "у вас 14:00", "closed": "закрыто",
           "after_hours": "позже 18:00"},
}  # fmt: skip

CELLS = """() => [...document.querySelectorAll('#grid button[data-slot-start]')].map(b => {
  const r = b.getBoundingClientRect();
  return {start: b.dataset.slotStart, refusal: b.dataset.refusal, canWait: b.dataset.canWait,
          line: b.querySelector('small').textContent.trim(), width: r.width, height: r.height,
          opacity: getComputedStyle(b).opacity, own: b.classList.contains('own')};
})"""


def until(page, expression: str) -> None:
    for _ in range(250):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"never true: {expression}")


@pytest.mark.parametrize(
    "scheme, lang", [("light", "en"), ("light", "ru"), ("dark", "en"), ("dark", "ru")]
)
def test_every_cell_says_what_it_means(
    browser, sqlite_app, live_sqlite_url, artifacts, scheme, lang
):
    user = ANNA if lang == "en" else BORIS
    fill_slot(sqlite_app, "10:30", 4)
    book_as(sqlite_app, user, "14:00", TOMORROW)
    with sqlite_app.app_context():
        services.add_closure(
            trainer_unit(sqlite_app),
            parse_date(TOMORROW),
            start_minute=16 * 60,
            end_minute=16 * 60 + 30,
        )
    page = open_app(
        browser, live_sqlite_url, user, DARK if scheme == "dark" else LIGHT, scheme=scheme
    )
    page.click(f"[data-date='{TOMORROW}']")
    until(page, "document.querySelector('#grid h2').textContent.includes('26')")
    until(page, "!!document.querySelector('#grid .own')")
    cells = {cell["start"]: cell for cell in page.evaluate(CELLS)}
    page.screenshot(path=artifacts / "day.png", full_page=True)

    says = SAYS[lang]
    for start in ("09:30", "10:00", "10:30", "11:00", "11:30"):
        assert (cells[start]["refusal"], cells[start]["line"]) == ("full", says["full"]), start
    assert cells["13:00"]["line"] == says["overlapping"]
    assert cells["17:00"]["line"] == says["after_hours"]
    assert cells["15:30"]["line"] == says["closed"]  # runs into the 16:00 closure
    for cell in cells.values():
        assert cell["width"] >= 44 and cell["height"] >= 44, cell
        assert cell["opacity"] == "1", cell  # nothing faded out of reading
        if cell["refusal"] and not cell["own"]:
            assert cell["line"] and not re.search("free|свободно", cell["line"]), cell

    own = page.locator("#grid .own")
    assert own.get_attribute("data-slot-start") == "14:00"
    assert "14:00–15:30" in own.inner_text()
    own.click()
    sheet = page.locator("[data-sheet]")
    sheet.wait_for()
    for control in ("[data-action=reschedule]", "[data-action=cancel]", "[data-dismiss]"):
        box = sheet.locator(control).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, control
    page.screenshot(path=artifacts / "own-booking.png", full_page=True)


def test_past_starts_are_not_cells(browser, sqlite_app, live_sqlite_url):
    page = open_app(browser, live_sqlite_url)  # today, 09:00: the first start shown is 09:30
    starts = page.evaluate(
        "[...document.querySelectorAll('#grid [data-slot-start]')].map(b => b.dataset.slotStart)"
    )
    assert starts[0] == "09:30" and "08:00" not in starts
