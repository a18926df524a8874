"""The first paint in Debian's Chromium (issue 14): the grid is on the page before any request
of the app's own, nothing in it is the viewer's, and once htmx sends the init data the viewer's
own tab replaces it. The request for the viewer's tab is held back, so that the anonymous state
can be looked at (and photographed: test-artifacts/) for as long as the test needs."""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import urlparse

import pytest

from schedule import services
from schedule.i18n import gettext
from tests.fixtures_browser import (
    DARK,
    LIGHT,
    TELEGRAM_STUB,
    TIMEOUT_MS,
    launch_url,
    press_main_button,
    relative_luminance,
)
from tests.fixtures_web import ANNA, BORIS
from tests.webapp.test_first_paint import book_as, clock_of
from webapp.extensions import db

pytestmark = pytest.mark.browser

YOURS = {"en": "yours", "ru": "ваша"}


def held_back(page, path: str) -> list:
    """Hold every request for `path` until the test continues it."""
    held: list = []
    page.route(lambda url: urlparse(url).path == path, lambda route: held.append(route))
    return held


def wait_for(page, held: list) -> None:
    for _ in range(TIMEOUT_MS // 20):
        if held:
            return
        page.wait_for_timeout(20)
    raise AssertionError("the request was never sent")


BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def until(page, expression: str) -> None:
    """Wait until `expression` holds in the page, polled with evaluate: these pages run under
    the app's Content-Security-Policy, which refuses Playwright's polling by string eval."""
    for _ in range(TIMEOUT_MS // 20):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"never true: {expression}")


def new_page(browser, scheme: str = "light", lang: str = "en", again: bool = True):
    """A phone-sized page under the app's CSP, speaking `lang` (see fixtures_browser.Chromium)."""
    locale = "ru-RU" if lang == "ru" else "en-US"
    return browser.page(scheme, bypass_csp=False, locale=locale, again=again)


def while_own_tab_waits(browser, url: str, scheme: str = "light", lang: str = "en", *held: str):
    """Open `url` without Telegram's script and hold the viewer's own tab back (and requests
    for the paths in `held`): the page as it is in the moment before that tab arrives.
    Returns the page, the held requests for the tab, then those for each of `held`."""
    page = new_page(browser, scheme, lang)
    page.route("https://telegram.org/**", lambda route: route.abort())
    personal = held_back(page, "/app/book")
    others = [held_back(page, path) for path in held]
    page.goto(url)
    wait_for(page, personal)
    return page, personal, *others


def tap_day_before_the_first_tab_lands(page, personal, day: str, landed: str) -> None:
    """Tap `day` while the viewer's first tab request is held: the tab for that day is asked
    for and lands (`landed` appears), then the first request is let go, last."""
    page.click(f"[data-date='{day}']")
    for _ in range(TIMEOUT_MS // 20):
        if len(personal) >= 2:
            break
        page.wait_for_timeout(20)
    assert f"date={day}" in personal[1].request.url  # the viewer's whole tab for that day
    personal[1].continue_()
    page.locator(landed).wait_for()
    personal[0].continue_()  # the first load lands last; it must not be swapped in
    # The first load's request (#app's) is over once htmx is idle: it was answered and, as it
    # must not be, not swapped in (a swap would show in the checks below).
    until(page, f"!document.querySelector('{BUSY}')")


@pytest.mark.parametrize(
    "scheme, lang", [("light", "en"), ("light", "ru"), ("dark", "en"), ("dark", "ru")]
)
def test_the_grid_comes_with_the_page_then_the_viewers_own_booking_appears(
    browser, sqlite_app, live_sqlite_url, artifacts, scheme, lang
):
    user = ANNA if lang == "en" else BORIS
    book_as(sqlite_app, user, "10:00")
    url = launch_url(live_sqlite_url, user, DARK if scheme == "dark" else LIGHT)
    page, personal = while_own_tab_waits(browser, url, scheme, lang)

    # First paint: the opening day for anyone. The viewer's booking is just a taken place.
    assert page.locator("[data-anonymous]").is_visible()
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("[data-date]").count() == 8
    theirs = page.locator("[data-slot-start='10:00']")
    assert theirs.get_attribute("data-free") == "3"
    assert "mine" not in theirs.get_attribute("class")
    assert YOURS[lang] not in page.locator("#grid").inner_text().lower()
    assert page.locator("[data-slot-start='10:30']").get_attribute("data-can-start") == "true"
    assert page.locator("[data-slot-start='10:30']").is_visible()
    assert personal[0].request.headers["authorization"].startswith("tma ")
    page.screenshot(path=artifacts / "1-first-paint.png")

    personal[0].continue_()
    page.locator("section.view:not([data-anonymous])").wait_for()
    theirs = page.locator("[data-slot-start='10:00']")
    assert "mine" in theirs.get_attribute("class")
    assert YOURS[lang] in theirs.inner_text().lower()
    # the viewer's own rule: their 10:00 training overlaps a start at 10:30
    assert page.locator("[data-slot-start='10:30']").get_attribute("data-can-start") == "false"
    page.screenshot(path=artifacts / "2-personal.png")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (relative_luminance(background) < 0.05) == (scheme == "dark")


def test_a_start_tapped_before_the_swap_opens_on_the_viewers_own_grid(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    url = launch_url(live_sqlite_url, ANNA)
    page, personal, sheets = while_own_tab_waits(browser, url, "light", "en", "/app/confirm")

    page.click("[data-anonymous] [data-slot-start='11:00']")
    # Not asked of everyone's grid: it waits for the viewer's own (htmx marks a request it
    # sends at once; only #app's own, held back, is under way).
    assert page.evaluate("[...document.querySelectorAll('.htmx-request')].map(e => e.id)") == [
        "app"
    ]
    assert not sheets
    personal[0].continue_()
    wait_for(page, sheets)
    assert "start=11:00" in sheets[0].request.url
    sheets[0].continue_()
    page.locator("[data-sheet] [data-action=confirm]").wait_for()
    page.screenshot(path=artifacts / "its-sheet-on-the-own-grid.png")
    page.locator("[data-sheet] [data-action=confirm]").click()
    page.locator("[data-slot-start='11:00'].mine").wait_for()
    page.screenshot(path=artifacts / "tapped-before-the-swap.png")
    assert len(sheets) == 1  # asked once, of the viewer's own grid


def test_a_start_tapped_before_the_swap_that_is_the_viewers_own_opens_their_booking(
    browser, sqlite_app, live_sqlite_url
):
    booking_id = book_as(sqlite_app, ANNA, "10:00")
    page, personal = while_own_tab_waits(browser, launch_url(live_sqlite_url, ANNA))

    # everyone's grid: 10:00 has three places left; on Anna's it is her booking
    page.click("[data-anonymous] [data-slot-start='10:00']")
    personal[0].continue_()
    page.locator(f"[data-sheet][data-booking-id='{booking_id}']").wait_for()
    assert page.locator("[data-sheet]").count() == 1


def test_a_start_refused_on_the_viewers_own_grid_opens_nothing(
    browser, sqlite_app, live_sqlite_url
):
    book_as(sqlite_app, ANNA, "10:00")
    page, personal = while_own_tab_waits(browser, launch_url(live_sqlite_url, ANNA))

    page.click("[data-anonymous] [data-slot-start='09:30']")  # bookable for anyone, not Anna
    personal[0].continue_()
    refused = page.locator("section.view:not([data-anonymous]) [data-slot-start='09:30']")
    refused.wait_for()
    assert refused.get_attribute("data-refusal") == "overlapping"
    until(page, f"!document.querySelector('{BUSY}')")  # a replayed tap would be under way
    assert page.locator("[data-sheet]").count() == 0


def test_when_the_viewers_tab_fails_a_tap_is_checked_by_the_server(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    book_as(sqlite_app, ANNA, "10:00")
    page, personal = while_own_tab_waits(browser, launch_url(live_sqlite_url, ANNA))
    personal[0].fulfill(status=503, body="")
    page.locator("[data-notice].error:not([hidden])").wait_for()

    page.click("[data-anonymous] [data-slot-start='09:30']")  # bookable for anyone, not Anna
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("[data-action=confirm]")
    assert answer.value.status == 409
    refusal = json.dumps(gettext("en", "error_overlapping"))
    until(page, f"document.querySelector('[data-notice]').textContent.includes({refusal})")
    page.screenshot(path=artifacts / "refused-before-the-swap.png")
    with sqlite_app.app_context():
        anna = services.upsert_user(db.session(), ANNA)
        held = services.upcoming_bookings(db.session(), anna, clock_of(sqlite_app))
        assert [booking.starts_at.strftime("%H:%M") for booking in held] == ["07:00"]  # UTC


def test_a_start_tapped_while_the_viewers_tab_fails_is_not_opened_later(
    browser, sqlite_app, live_sqlite_url
):
    url = launch_url(live_sqlite_url, ANNA)
    page, personal, sheets = while_own_tab_waits(browser, url, "light", "en", "/app/confirm")
    page.click("[data-anonymous] [data-slot-start='11:00']")
    personal[0].fulfill(status=503, body="")
    page.locator("[data-notice].error:not([hidden])").wait_for()

    page.click("[data-nav=book]")  # the viewer's tab, asked for again
    for _ in range(TIMEOUT_MS // 20):
        if len(personal) >= 2:
            break
        page.wait_for_timeout(20)
    personal[1].continue_()
    page.locator("section.view:not([data-anonymous])").wait_for()
    until(page, f"!document.querySelector('{BUSY}')")  # a replayed tap would be under way
    assert not sheets and page.locator("[data-sheet]").count() == 0


def test_telegrams_script_arriving_late_is_still_connected(browser, sqlite_app, live_sqlite_url):
    """Telegram's script is async: when it lands after the app's own, the app connects then."""
    page = new_page(browser)
    telegram = held_back(page, "/js/telegram-web-app.js")
    page.goto(launch_url(live_sqlite_url, ANNA), wait_until="commit")  # "load" waits for it
    page.locator("section.view:not([data-anonymous])").wait_for()  # init data from the URL
    wait_for(page, telegram)
    assert page.evaluate("window.Telegram === undefined")

    telegram[0].fulfill(body=TELEGRAM_STUB, content_type="application/javascript")
    until(page, "window.__tg && window.__tg.calls.some(c => c[0] === 'ready')")
    page.click("[data-slot-start='11:00']")
    page.locator("[data-action=confirm]").wait_for(state="attached")  # Telegram's MainButton
    until(page, "Telegram.WebApp.MainButton.isVisible")
    press_main_button(page)  # Telegram's MainButton books
    page.locator("[data-slot-start='11:00'].mine").wait_for()


# What Telegram's mobile apps put in the page: the bridge web events go through.
BRIDGE = """window.__events = [];
window.TelegramWebviewProxy = {postEvent(type, data) {
  const grid = document.querySelector("[data-slot-start][data-can-start=true]");
  window.__events.push([type, data, grid !== null]);
}};"""


def test_telegram_hears_the_app_is_ready_once_the_grid_is_there_before_its_script(
    browser, sqlite_app, live_sqlite_url
):
    """Telegram lifts its loading placeholder on web_app_ready: the app says it through the
    bridge once the grid is painted, without waiting for Telegram's script, and only once."""
    page = new_page(browser, again=False)  # its init script stays with the page
    page.add_init_script(BRIDGE)
    telegram = held_back(page, "/js/telegram-web-app.js")
    page.goto(launch_url(live_sqlite_url, ANNA), wait_until="commit")  # "load" waits for it
    wait_for(page, telegram)
    until(page, "window.__events.length > 0")
    assert page.evaluate("window.__events") == [["web_app_ready", "{}", True]]
    assert page.evaluate("window.Telegram === undefined")

    telegram[0].fulfill(body=TELEGRAM_STUB, content_type="application/javascript")
    until(page, "window.__tg && window.__tg.calls.some(c => c[0] === 'expand')")
    assert not page.evaluate("window.__tg.calls.some(c => c[0] === 'ready')")  # said already
    assert len(page.evaluate("window.__events")) == 1


def test_without_init_data_the_day_shows_then_the_refusal_in_place(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    """A plain browser (no fragment) sees the day, then why it cannot book: the viewer's tab
    answers 401, shown in place in the server's words."""
    page, personal = while_own_tab_waits(browser, live_sqlite_url + "/")
    assert page.locator("[data-anonymous] [data-slot-start][data-can-start=true]").count() > 0
    personal[0].continue_()
    notice = page.locator("[data-notice].error")
    notice.wait_for()
    assert "Telegram" in notice.inner_text()
    page.screenshot(path=artifacts / "no-init-data.png")


def test_a_day_tapped_before_the_swap_stays_chosen(browser, sqlite_app, live_sqlite_url):
    """The viewer's own tab arriving late does not take them back to the opening day."""
    page, personal = while_own_tab_waits(browser, launch_url(live_sqlite_url, ANNA))
    opening = page.locator("[data-date][aria-current=true]").get_attribute("data-date")
    later = page.locator("[data-date][data-available=true]").nth(2).get_attribute("data-date")
    assert later != opening

    tap_day_before_the_first_tab_lands(page, personal, later, "section.view:not([data-anonymous])")

    assert page.locator("[data-date][aria-current=true]").get_attribute("data-date") == later
    assert page.locator("[data-anonymous]").count() == 0
    until(page, "!document.body.classList.contains('busy')")


def test_a_client_at_the_daily_limit_sees_why_in_the_first_paint_of_a_second_open(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    """Issue 23: once the init data has named the viewer (a cookie the page cannot read), the
    next open paints their own tab at once: the one notice about the limit, not free places."""
    settings = sqlite_app.config["SCHEDULE"]
    sqlite_app.config["SCHEDULE"] = dataclasses.replace(settings, max_bookings_per_day=1)
    book_as(sqlite_app, ANNA, "10:00")
    url = launch_url(live_sqlite_url, ANNA)
    first, personal = while_own_tab_waits(browser, url)
    assert first.locator("[data-anonymous]").is_visible()  # a first open: nobody known yet
    assert first.locator("[data-notice='limit_reached']").count() == 0
    personal[0].continue_()
    first.locator("nav.tabs:not([data-first-paint])").wait_for()
    assert first.evaluate("document.cookie") == ""  # HttpOnly: no script of the page sees it

    again, personal = opened_again(first, url)  # the viewer's tab is still asked for, held back
    notice = again.locator("[data-notice='limit_reached']")
    assert notice.is_visible()
    assert again.locator("[data-anonymous]").count() == 0
    assert again.locator("[data-slot-start][data-refusal='limit_reached']").count() > 0
    assert again.locator("[data-date][data-mine=true]").count() == 1
    again.screenshot(path=artifacts / "second-open-first-paint.png")

    personal[0].continue_()
    again.locator("nav.tabs:not([data-first-paint])").wait_for()
    assert notice.is_visible()
    again.close()


def opened_again(page, url: str):
    """Open `url` again on the same phone (`page`'s context, its cookies) without Telegram's
    script, the viewer's tab held back: the page and the held requests for that tab."""
    again = page.context.new_page()
    again.route("https://telegram.org/**", lambda route: route.abort())
    personal = held_back(again, "/app/book")
    again.goto(url)
    wait_for(again, personal)
    return again, personal


def test_a_day_tapped_on_the_viewers_own_first_paint_stays_chosen(
    browser, sqlite_app, live_sqlite_url
):
    """The own picture painted first is still only a first paint: the tab the init data
    brings does not take the viewer back from a day they tapped before it came."""
    url = launch_url(live_sqlite_url, ANNA)
    first, personal = while_own_tab_waits(browser, url)
    personal[0].continue_()
    first.locator("nav.tabs:not([data-first-paint])").wait_for()

    page, personal = opened_again(first, url)
    assert page.locator("[data-anonymous]").count() == 0
    later = page.locator("[data-date][data-available=true]").nth(2).get_attribute("data-date")
    tap_day_before_the_first_tab_lands(page, personal, later, "nav.tabs:not([data-first-paint])")
    assert page.locator("[data-date][aria-current=true]").get_attribute("data-date") == later
    page.close()  # the second page of the phone; the first goes back to the pool
