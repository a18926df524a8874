"""Money inside Telegram: products on sale, payments credited once, refunds, freezes, late cancels.

The trainer sells products (schedule.models.Product): a pack of N visits valid D days, or a
membership of D days (visits None: a booking under it takes no visit, counted against its
optional weekly cap, schedule.passes' "week_limit"). A client pays through Telegram Payments: the
invoice's payload names the product and the payer (`invoice_payload`); Telegram asks the bot
whether to take the money (`checkout_verdict`, a pure function: the bot must answer within
10 s) and then reports the payment (`credit`), once or several times, to any worker. `credit`
runs in the schedule's write transaction and finds a payment by its
`telegram_payment_charge_id` (unique in the table, so even a writer outside the lock could not
add a second): one pass per charge, however often the update arrives.

A refund voids the pass (it pays for nothing more; the visits not yet used are taken away) and
records why; a freeze moves a pass's expiry by some days, in its history. Under
`LATE_CANCEL=forfeit` a client may cancel after the deadline until the start: the place is
freed and the visit stays used (`Booking.forfeited`) until the trainer forgives it.

The client and the trainers hear of a payment and a refund through the outbox
(schedule.notices.write), in the transaction that made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_precision
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import passes
from .db import is_row_id, write_transaction
from .errors import InvalidInput, ScheduleError
from .events import PaymentSettled
from .i18n import N_, Nn_, language, translate, translate_plural
from .models import (
    ACTIVE,
    PAID,
    REFUNDED,
    Booking,
    Pass,
    PassChange,
    Payment,
    Product,
    User,
)
from .settings import Settings
from .timegrid import today
from .unit import Unit

MAX_NAME = 128
MAX_AMOUNT = 10**12  # minor units
MAX_WEEKLY = 14
MAX_FREEZE_DAYS = 365
MAX_PAYLOAD = 128  # bytes, Telegram's limit for an invoice payload
# Telegram Stars are refunded through the Bot API (refundStarPayment), which this studio does not
# do: trainings are physical services, paid through a provider.
STARS = "XTR"
_PAYLOAD = re.compile(r"^buy:(\d{1,18}):(\d{1,20})$")

# The outbox keys (the bot words each row by its key).

# Why the bot refuses a checkout, in the payer's words (catalog ids).
CHECKOUT_REFUSALS = {
    "off_sale": N_("checkout_off_sale"),
    "price_changed": N_("checkout_price_changed"),
    "not_payer": N_("checkout_not_payer"),
    "bad_payload": N_("checkout_bad_payload"),
}


# --- products -------------------------------------------------------------------------------


def _whole(value: object, detail: str, low: int, high: int, *, optional: bool = False):
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(detail, low=low, high=high)
    return value


def _reason(value: object) -> str:
    if not isinstance(value, str) or "\x00" in value or not value.strip():
        raise InvalidInput(N_("payment_reason_required"))
    return value.strip()[: passes.MAX_NOTE]


def currency_code(value: object, settings: Settings) -> str:
    """An ISO 4217 code a provider takes (not Stars); PAYMENT_CURRENCY when not given."""
    if value is None:
        return settings.payment_currency
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise InvalidInput(N_("input_currency"))
    code = value.strip().upper()
    if code == STARS:
        raise InvalidInput(N_("input_currency"))
    return code


def create_product(
    unit: Unit,
    *,
    name: object,
    visits: object = None,
    valid_days: object,
    per_week: object = None,
    amount: object,
    currency: object = None,
) -> Product:
    """Put a product on sale: `visits` None makes it a membership (`per_week` an optional cap,
    only for memberships); `amount` in minor units (kopecks). The trainer's act."""
    unit.require_trainer()
    session, settings = unit.session, unit.settings
    if not isinstance(name, str) or "\x00" in name or not name.strip():
        raise InvalidInput(N_("input_product_name"))
    count = _whole(visits, N_("input_range_visits"), 1, passes.MAX_VISITS, optional=True)
    days = _whole(valid_days, N_("input_range_valid_days"), 1, passes.MAX_DAYS)
    weekly = _whole(per_week, N_("input_range_per_week"), 1, MAX_WEEKLY, optional=True)
    if count is not None and weekly is not None:
        raise InvalidInput(N_("input_per_week_pack"))
    cents = _whole(amount, N_("input_range_amount"), 1, MAX_AMOUNT)
    product = Product(
        name=name.strip()[:MAX_NAME],
        visits=count,
        valid_days=days,
        per_week=weekly,
        amount=cents,
        currency=currency_code(currency, settings),
        on_sale=True,
        created_at=unit.now,
    )
    session.add(product)
    session.commit()
    return product


