"""The JSON API against DESIGN.md's contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from schedule import Settings, services
from schedule.events import BookingCancelled, BookingMade, BookingMoved
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, make_user, trainer_unit
from webapp.extensions import db

SLOT_KEYS = {
    *("start", "end", "booked", "free", "can_start", "mine"),
    *("refusal", "places", "can_wait", "waitlisted"),
}
# "forfeited": cancelled late under LATE_CANCEL=forfeit (DESIGN.md, "Products and payments").
BOOKING_KEYS = {"id", "date", "start", "end", "status", "pass_id", "attendance", "forfeited"}


def book(client, user=ANNA, date=TOMORROW, start="10:00"):
    return client.post("/api/bookings", json={"date": date, "start": start}, headers=auth(user))


def assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json) == {"error", "message"}
    assert response.json["message"]
    if code is not None:
        assert response.json["error"] == code


def slots(client, date=TOMORROW, user=ANNA) -> dict:
    response = client.get(f"/api/slots?date={date}", headers=auth(user))
    assert response.status_code == 200
    return response.json


def slot(client, start: str, date=TOMORROW, user=ANNA) -> dict:
    return next(s for s in slots(client, date, user)["slots"] if s["start"] == start)


# --- GET /api/slots --------------------------------------------------------------------------


def test_slots_list_every_cell_of_the_day_in_order(client):
    body = slots(client)
    assert {
        k: body[k] for k in ("date", "timezone", "capacity", "training_minutes", "slot_minutes")
    } == {
        "date": TOMORROW,
        "timezone": "Europe/Moscow",
        "capacity": 4,
        "training_minutes": 90,
        "slot_minutes": 30,
    }
    starts = [s["start"] for s in body["slots"]]
    assert starts == [f"{h:02d}:{m:02d}" for h in range(8, 18) for m in (0, 30)]
    assert all(set(s) == SLOT_KEYS for s in body["slots"])
    assert body["slots"][0]["end"] == "08:30" and body["slots"][-1]["end"] == "18:00"
    can_start = {s["start"]: s["can_start"] for s in body["slots"]}
    assert can_start["16:30"] is True
    assert can_start["17:00"] is False and can_start["17:30"] is False  # would end after 18:00
    assert all(s["free"] == 4 and s["booked"] == 0 and not s["mine"] for s in body["slots"])


def test_slots_show_bookings_free_places_and_mine(client):
    assert book(client, ANNA, start="10:00").status_code == 201
    assert book(client, BORIS, start="10:30").status_code == 201
    by_start = {s["start"]: s for s in slots(client)["slots"]}
    assert by_start["10:00"] == {
        "start": "10:00",
        "end": "10:30",
        "booked": 1,
        "free": 3,
        "can_start": False,
        "mine": True,
        "refusal": "overlapping",
        "places": 2,  # 10:30 and 11:00 hold two bookings each
        "can_wait": False,
        "waitlisted": False,
    }
    assert (by_start["10:30"]["booked"], by_start["10:30"]["mine"]) == (2, True)
    assert (by_start["11:30"]["booked"], by_start["11:30"]["mine"]) == (1, False)
    assert by_start["12:00"]["booked"] == 0
    assert slot(client, "10:00", user=BORIS)["mine"] is False


def test_past_and_far_dates_list_their_cells_none_bookable(client):
    for date in ("2026-11-20", "2026-12-20"):
        body = slots(client, date)
        assert len(body["slots"]) == 20
        assert not any(s["can_start"] for s in body["slots"])


def test_today_only_from_the_minimum_notice(client):
    can_start = {s["start"]: s["can_start"] for s in slots(client, "2026-11-25")["slots"]}
    assert can_start["09:00"] is False and can_start["09:30"] is True


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?date=",
        "?date=tomorrow",
        "?date=2026-13-01",
        "?date=2026-02-30",
        "?date=26-11-2026",
        "?date=9999-12-31",
        "?date=0001-01-01",
        "?date=2026-11-26x",
    ],
)
def test_slots_with_a_bad_date_are_400(client, query):
    assert_error(client.get(f"/api/slots{query}", headers=auth(ANNA)), 400, "invalid")


# --- bookings ------------------------------------------------------------------------------


def test_booking_answers_201_with_the_booking_and_lists_it(client):
    response = book(client)
    assert response.status_code == 201
    assert set(response.json) == BOOKING_KEYS
    assert {k: v for k, v in response.json.items() if k != "id"} == {
        "date": TOMORROW,
        "start": "10:00",
        "end": "11:30",
        "status": "active",
        "pass_id": None,  # unpaid: no pass
        "attendance": None,
        "forfeited": False,
    }
    listed = client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]
    assert listed == [response.json]
    assert client.get("/api/bookings", headers=auth(BORIS)).json == {"bookings": []}


def test_my_bookings_are_upcoming_soonest_first_until_they_end(client, clock):
    book(client, start="14:00")
    book(client, start="10:00")
    assert [
        b["start"] for b in client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]
    ] == ["10:00", "14:00"]
    clock.advance(days=1, hours=1, minutes=20)  # tomorrow 10:20 local: the first is under way
    assert len(client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]) == 2
    clock.advance(minutes=70)  # 11:30: it has ended
    assert len(client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"date": TOMORROW},
        {"start": "10:00"},
        {"date": TOMORROW, "start": "10:15"},
        {"date": TOMORROW, "start": "25:00"},
        {"date": TOMORROW, "start": "1000"},
        {"date": TOMORROW, "start": 10},
        {"date": 20261126, "start": "10:00"},
        {"date": None, "start": None},
        {"date": "2026-11-31", "start": "10:00"},
        {"date": ["2026-11-26"], "start": "10:00"},
        [TOMORROW, "10:00"],
        "2026-11-26 10:00",
        None,
    ],
)
def test_malformed_bookings_are_400(client, body):
    response = client.post("/api/bookings", json=body, headers=auth(ANNA))
    assert_error(response, 400, "invalid")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("\xff\xfe", "application/json"),
        ("date=2026-11-26&start=10:00", "application/x-www-form-urlencoded"),
    ],
)
def test_bodies_that_are_not_json_objects_are_400(client, data, content_type):
    response = client.post(
        "/api/bookings", data=data, content_type=content_type, headers=auth(ANNA)
    )
    assert_error(response, 400, "invalid")


def test_huge_bodies_are_413_json(client):
    huge = '{"date": "' + "x" * 200_000 + '"}'
    response = client.post(
        "/api/bookings", data=huge, content_type="application/json", headers=auth(ANNA)
    )
    assert_error(response, 413, "too_large")


def test_a_full_start_is_409(client):
    for n in range(4):
        assert book(client, make_user(2000 + n), start="10:00").status_code == 201
    assert_error(book(client, ANNA, start="10:00"), 409, "full")
    assert_error(book(client, ANNA, start="11:00"), 409, "full")  # overlaps the full cells
    assert book(client, ANNA, start="11:30").status_code == 201


def test_overlapping_own_booking_is_409(client):
    assert book(client, start="10:00").status_code == 201
    assert_error(book(client, start="11:00"), 409, "overlapping")


@pytest.mark.parametrize(
    ("date", "start", "code"),
    [
        (TOMORROW, "07:00", "after_hours"),
        (TOMORROW, "17:00", "after_hours"),
        ("2026-11-25", "09:00", "too_soon"),
        ("2026-11-20", "10:00", "too_soon"),
        ("2026-12-03", "10:00", "too_far"),
    ],
)
def test_starts_the_rules_refuse_are_409(client, date, start, code):
    assert_error(book(client, date=date, start=start), 409, code)


def test_a_closure_makes_its_starts_409(app, client):
    with app.app_context():
        services.add_closure(
            trainer_unit(app),
            parse_date(TOMORROW),
        )
    assert_error(book(client), 409, "closed")
    assert not any(s["can_start"] for s in slots(client)["slots"])


def test_cancelling_own_booking(client):
    booking = book(client).json
    response = client.delete(f"/api/bookings/{booking['id']}", headers=auth(ANNA))
    assert response.status_code == 200
    assert response.json == {**booking, "status": "cancelled"}
    assert client.get("/api/bookings", headers=auth(ANNA)).json == {"bookings": []}
    assert slot(client, "10:00")["free"] == 4


@pytest.mark.parametrize("booking_id", ["{other}", "999999", "99999999999999999999"])
def test_cancelling_what_is_not_yours_is_404(client, booking_id):
    others = book(client, BORIS).json
    response = client.delete(
        f"/api/bookings/{booking_id.format(other=others['id'])}", headers=auth(ANNA)
    )
    assert_error(response, 404, "not_found")
    assert client.get("/api/bookings", headers=auth(BORIS)).json["bookings"] == [others]


def test_cancelling_past_the_deadline_is_409(client, clock):
    booking = book(client).json  # tomorrow 10:00 local = 07:00 UTC
    clock.advance(hours=23, minutes=1)  # tomorrow 08:01 local: 1 h 59 min before
    response = client.delete(f"/api/bookings/{booking['id']}", headers=auth(ANNA))
    assert_error(response, 409, "deadline_passed")
    assert client.get("/api/bookings", headers=auth(ANNA)).json["bookings"] == [booking]


def test_cancelling_twice_is_409(client):
    booking = book(client).json
    client.delete(f"/api/bookings/{booking['id']}", headers=auth(ANNA))
    assert_error(client.delete(f"/api/bookings/{booking['id']}", headers=auth(ANNA)), 409)


def reschedule(client, booking_id, user=ANNA, date=TOMORROW, start="14:00"):
    return client.post(
        f"/api/bookings/{booking_id}/reschedule",
        json={"date": date, "start": start},
        headers=auth(user),
    )


def test_rescheduling_moves_the_booking(client):
    booking = book(client).json
    response = reschedule(client, booking["id"], date="2026-11-27", start="11:30")
    assert response.status_code == 200
    assert response.json == {**booking, "date": "2026-11-27", "start": "11:30", "end": "13:00"}
    assert client.get("/api/bookings", headers=auth(ANNA)).json["bookings"] == [response.json]


def test_rescheduling_by_half_an_hour_overlapping_itself_is_allowed(client):
    booking = book(client).json
    assert reschedule(client, booking["id"], start="10:30").json["start"] == "10:30"


def test_a_refused_reschedule_is_409_and_keeps_the_old_booking(client):
    booking = book(client).json
    for n in range(4):
        book(client, make_user(2000 + n), start="14:00")
    assert_error(reschedule(client, booking["id"], start="14:00"), 409, "full")
    assert_error(reschedule(client, booking["id"], start="17:00"), 409, "after_hours")
    assert client.get("/api/bookings", headers=auth(ANNA)).json["bookings"] == [booking]


def test_rescheduling_someone_elses_booking_is_404(client):
    others = book(client, BORIS).json
    assert_error(reschedule(client, others["id"]), 404, "not_found")
    assert_error(reschedule(client, 99999999999999999999), 404, "not_found")


def test_rescheduling_past_the_deadline_is_409(client, clock):
    booking = book(client).json
    clock.advance(hours=23, minutes=1)
    assert_error(reschedule(client, booking["id"], date="2026-11-27"), 409, "deadline_passed")


def test_malformed_reschedule_is_400_and_changes_nothing(client):
    booking = book(client).json
    response = client.post(
        f"/api/bookings/{booking['id']}/reschedule", json={"date": "x"}, headers=auth(ANNA)
    )
    assert_error(response, 400, "invalid")
    assert client.get("/api/bookings", headers=auth(ANNA)).json["bookings"] == [booking]


# --- the trainer's day ----------------------------------------------------------------------


def test_admin_bookings_list_the_day_with_who_booked(client):
    kept = book(client, ANNA, start="10:00").json
    dropped = book(client, BORIS, start="12:00").json
    client.delete(f"/api/bookings/{dropped['id']}", headers=auth(BORIS))
    book(client, ANNA, date="2026-11-27")
    active = client.get(f"/api/admin/bookings?date={TOMORROW}", headers=auth(TRAINER)).json
    assert active == {
        "bookings": [
            {
                **kept,
                "user": {
                    "telegram_id": ANNA["id"],
                    "name": "Anna K",
                    "username": "anna",
                    "phone": None,
                },
            }
        ]
    }
    everything = client.get(
        f"/api/admin/bookings?date={TOMORROW}&status=all", headers=auth(TRAINER)
    ).json["bookings"]
    assert [(b["id"], b["status"]) for b in everything] == [
        (kept["id"], "active"),
        (dropped["id"], "cancelled"),
    ]


@pytest.mark.parametrize("query", ["", "?date=nope", f"?date={TOMORROW}&status=weird"])
def test_admin_bookings_with_bad_input_are_400(client, query):
    assert_error(client.get(f"/api/admin/bookings{query}", headers=auth(TRAINER)), 400, "invalid")


# --- HTTP-level errors, always JSON under /api ----------------------------------------------


def test_unknown_api_routes_and_wrong_methods_are_json(client):
    assert_error(client.get("/api/nope", headers=auth(ANNA)), 404, "not_found")
    assert_error(client.get("/api/bookings/abc", headers=auth(ANNA)), 404)
    wrong_method = client.put("/api/bookings", headers=auth(ANNA))
    assert_error(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["Allow"]


def test_an_unexpected_failure_is_a_json_500(app, client, monkeypatch):
    app.testing = False  # let the error handler answer instead of raising into the test
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "upcoming_bookings", broken)
    response = client.get("/api/bookings", headers=auth(ANNA))
    assert_error(response, 500, "server_error")
    assert "boom" not in response.get_data(as_text=True)


# --- events for the notifier -----------------------------------------------------------------


def test_changes_are_handed_to_the_booking_events_hook(app, client):
    seen = []
    app.extensions["booking_events"] = seen.append
    booking = book(client).json
    reschedule(client, booking["id"], start="12:00")
    client.delete(f"/api/bookings/{booking['id']}", headers=auth(ANNA))
    assert [type(e) for e in seen] == [BookingMade, BookingMoved, BookingCancelled]
    assert all(e.booking.id == booking["id"] for e in seen)


def test_cors_only_for_configured_origins(database_url, clock):
    from tests.fixtures_web import build_app

    app = build_app(database_url, clock, CORS_ORIGINS=["https://allowed.example"])
    client = app.test_client()
    allowed = client.get(
        "/api/bookings", headers={**auth(ANNA), "Origin": "https://allowed.example"}
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://allowed.example"
    other = client.get("/api/bookings", headers={**auth(ANNA), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# --- per-request work done once --------------------------------------------------------------


def test_a_repeated_grid_costs_one_small_query_and_sees_every_write(app, client, database_url):
    from sqlalchemy import event

    from schedule.db import make_session_factory

    headers = auth(ANNA)
    url = f"/api/slots?date={TOMORROW}"
    assert client.get(url, headers=headers).status_code == 200
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(connection, cursor, statement, *rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        again = client.get(url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert again.status_code == 200
    assert len(statements) == 1 and "schedule_lock" in statements[0]

    # A write from elsewhere (the bot has its own engine) shows on the very next request.
    with make_session_factory(database_url)() as session:
        user = services.upsert_user(session, BORIS)
        services.book(
            Unit(session, app.config["SCHEDULE"], Actor.client(user), now=app.config["CLOCK"]()),
            user,
            parse_date(TOMORROW),
            600,
        )
        session.get_bind().dispose()
    by_start = {s["start"]: s for s in client.get(url, headers=headers).json["slots"]}
    assert by_start["10:00"]["booked"] == 1


def test_writes_look_the_user_up_again(app, client):
    headers = auth(ANNA)
    assert client.get("/api/bookings", headers=headers).status_code == 200
    with app.app_context():
        user = services.upsert_user(db.session(), ANNA)
        services.set_phone(db.session(), user, "+7 900 000-00-00")
    app.config["SCHEDULE"] = Settings(phone_required=True)
    booked = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=headers
    )
    assert booked.status_code == 201
