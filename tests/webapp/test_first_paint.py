"""The page arrives usable (issue 14), through the Flask test client: it holds the strip and the
opening day's grid as anyone sees it, nothing about any one person, no render-blocking asset,
and cache headers that never let a copy outlive the moment it shows."""

from __future__ import annotations

import re

from schedule import services, waitlist
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TRAINER, auth, make_user, trainer_unit
from webapp.extensions import db

TODAY = "2026-11-25"  # the clock: Wednesday 09:00 in Moscow


def page(client, **headers) -> str:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def slot(html: str, start: str) -> dict[str, str] | None:
    """The attributes of the grid's button for `start` (a bare attribute maps to "")."""
    found = re.search(rf'<button [^>]*data-slot-start="{start}"[^>]*>', html)
    if found is None:
        return None
    tag = found.group(0)
    return {name: value for name, value in re.findall(r'([\w-]+)(?:="([^"]*)")?', tag[7:])}


def book_as(app, user: dict, start: str, day: str = TODAY):
    with app.app_context():
        session = db.session()
        booking = services.book(
            Unit(
                session,
                app.config["SCHEDULE"],
                Actor.client(services.upsert_user(session, user)),
                now=app.config["CLOCK"](),
            ),
            services.upsert_user(session, user),
            parse_date(day),
            int(start[:2]) * 60 + int(start[3:]),
        )
        return booking.id


def test_the_page_holds_the_strip_and_the_opening_days_grid(page_client):
    html = page(page_client)
    assert len(re.findall(r'<button class="day" data-date="', html)) == 8
    assert f'data-date="{TODAY}" data-available="true"' in html
    assert re.search(rf'data-date="{TODAY}"[^>]*aria-current="true"', html)
    assert "<h2>Wed 25 Nov</h2>" in html
    assert slot(html, "08:30") is None and slot(html, "09:00") is None  # past: not shown
    first = slot(html, "09:30")
    assert first["data-free"] == "4" and first["data-can-start"] == "true"
    assert "disabled" not in first
    # then htmx asks for the viewer's own tab of that same day
    assert f'<div id="app" hx-get="/app/book?date={TODAY}" hx-trigger="load"' in html
    assert "data-anonymous" in html


def test_a_day_with_nothing_left_to_book_opens_the_next(page_client, clock):
    clock.advance(hours=8)  # 17:00 in Moscow: the last start of the day is behind us
    html = page(page_client)
    assert f'data-date="{TODAY}" data-available="false"' in html
    assert re.search(r'data-date="2026-11-26"[^>]*aria-current="true"', html)
    assert 'hx-get="/app/book?date=2026-11-26" hx-trigger="load"' in html


def test_the_page_shows_places_and_refusals_that_are_the_same_for_everyone(sqlite_app, page_client):
    for n in range(4):
        book_as(sqlite_app, make_user(3000 + n), "12:00")
    with sqlite_app.app_context():
        services.add_closure(
            trainer_unit(sqlite_app),
            parse_date("2026-11-27"),
        )
    html = page(page_client)
    full = slot(html, "12:00")
    assert full["data-free"] == "0" and full["data-can-start"] == "false"
    assert "disabled" in full and full["class"] == "slot refused"
    assert full["data-refusal"] == "full" and full["data-can-wait"] == "false"
    assert slot(html, "13:00")["data-free"] == "0"  # 12:00–13:30 holds four
    # 11:00 has places, but a training there would run into the full 12:00
    assert slot(html, "11:00")["data-free"] == "4"
    assert slot(html, "11:00")["data-can-start"] == "false"
    assert (slot(html, "11:00")["data-places"], slot(html, "11:00")["data-refusal"]) == (
        "0",
        "full",
    )
    assert 'data-date="2026-11-27" data-available="false"' in html
    # whether this viewer may wait for a full start depends on the viewer: not offered yet
    assert 'data-action="join-waitlist"' not in html


