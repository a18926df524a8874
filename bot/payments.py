"""Money inside Telegram, the bot's side: invoices (a link for the Mini App, a message in chat),
what a product is called in a client's language, and the words of the payment notices.

Deciding is schedule.payments' (the checkout's verdict, the credit once per charge, refunds);
here is only what needs the Bot API and the words. The runtime hands `invoice_links(bot,
config)` to the web app (app.extensions["invoices"]), which never imports the bot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from telebot import TeleBot
from telebot.types import LabeledPrice

from schedule import notices, payments
from schedule.i18n import N_
from schedule.models import Product

from .config import BotConfig
from .texts import day_label, text

InvoiceLinks = Callable[[Product, int, str], str]


def invoice_fields(product: Product, payer_telegram_id: int, lang: str, config: BotConfig) -> dict:
    """What createInvoiceLink and sendInvoice both take: one price line of the product's amount,
    a payload naming the product and the payer (schedule.payments.invoice_payload)."""
    return {
        "title": product.name[:32],
        "description": payments.describe(product, lang)[:255],
        "provider_token": config.payment_provider_token,
        "currency": product.currency,
        "prices": [LabeledPrice(label=product.name[:32], amount=product.amount)],
    }


def invoice_links(bot: TeleBot, config: BotConfig) -> InvoiceLinks | None:
    """The web app's way to an invoice link, or None without PAYMENT_PROVIDER_TOKEN."""
    if not config.payment_provider_token:
        return None

    def make(product: Product, payer_telegram_id: int, lang: str) -> str:
        return bot.create_invoice_link(
            payload=payments.invoice_payload(product.id, payer_telegram_id),
            **invoice_fields(product, payer_telegram_id, lang, config),
        )

    return make


def send_invoice(
    bot: TeleBot, chat_id: int, product: Product, payer_telegram_id: int, lang: str, config
) -> None:
    bot.send_invoice(
        chat_id,
        invoice_payload=payments.invoice_payload(product.id, payer_telegram_id),
        **invoice_fields(product, payer_telegram_id, lang, config),
    )


def render_payment_notice(kind: str, facts: dict, lang: str, config: BotConfig):
    """A payment's outbox row in `lang`: the client's receipt or refund, the trainer's news."""
    price = payments.format_price(facts["amount"], facts["currency"], lang)
    product = facts.get("product") or "—"
    expires = facts.get("expires")
    until = day_label(date.fromisoformat(expires), lang) if expires else "—"
    if kind == notices.PAYMENT_PAID:
        return text(lang, N_("bot_payment_paid"), product=product, price=price, until=until), None
    if kind == notices.PAYMENT_REFUNDED:
        reason = facts.get("reason") or ""
        return text(
            lang, N_("bot_payment_refunded"), product=product, price=price, reason=reason
        ), None
    key = (
        N_("bot_payment_news_paid")
        if facts.get("kind") == "paid"
        else N_("bot_payment_news_refunded")
    )
    return (
        text(
            lang,
            key,
            client=facts.get("client_name") or facts.get("client_id"),
            product=product,
            price=price,
            reason=facts.get("reason") or "",
        ),
        None,
    )
