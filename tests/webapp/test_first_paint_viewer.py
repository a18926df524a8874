"""The first paint is the viewer's own picture (issue 23), through the Flask test client: once
init data has proved who the viewer is, a signed cookie names them, and GET / paints the tab
their init data would bring. The cookie proves nothing anywhere else, and a forged or expired
one is no cookie at all."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest
from itsdangerous import URLSafeSerializer

from schedule import services
from tests.fixtures_web import ANNA, BORIS, TRAINER, auth, make_user
from tests.webapp.test_first_paint import TODAY, book_as, clock_of, page
from webapp.auth import VIEWER_COOKIE
from webapp.extensions import db

HX = {"HX-Request": "true"}


def rules(app, **changes) -> None:
    app.config["SCHEDULE"] = dataclasses.replace(app.config["SCHEDULE"], **changes)


def sign_in(client, user: dict = ANNA):
    """What the Mini App's first request does: the viewer's tab, with the init data."""
    response = client.get(f"/app/book?date={TODAY}", headers={**auth(user), **HX})
    assert response.status_code == 200
    return response


def set_cookie(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("viewer=")]
    return header


def viewer_cookie(telegram_id: int, expires: float, key: str = "test-secret") -> str:
    return URLSafeSerializer(key, salt="viewer").dumps([telegram_id, int(expires), 0])


def day_button(html: str, day: str) -> str:
    return re.search(rf'<button class="day" data-date="{day}"[^>]*>', html).group(0)


def test_a_request_with_init_data_names_the_viewer_in_a_signed_http_only_cookie(
    sqlite_app, page_client
):
    headers = {**auth(), **HX}
    header = set_cookie(page_client.get(f"/app/book?date={TODAY}", headers=headers))
    assert "HttpOnly" in header and "Path=/" in header
    assert "SameSite=Lax" in header and "Secure" not in header  # plain http: development
    max_age = int(re.search(r"Max-Age=(\d+)", header).group(1))
    assert 0 < max_age <= sqlite_app.config["INIT_DATA_MAX_AGE"]
    # read again, even with the init data of a later open: the cookie the phone holds serves
    # (so does the page the phone keeps for it, Vary: Cookie)
    for later in (headers, {**auth(auth_date=int(time.time()) + 60), **HX}):
        again = page_client.get(f"/app/book?date={TODAY}", headers=later)
        assert again.status_code == 200
        assert "viewer=" not in " ".join(again.headers.getlist("Set-Cookie"))


def test_another_account_or_a_cookie_past_half_its_time_is_named_anew(sqlite_app, page_client):
    sign_in(page_client)
    response = sign_in(page_client, BORIS)
    assert page_client.get_cookie(VIEWER_COOKIE).value in set_cookie(response)
    assert '<html lang="ru">' in page(page_client)  # Boris, in his language
    max_age = sqlite_app.config["INIT_DATA_MAX_AGE"]
    page_client.set_cookie(VIEWER_COOKIE, viewer_cookie(BORIS["id"], time.time() + max_age / 3))
    assert set_cookie(sign_in(page_client, BORIS))


def test_over_https_the_cookie_is_secure_and_goes_to_telegrams_frames(page_client):
    response = page_client.get(
        f"/app/book?date={TODAY}", headers={**auth(), **HX}, base_url="https://localhost"
    )
    header = set_cookie(response)
    assert "Secure" in header and "SameSite=None" in header and "HttpOnly" in header


def test_the_cookie_lives_no_longer_than_the_init_data_it_came_from(sqlite_app, page_client):
    hour_old = int(time.time()) - 3600
    response = page_client.get(
        f"/app/book?date={TODAY}", headers={**auth(auth_date=hour_old), **HX}
    )
    max_age = int(re.search(r"Max-Age=(\d+)", set_cookie(response)).group(1))
    assert max_age <= sqlite_app.config["INIT_DATA_MAX_AGE"] - 3600


def test_without_valid_init_data_no_cookie_is_set(page_client):
    for headers in ({}, {"Authorization": "tma forged"}):
        response = page_client.get(f"/app/book?date={TODAY}", headers={**headers, **HX})
        assert response.status_code == 401
        assert not response.headers.getlist("Set-Cookie")
    assert not page_client.get("/", headers=auth()).headers.getlist("Set-Cookie")


def test_the_page_opens_on_the_viewers_own_picture_at_the_daily_limit(sqlite_app, page_client):
    rules(sqlite_app, max_bookings_per_day=1)
    book_as(sqlite_app, ANNA, "10:00")
    sign_in(page_client)

    html = page(page_client)
    assert "data-anonymous" not in html and "data-first-paint" in html
    assert html.count('data-notice="limit_reached"') == 1
    assert 'data-refusal="limit_reached"' in html  # the cells keep their refusals
    assert 'data-mine="true"' in day_button(html, TODAY)
    assert "data-mine" not in day_button(html, "2026-11-26")
    # the viewer's tab request still follows, for the same day
    assert f'<div id="app" hx-get="/app/book?date={TODAY}" hx-trigger="load"' in html
    # what the viewer's tab would swap in, from the strip to the grid
    tab = sign_in(page_client).get_data(as_text=True)
    assert tab[tab.index("<section") :] in html.replace(" data-first-paint", "")


def test_the_own_picture_is_kept_for_this_viewer_only(sqlite_app, page_client, clock):
    clock.advance(minutes=10, seconds=20)  # as in test_first_paint: 1180 s to keep it
    sign_in(page_client)
    response = page_client.get("/")
    assert response.headers["Cache-Control"] == "private, max-age=1180"
    assert {"Cookie", "Accept-Language"} <= set(response.vary)
    assert (
        page_client.get("/", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    )


def test_two_viewers_who_see_the_same_picture_get_different_etags(sqlite_app):
    etags = []
    for user in (make_user(3100), make_user(3101)):
        client = sqlite_app.test_client()
        sign_in(client, user)
        response = client.get("/")
        assert "data-first-paint" in response.text and "data-anonymous" not in response.text
        etags.append((response.headers["ETag"], response.get_data()))
    (first, first_body), (second, second_body) = etags
    assert first_body == second_body  # neither holds anything: the same picture
    assert first != second
    # and a copy validated for one viewer is never a 304 for the other
    client = sqlite_app.test_client()
    sign_in(client, make_user(3101))
    assert client.get("/", headers={"If-None-Match": first}).status_code == 200


def test_a_write_renews_the_cookie_so_a_kept_copy_never_predates_it(sqlite_app, page_client):
    before = set_cookie(sign_in(page_client))
    made = page_client.post(
        "/app/bookings", data={"date": TODAY, "start": "11:00"}, headers={**auth(), **HX}
    )
    assert made.status_code == 200
    after = set_cookie(made)
    assert after.split(";")[0] != before.split(";")[0]
    assert "mine" in page(page_client)


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(lambda: viewer_cookie(ANNA["id"], time.time() - 1), id="expired"),
        pytest.param(lambda: viewer_cookie(ANNA["id"], time.time() + 10**7), id="too-far"),
        pytest.param(lambda: viewer_cookie(ANNA["id"], time.time() + 600, "guess"), id="forged"),
        pytest.param(lambda: "not-a-signed-value", id="garbage"),
        pytest.param(
            lambda: URLSafeSerializer("test-secret", salt="ics").dumps(ANNA["id"]), id="other-link"
        ),
        pytest.param(lambda: viewer_cookie(4242, time.time() + 600), id="nobody-stored"),
    ],
)
def test_a_cookie_that_proves_nothing_gives_everyones_page(sqlite_app, page_client, cookie):
    rules(sqlite_app, max_bookings_per_day=1)
    book_as(sqlite_app, ANNA, "10:00")
    page_client.set_cookie(VIEWER_COOKIE, cookie())
    anonymous = page(page_client)
    assert "data-anonymous" in anonymous and "limit_reached" not in anonymous
    assert 'data-mine="true"' not in anonymous


def test_a_genuine_cookie_is_the_same_picture(sqlite_app, page_client):
    """The control of the test above: a well-signed, fresh cookie does paint Anna's tab."""
    rules(sqlite_app, max_bookings_per_day=1)
    book_as(sqlite_app, ANNA, "10:00")
    page_client.set_cookie(VIEWER_COOKIE, viewer_cookie(ANNA["id"], time.time() + 600))
    assert 'data-notice="limit_reached"' in page(page_client)


