"""Issue 23 in Chromium at 390 px: the sheets say what an act will do before its confirm, Telegram's
MainButton / BackButton stand for the sheet's own buttons (not shown twice), the grid's own
booking asks before cancelling, one notice about the viewer, the phone asked first with a way
on, typed text guarded by Telegram's closing confirmation, safe areas honoured; and axe-core
finds no serious or critical issue on the schedule, an open sheet and My trainings, light and
dark, English and Russian. Screenshots go to /tmp/shots/ (and test-artifacts/)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from schedule import Booking, services
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.e2e.test_native_browser import SETTLED, axe_problems, small_controls, tap
from tests.fixtures_browser import DARK, LIGHT, open_app, press_main_button
from tests.fixtures_web import ANNA, TOMORROW, trainer_unit
from tests.webapp.test_consequence_pages import give_pass
from webapp.extensions import db

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def rules(app, **changes) -> None:
    app.config["SCHEDULE"] = dataclasses.replace(app.config["SCHEDULE"], **changes)


def book(app, user: dict, day: str, start: str) -> int:
    with app.app_context():
        session = db.session()
        client = services.upsert_user(session, user)
        minute = int(start[:2]) * 60 + int(start[3:])
        booking = services.book(
            Unit(session, app.config["SCHEDULE"], Actor.client(client), now=app.config["CLOCK"]()),
            client,
            parse_date(day),
            minute,
        )
        return booking.id


def status(app, booking_id: int) -> str:
    with app.app_context():
        return db.session.get(Booking, booking_id).status


def open_day(page, day: str) -> None:
    tap(page, f"[data-date='{day}']")
    page.locator(f"#grid[data-grid-date='{day}']").wait_for()
    page.wait_for_function(SETTLED)


def test_inside_telegram_the_sheet_lists_consequences_and_its_buttons_are_telegrams(
    browser, sqlite_app, live_sqlite_url
):
    give_pass(sqlite_app, visits=5)
    page = open_app(browser, live_sqlite_url, telegram_stub=True)
    open_day(page, TOMORROW)
    tap(page, "[data-slot-start='12:00']")
    sheet = page.locator("[data-sheet]")
    sheet.wait_for()
    paid = sheet.locator("[data-consequence=pass]")
    assert paid.get_attribute("data-visits-left") == "4" and paid.is_visible()
    assert sheet.locator("[data-consequence=cancel_until]").is_visible()
    # In the DOM (Telegram's MainButton clicks it), but shown once: as Telegram's button.
    assert sheet.locator("[data-action=confirm]").count() == 1
    assert sheet.locator("[data-action=confirm]").is_hidden()
    assert sheet.locator("[data-dismiss]").is_hidden()
    page.wait_for_function("Telegram.WebApp.MainButton.isVisible")
    assert page.evaluate("Telegram.WebApp.MainButton.text") == "Book"
    assert page.evaluate("Telegram.WebApp.BackButton.isVisible")

    press_main_button(page)
    own = page.locator("[data-slot-start='12:00'][data-booking-id]")
    own.wait_for()
    booking_id = int(own.get_attribute("data-booking-id"))

    # The own booking's sheet asks before it cancels, and says the visit comes back.
    tap(page, "[data-slot-start='12:00'][data-booking-id]")
    page.locator("[data-sheet] [data-action=cancel]").wait_for()
    page.wait_for_function(SETTLED)
    assert page.locator("[data-sheet] [data-action=confirm]").count() == 0
    tap(page, "[data-sheet] [data-action=cancel]")
    refund = page.locator("[data-sheet] [data-consequence=refund]")
    refund.wait_for()
    assert refund.get_attribute("data-visits-left") == "5"
    assert status(sqlite_app, booking_id) == "active"  # asked, not done
    page.wait_for_function("Telegram.WebApp.MainButton.text === 'Yes, cancel'")
    press_main_button(page)
    page.locator("[data-nav=my][aria-current=page]").wait_for()
    assert status(sqlite_app, booking_id) == "cancelled"


def test_in_a_plain_browser_the_sheet_shows_its_own_buttons(browser, sqlite_app, live_sqlite_url):
    page = open_app(browser, live_sqlite_url)
    open_day(page, TOMORROW)
    tap(page, "[data-slot-start='12:00']")
    page.locator("[data-sheet] [data-consequence=unpaid]").wait_for()
    assert page.locator("[data-sheet] [data-action=confirm]").is_visible()
    assert page.locator("[data-sheet] [data-dismiss]").is_visible()
    assert small_controls(page, "[data-sheet] button") == []


def test_a_start_inside_the_cancel_window_warns_before_the_booking(
    browser, sqlite_app, live_sqlite_url
):
    page = open_app(browser, live_sqlite_url)
    open_day(page, "2026-11-25")  # today, 09:00: 10:00 is past the two-hour deadline
    tap(page, "[data-slot-start='10:00']")
    late = page.locator("[data-sheet] [data-consequence=late]")
    late.wait_for()
    assert "can no longer be cancelled or moved" in late.inner_text()
    assert page.locator("[data-sheet] [data-consequence=cancel_until]").count() == 0


def test_a_client_at_the_limit_sees_one_notice_and_their_day_is_not_struck_out(
    browser, sqlite_app, live_sqlite_url
):
    rules(sqlite_app, max_bookings_per_day=1)
    book(sqlite_app, ANNA, TOMORROW, "10:00")
    page = open_app(browser, live_sqlite_url)
    open_day(page, TOMORROW)
    notice = page.locator("[data-notice=limit_reached]")
    assert notice.count() == 1 and notice.is_visible()
    day = page.locator(f"[data-date='{TOMORROW}']")
    assert day.get_attribute("data-mine") == "true"
    assert day.get_attribute("data-available") == "false"
    decoration = page.evaluate(
        f"getComputedStyle(document.querySelector(\"[data-date='{TOMORROW}'] b\"))"
        ".textDecorationLine"
    )
    assert decoration == "none"
    tap(page, "[data-notice=limit_reached] [data-open-my]")
    page.locator("[data-nav=my][aria-current=page]").wait_for()


def test_the_phone_is_asked_first_and_a_refusal_leaves_a_way_on(
    browser, sqlite_app, live_sqlite_url
):
    rules(sqlite_app, phone_required=True)
    page = open_app(browser, live_sqlite_url, telegram_stub=True)
    open_day(page, TOMORROW)
    tap(page, "[data-slot-start='12:00']")
    page.locator("[data-phone-sheet]").wait_for()
    assert page.locator("[data-consequence]").count() == 0
    page.wait_for_function("Telegram.WebApp.MainButton.text === 'Share my phone number'")
    press_main_button(page)  # Telegram's popup; the client declines (no contact)
    page.locator("[data-phone-declined]").wait_for()
    assert page.locator("[data-phone-sheet]").is_visible()
    page.evaluate("window.__tg.back()")  # the way back is Telegram's BackButton
    page.locator("[data-phone-sheet]").wait_for(state="detached")


def test_typed_text_is_guarded_by_telegrams_closing_confirmation(
    browser, sqlite_app, live_sqlite_url
):
    page = open_app(browser, live_sqlite_url, telegram_stub=True)
    page.evaluate(
        """() => {
          const tg = Telegram.WebApp;
          tg.enableClosingConfirmation = () => window.__tg.calls.push(['guard', true]);
          tg.disableClosingConfirmation = () => window.__tg.calls.push(['guard', false]);
          const field = document.createElement('textarea');
          field.id = 'typed';
          document.querySelector('#app').prepend(field);
        }"""
    )
    page.fill("#typed", "The trainer is ill")
    assert page.evaluate("window.__tg.calls.filter(c => c[0] === 'guard').at(-1)[1]") is True
    page.fill("#typed", "")
    assert page.evaluate("window.__tg.calls.filter(c => c[0] === 'guard').at(-1)[1]") is False


def test_telegrams_safe_areas_keep_the_tabs_clear(browser, sqlite_app, live_sqlite_url):
    page = open_app(browser, live_sqlite_url)
    page.evaluate(
        """() => {
          const root = document.documentElement.style;
          root.setProperty('--tg-safe-area-inset-top', '24px');
          root.setProperty('--tg-content-safe-area-inset-top', '46px');
          root.setProperty('--tg-safe-area-inset-bottom', '34px');
        }"""
    )
    body = page.evaluate(
        "(() => { const s = getComputedStyle(document.body);"
        " return [s.paddingTop, s.paddingBottom]; })()"
    )
    assert body == ["70px", "34px"]
    assert page.evaluate("getComputedStyle(document.querySelector('.tabs')).top") == "70px"


def seed_history(app) -> None:
    """Anna: a training today at 10:00 that is over when the clock moves to 13:00, one the
    studio cancelled with its reason, and one upcoming tomorrow."""
    book(app, ANNA, "2026-11-25", "10:00")
    studio = book(app, ANNA, "2026-11-28", "12:00")
    with app.app_context():
        services.cancel(
            trainer_unit(app),
            studio,
            reason="The hall is being repaired",
        )
        services.add_closure(
            trainer_unit(app),
            parse_date("2026-11-29"),
            reason="Holiday",
        )
    book(app, ANNA, TOMORROW, "10:00")
    app.config["CLOCK"].advance(hours=4)  # 13:00 in Moscow


# Walked on two pages (a fresh page per screen cost ~0.5 s of Chromium each): inside Telegram
# the open sheet; in a plain browser the rest. Page, name, day opened (None: stay), taps.
SCREENS = (
    ("telegram", "sheet", "2026-11-27", ("[data-slot-start='14:00']",)),
    ("plain", "schedule", TOMORROW, ()),
    (
        "plain",
        "cancel-sheet",
        None,
        ("[data-slot-start='10:00'][data-booking-id]", "[data-sheet] [data-action=cancel]"),
    ),
    ("plain", "my", None, ("[data-nav=my]",)),
)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_and_the_screens_are_shot(
    browser, sqlite_app, live_sqlite_url, artifacts, theme, lang
):
    rules(sqlite_app, max_bookings_per_day=1)
    give_pass(sqlite_app, visits=8)
    seed_history(sqlite_app)
    SHOTS.mkdir(exist_ok=True)
    problems = {}
    opened = None
    for where, name, day, taps in SCREENS:
        if where != opened:
            opened = where
            page = open_app(
                browser,
                live_sqlite_url,
                user={**ANNA, "language_code": lang},
                theme=DARK if theme == "dark" else LIGHT,
                scheme=theme,
                telegram_stub=where == "telegram",
            )
        page.evaluate("window.scrollTo(0, 0)")  # where a page opened afresh would be
        if day:
            open_day(page, day)
        for selector in taps:
            tap(page, selector)
        page.wait_for_function(SETTLED)
        shot = f"{lang}-{theme}-{name}.png"
        page.screenshot(path=SHOTS / shot, full_page=True)
        page.screenshot(path=artifacts / shot, full_page=True)
        assert page.locator("main h1").count() == 1
        found = axe_problems(page)
        if found:
            problems[name] = found
    assert problems == {}


def test_my_trainings_lists_the_history_with_the_studios_reason(
    browser, sqlite_app, live_sqlite_url
):
    seed_history(sqlite_app)
    page = open_app(browser, live_sqlite_url, user={**ANNA, "language_code": "ru"})
    tap(page, "[data-nav=my]")
    history = page.locator("[data-history]")
    history.wait_for()
    text = history.inner_text()
    assert "Отменено студией" in text and "Причина: The hall is being repaired" in text
    assert "Состоялось" in text
    assert page.locator("[data-history] [data-past-booking-id]").count() == 2
