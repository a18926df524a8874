"""DESIGN.md's "Passes and attendance" contract through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from schedule import Booking
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, build_app
from webapp.extensions import db

PASS_FIELDS = {"id", "telegram_id", "visits", "used", "remaining", "starts", "expires", "price"}


def trainer(client, method: str, path: str, body=None):
    return client.open(path, method=method, json=body, headers=auth(TRAINER))


def known(client, user=ANNA) -> None:
    """The user opened the app once (the trainer can only sell passes to known clients)."""
    assert client.get("/api/bookings", headers=auth(user)).status_code == 200


def sell(client, user=ANNA, visits=2, valid_days=30, **extra) -> dict:
    known(client, user)
    body = {"telegram_id": user["id"], "visits": visits, "valid_days": valid_days, **extra}
    response = trainer(client, "POST", "/api/admin/passes", body)
    assert response.status_code == 201, response.json
    return response.json


def book(client, user=ANNA, date=TOMORROW, start="10:00"):
    return client.post("/api/bookings", json={"date": date, "start": start}, headers=auth(user))


@pytest.fixture
def strict_app(app):
    """The same app with PASS_REQUIRED=1 and NO_SHOW_LIMIT=2."""
    settings = replace(app.config["SCHEDULE"], pass_required=True, no_show_limit=2)
    app.config["SCHEDULE"] = settings
    return app


def test_the_trainer_records_a_pass_and_the_client_sees_it(client):
    sold = sell(client, visits=10, valid_days=30, price=4500, note="cash")
    assert PASS_FIELDS | {"note"} <= set(sold)
    assert sold["telegram_id"] == ANNA["id"]
    assert (sold["visits"], sold["used"], sold["remaining"]) == (10, 0, 10)
    assert (sold["starts"], sold["expires"]) == ("2026-11-25", "2026-12-24")
    assert (sold["price"], sold["note"]) == (4500, "cash")
    assert [change["kind"] for change in sold["history"]] == ["created"]

    mine = client.get("/api/passes", headers=auth(ANNA)).json["passes"]
    assert [p["id"] for p in mine] == [sold["id"]]
    assert client.get("/api/passes", headers=auth(BORIS)).json["passes"] == []


def test_recording_a_pass_refuses_bad_input_and_unknown_clients(client):
    known(client)
    for body in (
        {"telegram_id": ANNA["id"], "visits": 0, "valid_days": 30},
        {"telegram_id": ANNA["id"], "visits": "ten", "valid_days": 30},
        {"telegram_id": ANNA["id"], "visits": 5},
        {"telegram_id": ANNA["id"], "visits": 5, "valid_days": 30, "price": -1},
        {"telegram_id": ANNA["id"], "visits": 5, "valid_days": 30, "starts": "31.12"},
        {"telegram_id": "anna", "visits": 5, "valid_days": 30},
    ):
        response = trainer(client, "POST", "/api/admin/passes", body)
        assert response.status_code == 400, (body, response.json)
        assert response.json["error"] == "invalid" and response.json["message"]
    missing = {"telegram_id": 424242, "visits": 5, "valid_days": 30}
    assert trainer(client, "POST", "/api/admin/passes", missing).status_code == 404
    assert client.post("/api/admin/passes", json=missing, headers=auth(ANNA)).status_code == 403


def test_a_booking_takes_a_visit_and_a_cancel_gives_it_back(client):
    sold = sell(client, visits=2)
    booked = book(client)
    assert booked.status_code == 201
    assert booked.json["pass_id"] == sold["id"] and booked.json["attendance"] is None
    assert client.get("/api/passes", headers=auth(ANNA)).json["passes"][0]["remaining"] == 1
    listed = client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]
    assert listed[0]["pass_id"] == sold["id"]

    cancelled = client.delete(f"/api/bookings/{booked.json['id']}", headers=auth(ANNA))
    assert cancelled.status_code == 200 and cancelled.json["pass_id"] is None
    assert client.get("/api/passes", headers=auth(ANNA)).json["passes"][0]["remaining"] == 2


def test_the_pass_that_expires_first_pays(client):
    late = sell(client, visits=5, valid_days=60)
    soon = sell(client, visits=5, valid_days=10)
    assert book(client).json["pass_id"] == soon["id"]
    passes = client.get("/api/passes", headers=auth(ANNA)).json["passes"]
    assert [p["id"] for p in passes] == [soon["id"], late["id"]]  # valid first, by expiry


def test_without_pass_required_a_booking_without_a_pass_is_unpaid(client):
    booked = book(client)
    assert booked.status_code == 201 and booked.json["pass_id"] is None
    card = trainer(client, "GET", f"/api/admin/clients/{ANNA['id']}").json
    assert card["stats"]["unpaid"] == 1


def test_pass_required_refuses_no_pass_in_the_grid_and_the_api(strict_app):
    client = strict_app.test_client()
    slots = client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).json["slots"]
    assert {s["refusal"] for s in slots if s["start"] == "10:00"} == {"no_pass"}
    refused = book(client)
    assert refused.status_code == 409 and refused.json["error"] == "no_pass"
    assert "trainer" in refused.json["message"]

    sell(client, visits=1, valid_days=1, starts=TOMORROW)
    assert book(client).status_code == 201
    again = book(client, start="14:00")  # the one visit is taken
    assert again.status_code == 409 and again.json["error"] == "no_pass"
    # The trainer may still book for the client: the booking is unpaid.
    by_trainer = trainer(
        client,
        "POST",
        "/api/admin/bookings",
        {"telegram_id": ANNA["id"], "date": TOMORROW, "start": "14:00"},
    )
    assert by_trainer.status_code == 201 and by_trainer.json["pass_id"] is None


def test_an_expired_pass_pays_for_nothing(strict_app):
    client = strict_app.test_client()
    sell(client, visits=5, valid_days=1)  # valid today only
    refused = book(client)  # tomorrow
    assert refused.status_code == 409 and refused.json["error"] == "no_pass"


def test_adjusting_a_pass_needs_a_reason_and_keeps_history(client):
    sold = sell(client, visits=2)
    path = f"/api/admin/passes/{sold['id']}/adjust"
    no_reason = trainer(client, "POST", path, {"visits": 3})
    assert no_reason.status_code == 400 and no_reason.json["error"] == "invalid"
    assert trainer(client, "POST", path, {"visits": 3, "reason": "  "}).status_code == 400
    assert trainer(client, "POST", path, {"reason": "nothing"}).status_code == 400

    more = trainer(client, "POST", path, {"visits": 3, "extend_days": 7, "reason": "gift"})
    assert more.status_code == 200
    assert (more.json["visits"], more.json["expires"]) == (5, "2026-12-31")
    book(client)
    fewer = trainer(client, "POST", path, {"visits": -4, "reason": "refund"})
    assert fewer.json["remaining"] == 0 and fewer.json["used"] == 1
    too_few = trainer(client, "POST", path, {"visits": -1, "reason": "oops"})
    assert too_few.status_code == 400  # a used visit cannot be taken away
    history = fewer.json["history"]
    assert [(c["kind"], c["visits"], c["days"], c["reason"]) for c in history] == [
        ("created", 2, 30, ""),
        ("adjusted", 3, 7, "gift"),
        ("adjusted", -4, 0, "refund"),
    ]
    assert {c["by"] for c in history} == {TRAINER["id"]}
    missing = trainer(client, "POST", "/api/admin/passes/999/adjust", {"visits": 1, "reason": "x"})
    assert missing.status_code == 404


def test_attendance_is_marked_once_the_training_started(app, client, clock):
    sell(client, visits=2)
    booking = book(client).json
    path = f"/api/admin/bookings/{booking['id']}/attendance"
    early = trainer(client, "POST", path, {"status": "attended"})
    assert early.status_code == 409 and early.json["error"] == "not_started"
    assert trainer(client, "POST", path, {"status": "maybe"}).status_code == 400
    missing = trainer(client, "POST", "/api/admin/bookings/9999/attendance", {"status": "no_show"})
    assert missing.status_code == 404

    clock.advance(days=1, hours=1, minutes=5)  # tomorrow 10:05 in Moscow
    marked = trainer(client, "POST", path, {"status": "no_show"})
    assert marked.status_code == 200 and marked.json["attendance"] == "no_show"
    assert marked.json["user"]["telegram_id"] == ANNA["id"]
    # A no-show keeps the visit taken.
    assert client.get("/api/passes", headers=auth(ANNA)).json["passes"][0]["used"] == 1
    with app.app_context():
        assert db.session.get(Booking, booking["id"]).attendance == "no_show"
    admin_list = trainer(client, "GET", f"/api/admin/bookings?date={TOMORROW}").json
    assert admin_list["bookings"][0]["attendance"] == "no_show"


def test_no_shows_block_booking_until_the_trainer_unblocks(strict_app, clock):
    client = strict_app.test_client()
    sell(client, visits=10)
    ids = [book(client, date=day).json["id"] for day in ("2026-11-26", "2026-11-27")]
    clock.advance(days=2, hours=2)  # 27 Nov, 11:00 in Moscow
    for booking_id in ids:
        path = f"/api/admin/bookings/{booking_id}/attendance"
        assert trainer(client, "POST", path, {"status": "no_show"}).status_code == 200

    refused = book(client, date="2026-11-28")
    assert refused.status_code == 409 and refused.json["error"] == "no_show_limit"
    slots = client.get("/api/slots?date=2026-11-28", headers=auth(ANNA)).json["slots"]
    assert {s["refusal"] for s in slots if s["start"] in ("10:00", "12:00")} == {"no_show_limit"}
    card = trainer(client, "GET", f"/api/admin/clients/{ANNA['id']}").json
    assert card["blocked"] is True and card["stats"]["no_show"] == 2

    lifted = trainer(client, "POST", f"/api/admin/clients/{ANNA['id']}/unblock")
    assert lifted.status_code == 200 and lifted.json["blocked"] is False
    assert book(client, date="2026-11-28").status_code == 201


def test_the_client_card(client, clock):
    sold = sell(client, visits=3, note="Nov")
    first = book(client).json
    second = book(client, date="2026-11-27").json
    client.delete(f"/api/bookings/{second['id']}", headers=auth(ANNA))
    clock.advance(days=1, hours=2)
    trainer(client, "POST", f"/api/admin/bookings/{first['id']}/attendance", {"status": "attended"})

    card = trainer(client, "GET", f"/api/admin/clients/{ANNA['id']}")
    assert card.status_code == 200
    body = card.json
    assert {"telegram_id", "name", "username", "phone", "passes", "stats", "blocked"} <= set(body)
    assert (body["telegram_id"], body["name"], body["username"]) == (ANNA["id"], "Anna K", "anna")
    assert body["stats"] == {
        "attended": 1,
        "no_show": 0,
        "cancelled": 1,
        "unpaid": 0,
        "last_visit": TOMORROW,
    }
    assert body["blocked"] is False
    assert [p["id"] for p in body["passes"]] == [sold["id"]]
    assert body["passes"][0]["history"][0]["kind"] == "created"

    assert trainer(client, "GET", "/api/admin/clients/424242").status_code == 404
    assert trainer(client, "POST", "/api/admin/clients/424242/unblock").status_code == 404
    assert client.get(f"/api/admin/clients/{ANNA['id']}", headers=auth(ANNA)).status_code == 403


def test_the_csv_export_has_attendance_and_the_pass(client, clock):
    sold = sell(client)
    booking = book(client).json
    clock.advance(days=1, hours=2)
    path = f"/api/admin/bookings/{booking['id']}/attendance"
    assert trainer(client, "POST", path, {"status": "no_show"}).status_code == 200
    csv_text = trainer(client, "GET", f"/api/admin/export.csv?from={TOMORROW}&to={TOMORROW}")
    header, row = csv_text.get_data(as_text=True).lstrip("\ufeff").splitlines()[:2]
    columns = dict(zip(header.split(","), row.split(","), strict=True))
    assert columns["attendance"] == "no_show"
    assert columns["pass_id"] == str(sold["id"])


def test_a_fresh_app_with_pass_required_from_the_environment(database_url, clock):
    from schedule import Settings

    settings = Settings.from_env({"PASS_REQUIRED": "1", "NO_SHOW_LIMIT": "3"})
    assert settings.pass_required and settings.no_show_limit == 3
    app = build_app(database_url, clock, SCHEDULE=replace(settings, max_bookings_per_day=0))
    try:
        refused = book(app.test_client())
        assert refused.status_code == 409 and refused.json["error"] == "no_pass"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
