"""Inputs that used to reach a 500, each now a 4xx with a message, on SQLite and PostgreSQL
(the test client re-raises any exception a view lets through, so a 500 fails loudly)."""

from __future__ import annotations

from datetime import date

import pytest
from itsdangerous import URLSafeSerializer

from schedule import InvalidInput, services
from schedule.i18n import translate
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth

TOMORROW_DATE = date.fromisoformat(TOMORROW)


def assert_refused(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    if response.is_json:
        assert response.json["message"]
    else:
        assert response.get_data(as_text=True).strip()


def booked(client) -> dict:
    response = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    )
    assert response.status_code == 201
    return response.json


@pytest.mark.parametrize("telegram_id", [2**64 + 1, 2**63, 0, -5])
def test_signed_init_data_with_an_id_out_of_range_is_401(client, telegram_id):
    user = {"id": telegram_id, "first_name": "Huge", "language_code": "en"}
    for method, path in (("GET", "/api/bookings"), ("POST", "/api/bookings")):
        response = client.open(
            path, method=method, json={"date": TOMORROW, "start": "10:00"}, headers=auth(user)
        )
        assert_refused(response, 401)


def test_json_nested_20000_deep_is_400(client):
    deep = "[" * 20_000 + "]" * 20_000
    for path in ("/api/bookings", "/api/waitlist", "/api/admin/closures"):
        response = client.post(
            path, data=deep, content_type="application/json", headers=auth(TRAINER)
        )
        assert_refused(response, 400)
    nested_object = '{"a":' * 10_000 + "1" + "}" * 10_000  # within the 64 KiB body cap
    response = client.post(
        "/api/bookings", data=nested_object, content_type="application/json", headers=auth(ANNA)
    )
    assert_refused(response, 400)


def test_a_nul_byte_in_a_reason_is_400_and_changes_nothing(client):
    booking = booked(client)
    cancel = client.post(
        f"/api/admin/bookings/{booking['id']}/cancel",
        json={"reason": "flooded\x00hall"},
        headers=auth(TRAINER),
    )
    closure = client.post(
        "/api/admin/closures", json={"date": TOMORROW, "reason": "x\x00"}, headers=auth(TRAINER)
    )
    assert_refused(cancel, 400)
    assert_refused(closure, 400)
    assert client.get("/api/bookings", headers=auth(ANNA)).json["bookings"][0]["status"] == (
        "active"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/clients?q=a%00b",
        f"/api/slots?date={TOMORROW}%00",
        "/app/admin/clients?q=%00",
    ],
)
def test_a_nul_byte_in_the_query_is_400(client, path):
    assert_refused(client.get(path, headers=auth(TRAINER)), 400)


def test_a_nul_byte_in_a_form_is_400(client):
    response = client.post(
        "/app/bookings", data={"date": TOMORROW, "start": "10:00\x00"}, headers=auth(ANNA)
    )
    assert_refused(response, 400)


def test_the_services_refuse_a_nul_byte_in_a_reason_themselves(session, settings, make_user, now):
    booking = services.book(
        Unit(session, settings, Actor.client(make_user()), now=now), make_user(), TOMORROW_DATE, 600
    )
    with pytest.raises(InvalidInput):
        services.cancel(
            Unit(session, settings, Actor.trainer(), now=now), booking.id, reason="a\x00"
        )
    with pytest.raises(InvalidInput):
        services.add_closure(
            Unit(session, settings, Actor.trainer(), now=now), TOMORROW_DATE, reason="b\x00"
        )
    session.refresh(booking)
    assert booking.status == "active"


@pytest.mark.parametrize("payload", [[1, 2], {"id": 1}, "1", 2**70, -1, True])
def test_a_signed_calendar_token_that_is_no_booking_id_is_404(client, payload):
    booked(client)
    token = URLSafeSerializer("test-secret", salt="ics").dumps(payload)
    assert_refused(client.get(f"/app/calendar/{token}.ics"), 404)


# --- refusals read in the caller's language, from the catalogs --------------------------------


@pytest.mark.parametrize(
    ("path", "body", "english", "russian"),
    [
        ("/api/bookings", {"start": "10:00"}, "date is missing.", "Не хватает поля date."),
        (
            "/api/series",
            {"date": TOMORROW, "start": "10:00", "weeks": "4"},
            "weeks must be a whole number.",
            "weeks: нужно целое число.",
        ),
        (
            "/api/bookings",
            {"date": "26.11.2026", "start": "10:00"},
            "Write the date like 2026-01-31.",
            "Дату пишут так: 2026-01-31.",
        ),
        (
            "/api/bookings/1/reschedule",  # a start's body (the waitlist's also names a kind)
            ["2026-11-26", "10:00"],
            'Send a JSON object with "date", "start".',
            'Отправьте объект JSON с полями "date", "start".',
        ),
    ],
)
def test_malformed_input_is_a_400_in_the_callers_language(client, path, body, english, russian):
    for user, message in ((ANNA, english), (BORIS, russian)):
        response = client.post(path, json=body, headers=auth(user))

        assert response.status_code == 400
        assert response.json == {"error": "invalid", "message": message}


def test_a_bad_query_names_its_field_and_the_choices(client):
    query = f"/api/admin/bookings?date={TOMORROW}&status=weird"

    response = client.get(query, headers=auth(TRAINER))

    assert response.status_code == 400
    assert response.json["message"] == "status must be one of: 'active' or 'all'."


def test_a_nul_byte_is_refused_in_the_callers_language_before_sign_in(client):
    response = client.get(
        f"/api/slots?date={TOMORROW}%00", headers={"Accept-Language": "ru-RU,ru;q=0.9"}
    )

    assert response.status_code == 400
    assert response.json == {
        "error": "invalid",
        "message": "Текст не может содержать нулевые байты (NUL).",
    }


def test_a_domain_refusal_with_a_detail_reads_in_russian(client):
    booked(client)
    response = client.post(
        "/api/admin/closures", json={"date": TOMORROW, "reason": "x"}, headers=auth(TRAINER)
    )
    russian = client.post(
        "/api/admin/closures",
        json={"date": TOMORROW, "reason": "x"},
        headers={**auth({**TRAINER, "language_code": "ru"})},
    )

    assert response.json["error"] == russian.json["error"] == "has_bookings"
    assert response.json["message"] == "Bookings inside this time: 1."
    assert russian.json["message"] == "Записей в это время: 1."


def test_http_errors_read_the_catalogs_in_the_callers_language(client):
    russian = {"Accept-Language": "ru"}
    wrong_method = client.put("/api/slots", headers=russian)
    signed_out = client.get("/api/bookings", headers=russian)
    too_large = client.post(
        "/api/bookings", data="x" * 200_000, content_type="application/json", headers=russian
    )

    assert (wrong_method.status_code, signed_out.status_code, too_large.status_code) == (
        405,
        401,
        413,
    )
    assert wrong_method.json["message"] == translate("ru", "error_405")
    assert signed_out.json["message"] == translate("ru", "error_401")
    assert too_large.json == {"error": "too_large", "message": "Запрос слишком большой."}
