"""The Mini App never strands a user (issue 13): refusals and stale bookings are shown inside
the tab with its navigation, every message is human and translated, and the trainer's tab
says only what is true (a closure's reason, a client told only where a bot tells them)."""

from __future__ import annotations

import pytest

from schedule import Booking, services
from schedule.events import BookingCancelled
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth
from webapp.extensions import db

HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def book(client, user=ANNA, start="10:00") -> int:
    response = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": start}, headers=auth(user)
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def cancel_as_trainer(client, booking_id: int) -> None:
    response = client.post(
        f"/api/admin/bookings/{booking_id}/cancel", json={"reason": "Ill"}, headers=auth(TRAINER)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/app/book?move={id}", "/app/bookings/{id}", "/app/bookings/{id}/cancel"],
)
def test_a_booking_cancelled_meanwhile_shows_my_trainings_with_why(page_client, path):
    booking_id = book(page_client)
    cancel_as_trainer(page_client, booking_id)
    response = page_client.get(path.format(id=booking_id), headers={**auth(ANNA), **HX})
    assert response.status_code in (404, 409)
    assert response.headers["HX-Retarget"] == "#app"
    page = text(response)
    assert 'data-nav="book"' in page and 'data-nav="my"' in page  # the tabs are there
    assert "the trainer may have cancelled it" in page
    assert f'data-booking-id="{booking_id}"' not in page  # the list is the truth


def test_the_same_in_russian(page_client):
    booking_id = book(page_client, BORIS)
    cancel_as_trainer(page_client, booking_id)
    response = page_client.get(f"/app/book?move={booking_id}", headers={**auth(BORIS), **HX})
    assert "возможно, её отменил тренер" in text(response)


@pytest.mark.parametrize(
    "path",
    [
        "/app/grid",
        "/app/grid?date=yesterday",
        "/app/confirm?date=2026-11-26&start=10:10",
        "/app/book?date=2026-13-01",
        "/app/admin?date=nope",
        "/app/admin/week?from=1",
        "/app/admin?date=2026-11-26&at=25:00",
    ],
)
def test_a_bad_parameter_is_a_human_notice_in_place(page_client, path):
    user = TRAINER if "/admin" in path else ANNA
    response = page_client.get(path, headers={**auth(user), **HX})
    assert 400 <= response.status_code < 500
    assert response.headers["HX-Retarget"] == "[data-notice]"  # the open view stays
    page = text(response)
    assert "data-notice" in page and "notice error" in page
    assert "None" not in page and "like 2026" not in page and "grid" not in page


def test_werkzeug_never_speaks(page_client):
    unknown = {**auth(BORIS), **HX, "Accept-Language": "ru"}  # no view ran: the browser's
    response = page_client.get("/app/nothing-here", headers=unknown)
    assert response.status_code == 404
    assert "Не найдено" in text(response) and "requested URL" not in text(response)
    forbidden = page_client.get("/app/admin/week", headers={**auth(BORIS), **HX})
    assert forbidden.status_code == 403 and "только тренеру" in text(forbidden)


def test_a_trainer_opens_on_the_trainers_day_and_a_client_on_booking(page_client):
    first_load = {"HX-Request": "true", "HX-Trigger": "app"}
    trainer = text(page_client.get("/app/book", headers={**auth(TRAINER), **first_load}))
    assert 'data-admin-nav="day" hx-get="/app/admin" aria-current="page"' in trainer
    client = text(page_client.get("/app/book", headers={**auth(ANNA), **first_load}))
    assert 'data-nav="book" hx-get="/app/book" aria-current="page"' in client
    tapped = text(page_client.get("/app/book", headers={**auth(TRAINER), **HX}))
    assert 'data-nav="book" hx-get="/app/book" aria-current="page"' in tapped


def test_the_day_shows_places_and_the_waitlist_per_start(page_client, sqlite_app):
    from tests.fixtures_web import make_user

    for n in range(4):
        book(page_client, make_user(4000 + n), "10:00")
    waiting = page_client.post(
        "/api/waitlist", json={"date": TOMORROW, "start": "10:00"}, headers=auth(BORIS)
    )
    assert waiting.status_code == 201, waiting.json
    book(page_client, ANNA, "14:00")
    page = text(page_client.get(f"/app/admin?date={TOMORROW}", headers=auth(TRAINER)))
    assert 'data-admin-start="10:00" data-places="0" data-waiting="1"' in page
    assert "Waiting: Борис" in page
    assert 'data-admin-start="14:00" data-places="3" data-waiting="0"' in page
    focused = text(page_client.get(f"/app/admin?date={TOMORROW}&at=14:30", headers=auth(TRAINER)))
    assert 'data-admin-start="14:00" data-places="3" data-waiting="0" data-focus' in focused


def closure(client, **form):
    data = {"date": TOMORROW, "start": "", "end": "", "reason": "", **form}
    return client.post("/app/admin/closures", data=data, headers={**auth(TRAINER)})


def test_a_closure_on_a_past_date_is_refused_in_place(page_client):
    response = closure(page_client, date="2026-11-24", reason="Holiday")
    assert response.status_code == 400
    assert "That date has passed" in text(response) and "data-admin-nav" in text(response)
    listed = page_client.get("/api/admin/closures", headers=auth(TRAINER)).json["closures"]
    assert listed == []


def test_a_closure_that_cancels_bookings_needs_a_reason(page_client, sqlite_app):
    booking_id = book(page_client)
    refused = closure(page_client, cancel_bookings="1")
    assert refused.status_code == 400
    assert "Write the reason" in text(refused)
    with sqlite_app.app_context():
        assert db.session.get(Booking, booking_id).status == "active"
    assert closure(page_client, cancel_bookings="1", reason="Holiday").status_code == 200


def test_the_client_was_told_only_where_a_bot_tells_them(page_client, sqlite_app):
    booking_id = book(page_client)
    sheet = text(page_client.get(f"/app/admin/bookings/{booking_id}/cancel", headers=auth(TRAINER)))
    assert "No bot is set up here" in sheet and "gets a message" not in sheet
    quiet = page_client.post(
        f"/app/admin/bookings/{booking_id}/cancel", data={"reason": "Ill"}, headers=auth(TRAINER)
    )
    assert "tell the client yourself" in text(quiet) and "was told" not in text(quiet)

    seen: list = []
    sqlite_app.extensions["booking_events"] = seen.append
    sqlite_app.extensions["clients_told"] = True  # a bot wired: its worker sends the notices
    second = book(page_client, BORIS, "12:00")
    told = page_client.post(
        f"/app/admin/bookings/{second}/cancel", data={"reason": "Ill"}, headers=auth(TRAINER)
    )
    assert "The client was told." in text(told)
    assert any(isinstance(event, BookingCancelled) for event in seen)


def test_past_closures_are_still_possible_for_a_script(sqlite_app):
    from schedule.timegrid import parse_date

    with sqlite_app.app_context():
        settings, now = sqlite_app.config["SCHEDULE"], sqlite_app.config["CLOCK"]()
        with pytest.raises(services.ScheduleError) as refused:
            services.add_closure(
                Unit(db.session(), settings, Actor.trainer(), now=now), parse_date("2026-11-20")
            )
        assert refused.value.code == "past_closure" and refused.value.http_status == 400
