"""Paying in chat: /buy sends an invoice per product on sale; every pre_checkout_query is
answered at once (Telegram cancels the payment after 10 s); a successful_payment credits its
pass once per telegram_payment_charge_id (schedule.payments.credit), however often the update
comes and whichever worker takes it."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import Message, PreCheckoutQuery

from schedule import ScheduleError, User, payments
from schedule.i18n import N_, language
from schedule.models import Product

from ..payments import send_invoice
from ..texts import label, text
from .common import BotContext, RetryLater, on_message, user_session

log = logging.getLogger("bot")
MAX_INVOICES = 10  # one /buy sends at most this many invoice messages


def register(bot: TeleBot, ctx: BotContext) -> None:
    @on_message(bot, ctx, commands=["buy"])
    def buy(message: Message, session: Session, user: User, lang: str) -> None:
        on_sale = payments.on_sale(session)[:MAX_INVOICES]
        if not ctx.config.payment_provider_token or not on_sale:
            bot.send_message(message.chat.id, text(lang, N_("bot_nothing_on_sale")))
            return
        for product in on_sale:
            send_invoice(bot, message.chat.id, product, user.telegram_id, lang, ctx.config)

    @bot.pre_checkout_query_handler(func=lambda query: True)
    def pre_checkout(query: PreCheckoutQuery) -> None:
        lang = language(query.from_user.language_code)
        try:
            with ctx.session_factory() as session:
                read = payments.read_payload(query.invoice_payload)
                product = session.get(Product, read[0]) if read else None
                verdict = payments.checkout_verdict(
                    product,
                    payload=query.invoice_payload,
                    payer_telegram_id=query.from_user.id,
                    total_amount=query.total_amount,
                    currency=query.currency,
                    lang=lang,
                )
        except Exception:  # the database did not answer: no money without a pass to give
            log.exception("pre_checkout_query %s: could not check it", query.id)
            bot.answer_pre_checkout_query(
                query.id, ok=False, error_message=label(lang, N_("checkout_try_later"))
            )
            return
        if verdict.ok:
            bot.answer_pre_checkout_query(query.id, ok=True)
        else:
            bot.answer_pre_checkout_query(query.id, ok=False, error_message=verdict.error_message)

    @bot.message_handler(content_types=["successful_payment"])
    def paid(message: Message) -> None:
        """Credit the pass. Telegram has taken the money: an update whose pass could not be
        credited (the database failing) is asked for again, never dropped; a payment that
        breaks the rules (a forged payload) is refused and logged."""
        try:
            with user_session(ctx, message.from_user) as (session, user):
                credit(message, session, user)
        except ScheduleError:
            charge = message.successful_payment.telegram_payment_charge_id
            log.exception("payment %s refused", charge)
        except Exception as error:
            raise RetryLater(str(error)) from error

    def credit(message: Message, session: Session, user: User) -> None:
        receipt = message.successful_payment
        credited = payments.credit(
            ctx.client_unit(session, user),
            user,
            payload=receipt.invoice_payload,
            total_amount=receipt.total_amount,
            currency=receipt.currency,
            telegram_payment_charge_id=receipt.telegram_payment_charge_id,
            provider_payment_charge_id=receipt.provider_payment_charge_id or "",
        )
        log.info(
            "payment %s (%s) from %s: %s",
            credited.payment.id,
            receipt.telegram_payment_charge_id,
            user.telegram_id,
            "credited" if credited.new else "already credited",
        )
