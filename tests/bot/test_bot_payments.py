"""Paying in Telegram with the real pyTelegramBotAPI against the fake Bot API: /buy sends
invoices, every pre_checkout_query is answered, a successful_payment credits one pass however
often it comes (the same update twice, a copy under another update_id, two workers at once,
over the webhook route), the client and the trainer are told through the outbox, and the
Mini App's invoice link comes from createInvoiceLink. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.handlers.common import RetryLater
from bot.worker import Inbox
from schedule import payments, services
from schedule.models import Booking, Pass, Payment, Product, ScheduleLock
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, BORIS, COACH, PUBLIC_URL
from tests.fixtures_web import auth, build_app
from webapp.extensions import db
from webapp.webhook import SECRET_HEADER, WEBHOOK_PREFIX

TOKEN = "284685063:TEST:provider"


@pytest.fixture
def paying_config(bot_config):
    return replace(bot_config, payment_provider_token=TOKEN)


@pytest.fixture
def paying_bot(make_bot, bot_config):
    """The bot with a provider token, its rules naming the trainer (who hears of payments)."""
    rules = replace(bot_config.settings, admin_ids=bot_config.admin_ids)
    return make_bot(payment_provider_token=TOKEN, settings=rules)


def on_sale(bot_sessions, bot_config, **fields) -> Product:
    fields = {"name": "8 visits", "visits": 8, "valid_days": 30, "amount": 800000, **fields}
    with bot_sessions() as session:
        return payments.create_product(
            Unit(session, bot_config.settings, Actor.trainer()), **fields
        )


def counts(bot_sessions) -> tuple[int, int]:
    with bot_sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Payment)),
            session.scalar(select(func.count()).select_from(Pass)),
        )


def texts_to(fake_telegram, telegram_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in fake_telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == str(telegram_id) and c.status == 200
    ]


def test_buy_sends_an_invoice_per_product_on_sale(
    paying_bot, fake_telegram, bot_sessions, bot_config
):
    pack = on_sale(bot_sessions, bot_config)
    on_sale(bot_sessions, bot_config, name="Month", visits=None, per_week=2, amount=500000)
    paying_bot.handle_update(fake_telegram.message_update(ALICE, "/buy"))

    first, second = fake_telegram.invoices
    assert first["title"] == "8 visits" and first["provider_token"] == TOKEN
    assert first["prices"] == [{"label": "8 visits", "amount": 800000}]
    assert first["currency"] == "RUB"
    assert payments.read_payload(first["payload"]) == (pack.id, ALICE["id"])
    assert first["description"] == "8 visits, valid 30 days"
    assert second["description"] == "Unlimited visits for 30 days, at most 2 a week"


def test_without_a_provider_token_nothing_is_on_sale(
    telegram_bot, fake_telegram, bot_sessions, bot_config
):
    on_sale(bot_sessions, bot_config)
    telegram_bot.handle_update(fake_telegram.message_update(ALICE, "/buy"))
    assert fake_telegram.invoices == []
    assert "Nothing is on sale" in texts_to(fake_telegram, ALICE["id"])[-1]


def test_every_checkout_is_answered_ok_only_for_that_product_price_and_payer(
    paying_bot, fake_telegram, bot_sessions, bot_config
):
    pack = on_sale(bot_sessions, bot_config)
    payload = payments.invoice_payload(pack.id, ALICE["id"])
    asked = {
        "ok": fake_telegram.pre_checkout_update(ALICE, payload, 800000),
        "price": fake_telegram.pre_checkout_update(ALICE, payload, 700000),
        "payer": fake_telegram.pre_checkout_update(BORIS, payload, 800000),
    }
    for update in asked.values():
        paying_bot.handle_update(update)
    with bot_sessions() as session:
        payments.take_off_sale(Unit(session, bot_config.settings, Actor.trainer()), pack.id)
    asked["off"] = fake_telegram.pre_checkout_update(ALICE, payload, 800000)
    paying_bot.handle_update(asked["off"])

    answers = {
        name: fake_telegram.checkout_answers[update["pre_checkout_query"]["id"]]
        for name, update in asked.items()
    }
    assert answers["ok"] == {"ok": True, "error_message": None}
    assert (
        answers["price"]["ok"] is False and "price has changed" in answers["price"]["error_message"]
    )
    assert answers["payer"]["error_message"].startswith("Этот счёт выставлен другому")  # Boris
    assert answers["off"]["error_message"] == "This pass is no longer on sale."


def test_a_payment_delivered_twice_credits_one_pass_and_both_hear_once(
    paying_bot, fake_telegram, bot_sessions, bot_config, dispatcher
):
    pack = on_sale(bot_sessions, bot_config)
    payload = payments.invoice_payload(pack.id, ALICE["id"])
    update = fake_telegram.successful_payment_update(ALICE, payload, 800000, "charge-1")
    again = fake_telegram.successful_payment_update(ALICE, payload, 800000, "charge-1")

    paying_bot.handle_update(update)
    paying_bot.handle_update(update)  # the same update_id: skipped
    paying_bot.handle_update(again)  # another update_id, the same charge: credits nothing

    assert counts(bot_sessions) == (1, 1)
    with bot_sessions() as session:
        payment = session.scalar(select(Payment))
        assert payment.provider_payment_charge_id == "provider-charge-1"
        assert payment.amount == 800000 and payment.user.telegram_id == ALICE["id"]
    assert dispatcher.flush()
    [receipt] = [t for t in texts_to(fake_telegram, ALICE["id"]) if "Paid" in t]
    assert "8 visits" in receipt and "until Thu 24 Dec" in receipt
    [news] = [t for t in texts_to(fake_telegram, COACH["id"]) if "paid" in t]
    assert "Alice" in news


def test_two_workers_racing_on_copies_of_a_payment_credit_once(
    make_bot, fake_telegram, bot_sessions, bot_config
):
    pack = on_sale(bot_sessions, bot_config)
    payload = payments.invoice_payload(pack.id, ALICE["id"])
    copies = [
        fake_telegram.successful_payment_update(ALICE, payload, 800000, "charge-race")
        for _ in range(4)
    ]
    workers = [make_bot(payment_provider_token=TOKEN) for _ in copies]
    with bot_sessions() as session:
        services.upsert_user(session, {"id": ALICE["id"], "first_name": "Alice"})
    start = threading.Barrier(len(copies))

    def work(bot, update) -> None:
        start.wait()
        bot.handle_update(update)

    threads = [
        threading.Thread(target=work, args=pair) for pair in zip(workers, copies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts(bot_sessions) == (1, 1)


@pytest.fixture
def web(database_url, clock, paying_config) -> Iterator[Flask]:
    app = build_app(
        database_url,
        clock,
        BOT=paying_config,
        ADMIN_IDS=paying_config.admin_ids,
        PUBLIC_URL=PUBLIC_URL,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def post_update(app: Flask, update: dict):
    config = app.extensions["telegram"].config
    path = f"{WEBHOOK_PREFIX}/{config.webhook_path}"
    headers = {SECRET_HEADER: config.webhook_secret_token}
    return app.test_client().post(path, json=update, headers=headers)


def test_over_the_webhook_a_payment_posted_twice_credits_once(
    web, fake_telegram, bot_sessions, paying_config
):
    pack = on_sale(bot_sessions, paying_config)
    payload = payments.invoice_payload(pack.id, ALICE["id"])
    update = fake_telegram.successful_payment_update(ALICE, payload, 800000, "charge-hook")
    inbox = Inbox(web.extensions["telegram"].bot, bot_sessions)
    try:
        assert post_update(web, update).status_code == 200
        assert post_update(web, update).status_code == 200
        assert inbox.drain()
    finally:
        inbox.pool.close()
    assert counts(bot_sessions) == (1, 1)


def test_the_mini_apps_invoice_link_comes_from_create_invoice_link(
    web, fake_telegram, bot_sessions, paying_config
):
    pack = on_sale(bot_sessions, paying_config)
    user = {"id": ALICE["id"], "first_name": "Alice", "language_code": "en"}
    made = web.test_client().post(f"/api/products/{pack.id}/invoice", headers=auth(user))
    assert made.status_code == 200
    assert made.json["invoice_link"].startswith("https://t.me/$")
    [invoice] = fake_telegram.invoices
    assert payments.read_payload(invoice["payload"]) == (pack.id, ALICE["id"])
    assert invoice["provider_token"] == TOKEN


def test_my_shows_a_membership_and_under_forfeit_offers_a_late_cancel(
    make_bot, chat, fake_telegram, bot_sessions, bot_config, clock
):
    month = on_sale(bot_sessions, bot_config, name="Month", visits=None, amount=500000)
    bot = make_bot(settings=replace(bot_config.settings, late_cancel="forfeit"))
    alice = type(chat(ALICE))(fake_telegram, bot.handle_update, ALICE)
    payload = payments.invoice_payload(month.id, ALICE["id"])
    alice.deliver(fake_telegram.successful_payment_update(ALICE, payload, 500000, "m-1"))
    alice.send("/my")
    assert "Membership: unlimited visits until Thu 24 Dec" in alice.screen["text"]

    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    assert "Your membership pays (valid until Thu 24 Dec)" in alice.screen["text"]
    alice.tap("Book it")
    clock.now = clock.now.replace(day=26, hour=6)  # an hour before the start: late
    alice.send("/my")
    alice.tap("Cancel")
    assert "the visit stays used" in alice.screen["text"]
    alice.tap("Yes")
    with bot_sessions() as session:
        cancelled = session.scalar(select(Booking))
        assert (cancelled.status, cancelled.forfeited) == ("cancelled", True)


# The database waits (SQLite's busy timeout, PostgreSQL's statement timeout) are shares of a 1 s
# dependency deadline here, not the deployed 5 s: the lock is held past them all the same.
@pytest.mark.parametrize("bot_config", [{"dependency_deadline": 1.0}], indirect=True, ids=["1s"])
def test_a_payment_the_database_could_not_credit_comes_again_and_credits_once(
    paying_bot, fake_telegram, bot_sessions, bot_config
):
    """Telegram has taken the money: while the schedule's write lock is held elsewhere the pass
    cannot be credited, so handle_update raises and the update is asked for again (polling and
    the webhook worker do); once the lock is free it credits once. On PostgreSQL the update was
    claimed and its handler failed (RetryLater: the claim released); SQLite's lock is the whole
    file's, so there the claim itself could not be written."""
    pack = on_sale(bot_sessions, bot_config)
    payload = payments.invoice_payload(pack.id, ALICE["id"])
    update = fake_telegram.successful_payment_update(ALICE, payload, 800000, "charge-9")
    engine = bot_sessions.kw["bind"]

    with engine.connect() as holder:  # another process holding the write lock past the waits
        holder.execute(
            ScheduleLock.__table__.update()
            .where(ScheduleLock.id == 1)
            .values(version=ScheduleLock.version + 1)
        )
        failure = RetryLater if engine.dialect.name == "postgresql" else OperationalError
        with pytest.raises(failure):
            paying_bot.handle_update(update)
        holder.rollback()

    assert counts(bot_sessions) == (0, 0)
    paying_bot.handle_update(update)  # the same update, delivered again
    paying_bot.handle_update(update)  # and once more: now it was handled
    assert counts(bot_sessions) == (1, 1)
