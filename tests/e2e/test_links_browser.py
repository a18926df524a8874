"""Links that open one training, in Debian's Chromium: the Mini App opened by a link
(`startapp`, which Telegram hands the app as `tgWebAppStartParam` in the URL and `start_param`
in the signed init data) shows that day with that start's sheet; a stale link shows the
schedule with a notice; the trainer's share control copies the link in a plain browser and
opens Telegram's share sheet inside Telegram. Screenshots (390 px, light and dark, en and ru)
go to test-artifacts/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask

from tests.conftest import sqlite_with_schema
from tests.fixtures_browser import DARK, LIGHT, TELEGRAM_STUB, TIMEOUT_MS, launch_url, open_app
from tests.fixtures_web import ANNA, BORIS, TRAINER, _dispose, build_app, serve
from tests.initdata import sign_init_data
from tests.webapp.test_pages import fill

pytestmark = pytest.mark.browser

SHARE_URL = "https://t.me/studio_bot/book?startapp=d20261126t1000"
# Telegram's script as the suite stubs it, with what a link and sharing need of it.
LINK_STUB = (
    TELEGRAM_STUB
    + """
const signed = new URLSearchParams(launch.get("tgWebAppData") || "");
window.Telegram.WebApp.initDataUnsafe = {start_param: signed.get("start_param") || undefined};
window.Telegram.WebApp.openTelegramLink = rec("openTelegramLink");
"""
)


@pytest.fixture
def linked_app(sqlite_template, tmp_path, clock) -> Iterator[Flask]:
    app = build_app(
        sqlite_with_schema(sqlite_template, tmp_path / "b.sqlite3"),
        clock,
        MINIAPP_SHORT_NAME="book",
        BOT_USERNAME="studio_bot",
    )
    yield app
    _dispose(app)


@pytest.fixture
def linked_url(linked_app) -> Iterator[str]:
    url, stop = serve(linked_app)
    yield url
    stop()


def link_url(
    base_url: str,
    param: str,
    user: dict = ANNA,
    theme: dict = LIGHT,
    *,
    in_query: bool = True,
    signed: bool = True,
) -> str:
    """The Mini App's URL as Telegram opens a direct link: the start parameter in the query
    and inside the signed init data (either may be left out), init data and theme in the
    fragment."""
    init_data = sign_init_data(user, start_param=param) if signed else sign_init_data(user)
    fragment = (
        "tgWebAppData="
        + quote(init_data, safe="")
        + "&tgWebAppVersion=7.0&tgWebAppPlatform=android&tgWebAppThemeParams="
        + quote(json.dumps(theme), safe="")
    )
    query = f"?tgWebAppStartParam={quote(param)}" if in_query else ""
    return f"{base_url}/{query}#{fragment}"


def open_link(browser, url: str, scheme: str = "light", telegram: bool = False):
    page = browser.page(scheme)
    if telegram:
        page.route(
            "https://telegram.org/**",
            lambda route: route.fulfill(body=LINK_STUB, content_type="application/javascript"),
        )
    else:
        page.route("https://telegram.org/**", lambda route: route.abort())
    page.goto(url)
    return page


def settled(page) -> None:
    page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added").first.wait_for(
        state="detached"
    )


@pytest.mark.parametrize(
    ("user", "scheme", "theme"),
    [(ANNA, "light", LIGHT), (ANNA, "dark", DARK), (BORIS, "light", LIGHT), (BORIS, "dark", DARK)],
    ids=["en-light", "en-dark", "ru-light", "ru-dark"],
)
def test_a_link_opens_that_day_with_that_starts_sheet(
    browser, live_sqlite_url, artifacts, user, scheme, theme
):
    url = link_url(live_sqlite_url, "d20261127t1000", user, theme, in_query=False)
    page = open_link(browser, url, scheme)  # the parameter only in the signed init data

    sheet = page.locator("[data-sheet]")
    sheet.wait_for()
    assert page.locator("#grid").get_attribute("data-grid-date") == "2026-11-27"
    assert page.locator("[data-date='2026-11-27']").get_attribute("aria-current") == "true"
    assert "10:00–11:30" in sheet.inner_text() and "27" in sheet.inner_text()
    assert sheet.locator("[data-action=confirm]").is_visible()
    assert page.locator("[data-notice^=link_]").count() == 0
    box = sheet.locator("[data-action=confirm]").bounding_box()
    assert box["height"] >= 44 and sheet.bounding_box()["y"] + 20 < 844  # on the screen
    settled(page)
    page.screenshot(path=artifacts / f"sheet-{scheme}.png")

    page.click("[data-sheet] [data-action=confirm]")
    mine = page.locator("[data-slot-start='10:00'][data-booking-id]")
    mine.wait_for()
    assert page.locator("#grid").get_attribute("data-grid-date") == "2026-11-27"


def test_the_url_parameter_alone_opens_the_start_and_telegrams_button_books_it(
    browser, live_sqlite_url, sqlite_app
):
    url = link_url(live_sqlite_url, "d20261126t1200", signed=False)
    page = open_link(browser, url, telegram=True)

    page.locator("[data-sheet] [data-action=confirm]").wait_for(state="attached")
    assert "Thu 26 Nov, 12:00–13:30" in page.locator("[data-sheet]").inner_text()
    page.wait_for_function("window.__tg && window.__tg.main !== null")
    page.locator(".htmx-swapping, .htmx-settling, .htmx-added").first.wait_for(state="detached")
    assert page.evaluate("window.Telegram.WebApp.MainButton.isVisible")
    page.evaluate("window.__tg.main()")
    page.locator("[data-slot-start='12:00'][data-booking-id]").wait_for()


def test_a_full_start_opens_its_waitlist_and_an_own_booking_its_sheet(
    browser, live_sqlite_url, sqlite_app
):
    fill(sqlite_app, "10:00", 4)
    page = open_link(browser, link_url(live_sqlite_url, "d20261126t1000"))
    sheet = page.locator("[data-sheet]")
    sheet.wait_for()
    assert "waitlist" in sheet.inner_text().lower()

    page.click("[data-sheet] [data-dismiss]")
    assert page.locator("[data-sheet]").count() == 0
    page.click("[data-slot-start='12:00']")
    page.click("[data-sheet] [data-action=confirm]")
    page.locator("[data-slot-start='12:00'][data-booking-id]").wait_for()

    again = open_link(browser, link_url(live_sqlite_url, "d20261126t1200"))
    again.locator("[data-sheet][data-booking-id]").wait_for()
    assert again.locator("[data-sheet] [data-action=cancel]").is_visible()


def test_a_start_the_viewer_cannot_take_shows_why(browser, live_sqlite_url, artifacts):
    page = open_link(browser, link_url(live_sqlite_url, "d20261126t1700"))
    sheet = page.locator("[data-sheet][data-link-refusal=after_hours]")
    sheet.wait_for()
    assert "Ends after 18:00" in sheet.inner_text()  # the cell's line, as a sentence
    settled(page)
    page.screenshot(path=artifacts / "refused.png")
    page.click("[data-sheet] [data-dismiss]")
    assert page.locator("[data-sheet]").count() == 0
    page.click("[data-slot-start='10:00']")  # the other times are there to take
    page.locator("[data-sheet] [data-action=confirm]").wait_for()


@pytest.mark.parametrize(
    ("user", "scheme", "theme", "words"),
    [
        (ANNA, "light", LIGHT, "That training has already started."),
        (ANNA, "dark", DARK, "That training has already started."),
        (BORIS, "light", LIGHT, "Эта тренировка уже началась."),
        (BORIS, "dark", DARK, "Эта тренировка уже началась."),
    ],
    ids=["en-light", "en-dark", "ru-light", "ru-dark"],
)
def test_a_stale_link_shows_the_schedule_with_a_notice(
    browser, live_sqlite_url, artifacts, user, scheme, theme, words
):
    page = open_link(browser, link_url(live_sqlite_url, "d20261124t1000", user, theme), scheme)

    notice = page.locator("[data-notice=link_past]")
    notice.wait_for()
    assert notice.is_visible() and words in notice.inner_text()
    assert page.locator("[data-sheet]").count() == 0
    assert page.locator("#grid").get_attribute("data-grid-date") == "2026-11-25"
    assert page.locator("[data-slot-start]").count() > 0  # the plain schedule
    settled(page)
    page.screenshot(path=artifacts / f"notice-{scheme}.png")


def test_an_unreadable_link_shows_the_notice(browser, live_sqlite_url):
    page = open_link(browser, link_url(live_sqlite_url, "d2026x"))
    page.locator("[data-notice=link_unreadable]").wait_for()
    assert page.locator("[data-slot-start]").count() > 0


@pytest.mark.parametrize(
    ("lang", "scheme", "theme", "copied"),
    [
        ("en", "light", LIGHT, "Link copied"),
        ("en", "dark", DARK, "Link copied"),
        ("ru", "light", LIGHT, "Ссылка скопирована"),
        ("ru", "dark", DARK, "Ссылка скопирована"),
    ],
    ids=["en-light", "en-dark", "ru-light", "ru-dark"],
)
def test_the_trainers_share_control_copies_the_link_in_a_browser(
    browser, linked_app, linked_url, artifacts, lang, scheme, theme, copied
):
    fill(linked_app, "10:00", 2)
    trainer = {**TRAINER, "language_code": lang}
    page = open_app(browser, linked_url, user=trainer, theme=theme, scheme=scheme)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=linked_url)

    control = page.locator("[data-share-start='10:00']")
    control.wait_for()
    box = control.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    control.click()
    done = page.locator("[data-share-done=copied]")
    done.wait_for()
    assert done.inner_text() == copied
    assert page.evaluate("navigator.clipboard.readText()") == SHARE_URL
    page.screenshot(path=artifacts / f"share-{scheme}.png")


def test_inside_telegram_the_share_control_opens_telegrams_share_sheet(
    browser, linked_app, linked_url
):
    fill(linked_app, "10:00", 1)
    page = open_link(browser, launch_url(linked_url, TRAINER), telegram=True)
    control = page.locator("[data-share-start='10:00']")
    control.wait_for()
    page.wait_for_function("typeof window.Telegram.WebApp.openTelegramLink === 'function'")
    control.click()
    page.wait_for_function(
        "window.__tg.calls.some((call) => call[0] === 'openTelegramLink')", timeout=TIMEOUT_MS
    )
    [link] = page.evaluate(
        "window.__tg.calls.filter((call) => call[0] === 'openTelegramLink').map((c) => c[1])"
    )
    assert link.startswith("https://t.me/share/url?url=" + quote(SHARE_URL, safe=""))
    assert "&text=Training%20on%20Thu%2026%20Nov%2C%2010%3A00" in link
    assert page.locator("[data-share-done]").is_hidden()


def test_a_link_naming_a_kind_the_studio_lacks_shows_the_notice(browser, live_sqlite_url):
    """The bot answers such a /start link with the bad-link notice; so does the Mini App."""
    page = open_link(browser, link_url(live_sqlite_url, "d20261126t1000k7r3"))
    page.locator("[data-notice=link_unreadable]").wait_for()
    assert page.locator("[data-sheet]").count() == 0
    assert page.locator("[data-slot-start]").count() > 0