def take_off_sale(unit: Unit, product_id: object) -> Product:
    """Sell it no more; passes sold stay as they are (the trainer's act)."""
    unit.require_trainer()
    session = unit.session
    product = session.get(Product, product_id) if is_row_id(product_id) else None
    if product is None:
        raise ScheduleError("product_not_found")
    if product.on_sale:
        product.on_sale = False
        product.off_sale_at = unit.now
        session.commit()
    return product


def on_sale(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.on_sale).order_by(Product.id)))


def product_on_sale(session: Session, product_id: object) -> Product:
    product = session.get(Product, product_id) if is_row_id(product_id) else None
    if product is None or not product.on_sale:
        raise ScheduleError("product_not_found")
    return product


def format_price(amount: int, currency: str, lang: str | None) -> str:
    """`amount` minor units as `lang` writes money: "1 500 ₽", "RUB 1,500.50" (the minor units
    only when there are some; a code kept apart from the number)."""
    lang = language(lang)
    digits = get_currency_precision(currency)
    pattern = Locale.parse(lang).currency_formats["standard"].pattern
    if amount % 10**digits == 0:
        pattern = pattern.replace(".00", "")
    written = format_currency(
        Decimal(amount) / 10**digits, currency, format=pattern, locale=lang, currency_digits=False
    )
    return re.sub(r"([A-Z]{3})(?=\d)", "\\1\u00a0", written)


def describe(product: Product, lang: str | None) -> str:
    """What a product gives, in `lang`: "8 visits, valid 30 days" / "Unlimited visits for 30
    days, at most 2 a week" (the invoice's description, the Mini App's line)."""
    lang = language(lang)
    days = translate_plural(lang, Nn_("delta_days"), product.valid_days)
    if product.visits is not None:
        visits = translate_plural(lang, Nn_("delta_visits"), product.visits)
        return translate(lang, N_("product_pack"), visits=visits, days=days)
    words = translate(lang, N_("product_membership"), days=days)
    if product.per_week:
        words += ", " + translate_plural(lang, Nn_("product_per_week"), product.per_week)
    return words


# --- the invoice and the checkout -----------------------------------------------------------


def invoice_payload(product_id: int, payer_telegram_id: int) -> str:
    """What the invoice carries back to the bot: the product and the payer (≤ 128 bytes)."""
    payload = f"buy:{product_id}:{payer_telegram_id}"
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError("invoice payload over 128 bytes")
    return payload


def read_payload(payload: object) -> tuple[int, int] | None:
    """(product id, payer's Telegram id) from an invoice payload, None when not one of ours."""
    match = _PAYLOAD.match(payload) if isinstance(payload, str) else None
    return (int(match[1]), int(match[2])) if match else None


@dataclass(frozen=True)
class Checkout:
    """The answer to a pre_checkout_query: ok, or why not in the payer's words."""

    ok: bool
    code: str | None = None
    error_message: str | None = None


def checkout_verdict(
    product: Product | None,
    *,
    payload: object,
    payer_telegram_id: int,
    total_amount: object,
    currency: object,
    lang: str | None,
) -> Checkout:
    """Whether to take the money: the product named in `payload` is on sale, at that amount and
    currency, and the payer is the one the invoice was made for. Pure: `product` is read by
    the caller (the one `payload` names, or None)."""
    read = read_payload(payload)
    if read is None:
        code = "bad_payload"
    elif read[1] != payer_telegram_id:
        code = "not_payer"
    elif product is None or product.id != read[0] or not product.on_sale:
        code = "off_sale"
    elif total_amount != product.amount or currency != product.currency:
        code = "price_changed"
    else:
        return Checkout(True)
    return Checkout(False, code, translate(language(lang), CHECKOUT_REFUSALS[code]))


# --- a payment credited once ----------------------------------------------------------------


