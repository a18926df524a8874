"""The Mini App in Debian's Chromium, opened as Telegram opens it (init data and theme in the
URL fragment). Screenshots of every step go to test-artifacts/."""

from __future__ import annotations

import json

import pytest

from schedule import services
from tests.fixtures_browser import (
    DARK,
    contrast,
    fill_slot,
    open_app,
    press_main_button,
    relative_luminance,
)
from tests.fixtures_web import ANNA, BORIS, TOMORROW
from webapp.extensions import db

pytestmark = pytest.mark.browser


def test_book_see_it_in_my_trainings_and_cancel(browser, sqlite_app, live_sqlite_url, artifacts):
    page = open_app(browser, live_sqlite_url)
    assert page.locator("[data-nav=admin]").count() == 0
    assert page.locator("[data-date]").count() == 8
    page.screenshot(path=artifacts / "01-opened.png")

    page.click(f"[data-date='{TOMORROW}']")
    page.locator(f"[data-date='{TOMORROW}'][aria-current=true]").wait_for()
    slot = page.locator("[data-slot-start='10:00']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
    assert slot.get_attribute("data-free") == "4"
    assert slot.get_attribute("data-can-start") == "true"
    slot.click()
    confirm = page.locator("[data-action=confirm]")
    confirm.wait_for()
    assert "10:00–11:30" in page.locator("[data-sheet]").inner_text()
    page.screenshot(path=artifacts / "02-confirm.png")

    confirm.click()
    notice = page.locator("[data-notice]:not([hidden])")
    notice.wait_for()
    assert "10:00–11:30" in notice.inner_text()
    booked = page.locator("[data-slot-start='10:00']")
    assert booked.get_attribute("data-free") == "3"
    assert "mine" in booked.get_attribute("class")
    page.screenshot(path=artifacts / "03-booked.png")

    page.click("[data-nav=my]")
    item = page.locator("[data-booking-id]")
    item.wait_for()
    assert "10:00–11:30" in item.inner_text()
    assert item.locator("a[download]").get_attribute("href").endswith(".ics")
    page.screenshot(path=artifacts / "04-my-trainings.png")

    item.locator("[data-action=cancel]").click()
    page.locator("[data-booking-id] [data-action=confirm]").wait_for()
    page.screenshot(path=artifacts / "05-confirm-cancel.png")
    page.click("[data-booking-id] [data-action=confirm]")
    page.locator("[data-booking-id]").wait_for(state="detached")
    assert page.locator("[data-notice]:not([hidden])").is_visible()
    page.screenshot(path=artifacts / "06-cancelled.png")
    with sqlite_app.app_context():
        assert (
            services.upcoming_bookings(
                db.session(), services.upsert_user(db.session(), ANNA), sqlite_app.config["CLOCK"]()
            )
            == []
        )


def test_a_slot_taken_meanwhile_shows_why_and_the_truth(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    page = open_app(browser, live_sqlite_url, user=BORIS)
    page.click(f"[data-date='{TOMORROW}']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
    page.click("[data-slot-start='10:00']")
    page.locator("[data-action=confirm]").wait_for()
    fill_slot(sqlite_app, "10:00", 4)  # someone else took the last places meanwhile
    page.click("[data-action=confirm]")
    error = page.locator("[data-notice].error:not([hidden])")
    error.wait_for()
    assert "мест нет" in error.inner_text().lower()  # Boris reads Russian
    refreshed = page.locator("[data-slot-start='10:00']")
    assert refreshed.get_attribute("data-free") == "0"
    assert refreshed.get_attribute("data-can-start") == "false"
    assert refreshed.get_attribute("data-refusal") == "full"
    assert refreshed.get_attribute("data-can-wait") == "true"  # the cell now offers the waitlist
    page.screenshot(path=artifacts / "slot-taken.png")


def test_a_dropped_network_is_shown_in_place(browser, sqlite_app, live_sqlite_url, artifacts):
    page = open_app(browser, live_sqlite_url)
    page.click(f"[data-date='{TOMORROW}']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
    page.click("[data-slot-start='11:00']")
    page.locator("[data-action=confirm]").wait_for()
    page.route("**/app/bookings", lambda route: route.abort("internetdisconnected"))
    page.click("[data-action=confirm]")
    error = page.locator("[data-notice].error:not([hidden])")
    error.wait_for()
    assert "connection" in error.inner_text().lower()
    page.screenshot(path=artifacts / "offline.png")


def test_telegram_buttons_haptics_and_the_main_button_books(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    page = open_app(browser, live_sqlite_url, telegram_stub=True)
    calls = [c[0] for c in page.evaluate("window.__tg.calls")]
    assert "ready" in calls and "expand" in calls
    assert page.evaluate("Telegram.WebApp.MainButton.isVisible") is False
    page.click(f"[data-date='{TOMORROW}']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
    page.click("[data-slot-start='12:00']")
    # The sheet keeps its confirm in the DOM; inside Telegram it is Telegram's MainButton.
    page.locator("[data-action=confirm]").wait_for(state="attached")
    page.wait_for_function("Telegram.WebApp.MainButton.isVisible")
    assert page.evaluate("Telegram.WebApp.MainButton.text") == "Book"
    assert page.evaluate("Telegram.WebApp.BackButton.isVisible") is True

    press_main_button(page)  # the user taps Telegram's MainButton
    page.locator("[data-notice]:not([hidden])").wait_for()
    page.wait_for_function("window.__tg.calls.some(c => c[0] === 'haptic' && c[1] === 'success')")
    page.wait_for_function("!Telegram.WebApp.MainButton.isVisible")
    assert page.locator("[data-slot-start='12:00']").get_attribute("data-free") == "3"

    page.click("[data-nav=my]")
    page.locator("[data-booking-id]").wait_for()
    page.wait_for_function("Telegram.WebApp.BackButton.isVisible")
    page.evaluate("window.__tg.back()")  # Telegram's BackButton returns to booking
    page.locator("[data-nav=book][aria-current=page]").wait_for()


def test_the_admin_sees_the_trainer_tab(browser, sqlite_app, live_sqlite_url, artifacts):
    from tests.fixtures_web import TRAINER

    fill_slot(sqlite_app, "10:00", 2)
    page = open_app(browser, live_sqlite_url, user=TRAINER)
    page.click("[data-nav=admin]")
    page.click(f"[data-admin-date='{TOMORROW}']")
    page.locator("[data-admin-booking-id]").first.wait_for()
    assert page.locator("[data-admin-booking-id]").count() == 2
    page.screenshot(path=artifacts / "trainer.png")


@pytest.mark.parametrize("source", ["launch-parameters", "system-dark-mode"])
def test_the_dark_theme_is_readable(browser, sqlite_app, live_sqlite_url, artifacts, source):
    fill_slot(sqlite_app, "10:00", 1)
    theme = DARK if source == "launch-parameters" else {}
    page = open_app(browser, live_sqlite_url, theme=theme, scheme="dark")
    page.click(f"[data-date='{TOMORROW}']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
    page.click("[data-slot-start='14:00']")
    page.locator("[data-action=confirm]").wait_for()
    page.screenshot(path=artifacts / "dark.png")
    colours = page.evaluate("""() => {
      const style = (s) => getComputedStyle(document.querySelector(s));
      return {page: style('body').backgroundColor, slot: style('[data-slot-start]').backgroundColor,
              slotText: style('[data-slot-start] b').color, tab: style('[data-nav=my]').color,
              button: style('[data-action=confirm]').backgroundColor,
              buttonText: style('[data-action=confirm]').color};
    }""")
    assert relative_luminance(colours["page"]) < 0.05  # it is dark
    assert contrast(colours["slotText"], colours["slot"]) >= 7
    assert contrast(colours["tab"], colours["page"]) >= 3
    assert contrast(colours["buttonText"], colours["button"]) >= 3


def test_sharing_the_phone_through_telegram_then_booking(browser, clock, sqlite_url):
    from schedule import Settings
    from schedule.db import create_schema, make_engine
    from tests.fixtures_web import build_app, serve
    from tests.webapp.test_pages import contact_response

    create_schema(make_engine(sqlite_url))
    app = build_app(sqlite_url, clock, SCHEDULE=Settings(phone_required=True))
    url, stop = serve(app)
    try:
        page = open_app(browser, url, telegram_stub=True)
        page.evaluate(f"window.__contact = {json.dumps(contact_response(ANNA['id']))}")
        page.click(f"[data-date='{TOMORROW}']")
        page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
        page.click("[data-slot-start='10:00']")
        page.locator("[data-phone-sheet]").wait_for()  # asked before the first confirm sheet
        press_main_button(page)  # Telegram's MainButton: share the number
        page.locator("[data-notice]:not(.error):not([hidden])").wait_for()
        page.click(f"[data-date='{TOMORROW}']")
        page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
        page.click("[data-slot-start='10:00']")
        page.locator("[data-sheet] [data-consequence]").first.wait_for()
        press_main_button(page)
        page.locator("[data-slot-start='10:00'].mine").wait_for()
    finally:
        stop()


def test_moving_a_booking_by_tapping(browser, sqlite_app, live_sqlite_url, artifacts):
    page = open_app(browser, live_sqlite_url)
    page.click(f"[data-date='{TOMORROW}']")
    page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
    page.click("[data-slot-start='10:00']")
    page.click("[data-action=confirm]")
    page.locator("[data-slot-start='10:00'].mine").wait_for()

    page.click("[data-nav=my]")
    page.click("[data-booking-id] [data-action=reschedule]")
    page.locator("[data-back]").wait_for()  # the banner: moving, pick a new start
    page.click("[data-slot-start='14:30']")
    page.locator("[data-action=confirm]").wait_for()
    page.screenshot(path=artifacts / "01-move-to.png")
    page.click("[data-action=confirm]")
    moved = page.locator("[data-booking-id]")
    moved.wait_for()
    assert "14:30–16:00" in moved.inner_text()
    assert "14:30–16:00" in page.locator("[data-notice]").inner_text()
    page.screenshot(path=artifacts / "02-moved.png")
