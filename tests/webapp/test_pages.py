"""The Mini App's page and fragments through the Flask test client: hooks, flows, errors,
language, gzip and cache headers."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import re
import time
from urllib.parse import urlencode

import pytest

from schedule import services
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, make_user, trainer_unit
from tests.initdata import TEST_BOT_TOKEN
from webapp.extensions import db


def html(response) -> str:
    return response.get_data(as_text=True)


def fill(app, start: str, count: int, date: str = TOMORROW) -> None:
    with app.app_context():
        session = db.session()
        for n in range(count):
            user = services.upsert_user(session, make_user(3000 + n))
            services.book(
                Unit(
                    session, app.config["SCHEDULE"], Actor.client(user), now=app.config["CLOCK"]()
                ),
                user,
                parse_date(date),
                int(start[:2]) * 60 + int(start[3:]),
            )


def slot_tag(page: str, start: str) -> str:
    return re.search(rf'<button [^>]*data-slot-start="{start}"[^>]*>', page).group(0)


def book(page_client, start="10:00", user=ANNA, date=TOMORROW):
    return page_client.post(
        "/app/bookings", data={"date": date, "start": start}, headers=auth(user)
    )


# --- the page --------------------------------------------------------------------------------


def test_the_page_needs_no_auth_and_loads_the_viewers_tab_through_htmx(page_client):
    response = page_client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert re.search(r'src="/static/htmx-2\.\d+\.\d+\.min\.js"></script>', page)
    assert re.search(r'src="/static/app\.js\?v=[0-9a-f]{12}"></script>', page)
    assert 'hx-get="/app/book?date=2026-11-25" hx-trigger="load"' in page
    assert "cdn" not in page.lower() and "unpkg" not in page


def test_the_page_speaks_russian_to_a_russian_browser(page_client):
    page = html(page_client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}))
    assert '<html lang="ru">' in page and "Мои тренировки" in page and "свободно 4" in page


def test_fragments_without_init_data_are_401_with_a_readable_message(page_client):
    response = page_client.get("/app/book", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert "data-notice" in html(response) and "Telegram" in html(response)


# --- booking tab -----------------------------------------------------------------------------


def test_the_booking_tab_has_the_date_strip_and_the_grid(page_client):
    page = html(page_client.get("/app/book", headers=auth(ANNA)))
    days = re.findall(r'data-date="([\d-]+)" data-available="(true|false)"', page)
    assert [d for d, _ in days] == [f"2026-11-{d}" for d in range(25, 31)] + [
        "2026-12-01",
        "2026-12-02",
    ]
    assert all(available == "true" for _, available in days)
    assert 'data-nav="book"' in page and 'data-nav="my"' in page
    assert 'data-nav="admin"' not in page
    # today (Wed 25, 09:00) is the first day with free starts: its grid is shown, from now on
    assert 'data-slot-start="09:00"' not in page
    assert 'data-slot-start="09:30" data-free="4" data-can-start="true"' in page


def test_closed_and_full_days_are_visibly_unavailable(sqlite_app, page_client):
    with sqlite_app.app_context():
        services.add_closure(
            trainer_unit(sqlite_app),
            parse_date("2026-11-27"),
        )
    for start in ("08:00", "09:30", "11:00", "12:30", "14:00", "15:30"):
        fill(sqlite_app, start, 4, date="2026-11-28")
    page = html(page_client.get("/app/book", headers=auth(ANNA)))
    assert 'data-date="2026-11-27" data-available="false"' in page
    assert 'data-date="2026-11-28" data-available="false"' in page
    assert 'data-date="2026-11-29" data-available="true"' in page


def test_the_grid_fragment_shows_free_places_mine_and_full(sqlite_app, page_client):
    fill(sqlite_app, "12:00", 4)
    book(page_client, "10:00")
    page = html(page_client.get(f"/app/grid?date={TOMORROW}", headers=auth(ANNA)))
    assert page.startswith('<div id="grid" data-grid-date="2026-11-26">')
    assert "data-nav" not in page  # only the grid
    mine = slot_tag(page, "10:00")  # the booking reads as one block that opens it
    assert 'class="slot mine own"' in mine and 'data-free="3"' in mine and "disabled" not in mine
    assert "10:00–11:30" in page and 'data-refusal="overlapping"' in mine
    assert re.search(r'<i hidden data-slot-start="10:30" [^>]*data-refusal="overlapping"', page)
    full = slot_tag(page, "12:00")
    assert 'class="slot full wait"' in full and 'data-free="0"' in full
    assert 'data-refusal="full"' in full and 'data-can-wait="true"' in full
    free = slot_tag(page, "15:00")
    assert 'data-can-start="true"' in free and "disabled" not in free
    assert f'hx-get="/app/confirm?date={TOMORROW}&amp;start=15:00"' in free


@pytest.mark.parametrize("query", ["", "?date=x", "?date=2026-02-30", "?date=0001-01-01"])
def test_a_bad_grid_date_is_400_in_place(page_client, query):
    response = page_client.get(f"/app/grid{query}", headers=auth(ANNA))
    assert response.status_code == 400
    assert 'class="notice error"' in html(response)


def test_tapping_a_start_shows_the_confirmation_with_start_and_end(page_client):
    page = html(page_client.get(f"/app/confirm?date={TOMORROW}&start=10:00", headers=auth(ANNA)))
    assert "Thu 26 Nov, 10:00–11:30" in page
    assert 'data-action="confirm" hx-post="/app/bookings"' in page
    assert '{"date": "2026-11-26", "start": "10:00"}' in page
    assert "data-dismiss" in page


@pytest.mark.parametrize("start", ["10:15", "24:00", "", "ten"])
def test_a_confirmation_for_a_bad_start_is_400(page_client, start):
    response = page_client.get(f"/app/confirm?date={TOMORROW}&start={start}", headers=auth(ANNA))
    assert response.status_code == 400


def test_booking_re_renders_the_tab_with_the_outcome(page_client):
    response = book(page_client)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == '{"tg-haptic": "success"}'
    page = html(response)
    assert "Booked: Thu 26 Nov, 10:00–11:30" in page
    assert 'class="slot mine own"' in slot_tag(page, "10:00")
    assert 'data-date="2026-11-26" data-available="true" ' in page


def test_a_refused_booking_is_409_with_the_reason_and_the_truth(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    response = book(page_client, user=BORIS)
    assert response.status_code == 409
    assert response.headers["HX-Trigger"] == '{"tg-haptic": "error"}'
    page = html(response)
    assert '<p class="notice error" data-notice role="status">На это время мест нет.</p>' in page
    taken = slot_tag(page, "10:00")
    assert 'data-free="0" data-can-start="false" data-refusal="full"' in taken


def test_a_malformed_booking_is_400(page_client):
    response = page_client.post(
        "/app/bookings", data={"date": TOMORROW, "start": "10:10"}, headers=auth(ANNA)
    )
    assert response.status_code == 400
    assert "not one the app offers" in html(response)  # not "'10:10' is off the grid"


# --- my trainings ---------------------------------------------------------------------------


def booking_id(page_client) -> str:
    return re.search(
        r'data-booking-id="(\d+)"', html(page_client.get("/app/my", headers=auth(ANNA)))
    ).group(1)


def test_my_trainings_list_bookings_with_their_controls(page_client):
    assert "No upcoming trainings." in html(page_client.get("/app/my", headers=auth(ANNA)))
    book(page_client)
    page = html(page_client.get("/app/my", headers=auth(ANNA)))
    assert 'aria-current="page">My trainings' in page
    assert "Thu 26 Nov" in page and "10:00–11:30" in page
    assert 'data-action="cancel" hx-get="/app/bookings/' in page
    assert 'data-action="reschedule" hx-get="/app/book?move=' in page
    assert re.search(r'href="/app/calendar/[^"]+\.ics" download', page)


def test_after_the_deadline_the_controls_explain_why_not(page_client, clock):
    book(page_client)
    clock.advance(hours=23, minutes=1)  # 1 h 59 min before the start
    page = html(page_client.get("/app/my", headers=auth(ANNA)))
    assert 'data-action="cancel" disabled' in page
    assert "Changes close 2 hours before the start." in page


def test_cancelling_asks_first_then_cancels(page_client):
    book(page_client)
    number = booking_id(page_client)
    asking = html(page_client.get(f"/app/bookings/{number}/cancel", headers=auth(ANNA)))
    assert "Cancel this training?" in asking
    assert f'data-action="confirm" hx-delete="/app/bookings/{number}"' in asking
    response = page_client.delete(f"/app/bookings/{number}", headers=auth(ANNA))
    assert response.status_code == 200
    assert "Cancelled: Thu 26 Nov, 10:00–11:30" in html(response)
    assert "data-booking-id" not in html(response)


def test_someone_elses_booking_is_404_everywhere(page_client):
    book(page_client)
    number = booking_id(page_client)
    for method, path in [
        ("get", f"/app/bookings/{number}/cancel"),
        ("delete", f"/app/bookings/{number}"),
        ("get", f"/app/book?move={number}"),
        ("post", f"/app/bookings/{number}/reschedule"),
    ]:
        response = getattr(page_client, method)(
            path, headers=auth(BORIS), data={"date": TOMORROW, "start": "14:00"}
        )
        assert response.status_code == 404, path
    assert page_client.get("/app/book?move=abc", headers=auth(ANNA)).status_code == 404
    assert (
        page_client.delete("/app/bookings/99999999999999999999", headers=auth(ANNA)).status_code
        == 404
    )


def test_cancelling_past_the_deadline_is_409_in_place(page_client, clock):
    book(page_client)
    number = booking_id(page_client)
    clock.advance(hours=23, minutes=1)
    response = page_client.delete(f"/app/bookings/{number}", headers=auth(ANNA))
    assert response.status_code == 409
    assert "It is too late to change this booking." in html(response)
    assert f'data-booking-id="{number}"' in html(response)


def test_moving_a_booking(page_client):
    book(page_client)
    number = booking_id(page_client)
    picking = html(page_client.get(f"/app/book?move={number}&date={TOMORROW}", headers=auth(ANNA)))
    assert "Moving Thu 26 Nov, 10:00–11:30: pick a new start" in picking
    # half an hour later overlaps the booking itself, which is being moved: allowed
    assert 'data-can-start="true"' in slot_tag(picking, "10:30")
    assert f"move={number}" in slot_tag(picking, "10:30")
    confirm = html(
        page_client.get(
            f"/app/confirm?date={TOMORROW}&start=10:30&move={number}", headers=auth(ANNA)
        )
    )
    assert f'hx-post="/app/bookings/{number}/reschedule"' in confirm
    moved = page_client.post(
        f"/app/bookings/{number}/reschedule",
        data={"date": TOMORROW, "start": "10:30"},
        headers=auth(ANNA),
    )
    assert moved.status_code == 200
    assert "Moved to Thu 26 Nov, 10:30–12:00" in html(moved)


def test_a_refused_move_keeps_the_old_booking(sqlite_app, page_client):
    book(page_client)
    number = booking_id(page_client)
    fill(sqlite_app, "14:00", 4)
    refused = page_client.post(
        f"/app/bookings/{number}/reschedule",
        data={"date": TOMORROW, "start": "14:00"},
        headers=auth(ANNA),
    )
    assert refused.status_code == 409
    assert "No places left at this time." in html(refused)
    assert "Moving Thu 26 Nov, 10:00–11:30" in html(refused)
    assert "10:00–11:30" in html(page_client.get("/app/my", headers=auth(ANNA)))


def test_the_calendar_file(page_client):
    book(page_client)
    page = html(page_client.get("/app/my", headers=auth(ANNA)))
    url = re.search(r'href="(/app/calendar/[^"]+\.ics)"', page).group(1)
    response = page_client.get(url)  # a plain link: no Authorization header
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    body = html(response)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261126T070000Z\r\n" in body and "DTEND:20261126T083000Z\r\n" in body
    assert "SUMMARY:Training\r\n" in body
    assert page_client.get(url.replace(".ics", "x.ics")).status_code == 404


# --- the trainer's tab ---------------------------------------------------------------------


def test_the_trainer_tab_lists_the_days_bookings(sqlite_app, page_client):
    book(page_client)
    page = html(page_client.get(f"/app/book?date={TOMORROW}", headers=auth(TRAINER)))
    assert 'data-nav="admin"' in page
    admin = html(page_client.get(f"/app/admin?date={TOMORROW}", headers=auth(TRAINER)))
    assert "Anna K" in admin and "@anna" in admin and "10:00–11:30" in admin
    assert page_client.get("/app/admin?date=bad", headers=auth(TRAINER)).status_code == 400
    assert page_client.get("/app/admin", headers=auth(ANNA)).status_code == 403


# --- transport -------------------------------------------------------------------------------


def test_responses_are_gzipped_when_the_client_accepts_it(page_client):
    plain = page_client.get("/app/book", headers=auth(ANNA))
    zipped = page_client.get("/app/book", headers={**auth(ANNA), "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 3


def test_the_grid_fragment_is_gzipped_once_per_state_and_follows_a_booking(page_client):
    """/app/grid's gzip is kept per body (webapp.responses.repeated): the same bytes while the
    day is the same, and the new picture once someone books."""
    path = f"/app/grid?date={TOMORROW}"
    zipped = {**auth(BORIS), "Accept-Encoding": "gzip"}
    first, again = page_client.get(path, headers=zipped), page_client.get(path, headers=zipped)
    plain = page_client.get(path, headers=auth(BORIS))
    assert (
        first.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in first.headers["Vary"]
    )
    assert "Content-Encoding" not in plain.headers
    assert first.data == again.data and gzip.decompress(first.data) == plain.data
    booked = page_client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    )
    assert booked.status_code == 201, booked.get_data(as_text=True)
    after = page_client.get(path, headers=zipped)
    assert after.data != first.data
    assert gzip.decompress(after.data) == page_client.get(path, headers=auth(BORIS)).data


def test_static_files_are_gzipped_and_versioned_ones_cached_for_a_year(page_client):
    page = html(page_client.get("/"))
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        response = page_client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]
        again = page_client.get(url, headers={"Accept-Encoding": "gzip"})
        assert again.data == response.data
    unversioned = page_client.get("/static/app.css")
    assert unversioned.headers["Cache-Control"] == "no-cache"


def test_user_specific_responses_are_not_cached(page_client):
    assert (
        page_client.get("/app/my", headers=auth(ANNA)).headers["Cache-Control"]
        == "private, no-store"
    )
    assert (
        page_client.get("/api/bookings", headers=auth(ANNA)).headers["Cache-Control"]
        == "private, no-store"
    )


# --- the phone, when PHONE_REQUIRED=1 --------------------------------------------------------


def contact_response(
    telegram_id: int, phone: str = "+7 999 123-45-67", bot_token: str = TEST_BOT_TOKEN
) -> str:
    """requestContact's signed `response`, as Telegram builds it."""
    fields = {
        "contact": json.dumps(
            {"user_id": telegram_id, "phone_number": phone, "first_name": "Anna"}
        ),
        "auth_date": str(int(time.time())),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@pytest.fixture
def phone_client(sqlite_template, tmp_path, clock):
    from schedule import Settings
    from tests.conftest import sqlite_with_schema
    from tests.fixtures_web import build_app

    url = sqlite_with_schema(sqlite_template, tmp_path / "booking.sqlite3")
    return build_app(url, clock, SCHEDULE=Settings(phone_required=True)).test_client()


def test_without_a_phone_the_booking_asks_to_share_it(phone_client):
    refused = book(phone_client)
    assert refused.status_code == 409
    assert "Please share your phone number first." in html(refused)
    assert 'data-share-phone hx-post="/app/phone"' in html(refused)
    shared = phone_client.post(
        "/app/phone", data={"response": contact_response(ANNA["id"])}, headers=auth(ANNA)
    )
    assert shared.status_code == 200
    assert "Thank you! You can book now." in html(shared)
    assert book(phone_client).status_code == 200


@pytest.mark.parametrize(
    "response",
    [
        contact_response(ANNA["id"], bot_token="987654321:BBanother-bot-token-0123456789abcdefgh"),
        contact_response(BORIS["id"]),
        contact_response(ANNA["id"], phone="12"),
        "",
        "contact=x",
    ],
)
def test_a_forged_foreign_or_bad_contact_is_refused(phone_client, response):
    shared = phone_client.post("/app/phone", data={"response": response}, headers=auth(ANNA))
    assert shared.status_code == 400
    assert book(phone_client).status_code == 409