@dataclass(frozen=True)
class Credited:
    payment: Payment
    new: bool  # False: this charge was credited before (the update came again)


def credit(
    unit: Unit,
    payer: User,
    *,
    payload: object,
    total_amount: int,
    currency: str,
    telegram_payment_charge_id: str,
    provider_payment_charge_id: str = "",
) -> Credited:
    """Record a successful payment and credit its pass, once per telegram_payment_charge_id.

    The money is taken already, so a product taken off sale meanwhile is still credited; a
    payload that names no product of ours records the payment without a pass, for the
    trainer to settle."""
    session, settings, now = unit.session, unit.settings, unit.now
    charge_id = str(telegram_payment_charge_id)[:255]
    if not charge_id:
        raise InvalidInput(N_("input_charge_id"))
    try:
        with write_transaction(session):
            found = _payment_by_charge(session, charge_id)
            if found is not None:
                return Credited(found, False)
            read = read_payload(payload)
            product = session.get(Product, read[0]) if read else None
            payment = Payment(
                user=payer,
                product_id=product.id if product else None,
                amount=int(total_amount),
                currency=str(currency)[:3],
                telegram_payment_charge_id=charge_id,
                provider_payment_charge_id=str(provider_payment_charge_id or "")[:255],
                status=PAID,
                created_at=now,
            )
            session.add(payment)
            session.flush()
            if product is not None:
                sold = _pass_for(session, settings, payer, product, payment, now)
                payment.pass_id = sold.id
            _tell(unit, payment, refunded=False)
    except IntegrityError:
        # Another writer recorded this charge first (outside the lock): theirs stands.
        session.rollback()
        found = _payment_by_charge(session, charge_id)
        if found is None:
            raise
        return Credited(found, False)
    return Credited(payment, True)


def _payment_by_charge(session: Session, charge_id: str) -> Payment | None:
    return session.scalar(
        select(Payment)
        .where(Payment.telegram_payment_charge_id == charge_id)
        .execution_options(populate_existing=True)
    )


def _pass_for(
    session: Session,
    settings: Settings,
    payer: User,
    product: Product,
    payment: Payment,
    now: datetime,
) -> Pass:
    """The pass `product` gives, from today; the payer's unpaid bookings to come take from it."""
    first = today(now, settings)
    sold = Pass(
        user_id=payer.id,
        visits=product.visits,
        per_week=product.per_week,
        starts_on=first,
        expires_on=first + timedelta(days=product.valid_days - 1),
        price_cents=payment.amount,
        note=product.name,
        product_id=product.id,
        payment_id=payment.id,
        created_at=now,
    )
    sold.history.append(
        PassChange(
            kind="created",
            visits_delta=product.visits or 0,
            days_delta=product.valid_days,
            reason=f"payment {payment.id}",
            at=now,
        )
    )
    session.add(sold)
    session.flush()
    unpaid = session.scalars(
        select(Booking)
        .where(
            Booking.user_id == payer.id,
            Booking.status == ACTIVE,
            Booking.pass_id.is_(None),
            Booking.starts_at >= now,
        )
        .order_by(Booking.starts_at)
    )
    for booking in unpaid.all():
        passes.charge(session, settings, booking, now)
    return sold


def payments(session: Session) -> list[Payment]:
    """Every payment, newest first (the trainer's list)."""
    return list(session.scalars(select(Payment).order_by(Payment.id.desc())))


def refund(unit: Unit, payment_id: object, *, reason: object) -> Payment:
    """Mark a payment refunded (the provider's dashboard returns the money) and void its pass:
    it pays for nothing more and its visits not yet used are taken away; the reason is kept on
    the payment and in the pass's history. The trainer's act."""
    unit.require_trainer()
    session, now, by = unit.session, unit.now, unit.actor.telegram_id
    why = _reason(reason)
    with write_transaction(session):
        payment = (
            session.get(Payment, payment_id, populate_existing=True)
            if is_row_id(payment_id)
            else None
        )
        if payment is None:
            raise ScheduleError("payment_not_found")
        if payment.status == REFUNDED:
            raise ScheduleError("already_refunded")
        payment.status = REFUNDED
        payment.refund_reason = why
        payment.refunded_at = now
        payment.refunded_by = by
        sold = session.get(Pass, payment.pass_id) if payment.pass_id else None
        if sold is not None and sold.voided_at is None:
            used = passes.used_visits(session, [sold.id]).get(sold.id, 0)
            taken = 0 if sold.visits is None else sold.visits - used
            if sold.visits is not None:
                sold.visits = used
            sold.voided_at = now
            sold.history.append(
                PassChange(
                    kind="refunded", visits_delta=-taken, reason=why, by_telegram_id=by, at=now
                )
            )
        _tell(unit, payment, refunded=True)
    return payment


