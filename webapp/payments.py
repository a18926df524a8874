"""Products and payments as JSON (DESIGN.md, "Products and payments").

A thin adapter over schedule.payments. The invoice link comes from the Bot API's
createInvoiceLink, which only the bot may call (webapp never imports bot): the runtime puts a
callable `(product, payer_telegram_id, language) -> link` in `app.extensions["invoices"]` when
PAYMENT_PROVIDER_TOKEN is set; without it the invoice route answers 409 `payments_off`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, current_app, g, jsonify

from schedule import passes, payments, services
from schedule.errors import ScheduleError
from schedule.i18n import N_
from schedule.models import Payment, Product

from . import contract
from .auth import admin_required, login_required
from .current import now, settings, unit
from .extensions import db
from .i18n import current_language
from .passes import find_pass, pass_json
from .present import admin_booking_json

log = logging.getLogger("webapp.payments")
bp = Blueprint("payments", __name__, url_prefix="/api")
# (product, payer's Telegram id, language) -> an invoice link (t.me/$...), from the bot.
InvoiceLinks = Callable[[Product, int, str], str]


class PaymentsUnavailable(ScheduleError):
    """Telegram did not make the invoice (down, or the token refused): try again later."""

    def __init__(self) -> None:
        super().__init__("payments_unavailable", N_("error_payments_unavailable"))

    @property
    def http_status(self) -> int:
        return 503


def product_json(product: Product, lang: str | None = None) -> dict:
    found = {
        "id": product.id,
        "name": product.name,
        "visits": product.visits,
        "valid_days": product.valid_days,
        "per_week": product.per_week,
        "amount": product.amount,
        "currency": product.currency,
        "on_sale": product.on_sale,
    }
    if lang is not None:
        found["price_text"] = payments.format_price(product.amount, product.currency, lang)
    return found


def payment_json(payment: Payment) -> dict:
    return {
        "id": payment.id,
        "telegram_id": payment.user.telegram_id,
        "product_id": payment.product_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "pass_id": payment.pass_id,
        "status": payment.status,
        "telegram_payment_charge_id": payment.telegram_payment_charge_id,
        "provider_payment_charge_id": payment.provider_payment_charge_id,
        "created": payment.created_at.isoformat(timespec="seconds") + "Z",
        "refund_reason": payment.refund_reason,
    }


def invoice_links() -> InvoiceLinks | None:
    return current_app.extensions.get("invoices")


@dataclass(frozen=True)
class OnSale:
    """A product as My trainings lists it: what it gives and its price, in the viewer's words."""

    id: int
    name: str
    description: str
    price: str


@bp.app_context_processor
def helpers() -> dict:
    return {"products_on_sale": products_on_sale, "can_cancel": can_cancel}


def can_cancel(booking) -> bool:
    """Whether the viewer may cancel `booking` now: until the deadline, and under
    LATE_CANCEL=forfeit until its start (the visit kept)."""
    at = now()
    return services.client_may_change(booking, settings(), at) or payments.forfeits(
        booking, settings(), at
    )


def products_on_sale() -> list[OnSale]:
    """What the viewer may buy now: nothing while payments are off (no provider token)."""
    if invoice_links() is None:
        return []
    lang = current_language()
    return [
        OnSale(
            p.id,
            p.name,
            payments.describe(p, lang),
            payments.format_price(p.amount, p.currency, lang),
        )
        for p in payments.on_sale(db.session())
    ]


# --- the client's -----------------------------------------------------------------------------


@bp.get("/products")
@login_required
def products():
    lang = current_language()
    return jsonify(products=[product_json(p, lang) for p in payments.on_sale(db.session())])


@bp.post("/products/<int:product_id>/invoice")
@login_required
def invoice(product_id: int):
    product = payments.product_on_sale(db.session(), product_id)
    make_link = invoice_links()
    if make_link is None:
        raise ScheduleError("payments_off")
    try:
        link = make_link(product, g.user.telegram_id, current_language())
    except Exception:
        log.exception("createInvoiceLink failed for product %s", product.id)
        raise PaymentsUnavailable() from None
    return jsonify(invoice_link=link)


# --- the trainer's ----------------------------------------------------------------------------


@bp.post("/admin/products")
@admin_required
def create_product():
    wanted: contract.ProductRequest = contract.body()
    product = payments.create_product(unit(), **wanted.model_dump())
    return jsonify(product_json(product)), 201


@bp.delete("/admin/products/<int:product_id>")
@admin_required
def take_off_sale(product_id: int):
    return jsonify(product_json(payments.take_off_sale(unit(), product_id)))


@bp.get("/admin/payments")
@admin_required
def list_payments():
    return jsonify(payments=[payment_json(p) for p in payments.payments(db.session())])


@bp.post("/admin/payments/<int:payment_id>/refund")
@admin_required
def refund(payment_id: int):
    wanted: contract.ReasonRequest = contract.body()
    payment = payments.refund(unit(), payment_id, reason=wanted.reason)
    return jsonify(payment_json(payment))


@bp.post("/admin/passes/<int:pass_id>/freeze")
@admin_required
def freeze(pass_id: int):
    wanted: contract.FreezeRequest = contract.body()
    find_pass(pass_id)
    sold = payments.freeze(unit(), pass_id, days=wanted.days, reason=wanted.reason)
    view = passes.view(db.session(), settings(), sold, now())
    return jsonify(pass_json(view, settings(), history=True))


@bp.post("/admin/bookings/<int:booking_id>/forgive")
@admin_required
def forgive(booking_id: int):
    booking = payments.forgive(unit(), booking_id)
    return jsonify(admin_booking_json(booking, settings()))
