"""Links that open one training, the web side (webapp/links.py): the tab a link opens with
its start's sheet, a notice for a link that opens nothing, the page's caching untouched, and
the trainer's share route."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from bot.config import BotConfig
from bot.links import username_lookup
from tests.conftest import sqlite_with_schema
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, _dispose, auth, build_app
from tests.initdata import TEST_BOT_TOKEN
from tests.webapp.test_pages import book, fill, html

LINKS = {"MINIAPP_SHORT_NAME": "book", "BOT_USERNAME": "@studio_bot"}


@pytest.fixture
def linked_app(sqlite_template, tmp_path, clock) -> Iterator[Flask]:
    """The app with share links on (a short name and the bot's username configured)."""
    app = build_app(sqlite_with_schema(sqlite_template, tmp_path / "b.sqlite3"), clock, **LINKS)
    yield app
    _dispose(app)


def opened(client, param: str, user: dict = ANNA):
    response = client.get("/app/link", query_string={"start": param}, headers=auth(user))
    assert response.status_code == 200
    return html(response)


def grid_day(page: str) -> str:
    return re.search(r'data-grid-date="([^"]+)"', page).group(1)


def loader(page: str) -> str | None:
    """The URL the tab asks for the start's sheet with (a tap on its cell asks the same)."""
    found = re.search(r'<div hidden data-link-start="[^"]+" hx-get="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


# --- opening a link ---------------------------------------------------------------------------


def test_a_bookable_start_opens_its_day_and_asks_for_the_cells_own_sheet(page_client):
    page = opened(page_client, "d20261127t1000")

    assert grid_day(page) == "2026-11-27"
    assert re.search(r'data-date="2026-11-27"[^>]*aria-current="true"', page)
    assert loader(page) == "/app/confirm?date=2026-11-27&start=10:00"
    cell = re.search(r'<button [^>]*data-slot-start="10:00"[^>]*>', page).group(0)
    assert 'hx-get="/app/confirm?date=2026-11-27&amp;start=10:00"' in cell  # the same request
    assert 'data-notice="link_' not in page
    sheet = page_client.get(loader(page), headers=auth(ANNA))
    assert sheet.status_code == 200 and 'data-action="confirm"' in html(sheet)
    assert "Fri 27 Nov, 10:00–11:30" in html(sheet)


def test_a_kind_or_trainer_the_studio_lacks_gives_the_bad_link_notice(page_client):
    page = opened(page_client, "d20261127t1000k2r5")
    # Kind 2 and trainer 5 do not exist (tests/webapp/test_kinds_pages.py links real ones):
    # the schedule with the notice the bot gives such a link, no sheet.
    assert 'data-notice="link_unreadable"' in page and loader(page) is None
    assert grid_day(page) == "2026-11-25"


def test_a_full_start_opens_the_waitlists_sheet(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    assert loader(opened(page_client, "d20261126t1000")) == (
        f"/app/waitlist/confirm?date={TOMORROW}&start=10:00"
    )


def test_the_viewers_own_booking_opens_its_sheet(page_client):
    assert book(page_client, start="12:00").status_code == 200
    page = opened(page_client, "d20261126t1200")
    url = loader(page)
    assert re.fullmatch(r"/app/bookings/\d+", url)
    sheet = html(page_client.get(url, headers=auth(ANNA)))
    assert 'data-action="cancel"' in sheet and "12:00" in sheet


def test_a_start_the_viewer_cannot_take_opens_a_sheet_saying_why(page_client, clock):
    page = opened(page_client, "d20261126t1700")  # 17:00-18:30 runs past closing
    assert loader(page) is None
    sheet = re.search(r'<div class="sheet" data-sheet [^>]*>.*?</div>\n</div>', page, re.S)
    assert 'data-link-refusal="after_hours"' in sheet.group(0)
    assert "You can&#39;t book this training" in page and "ends after 18:00" in page
    assert "Thu 26 Nov, 17:00–18:30" in page
    assert "data-dismiss" in sheet.group(0)

    page = opened(page_client, "d20261126t2000")  # no cell at all: after opening hours
    assert 'data-link-refusal="no_start"' in page and "No training starts at this time." in page

    clock.advance(minutes=10)
    page = opened(page_client, "d20261125t0930")  # in 20 minutes: inside the minimum notice
    assert 'data-link-refusal="too_soon"' in page and grid_day(page) == "2026-11-25"


@pytest.mark.parametrize(
    ("param", "notice", "words"),
    [
        ("d20261124t1000", "link_past", "That training has already started."),
        ("d20261125t0900", "link_past", "That training has already started."),
        ("d20261209t1000", "link_too_far", "Booking for that day is not open yet."),
        ("d20261126t1015", "link_off_grid", "No training starts at the time in this link."),
        ("hello", "link_unreadable", "This link does not lead to a training."),
        ("", "link_unreadable", "This link does not lead to a training."),
        ("d20261131t1000", "link_unreadable", "This link does not lead to a training."),
        ("<script>", "link_unreadable", "This link does not lead to a training."),
    ],
)
def test_a_link_that_opens_nothing_gives_the_schedule_with_a_notice(
    page_client, param, notice, words
):
    page = opened(page_client, param)
    assert f'data-notice="{notice}"' in page and words in page
    assert loader(page) is None and "data-link-refusal" not in page
    assert grid_day(page) == "2026-11-25"  # the tab /app/book gives: the first bookable day
    assert "<script>" not in page


def test_the_notice_is_in_the_viewers_language(page_client):
    page = opened(page_client, "d20261124t1000", user=BORIS)
    assert 'data-notice="link_past"' in page and "Эта тренировка уже началась." in page


def test_a_trainer_opening_a_link_gets_the_booking_tab_on_that_day(page_client):
    page = opened(page_client, "d20261127t1000", user=TRAINER)
    assert grid_day(page) == "2026-11-27" and loader(page).startswith("/app/confirm?")


def test_opening_a_link_needs_init_data(page_client):
    assert page_client.get("/app/link?start=d20261127t1000").status_code == 401


# --- the page --------------------------------------------------------------------------------


def test_the_page_is_the_same_page_with_a_start_parameter_so_its_cache_holds(page_client):
    plain = page_client.get("/")
    linked = page_client.get("/?tgWebAppStartParam=d20261127t1000")
    assert plain.status_code == linked.status_code == 200
    assert html(linked) == html(plain)
    assert linked.headers["ETag"] == plain.headers["ETag"]
    assert linked.headers["Cache-Control"] == plain.headers["Cache-Control"]
    assert 'data-link="/app/link"' in html(plain)  # where app.js asks for a link's tab
    again = page_client.get(
        "/?tgWebAppStartParam=d20261127t1000", headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304


# --- the trainer's share link -----------------------------------------------------------------


def share(client, user=TRAINER, **query):
    return client.get("/api/admin/share", query_string=query, headers=auth(user))


def test_the_share_route_answers_the_mini_app_link(linked_app):
    response = share(linked_app.test_client(), date="2026-12-01", start="18:00")
    assert response.status_code == 200
    assert response.json == {"url": "https://t.me/studio_bot/book?startapp=d20261201t1800"}


@pytest.mark.parametrize(
    "query",
    [
        {"date": "2026-13-01", "start": "10:00"},
        {"date": "tomorrow", "start": "10:00"},
        {"date": TOMORROW, "start": "10:15"},
        {"date": TOMORROW, "start": "25:00"},
        {"date": TOMORROW},
        {"start": "10:00"},
    ],
)
def test_a_bad_date_or_start_is_400(linked_app, query):
    response = share(linked_app.test_client(), **query)
    assert response.status_code == 400
    assert response.json["error"] == "invalid" and response.json["message"]


def test_a_client_may_not_share_and_nobody_anonymous(linked_app):
    client = linked_app.test_client()
    assert share(client, user=ANNA, date=TOMORROW, start="10:00").status_code == 403
    anonymous = client.get(f"/api/admin/share?date={TOMORROW}&start=10:00")
    assert anonymous.status_code == 401


def test_without_a_short_name_sharing_is_off(client):
    response = share(client, date=TOMORROW, start="10:00")
    assert response.status_code == 409
    assert response.json["error"] == "share_off"
    assert "MINIAPP_SHORT_NAME" in response.json["message"]


def test_without_the_bots_username_sharing_is_off(sqlite_template, tmp_path, clock):
    app = build_app(
        sqlite_with_schema(sqlite_template, tmp_path / "b.sqlite3"),
        clock,
        MINIAPP_SHORT_NAME="book",
    )
    try:
        response = share(app.test_client(), date=TOMORROW, start="10:00")
        assert response.status_code == 409 and response.json["error"] == "share_off"
    finally:
        _dispose(app)


def test_the_username_comes_from_getme_when_not_configured(
    sqlite_template, tmp_path, clock, fake_telegram
):
    app = build_app(
        sqlite_with_schema(sqlite_template, tmp_path / "b.sqlite3"),
        clock,
        MINIAPP_SHORT_NAME="book",
    )
    config = BotConfig(token=TEST_BOT_TOKEN, api_url=fake_telegram.url)
    app.extensions["bot_username"] = username_lookup(config)
    try:
        client = app.test_client()
        first = share(client, date=TOMORROW, start="10:00")
        second = share(client, date=TOMORROW, start="10:30")
        assert first.json == {"url": "https://t.me/studio_test_bot/book?startapp=d20261126t1000"}
        assert second.json["url"].endswith("startapp=d20261126t1030")
        assert [c.method for c in fake_telegram.calls].count("getMe") == 1  # asked once
    finally:
        _dispose(app)


def test_a_getme_that_fails_is_share_off_not_an_error(fake_telegram):
    lookup = username_lookup(BotConfig(token=TEST_BOT_TOKEN, api_url="http://127.0.0.1:9"))
    assert lookup() is None
    assert lookup() is None  # not asked again at once
    assert username_lookup(BotConfig(token="1:bad", api_url=fake_telegram.url))() in (
        None,
        "studio_test_bot",
    )


def test_the_trainers_day_offers_share_for_starts_to_come(linked_app, clock):
    fill(linked_app, "10:00", 2)
    fill(linked_app, "10:00", 1, date="2026-11-25")  # today, in an hour
    client = linked_app.test_client()
    today = html(client.get("/app/admin?date=2026-11-25", headers=auth(TRAINER)))
    assert 'data-share-start="10:00"' in today
    clock.advance(minutes=90)  # 10:30: today's 10:00 has started
    day = html(client.get(f"/app/admin?date={TOMORROW}", headers=auth(TRAINER)))
    control = re.search(r'<button [^>]*data-action="share"[^>]*>', day).group(0)
    assert 'data-share-start="10:00"' in control
    assert f'data-share-url="/api/admin/share?date={TOMORROW}&amp;start=10:00"' in control
    assert "Training on Thu 26 Nov, 10:00–11:30" in control
    today = html(client.get("/app/admin?date=2026-11-25", headers=auth(TRAINER)))
    assert 'data-admin-start="10:00"' in today and 'data-action="share"' not in today


def test_no_share_control_while_links_are_off(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 1)
    day = html(page_client.get(f"/app/admin?date={TOMORROW}", headers=auth(TRAINER)))
    assert 'data-admin-start="10:00"' in day and 'data-action="share"' not in day
