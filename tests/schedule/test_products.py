"""Products on sale and the checkout's verdict: what the trainer sells, what a client may pay."""

from __future__ import annotations

import pytest

from schedule import ScheduleError, payments
from schedule.models import Product
from schedule.settings import ConfigError, Settings
from schedule.unit import Actor, Unit


def test_a_pack_and_a_membership_go_on_sale_and_off_sale_without_touching_passes(
    session, settings, now
):
    pack = payments.create_product(
        Unit(session, settings, Actor.trainer(), now=now),
        name="8 visits",
        visits=8,
        valid_days=30,
        amount=800000,
    )
    month = payments.create_product(
        Unit(session, settings, Actor.trainer()),
        name="Month",
        valid_days=30,
        per_week=2,
        amount=500000,
        currency="eur",
    )
    assert (pack.visits, pack.per_week, pack.currency, pack.on_sale) == (8, None, "RUB", True)
    assert (month.visits, month.per_week, month.currency) == (None, 2, "EUR")
    assert [p.id for p in payments.on_sale(session)] == [pack.id, month.id]

    payments.take_off_sale(Unit(session, Settings(), Actor.trainer(), now=now), pack.id)
    assert [p.id for p in payments.on_sale(session)] == [month.id]
    with pytest.raises(ScheduleError) as refused:
        payments.product_on_sale(session, pack.id)
    assert refused.value.code == "product_not_found"
    with pytest.raises(ScheduleError):
        payments.take_off_sale(Unit(session, settings, Actor.trainer()), 999)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "valid_days": 30, "amount": 100},
        {"name": "x", "valid_days": 0, "amount": 100},
        {"name": "x", "valid_days": 30, "amount": 0},
        {"name": "x", "valid_days": 30, "amount": 1.5},
        {"name": "x", "visits": 0, "valid_days": 30, "amount": 100},
        {"name": "x", "visits": 5, "per_week": 2, "valid_days": 30, "amount": 100},
        {"name": "x", "valid_days": 30, "amount": 100, "currency": "XTR"},
        {"name": "x", "valid_days": 30, "amount": 100, "currency": "rubles"},
        {"name": "x", "valid_days": True, "amount": 100},
    ],
)
def test_a_product_the_rules_cannot_sell_is_refused_as_input(session, settings, fields):
    with pytest.raises(ScheduleError) as refused:
        payments.create_product(Unit(session, settings, Actor.trainer()), **fields)
    assert refused.value.http_status == 400
    assert refused.value.message("ru") != refused.value.message("en")


def test_payment_currency_and_late_cancel_come_from_the_environment():
    read = Settings.from_env({"PAYMENT_CURRENCY": "eur", "LATE_CANCEL": "Forfeit"})
    assert (read.payment_currency, read.late_cancel) == ("EUR", "forfeit")
    assert (Settings().payment_currency, Settings().late_cancel) == ("RUB", "refuse")
    with pytest.raises(ConfigError, match="LATE_CANCEL"):
        Settings.from_env({"LATE_CANCEL": "maybe"})
    with pytest.raises(ConfigError, match="PAYMENT_CURRENCY"):
        Settings.from_env({"PAYMENT_CURRENCY": "roubles"})


def test_prices_are_written_for_the_language_and_currency():
    assert payments.format_price(150000, "RUB", "ru").replace("\xa0", " ") == "1 500 ₽"
    assert payments.format_price(150050, "RUB", "en") == "RUB\xa01,500.50"
    assert payments.format_price(999, "EUR", "en") == "€9.99"


PRODUCT = Product(id=7, name="8 visits", visits=8, valid_days=30, amount=800000, currency="RUB")


def verdict(product=PRODUCT, **changes):
    asked = {
        "payload": payments.invoice_payload(7, 501),
        "payer_telegram_id": 501,
        "total_amount": 800000,
        "currency": "RUB",
        "lang": "en",
        **changes,
    }
    return payments.checkout_verdict(product, **asked)


def test_the_checkout_is_ok_only_for_that_product_on_sale_at_that_price_for_that_payer():
    PRODUCT.on_sale = True
    assert verdict() == payments.Checkout(True)
    assert verdict(payer_telegram_id=502).code == "not_payer"
    assert verdict(total_amount=700000).code == "price_changed"
    assert verdict(currency="EUR").code == "price_changed"
    assert verdict(payload="buy:8:501").code == "off_sale"  # not the product read
    assert verdict(product=None).code == "off_sale"
    assert verdict(payload="something else").code == "bad_payload"
    assert verdict(product=replace_on_sale(False)).code == "off_sale"
    refused = verdict(payer_telegram_id=502, lang="ru")
    assert refused.ok is False and refused.error_message
    assert refused.error_message != verdict(payer_telegram_id=502).error_message


def replace_on_sale(flag: bool) -> Product:
    return Product(
        id=7, name="8 visits", visits=8, valid_days=30, amount=800000, currency="RUB", on_sale=flag
    )


def test_the_invoice_payload_fits_telegrams_128_bytes_and_reads_back():
    payload = payments.invoice_payload(10**17, 2**63 - 1)
    assert len(payload.encode()) <= 128
    assert payments.read_payload(payload) == (10**17, 2**63 - 1)
    assert payments.read_payload("buy:1:x") is None
    assert payments.read_payload(None) is None
