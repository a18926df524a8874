"""The Mini App in Debian's Chromium, opened as Telegram opens it (init data and theme in the
URL fragment). Screenshots of every step go to test-artifacts/."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from schedule import services
from schedule.timegrid import parse_date
from tests.conftest import require
from tests.fixtures_web import ANNA, BORIS, TOMORROW, make_user
from tests.initdata import sign_init_data
from webapp.extensions import db

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 15_000
LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
}
DARK = {
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}

# A stand-in for telegram-web-app.js that records what the page asks of Telegram.
TELEGRAM_STUB = """
window.__tg = {calls: [], main: null, back: null};
const launch = new URLSearchParams(location.hash.slice(1));
const rec = (name) => (...args) => { window.__tg.calls.push([name, ...args]); };
const button = (kind) => {
  const b = {text: "", isVisible: false,
    setText(t) { b.text = t; return b; }, show() { b.isVisible = true; return b; },
    hide() { b.isVisible = false; return b; }, onClick(f) { window.__tg[kind] = f; return b; }};
  return b;
};
window.Telegram = {WebApp: {
  initData: launch.get("tgWebAppData") || "", ready: rec("ready"), expand: rec("expand"),
  MainButton: button("main"), BackButton: button("back"), openLink: rec("openLink"),
  HapticFeedback: {notificationOccurred: rec("haptic")},
  isVersionAtLeast: (version) => parseFloat(version) <= 7.0,
  requestContact: (callback) => callback(true, {status: "sent", response: window.__contact}),
}};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        require(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def artifacts(request) -> Path:
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def open_app(
    browser,
    base_url: str,
    user: dict = ANNA,
    theme: dict = LIGHT,
    telegram_stub: bool = False,
    scheme: str = "light",
):
    """A phone-sized page opened like Telegram does; telegram.org is offline unless stubbed."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, color_scheme=scheme
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    if telegram_stub:
        page.route(
            "https://telegram.org/**",
            lambda route: route.fulfill(body=TELEGRAM_STUB, content_type="application/javascript"),
        )
    else:
        page.route("https://telegram.org/**", lambda route: route.abort())
    fragment = (
        "tgWebAppData="
        + quote(sign_init_data(user), safe="")
        + "&tgWebAppVersion=7.0&tgWebAppPlatform=android"
        + "&tgWebAppThemeParams="
        + quote(json.dumps(theme), safe="")
    )
    page.goto(f"{base_url}/#{fragment}")
    page.locator("[data-slot-start]").first.wait_for()
    return page


def fill_slot(app, start: str, count: int) -> None:
    with app.app_context():
        session = db.session()
        for n in range(count):
            user = services.upsert_user(session, make_user(3000 + n))
            services.book(
                session,
                app.config["SCHEDULE"],
                user,
                parse_date(TOMORROW),
                int(start[:2]) * 60 + int(start[3:]),
                now=app.config["CLOCK"](),
            )


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
    page.context.close()


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
    assert refreshed.is_disabled()
    page.screenshot(path=artifacts / "slot-taken.png")
    page.context.close()


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
    page.context.close()


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
    page.locator("[data-action=confirm]").wait_for()
    page.wait_for_function("Telegram.WebApp.MainButton.isVisible")
    assert page.evaluate("Telegram.WebApp.MainButton.text") == "Book"
    assert page.evaluate("Telegram.WebApp.BackButton.isVisible") is True

    page.evaluate("window.__tg.main()")  # the user taps Telegram's MainButton
    page.locator("[data-notice]:not([hidden])").wait_for()
    page.wait_for_function("window.__tg.calls.some(c => c[0] === 'haptic' && c[1] === 'success')")
    page.wait_for_function("!Telegram.WebApp.MainButton.isVisible")
    assert page.locator("[data-slot-start='12:00']").get_attribute("data-free") == "3"

    page.click("[data-nav=my]")
    page.locator("[data-booking-id]").wait_for()
    page.wait_for_function("Telegram.WebApp.BackButton.isVisible")
    page.evaluate("window.__tg.back()")  # Telegram's BackButton returns to booking
    page.locator("[data-nav=book][aria-current=page]").wait_for()
    page.context.close()


def test_the_admin_sees_the_trainer_tab(browser, sqlite_app, live_sqlite_url, artifacts):
    from tests.fixtures_web import TRAINER

    fill_slot(sqlite_app, "10:00", 2)
    page = open_app(browser, live_sqlite_url, user=TRAINER)
    page.click("[data-nav=admin]")
    page.click(f"[data-admin-date='{TOMORROW}']")
    page.locator("[data-admin-booking-id]").first.wait_for()
    assert page.locator("[data-admin-booking-id]").count() == 2
    page.screenshot(path=artifacts / "trainer.png")
    page.context.close()


def relative_luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    light, dark = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


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
    page.context.close()


def test_sharing_the_phone_through_telegram_then_booking(browser, clock, sqlite_url):
    from schedule import Settings
    from schedule.db import create_schema, make_engine
    from tests.fixtures_web import build_app, serve
    from tests.test_pages import contact_response

    create_schema(make_engine(sqlite_url))
    app = build_app(sqlite_url, clock, SCHEDULE=Settings(phone_required=True))
    url, stop = serve(app)
    try:
        page = open_app(browser, url, telegram_stub=True)
        page.evaluate(f"window.__contact = {json.dumps(contact_response(ANNA['id']))}")
        page.click(f"[data-date='{TOMORROW}']")
        page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
        page.click("[data-slot-start='10:00']")
        page.click("[data-action=confirm]")
        page.click("[data-share-phone]")
        page.locator("[data-notice]:not(.error):not([hidden])").wait_for()
        page.click(f"[data-date='{TOMORROW}']")
        page.wait_for_function("document.querySelector('#grid h2').textContent.includes('26')")
        page.click("[data-slot-start='10:00']")
        page.click("[data-action=confirm]")
        page.locator("[data-slot-start='10:00'].mine").wait_for()
        page.context.close()
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
    page.context.close()
