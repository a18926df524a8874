"""DESIGN.md's "Products and payments" through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from schedule import payments
from schedule.models import User
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, client_unit
from webapp.extensions import db

PRODUCT_FIELDS = {"id", "name", "visits", "valid_days", "per_week", "amount", "currency", "on_sale"}


def trainer(client, method: str, path: str, body=None):
    return client.open(path, method=method, json=body, headers=auth(TRAINER))


def offer(client, **fields) -> dict:
    body = {"name": "8 visits", "visits": 8, "valid_days": 30, "amount": 800000, **fields}
    response = trainer(client, "POST", "/api/admin/products", body)
    assert response.status_code == 201, response.json
    return response.json


def pay(app, client, product: dict, user=ANNA, charge="tg-1") -> None:
    """Telegram reports the payment (what the bot's successful_payment handler does)."""
    assert client.get("/api/passes", headers=auth(user)).status_code == 200
    with app.app_context():
        payer = db.session.scalar(db.select(User).where(User.telegram_id == user["id"]))
        payments.credit(
            client_unit(app, payer),
            payer,
            payload=payments.invoice_payload(product["id"], user["id"]),
            total_amount=product["amount"],
            currency=product["currency"],
            telegram_payment_charge_id=charge,
            provider_payment_charge_id="p-" + charge,
        )


def test_the_trainer_puts_products_on_sale_and_clients_see_them_priced(client):
    pack = offer(client)
    month = offer(client, name="Month", visits=None, per_week=2, amount=500000)
    assert set(pack) >= PRODUCT_FIELDS
    assert (pack["currency"], pack["on_sale"], month["visits"], month["per_week"]) == (
        "RUB",
        True,
        None,
        2,
    )
    seen = client.get("/api/products", headers=auth(BORIS)).json["products"]
    assert [p["id"] for p in seen] == [pack["id"], month["id"]]
    assert seen[0]["price_text"].replace("\xa0", " ") == "8 000 ₽"  # Boris reads Russian

    off = trainer(client, "DELETE", f"/api/admin/products/{pack['id']}")
    assert off.status_code == 200 and off.json["on_sale"] is False
    assert [p["id"] for p in client.get("/api/products", headers=auth(ANNA)).json["products"]] == [
        month["id"]
    ]
    assert trainer(client, "DELETE", "/api/admin/products/999").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "valid_days": 30},
        {"name": "", "valid_days": 30, "amount": 1},
        {"name": "x", "valid_days": 30, "amount": "100"},
        {"name": "x", "valid_days": 30, "amount": 100, "currency": "XTR"},
        {"name": "x", "visits": 3, "per_week": 1, "valid_days": 30, "amount": 100},
    ],
)
def test_a_product_that_does_not_read_is_400(client, body):
    response = trainer(client, "POST", "/api/admin/products", body)
    assert response.status_code == 400 and response.json["error"] == "invalid"


def test_clients_may_not_sell_refund_or_list_payments(client):
    assert client.post("/api/admin/products", json={}, headers=auth(ANNA)).status_code == 403
    assert client.get("/api/admin/payments", headers=auth(ANNA)).status_code == 403


def test_the_invoice_is_made_by_the_bot_or_refused_payments_off(app, client):
    product = offer(client)
    off = client.post(f"/api/products/{product['id']}/invoice", headers=auth(ANNA))
    assert off.status_code == 409 and off.json["error"] == "payments_off"

    asked = []
    app.extensions["invoices"] = lambda p, payer, lang: (
        asked.append((p.id, payer, lang)) or ("https://t.me/$invoice")
    )
    made = client.post(f"/api/products/{product['id']}/invoice", headers=auth(BORIS))
    assert made.status_code == 200 and made.json == {"invoice_link": "https://t.me/$invoice"}
    assert asked == [(product["id"], BORIS["id"], "ru")]
    assert client.post("/api/products/999/invoice", headers=auth(ANNA)).status_code == 404

    def broken(*_):
        raise ConnectionError("Telegram is down")

    app.extensions["invoices"] = broken
    down = client.post(f"/api/products/{product['id']}/invoice", headers=auth(ANNA))
    assert down.status_code == 503 and down.json["error"] == "payments_unavailable"


