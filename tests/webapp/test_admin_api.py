"""The trainer's JSON API under /api/admin, on SQLite and PostgreSQL; and the rule that every
trainer's route (JSON or page) answers 403 to anybody else."""

from __future__ import annotations

import csv
import io
import re

import pytest

from schedule import Booking, Closure
from schedule.events import BookingCancelled, BookingMade
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth
from webapp.extensions import db

ADMIN_PREFIXES = ("/api/admin", "/app/admin")


@pytest.fixture
def events(app) -> list:
    """Every schedule event the app hands to its notifier."""
    seen: list = []
    app.extensions["booking_events"] = seen.append
    return seen


def book(client, user=ANNA, date=TOMORROW, start="10:00") -> dict:
    response = client.post("/api/bookings", json={"date": date, "start": start}, headers=auth(user))
    assert response.status_code == 201, response.json
    return response.json


def admin_get(client, path: str):
    return client.get(path, headers=auth(TRAINER))


def admin_send(client, method: str, path: str, body=None):
    return client.open(path, method=method, json=body, headers=auth(TRAINER))


def assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert {"error", "message"} <= set(response.json)
    assert response.json["message"]
    if code is not None:
        assert response.json["error"] == code


def stored(app, model, row_id: int):
    with app.app_context():
        return db.session.get(model, row_id)


# --- nobody but the trainer -----------------------------------------------------------------


