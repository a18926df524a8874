"""Issue 24 in the Mini App's fragments: products on sale in My trainings, priced for the
viewer's language, each opening Telegram's invoice (data-action="buy"); the cancel sheet says
data-consequence="forfeit" under LATE_CANCEL=forfeit, and the late cancel goes through."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from schedule import payments
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, auth, client_unit
from tests.webapp.test_consequence_pages import (
    book,
    consequences,
    get,
    give_pass,
    rules,
    seed_user,
)
from webapp.extensions import db

APP_JS = Path(__file__).parents[2] / "webapp" / "static" / "app.js"


def offer(app, **fields):
    fields = {"name": "8 visits", "visits": 8, "valid_days": 30, "amount": 800000, **fields}
    with app.app_context():
        return payments.create_product(
            Unit(db.session(), app.config["SCHEDULE"], Actor.trainer()), **fields
        ).id


def test_my_trainings_lists_products_on_sale_priced_for_the_viewer(page_client, sqlite_app):
    pack = offer(sqlite_app)
    offer(sqlite_app, name="Month", visits=None, per_week=2, amount=500050)
    seed_user(sqlite_app, BORIS)
    assert "data-products" not in get(page_client, "/app/my")  # payments off: nothing on sale

    sqlite_app.extensions["invoices"] = lambda product, payer, lang: "https://t.me/$x"
    page = get(page_client, "/app/my")
    assert re.findall(r'data-action="buy" data-product-id="(\d+)"', page)[0] == str(pack)
    assert f'data-invoice="/api/products/{pack}/invoice"' in page
    assert "8 visits, valid 30 days" in page and "RUB\xa08,000" in page
    assert "Unlimited visits for 30 days, at most 2 a week" in page
    russian = get(page_client, "/app/my", user=BORIS)
    assert "8 000 ₽".replace(" ", "\xa0") in russian and "Купить" in russian


def test_the_page_opens_telegrams_invoice_and_reloads_my_trainings_when_paid():
    script = APP_JS.read_text()
    assert "tg.openInvoice(body.invoice_link" in script
    assert 'status !== "paid"' in script and "list.dataset.refresh" in script


def test_under_forfeit_the_cancel_sheet_says_the_visit_is_kept_and_the_cancel_goes_through(
    page_client, sqlite_app
):
    rules(sqlite_app, late_cancel="forfeit")
    give_pass(sqlite_app, visits=5)
    booking_id = book(sqlite_app, "10:00")
    clock = sqlite_app.config["CLOCK"]
    clock.now = clock.now.replace(day=26, hour=6)  # 09:00 Moscow: an hour before the start

    sheet = get(page_client, f"/app/bookings/{booking_id}/cancel?sheet=1")
    assert consequences(sheet) == ["late", "forfeit"]
    assert re.search(r'data-action="confirm" hx-delete="/app/bookings/\d+"', sheet)
    cancelled = page_client.delete(
        f"/app/bookings/{booking_id}", headers={**auth(ANNA), "HX-Request": "true"}
    )
    assert cancelled.status_code == 200


def test_under_refuse_the_late_sheet_offers_no_cancel(page_client, sqlite_app):
    give_pass(sqlite_app, visits=5)
    booking_id = book(sqlite_app, "10:00")
    clock = sqlite_app.config["CLOCK"]
    clock.now += timedelta(days=1, hours=0)  # Thursday 09:00 Moscow
    sheet = get(page_client, f"/app/bookings/{booking_id}/cancel?sheet=1")
    assert consequences(sheet) == ["late"]


def anna_buys(app, product_id: int, charge_id: str):
    """Anna pays for `product_id` in Telegram (its 5,000 roubles): her pass is credited."""
    from schedule import services

    with app.app_context():
        anna = services.upsert_user(db.session(), ANNA)
        return payments.credit(
            client_unit(app, anna),
            anna,
            payload=payments.invoice_payload(product_id, ANNA["id"]),
            total_amount=500000,
            currency="RUB",
            telegram_payment_charge_id=charge_id,
        ).payment


def test_a_membership_shows_in_my_trainings_as_unlimited(page_client, sqlite_app):
    month = offer(sqlite_app, name="Month", visits=None, per_week=2, amount=500000)
    anna_buys(sqlite_app, month, "m-1")
    page = get(page_client, "/app/my")
    assert "<b>∞</b>" in page and "Unlimited visits until Thu 24 Dec" in page


def test_the_client_card_words_a_frozen_refunded_membership(page_client, sqlite_app):
    from tests.fixtures_web import TRAINER

    month = offer(sqlite_app, name="Month", visits=None, amount=500000)
    with sqlite_app.app_context():
        from schedule import services

        anna = services.upsert_user(db.session(), ANNA)
        paid = payments.credit(
            Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.client(anna)),
            anna,
            payload=payments.invoice_payload(month, ANNA["id"]),
            total_amount=500000,
            currency="RUB",
            telegram_payment_charge_id="m-2",
        ).payment
        payments.freeze(
            Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.trainer()),
            paid.pass_id,
            days=7,
            reason="flu",
        )
        card = get(page_client, f"/app/admin/clients/{ANNA['id']}", user=TRAINER)
        assert "Unlimited visits until" in card and "frozen" in card
        payments.refund(
            Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.trainer()),
            paid.id,
            reason="moved",
        )
    card = get(page_client, f"/app/admin/clients/{ANNA['id']}", user=TRAINER)
    assert "refunded, closed" in card


def test_a_membership_sheet_says_no_visit_is_taken(page_client, sqlite_app):
    month = offer(sqlite_app, name="Month", visits=None, amount=500000)
    anna_buys(sqlite_app, month, "m-3")
    sheet = get(page_client, "/app/confirm?date=2026-11-26&start=10:00")
    assert consequences(sheet)[0] == "pass" and "data-visits-left" not in sheet
    assert "Your membership pays (valid until Thu 24 Dec): no visit is taken." in sheet
    booking_id = book(sqlite_app, "10:00")
    cancel = get(page_client, f"/app/bookings/{booking_id}/cancel?sheet=1")
    assert consequences(cancel) == ["refund"] and "cancelling costs nothing" in cancel


def test_a_full_membership_week_is_one_notice_above_the_grid(page_client, sqlite_app):
    month = offer(sqlite_app, name="Month", visits=None, per_week=1, amount=500000)
    anna_buys(sqlite_app, month, "m-4")
    book(sqlite_app, "10:00")  # Thursday: the week's one booking
    friday = get(page_client, "/app/book?date=2026-11-27")
    assert 'data-notice="week_limit"' in friday
    assert 'data-refusal="week_limit"' in friday
    assert "for that week are all taken" in friday