def test_a_payment_is_listed_its_pass_shown_and_a_refund_voids_it(app, client):
    product = offer(client, visits=5)
    pay(app, client, product)
    [mine] = client.get("/api/passes", headers=auth(ANNA)).json["passes"]
    assert (mine["product_id"], mine["visits"], mine["remaining"]) == (product["id"], 5, 5)
    assert mine["payment_id"] is not None and mine["frozen_days"] == 0

    [paid] = trainer(client, "GET", "/api/admin/payments").json["payments"]
    assert paid["telegram_id"] == ANNA["id"] and paid["status"] == "paid"
    assert (paid["telegram_payment_charge_id"], paid["provider_payment_charge_id"]) == (
        "tg-1",
        "p-tg-1",
    )
    assert paid["pass_id"] == mine["id"] and paid["amount"] == 800000

    path = f"/api/admin/payments/{paid['id']}/refund"
    assert trainer(client, "POST", path, {}).status_code == 400
    refunded = trainer(client, "POST", path, {"reason": "asked back"})
    assert refunded.status_code == 200 and refunded.json["status"] == "refunded"
    assert trainer(client, "POST", path, {"reason": "again"}).status_code == 409
    assert (
        trainer(client, "POST", "/api/admin/payments/999/refund", {"reason": "x"}).status_code
        == 404
    )
    [voided] = client.get("/api/passes", headers=auth(ANNA)).json["passes"]
    assert voided["valid"] is False and voided["remaining"] == 0


def test_a_freeze_moves_the_expiry(app, client):
    product = offer(client, visits=5, valid_days=10)
    pay(app, client, product)
    [sold] = client.get("/api/passes", headers=auth(ANNA)).json["passes"]
    path = f"/api/admin/passes/{sold['id']}/freeze"
    frozen = trainer(client, "POST", path, {"days": 7, "reason": "flu"})
    assert frozen.status_code == 200
    assert (frozen.json["expires"], frozen.json["frozen_days"]) == ("2026-12-11", 7)
    assert frozen.json["history"][-1]["kind"] == "frozen"
    assert trainer(client, "POST", path, {"days": 0, "reason": "x"}).status_code == 400
    assert trainer(client, "POST", path, {"days": 2}).status_code == 400
    assert (
        trainer(
            client, "POST", "/api/admin/passes/999/freeze", {"days": 1, "reason": "x"}
        ).status_code
        == 404
    )


def test_a_membership_week_is_refused_week_limit(app, client):
    month = offer(client, name="Month", visits=None, per_week=1, amount=500000)
    pay(app, client, month)
    booked = client.post("/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth())
    assert booked.status_code == 201 and booked.json["pass_id"] is not None
    refused = client.post(
        "/api/bookings", json={"date": "2026-11-27", "start": "10:00"}, headers=auth()
    )
    assert refused.status_code == 409 and refused.json["error"] == "week_limit"
    day = client.get("/api/slots?date=2026-11-27", headers=auth()).json["slots"]
    assert {s["refusal"] for s in day if s["start"] == "10:00"} == {"week_limit"}


@pytest.fixture
def forfeit_app(app):
    app.config["SCHEDULE"] = replace(app.config["SCHEDULE"], late_cancel="forfeit")
    return app


def test_under_forfeit_a_late_cancel_is_accepted_and_the_trainer_forgives_it(
    forfeit_app, client, clock
):
    pay(forfeit_app, client, offer(client, visits=2))
    booking = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth()
    ).json
    # Tomorrow 10:00 Moscow is 07:00 UTC; an hour before it is past the 120-minute deadline.
    clock.now = clock.now.replace(day=26, hour=6)
    cancelled = client.delete(f"/api/bookings/{booking['id']}", headers=auth())
    assert cancelled.status_code == 200
    assert (cancelled.json["status"], cancelled.json["forfeited"]) == ("cancelled", True)
    [held] = client.get("/api/passes", headers=auth()).json["passes"]
    assert held["remaining"] == 1  # the visit stays used

    path = f"/api/admin/bookings/{booking['id']}/forgive"
    forgiven = trainer(client, "POST", path)
    assert forgiven.status_code == 200 and forgiven.json["forfeited"] is False
    assert client.get("/api/passes", headers=auth()).json["passes"][0]["remaining"] == 2
    assert trainer(client, "POST", path).status_code == 409
    assert trainer(client, "POST", "/api/admin/bookings/999/forgive").status_code == 404


def test_under_refuse_the_late_cancel_stays_409(app, client, clock):
    booking = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth()
    ).json
    clock.now = clock.now.replace(day=26, hour=6)
    assert client.delete(f"/api/bookings/{booking['id']}", headers=auth()).status_code == 409
    clock.now -= timedelta(hours=1)  # three hours before: in time
    assert (
        client.delete(f"/api/bookings/{booking['id']}", headers=auth()).json["forfeited"] is False
    )