def admin_requests(app) -> list[tuple[str, str]]:
    """(method, URL) of every rule under the admin prefixes, path arguments filled in."""
    requests = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(ADMIN_PREFIXES):
            continue
        url = re.sub(r"<int:[^>]+>", "1", rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        requests += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return requests


def test_every_admin_route_is_403_for_a_client(app, client):
    book(client)
    requests = admin_requests(app)
    # The trainer's tab and API as built; a new route joins this test by itself.
    assert len(requests) >= 25
    assert ("GET", "/api/admin/bookings") in requests and ("GET", "/app/admin") in requests
    for method, url in requests:
        response = client.open(url, method=method, json={}, headers=auth(ANNA))
        assert response.status_code == 403, (method, url, response.status_code)
        if url.startswith("/api/"):
            assert response.json["error"] == "forbidden", (method, url)
        anonymous = client.open(url, method=method, json={})
        assert anonymous.status_code in (401, 403), (method, url, anonymous.status_code)
    with app.app_context():
        assert db.session.scalars(db.select(Booking)).one().status == "active"
        assert db.session.scalars(db.select(Closure)).all() == []


def test_the_trainer_gets_through(client):
    for path in (
        "/api/admin/week",
        "/api/admin/hours",
        "/api/admin/closures",
        "/api/admin/clients",
        "/app/admin",
        "/app/admin/week",
        "/app/admin/hours",
        "/app/admin/clients",
    ):
        assert admin_get(client, path).status_code == 200, path


# --- the week ---------------------------------------------------------------------------------


def test_week_counts_booked_places_per_cell(client):
    book(client, ANNA, start="10:00")
    book(client, BORIS, start="10:30")
    body = admin_get(client, "/api/admin/week?from=2026-11-23").json
    assert body["from"] == "2026-11-23" and body["capacity"] == 4
    assert [d["date"] for d in body["days"]] == [f"2026-11-{n}" for n in range(23, 30)]
    thursday = {cell["start"]: cell for cell in body["days"][3]["cells"]}
    assert thursday["10:00"] == {"start": "10:00", "booked": 1, "free": 3}
    assert thursday["10:30"]["booked"] == 2 and thursday["11:30"]["booked"] == 1
    assert thursday["12:00"]["booked"] == 0
    assert body["days"][3]["booked"] == 6 and body["days"][0]["booked"] == 0


def test_week_starts_today_by_default_and_refuses_a_bad_date(client):
    assert admin_get(client, "/api/admin/week").json["from"] == "2026-11-25"
    assert_error(admin_get(client, "/api/admin/week?from=tomorrow"), 400, "invalid")


# --- cancelling -------------------------------------------------------------------------------


def test_the_trainer_cancels_with_a_reason_and_the_client_is_told(app, client, events):
    booking = book(client)
    events.clear()
    response = admin_send(
        client,
        "POST",
        f"/api/admin/bookings/{booking['id']}/cancel",
        {"reason": "  The trainer is ill  "},
    )
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["cancel_reason"] == "The trainer is ill"
    assert response.json["user"]["telegram_id"] == ANNA["id"]
    [event] = events
    assert isinstance(event, BookingCancelled) and event.by_admin
    assert event.booking.id == booking["id"]
    assert event.booking.cancel_reason == "The trainer is ill"
    row = stored(app, Booking, booking["id"])
    assert (row.status, row.cancelled_by) == ("cancelled", "admin")
    assert client.get("/api/bookings", headers=auth(ANNA)).json["bookings"] == []


def test_cancelling_needs_a_reason_and_an_active_booking(client, events):
    booking = book(client)
    url = f"/api/admin/bookings/{booking['id']}/cancel"
    assert_error(admin_send(client, "POST", url, {"reason": "   "}), 400, "invalid")
    assert_error(admin_send(client, "POST", url, {}), 400, "invalid")
    assert_error(admin_send(client, "POST", url, ["ill"]), 400, "invalid")
    assert_error(
        admin_send(client, "POST", "/api/admin/bookings/999/cancel", {"reason": "x"}),
        404,
        "not_found",
    )
    assert admin_send(client, "POST", url, {"reason": "ill"}).status_code == 200
    assert_error(admin_send(client, "POST", url, {"reason": "ill"}), 409, "not_active")
    assert [type(e) for e in events] == [BookingMade, BookingCancelled]


def test_the_trainer_cancels_even_past_the_clients_deadline(client, clock):
    booking = book(client, date="2026-11-25", start="10:00")  # an hour away: too late for Anna
    assert client.delete(f"/api/bookings/{booking['id']}", headers=auth(ANNA)).status_code == 409
    response = admin_send(
        client, "POST", f"/api/admin/bookings/{booking['id']}/cancel", {"reason": "Flooded hall"}
    )
    assert response.status_code == 200


# --- booking on a client's behalf ---------------------------------------------------------------


def test_the_trainer_books_a_known_client(app, client, events):
    client.get("/api/bookings", headers=auth(BORIS))  # Boris has opened the app once
    response = admin_send(
        client,
        "POST",
        "/api/admin/bookings",
        {"telegram_id": BORIS["id"], "date": TOMORROW, "start": "11:00"},
    )
    assert response.status_code == 201
    assert response.json["start"] == "11:00" and response.json["end"] == "12:30"
    assert response.json["user"]["name"] == "Борис"
    assert stored(app, Booking, response.json["id"]).source == "admin"
    assert isinstance(events[-1], BookingMade)
    mine = client.get("/api/bookings", headers=auth(BORIS)).json["bookings"]
    assert [b["id"] for b in mine] == [response.json["id"]]


def test_booking_on_behalf_follows_the_rules(client):
    client.get("/api/bookings", headers=auth(BORIS))
    body = {"telegram_id": BORIS["id"], "date": TOMORROW, "start": "11:00"}
    assert admin_send(client, "POST", "/api/admin/bookings", body).status_code == 201
    assert_error(admin_send(client, "POST", "/api/admin/bookings", body), 409, "overlapping")
    assert_error(
        admin_send(client, "POST", "/api/admin/bookings", {**body, "telegram_id": 5}),
        404,
        "not_found",
    )
    for bad in (
        {**body, "telegram_id": "1002"},
        {**body, "start": "11:10"},
        {**body, "date": "soon"},
        {"telegram_id": BORIS["id"]},
        [1],
    ):
        assert_error(admin_send(client, "POST", "/api/admin/bookings", bad), 400, "invalid")
    assert_error(
        admin_send(client, "POST", "/api/admin/bookings", {**body, "date": "2026-12-20"}),
        409,
        "too_far",
    )


# --- opening hours ----------------------------------------------------------------------------


def test_opening_hours_default_to_the_environment_then_are_stored(client):
    body = admin_get(client, "/api/admin/hours").json
    assert body["timezone"] == "Europe/Moscow"
    assert body["hours"] == {
        day: ["08:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    week = {
        "mon": ["07:00-12:00", "16:00-21:00"],
        "tue": "09:00-14:00",
        "thu": "closed",
        "wed": [],
        "fri": ["08:00-18:00"],
        "sat": ["10:00-14:00"],
    }
    response = admin_send(client, "PUT", "/api/admin/hours", {"hours": week})
    assert response.status_code == 200
    assert response.json["hours"]["mon"] == ["07:00-12:00", "16:00-21:00"]
    assert response.json["hours"]["tue"] == ["09:00-14:00"]
    assert response.json["hours"]["sun"] == [] and response.json["hours"]["thu"] == []
    assert admin_get(client, "/api/admin/hours").json["hours"] == response.json["hours"]
    monday = client.get("/api/slots?date=2026-11-30", headers=auth(ANNA)).json["slots"]
    starts = [s["start"] for s in monday]
    assert starts[0] == "07:00" and "12:00" not in starts and "16:00" in starts
    assert client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).json["slots"] == []


def test_bookings_left_outside_new_hours_are_listed(client):
    booking = book(client, start="16:00")
    week = {day: ["08:00-12:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    response = admin_send(client, "PUT", "/api/admin/hours", {"hours": week})
    assert [b["id"] for b in response.json["outside_hours"]] == [booking["id"]]


@pytest.mark.parametrize(
    "hours",
    [
        None,
        ["08:00-18:00"],
        {"someday": ["08:00-18:00"]},
        {"mon": ["08:10-18:00"]},
        {"mon": ["18:00-08:00"]},
        {"mon": ["08:00-12:00", "11:00-14:00"]},
        {"mon": [8]},
        {"mon": "closed"},
    ],
)
def test_bad_opening_hours_are_400_and_change_nothing(client, hours):
    assert_error(admin_send(client, "PUT", "/api/admin/hours", {"hours": hours}), 400, "invalid")
    assert admin_get(client, "/api/admin/hours").json["hours"]["mon"] == ["08:00-18:00"]


# --- closures ---------------------------------------------------------------------------------


def test_closing_a_free_day_then_reopening_it(client):
    response = admin_send(
        client, "POST", "/api/admin/closures", {"date": TOMORROW, "reason": "Holiday"}
    )
    assert response.status_code == 201
    closure = response.json
    assert closure == {
        "id": closure["id"],
        "date": TOMORROW,
        "start": "00:00",
        "end": "24:00",
        "whole_day": True,
        "reason": "Holiday",
        "cancelled": [],
    }
    listed = admin_get(client, "/api/admin/closures").json["closures"]
    assert [c["id"] for c in listed] == [closure["id"]]
    slots = client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).json["slots"]
    assert not any(s["can_start"] for s in slots)

    removed = admin_send(client, "DELETE", f"/api/admin/closures/{closure['id']}")
    assert removed.status_code == 200 and removed.json["id"] == closure["id"]
    assert admin_get(client, "/api/admin/closures").json["closures"] == []
    assert_error(
        admin_send(client, "DELETE", f"/api/admin/closures/{closure['id']}"), 404, "not_found"
    )
    assert book(client)["start"] == "10:00"


def test_closing_time_that_holds_bookings_lists_them_and_changes_nothing(app, client, events):
    anna = book(client, ANNA, start="10:00")
    boris = book(client, BORIS, start="14:00")
    events.clear()
    response = admin_send(
        client,
        "POST",
        "/api/admin/closures",
        {"date": TOMORROW, "start": "09:00", "end": "11:00", "reason": "Works"},
    )
    assert_error(response, 409, "has_bookings")
    assert [b["id"] for b in response.json["bookings"]] == [anna["id"]]
    assert response.json["bookings"][0]["user"]["name"] == "Anna K"
    assert stored(app, Booking, anna["id"]).status == "active"
    assert admin_get(client, "/api/admin/closures").json["closures"] == []
    assert events == []

    response = admin_send(
        client,
        "POST",
        "/api/admin/closures",
        {
            "date": TOMORROW,
            "start": "09:00",
            "end": "11:00",
            "reason": "Works",
            "cancel_bookings": True,
        },
    )
    assert response.status_code == 201
    assert (response.json["start"], response.json["end"], response.json["whole_day"]) == (
        "09:00",
        "11:00",
        False,
    )
    assert [b["id"] for b in response.json["cancelled"]] == [anna["id"]]
    cancelled = stored(app, Booking, anna["id"])
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        "admin",
        "Works",
    )
    assert stored(app, Booking, boris["id"]).status == "active"
    [event] = events
    assert isinstance(event, BookingCancelled) and event.by_admin
    assert event.booking.id == anna["id"]


def test_a_whole_day_closure_over_bookings_cancels_them_all_when_confirmed(app, client, events):
    ids = [book(client, ANNA, start="10:00")["id"], book(client, BORIS, start="15:00")["id"]]
    body = {"date": TOMORROW, "reason": "Holiday"}
    conflict = admin_send(client, "POST", "/api/admin/closures", body)
    assert_error(conflict, 409, "has_bookings")
    assert [b["id"] for b in conflict.json["bookings"]] == ids
    done = admin_send(client, "POST", "/api/admin/closures", {**body, "cancel_bookings": True})
    assert done.status_code == 201 and done.json["whole_day"] is True
    assert sorted(b["id"] for b in done.json["cancelled"]) == ids
    assert all(stored(app, Booking, i).status == "cancelled" for i in ids)
    assert sum(isinstance(e, BookingCancelled) and e.by_admin for e in events) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2026-13-01"},
        {"date": TOMORROW, "start": "10:00"},
        {"date": TOMORROW, "start": "12:00", "end": "10:00"},
        {"date": TOMORROW, "start": "25:00", "end": "26:00"},
        {"date": TOMORROW, "reason": 5},
        {"date": TOMORROW, "cancel_bookings": "yes"},
        "closed",
    ],
)
def test_bad_closures_are_400(client, body):
    assert_error(admin_send(client, "POST", "/api/admin/closures", body), 400, "invalid")
    assert admin_get(client, "/api/admin/closures").json["closures"] == []


