"""Payments credited once, refunds, freezes and memberships, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from schedule import ScheduleError, Settings, User, availability, passes, payments, services
from schedule.models import Pass, Payment, utcnow
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # Thursday, the day after the `now` fixture
TEN = 10 * 60


@pytest.fixture
def told(settings):
    """The rules with a trainer named, so payments are told of through the outbox."""
    return replace(settings, admin_ids=frozenset({9001}))


def buy(session, settings, user, product, charge="tg-1", now=None, **changes):
    return payments.credit(
        Unit(session, settings, Actor.client(user), now=now or utcnow()),
        user,
        payload=payments.invoice_payload(product.id, user.telegram_id),
        total_amount=product.amount,
        currency=product.currency,
        telegram_payment_charge_id=charge,
        provider_payment_charge_id="prov-" + charge,
        **changes,
    )


def pack(session, settings, visits=8, **fields):
    fields = {"name": f"{visits} visits", "valid_days": 30, "amount": 800000, **fields}
    return payments.create_product(
        Unit(session, settings, Actor.trainer()), visits=visits, **fields
    )


def test_a_payment_credits_one_pass_however_often_it_is_reported(session, told, make_user, now):
    anna = make_user("Anna")
    product = pack(session, told)
    first = buy(session, told, anna, product, now=now)
    again = buy(session, told, anna, product, now=now)

    assert first.new and not again.new
    assert again.payment.id == first.payment.id
    payment = first.payment
    assert (payment.amount, payment.currency, payment.status) == (800000, "RUB", "paid")
    assert payment.provider_payment_charge_id == "prov-tg-1"
    sold = session.get(Pass, payment.pass_id)
    assert (sold.visits, sold.product_id, sold.payment_id) == (8, product.id, payment.id)
    assert sold.expires_on - sold.starts_on == timedelta(days=29)
    assert session.scalar(select(func.count()).select_from(Pass)) == 1
    # The client and the trainer are told, once.
    kinds = sorted(session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["payment_news", "payment_paid"]


def test_racing_workers_credit_one_pass_per_charge(session_factory, settings, now):
    with session_factory() as session:
        anna = services.upsert_user(session, {"id": 800, "first_name": "Anna"})
        product = pack(session, settings)
    results: list[bool] = []
    start = threading.Barrier(4)

    def worker() -> None:
        with session_factory() as own:
            payer = services.upsert_user(own, {"id": 800, "first_name": "Anna"})
            start.wait()
            results.append(buy(own, settings, payer, product, charge="race", now=now).new)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
        assert session.scalar(select(func.count()).select_from(Pass)) == 1
        assert anna.id == session.scalar(select(Pass.user_id))


def test_a_payment_for_a_product_taken_off_sale_meanwhile_is_still_credited(
    session, settings, make_user, now
):
    anna = make_user("Anna")
    product = pack(session, settings)
    payments.take_off_sale(Unit(session, Settings(), Actor.trainer(), now=now), product.id)
    assert buy(session, settings, anna, product, now=now).payment.pass_id is not None


def test_a_refund_voids_the_pass_takes_its_unused_visits_and_keeps_the_reason(
    session, told, make_user, now
):
    anna = make_user("Anna")
    paid = buy(session, told, anna, pack(session, told, visits=5), now=now).payment
    booking = services.book(Unit(session, told, Actor.client(anna), now=now), anna, DAY, TEN)
    assert booking.pass_id == paid.pass_id

    with pytest.raises(ScheduleError) as refused:
        payments.refund(Unit(session, told, Actor.trainer(), now=now), paid.id, reason="  ")
    assert refused.value.http_status == 400
    refunded = payments.refund(
        Unit(session, told, Actor.trainer(User(telegram_id=9001)), now=now),
        paid.id,
        reason="moved away",
    )

    assert (refunded.status, refunded.refund_reason) == ("refunded", "moved away")
    sold = session.get(Pass, paid.pass_id)
    assert sold.voided_at == now and sold.visits == 1  # the visit used stays, 4 taken away
    assert [(c.kind, c.visits_delta, c.reason) for c in sold.history][-1] == (
        "refunded",
        -4,
        "moved away",
    )
    assert passes.standing(session, told, anna.id, now).passes == ()  # pays for nothing more
    assert [v.valid for v in passes.client_passes(session, told, anna, now)] == [False]
    with pytest.raises(ScheduleError) as again:
        payments.refund(Unit(session, told, Actor.trainer(), now=now), paid.id, reason="twice")
    assert again.value.code == "already_refunded"
    with pytest.raises(ScheduleError) as missing:
        payments.refund(Unit(session, told, Actor.trainer(), now=now), 999, reason="x")
    assert missing.value.http_status == 404
    assert "payment_refunded" in set(session.scalars(select(OutboxMessage.kind)))


def test_a_freeze_moves_the_expiry_and_is_in_the_history(session, settings, make_user, now):
    anna = make_user("Anna")
    sold = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=4, valid_days=10
    )
    expires = sold.expires_on
    frozen = payments.freeze(
        Unit(session, Settings(), Actor.trainer(User(telegram_id=9001)), now=now),
        sold.id,
        days=7,
        reason="flu",
    )
    assert frozen.expires_on == expires + timedelta(days=7) and frozen.frozen_days == 7
    assert (frozen.history[-1].kind, frozen.history[-1].days_delta) == ("frozen", 7)
    for bad in (
        {"days": 0, "reason": "x"},
        {"days": 3, "reason": ""},
        {"days": "3", "reason": "x"},
    ):
        with pytest.raises(ScheduleError) as refused:
            payments.freeze(Unit(session, Settings(), Actor.trainer(), now=now), sold.id, **bad)
        assert refused.value.http_status == 400
    with pytest.raises(ScheduleError) as missing:
        payments.freeze(
            Unit(session, Settings(), Actor.trainer(), now=now), 999, days=1, reason="x"
        )
    assert missing.value.http_status == 404


def test_a_membership_takes_no_visit_and_its_weekly_cap_refuses_week_limit(
    session, settings, make_user, now
):
    anna = make_user("Anna")
    month = payments.create_product(
        Unit(session, settings, Actor.trainer()),
        name="Month",
        valid_days=30,
        per_week=2,
        amount=500000,
    )
    sold_id = buy(session, settings, anna, month, now=now).payment.pass_id
    first = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN
    )  # Thursday
    second = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=1), TEN
    )
    assert first.pass_id == second.pass_id == sold_id
    [view] = passes.client_passes(session, settings, anna, now)
    assert view.remaining is None and view.valid  # visits unlimited

    saturday = DAY + timedelta(days=2)
    picture = availability.day_availability(session, settings, saturday, anna.id, now)
    assert {slot.refusal for slot in picture.slots if not slot.past} - {"after_hours"} == {
        "week_limit"
    }
    with pytest.raises(ScheduleError) as refused:
        services.book(Unit(session, settings, Actor.client(anna), now=now), anna, saturday, TEN)
    assert refused.value.code == "week_limit" and refused.value.http_status == 409
    # Next week is another week; a cancel frees this week's place.
    monday = DAY + timedelta(days=4)
    assert (
        services.book(
            Unit(session, settings, Actor.client(anna), now=now), anna, monday, TEN
        ).pass_id
        == sold_id
    )
    services.cancel(Unit(session, settings, Actor.client(anna), now=now), first.id)
    assert (
        services.book(
            Unit(session, settings, Actor.client(anna), now=now), anna, saturday, TEN
        ).pass_id
        == sold_id
    )


def test_a_pack_pays_when_the_membership_week_is_full(session, settings, make_user, now):
    anna = make_user("Anna")
    month = payments.create_product(
        Unit(session, settings, Actor.trainer()),
        name="Month",
        valid_days=30,
        per_week=1,
        amount=500000,
    )
    buy(session, settings, anna, month, charge="m", now=now)
    extra = passes.record(
        Unit(session, settings, Actor.trainer(), now=now), anna, visits=2, valid_days=30
    )
    services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    booked = services.book(
        Unit(session, settings, Actor.client(anna), now=now), anna, DAY + timedelta(days=1), TEN
    )
    assert booked.pass_id == extra.id