def test_the_page_holds_nothing_personal(sqlite_app, page_client):
    """Anna holds a booking and Boris waits for a full start; the trainer exists. Nothing of
    them reaches the page, even when a request carries someone's init data."""
    book_as(sqlite_app, ANNA, "14:00")
    for n in range(4):
        book_as(sqlite_app, make_user(3000 + n), "12:00")
    with sqlite_app.app_context():
        session = db.session()
        boris = services.upsert_user(session, BORIS)
        settings = sqlite_app.config["SCHEDULE"]
        waitlist.join(
            Unit(session, settings, Actor.client(boris), now=clock_of(sqlite_app)),
            boris,
            parse_date(TODAY),
            12 * 60,
        )
    for headers in ({}, auth(ANNA), auth(BORIS), auth(TRAINER)):
        html = page(page_client, **headers)
        for personal in ("Anna", "anna", "Борис", "boris", "coach", "User300"):
            assert personal not in html
        assert " mine" not in html and "yours" not in html.lower()
        assert 'data-waitlist="true"' not in html and "data-booking-id" not in html
        assert 'data-nav="admin"' not in html
        assert slot(html, "14:00")["data-free"] == "3"  # Anna's place is simply taken
        assert "overlapping" not in html and "limit_reached" not in html


def test_who_holds_a_place_does_not_change_the_page(sqlite_app, page_client):
    booking_id = book_as(sqlite_app, ANNA, "14:00")
    with_anna = page_client.get("/")
    with sqlite_app.app_context():
        session = db.session()
        anna = services.upsert_user(session, ANNA)
        services.cancel(
            Unit(
                session, sqlite_app.config["SCHEDULE"], Actor.client(anna), now=clock_of(sqlite_app)
            ),
            booking_id,
        )
    book_as(sqlite_app, make_user(3010), "14:00")
    with_someone_else = page_client.get("/")
    assert with_anna.get_data() == with_someone_else.get_data()
    assert with_anna.headers["ETag"] == with_someone_else.headers["ETag"]


def test_nothing_blocks_the_first_paint(page_client):
    html = page(page_client)
    head = html[: html.index("</head>")]
    assert re.findall(r"<script[^>]*>", head) == [
        '<script src="https://telegram.org/js/telegram-web-app.js" async>'
    ]
    # the app's own scripts come after the grid: it paints while the parser waits for them
    after_grid = html[html.index("</section>") :]
    ours = re.findall(r'<script src="/static/([\w.-]+)(?:\?v=\w+)?">', after_grid)
    assert ours == ["app.js", "htmx-2.0.11.min.js"]
    assert "<script>" not in html  # no inline script: the Content-Security-Policy forbids it
    assert 'rel="stylesheet"' not in html
    assert re.search(r"<style>[^<]*\.slot \{[^<]*</style>", head)  # the CSS travels inline


def test_the_page_is_kept_until_the_clock_changes_it_and_never_by_shared_caches(
    sqlite_app, page_client, clock
):
    # 09:00: the 09:30 start enters the minimum notice at once, so nothing may be kept
    assert page_client.get("/").headers["Cache-Control"] == "private, max-age=0"
    clock.advance(minutes=10, seconds=20)  # 10:00 enters the notice at 09:30: 19 min 40 s on
    first = page_client.get("/")
    assert first.headers["Cache-Control"] == "private, max-age=1180"
    assert "Accept-Language" in first.headers["Vary"]
    etag = first.headers["ETag"]
    unchanged = page_client.get("/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["Cache-Control"] == "private, max-age=1180"
    book_as(sqlite_app, make_user(3020), "15:00")
    changed = page_client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert slot(changed.get_data(as_text=True), "15:00")["data-free"] == "3"


def test_an_unchanged_gzipped_page_is_a_304_too(page_client):
    first = page_client.get("/", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    again = page_client.get(
        "/", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def clock_of(app):
    return app.config["CLOCK"]()