def test_the_cookie_alone_opens_nothing_else(sqlite_app, page_client):
    book_as(sqlite_app, ANNA, "10:00")
    sign_in(page_client)
    assert page_client.get_cookie(VIEWER_COOKIE) is not None
    for method, url, data in [
        ("post", "/app/bookings", {"date": TODAY, "start": "11:00"}),
        ("delete", "/app/bookings/1", None),
        ("post", "/app/waitlist", {"date": TODAY, "start": "11:00"}),
        ("get", "/app/book", None),
        ("get", "/app/my", None),
        ("get", "/api/bookings", None),
    ]:
        response = getattr(page_client, method)(url, data=data, headers=HX)
        assert response.status_code == 401, (method, url)
    with sqlite_app.app_context():  # and nothing changed
        anna = services.upsert_user(db.session(), ANNA)
        held = services.upcoming_bookings(db.session(), anna, clock_of(sqlite_app))
        assert [booking.starts_at.strftime("%H:%M") for booking in held] == ["07:00"]  # UTC


def test_a_trainer_opens_on_everyones_page_as_before(sqlite_app, page_client):
    sign_in(page_client, TRAINER)
    assert page_client.get_cookie(VIEWER_COOKIE) is not None
    assert "data-anonymous" in page(page_client)


def test_the_own_picture_speaks_the_viewers_language(sqlite_app, page_client):
    sign_in(page_client, BORIS)
    html = page(page_client, **{"Accept-Language": "en"})
    assert '<html lang="ru">' in html