# --- clients and the export ---------------------------------------------------------------------


def test_clients_with_upcoming_past_and_last_visit(client, clock):
    book(client, ANNA, date="2026-11-25", start="11:00")
    book(client, ANNA, date=TOMORROW, start="10:00")
    book(client, BORIS, date=TOMORROW, start="10:00")
    clock.advance(hours=6)  # Anna's training today is over
    clients = {c["telegram_id"]: c for c in admin_get(client, "/api/admin/clients").json["clients"]}
    assert clients[ANNA["id"]] == {
        "telegram_id": ANNA["id"],
        "name": "Anna K",
        "username": "anna",
        "phone": None,
        "upcoming": 1,
        "past": 1,
        "last_visit": "2026-11-25",
    }
    assert (clients[BORIS["id"]]["upcoming"], clients[BORIS["id"]]["past"]) == (1, 0)
    assert clients[BORIS["id"]]["last_visit"] is None
    found = admin_get(client, "/api/admin/clients?q=БОРИС").json["clients"]
    assert [c["telegram_id"] for c in found] == [BORIS["id"]]
    by_username = admin_get(client, "/api/admin/clients?q=@ann").json["clients"]
    assert [c["telegram_id"] for c in by_username] == [ANNA["id"]]


def test_the_csv_export_of_a_date_range(client):
    anna = book(client, ANNA, start="10:00")
    boris = book(client, BORIS, date="2026-11-27", start="12:30")
    book(client, ANNA, date="2026-12-02", start="09:00")  # after the range
    admin_send(client, "POST", f"/api/admin/bookings/{boris['id']}/cancel", {"reason": "=ill"})
    response = admin_get(client, f"/api/admin/export.csv?from={TOMORROW}&to=2026-11-30")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="bookings-2026-11-26-2026-11-30.csv"'
    )
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [(r["booking_id"], r["date"], r["start"], r["end"], r["status"]) for r in rows] == [
        (str(anna["id"]), TOMORROW, "10:00", "11:30", "active"),
        (str(boris["id"]), "2026-11-27", "12:30", "14:00", "cancelled"),
    ]
    assert rows[1]["client"] == "Борис" and rows[1]["cancelled_by"] == "admin"
    assert rows[1]["cancel_reason"] == "'=ill"  # no formula reaches the spreadsheet
    assert b"\r\n" in raw