# --- the trainer's care of a pass -----------------------------------------------------------


def freeze(unit: Unit, pass_id: object, *, days: object, reason: object) -> Pass:
    """Freeze a pass for `days` (an illness, a holiday): its expiry moves that far, the reason
    in its history. The trainer's act."""
    unit.require_trainer()
    session, now, by = unit.session, unit.now, unit.actor.telegram_id
    count = _whole(days, N_("input_range_freeze_days"), 1, MAX_FREEZE_DAYS)
    why = _reason(reason)
    with write_transaction(session):
        sold = session.get(Pass, pass_id, populate_existing=True) if is_row_id(pass_id) else None
        if sold is None:
            raise ScheduleError("pass_not_found")
        sold.expires_on += timedelta(days=count)
        sold.frozen_days = (sold.frozen_days or 0) + count
        sold.expiry_noticed_at = None  # a new expiry earns a new notice
        sold.history.append(
            PassChange(kind="frozen", days_delta=count, reason=why, by_telegram_id=by, at=now)
        )
    return sold


# --- late cancels ---------------------------------------------------------------------------


def forfeits(booking: Booking, settings: Settings, now: datetime) -> bool:
    """Whether a client's cancel of `booking` now is a late one the forfeit policy accepts:
    after CANCEL_DEADLINE_MINUTES, before the start, under LATE_CANCEL=forfeit."""
    deadline = booking.starts_at - timedelta(minutes=settings.cancel_deadline_minutes)
    return settings.late_cancel == "forfeit" and deadline < now < booking.starts_at


def forgive(unit: Unit, booking_id: object) -> Booking:
    """The trainer forgives a late cancel: its visit returns to its pass, recorded on the
    booking and in the pass's history."""
    unit.require_trainer()
    session, now, by = unit.session, unit.now, unit.actor.telegram_id
    with write_transaction(session):
        booking = (
            session.get(Booking, booking_id, populate_existing=True)
            if is_row_id(booking_id)
            else None
        )
        if booking is None:
            raise ScheduleError("not_found")
        if not booking.forfeited:
            raise ScheduleError("not_forfeited")
        sold = session.get(Pass, booking.pass_id) if booking.pass_id else None
        if sold is not None:
            sold.history.append(
                PassChange(
                    kind="forgiven",
                    reason=f"booking {booking.id}",
                    by_telegram_id=by,
                    at=now,
                )
            )
        booking.forfeited = False
        booking.forgiven_at = now
        booking.forgiven_by = by
        booking.pass_id = None
        booking.updated_at = now
    return booking


# --- who hears of it ------------------------------------------------------------------------


def payment_facts(payment: Payment, session: Session) -> dict:
    product = session.get(Product, payment.product_id) if payment.product_id else None
    sold = session.get(Pass, payment.pass_id) if payment.pass_id else None
    user = payment.user or session.get(User, payment.user_id)
    return {
        "payment_id": payment.id,
        "product": product.name if product else None,
        "amount": payment.amount,
        "currency": payment.currency,
        "pass_id": payment.pass_id,
        "visits": sold.visits if sold else None,
        "per_week": sold.per_week if sold else None,
        "expires": sold.expires_on.isoformat() if sold else None,
        "reason": payment.refund_reason,
        "client_id": user.telegram_id,
        "client_name": user.name,
    }


def _tell(unit: Unit, payment: Payment, *, refunded: bool) -> None:
    """The client and the trainers hear of it, in this transaction (schedule.notices)."""
    unit.session.flush()
    facts = payment_facts(payment, unit.session)
    unit.emit(PaymentSettled(refunded=refunded, facts=facts, at=unit.now))