@pytest.mark.parametrize(
    "query", ["", "?from=2026-11-01", "?from=x&to=2026-11-30", "?from=2025-01-01&to=2026-11-30"]
)
def test_bad_export_ranges_are_400(client, query):
    assert_error(admin_get(client, f"/api/admin/export.csv{query}"), 400, "invalid")


def test_clients_who_never_booked_are_listed_and_trainers_are_not(client):
    client.get("/api/bookings", headers=auth(BORIS))  # Boris opened the app, booked nothing
    client.get("/api/bookings", headers=auth(TRAINER))
    listed = admin_get(client, "/api/admin/clients").json["clients"]
    assert [(c["telegram_id"], c["upcoming"], c["past"]) for c in listed] == [(BORIS["id"], 0, 0)]


def test_clients_read_the_trainers_reasons_from_the_bot(app, client, fake_telegram, dispatcher):
    """The notices schedule writes, sent over a fake Bot API: cancelling and closing reach Anna
    (both waiting when the dispatcher comes, so in one message)."""
    first = book(client, ANNA, start="10:00")
    book(client, ANNA, date="2026-11-27", start="12:00")
    cancel_url = f"/api/admin/bookings/{first['id']}/cancel"
    assert (
        admin_send(client, "POST", cancel_url, {"reason": "The trainer is ill"}).status_code == 200
    )
    closure = {"date": "2026-11-27", "reason": "Holiday", "cancel_bookings": True}
    assert admin_send(client, "POST", "/api/admin/closures", closure).status_code == 201
    assert dispatcher.flush()
    to_anna = [
        call.params["text"]
        for call in fake_telegram.calls
        if call.method == "sendMessage" and call.params.get("chat_id") == str(ANNA["id"])
    ]
    [told] = to_anna
    cancelled, closed = told.split("\n\n")
    assert "Thu 26 Nov 10:00–11:30" in cancelled and cancelled.endswith("The trainer is ill")
    assert "Fri 27 Nov 12:00–13:30" in closed and closed.endswith("Reason: Holiday")
