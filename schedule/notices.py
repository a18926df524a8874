"""Who hears of what: the notices a change in the schedule causes, decided in one place.

A change is an event (schedule.events). `notices_of(event, settings)` turns it into the
notices it causes, each saying who (a Telegram id), which message (a key the bot words in the
recipient's language when it sends it) and which facts (plain JSON values): a pure function of
the event and the studio's rules, nothing read from a database. `record` writes them to the
outbox (schedule.outbox) on the change's session, so they commit with the change or not at
all; whoever emits an event records it (the services, schedule.series, the pass duties), so no
adapter's handler decides who is told, and every adapter's changes are told alike. Settings
that name no trainer still tell the clients; only the trainers' news has nobody to go to. A due
reminder is handed by schedule.reminders.claim_due to the worker's `on_due`, which `write`s
its notices in the claiming transaction.

The rules:
- The owners (ADMIN_IDS: `Settings.admin_ids`) hear of every booking, cancel and move
  (NEWS); a trainer added to the studio (schedule.kinds) hears of those they give.
- News of what a client did is held TRAINER_NEWS_DELAY_SECONDS (`Settings.trainer_news_delay`);
  the news of a cancel made while a trainer's news of that booking is still held folds both
  away: the trainer hears of neither (`Notice.folds_held`). Each chat's messages keep their
  order, so a trainer's other news may wait behind a held one, for at most that long.
- A client hears of what they did not do themselves (CLIENT): the trainer's cancel, with the
  reason; a booking the trainer made for them; a place the waitlist gave them; a wait the
  studio ended by taking away the kind or the trainer waited for (WAITLIST_ENDED).
- A booking that leaves one visit on its pass: its client hears so (PASS_LOW). A pass with
  visits left about to expire: its client hears so, once (PASS_EXPIRING).
- A reminder due before a training: its client hears of it (REMINDER), until it starts.
- A standing booking's date settled by the worker's pass: its client hears whether it was
  booked, queued or skipped, and why (SERIES_*); the dates settled as the series is made are not
  told (the client reads them in the answer). The trainer's stop of a series: one message with
  the reason and the dates it cancelled, no message per booking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from . import outbox
from .events import (
    BookingCancelled,
    BookingEvent,
    BookingMade,
    BookingMoved,
    Event,
    OccurrenceSettled,
    PassExpiring,
    PaymentSettled,
    ReminderDue,
    SeriesStopped,
    WaitlistEnded,
)
from .models import Booking, Pass
from .settings import Settings

# The message keys (an outbox row's `kind`, what the bot words a row by).
NEWS = "news"  # to a trainer: a booking made, cancelled or moved (facts["kind"] says which)
CLIENT = "client"  # to the client the booking belongs to
# A CLIENT message's facts["kind"] when the studio ended their wait (a kind or trainer retired).
WAITLIST_ENDED = "waitlist_ended"
PASS_LOW = "pass_low"
PASS_EXPIRING = "pass_expiring"
REMINDER = "reminder"
SERIES_BOOKED = "series_booked"
SERIES_WAITING = "series_waiting"
SERIES_SKIPPED = "series_skipped"
SERIES_STOPPED = "series_stopped"
SERIES_KEYS = (SERIES_BOOKED, SERIES_WAITING, SERIES_SKIPPED, SERIES_STOPPED)
PAYMENT_PAID = "payment_paid"  # to the client: the pass bought
PAYMENT_REFUNDED = "payment_refunded"  # to the client: the payment refunded, the pass voided
PAYMENT_NEWS = "payment_news"  # to the trainers: facts["kind"] "paid" or "refunded"
PAYMENT_KEYS = (PAYMENT_PAID, PAYMENT_REFUNDED, PAYMENT_NEWS)
# A settled occurrence's outcome (schedule.series' BOOKED, WAITING_OUTCOME, SKIPPED) -> its key.
OUTCOME_KEYS = {"booked": SERIES_BOOKED, "waiting": SERIES_WAITING, "skipped": SERIES_SKIPPED}


@dataclass(frozen=True)
class Notice:
    """One message to one chat, in plain values."""

    chat_id: int  # who: a Telegram id
    key: str  # which message
    facts: Mapping[str, Any]  # what it says: JSON values only (strings, numbers, None, lists)
    at: datetime  # when it happened
    booking_id: int | None = None  # the booking it is about, if any
    delay: timedelta = timedelta(0)  # held this long before it may go
    expires_at: datetime | None = None  # not sent after this (None: the outbox's default)
    # A trainer's news of a cancel: if this chat's news of that booking being made is still
    # held, neither is sent.
    folds_held: bool = False


def notices_of(event: Event, settings: Settings) -> list[Notice]:
    """The notices `event` causes under `settings`, trainers' first, in the order they go."""
    if isinstance(event, BookingMade | BookingCancelled | BookingMoved):
        return _booking_notices(event, settings)
    if isinstance(event, OccurrenceSettled):
        return [_occurrence_notice(event)]
    if isinstance(event, SeriesStopped):
        return [_stop_notice(event)]
    if isinstance(event, PassExpiring):
        sold = event.view.sold
        at = sold.expiry_noticed_at
        if at is None:  # claim_expiring stamps the claim before it emits the event
            raise ValueError(f"pass {sold.id}'s expiry notice is not claimed")
        return [_pass_notice(PASS_EXPIRING, sold, event.view.remaining, at)]
    if isinstance(event, ReminderDue):
        return [_reminder_notice(event)]
    if isinstance(event, PaymentSettled):
        return _payment_notices(event, settings)
    if isinstance(event, WaitlistEnded):
        return [_waitlist_ended_notice(event)]
    raise TypeError(f"not a schedule event: {event!r}")


def _payment_notices(event: PaymentSettled, settings: Settings) -> list[Notice]:
    """The client hears of their payment or refund; each trainer gets the news."""
    key = PAYMENT_REFUNDED if event.refunded else PAYMENT_PAID
    kind = "refunded" if event.refunded else "paid"
    told = [Notice(event.facts["client_id"], key, dict(event.facts), event.at)]
    return told + [
        Notice(trainer, PAYMENT_NEWS, {**event.facts, "kind": kind}, event.at)
        for trainer in sorted(settings.admin_ids)
    ]


def _booking_notices(event: BookingEvent, settings: Settings) -> list[Notice]:
    if isinstance(event, BookingCancelled) and event.series_stopped:
        return []  # told in the one SeriesStopped message
    booking = event.booking
    facts = booking_facts(event, settings)
    at = booking.updated_at  # the moment the service made, moved or cancelled it
    expires_at = max(booking.ends_at, at + outbox.DEFAULT_LIFETIME)
    by_admin = isinstance(event, BookingCancelled) and event.by_admin
    from_waitlist = isinstance(event, BookingMade) and event.from_waitlist
    client_did_it = not by_admin and booking.source != "admin"
    hold = settings.trainer_news_delay if client_did_it and not from_waitlist else 0
    notices = [
        Notice(
            trainer,
            NEWS,
            facts,
            at,
            booking_id=booking.id,
            delay=timedelta(seconds=hold),
            expires_at=expires_at,
            folds_held=isinstance(event, BookingCancelled),
        )
        for trainer in _told_staff(booking, settings)
    ]
    if by_admin or (isinstance(event, BookingMade) and booking.source == "admin") or from_waitlist:
        client = booking.user.telegram_id
        notices.append(
            Notice(client, CLIENT, facts, at, booking_id=booking.id, expires_at=expires_at)
        )
    if isinstance(event, BookingMade) and event.pass_view and event.pass_view.remaining == 1:
        notices.append(_pass_notice(PASS_LOW, event.pass_view.sold, 1, at))
    return notices


def _told_staff(booking: Booking, settings: Settings) -> list[int]:
    """Who on the staff hears of a booking's change: the owners (ADMIN_IDS) and the trainer
    who gives it (a booking of the studio itself has none)."""
    told = set(settings.admin_ids)
    if booking.trainer_id is not None:
        told.add(booking.trainer.telegram_id)
    return sorted(told)


def booking_facts(event: BookingEvent, settings: Settings) -> dict[str, Any]:
    """A booking's change as the NEWS and CLIENT messages word it."""
    booking = event.booking
    user = booking.user
    kind = {BookingMade: "booked", BookingCancelled: "cancelled", BookingMoved: "moved"}
    # services.change_deadline's rule (schedule.services imports this module).
    deadline = booking.starts_at - timedelta(minutes=settings.cancel_deadline_minutes)
    previous = event.previous_starts_at if isinstance(event, BookingMoved) else None
    return {
        "kind": kind[type(event)],
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "client_id": user.telegram_id,
        "client_name": user.name,
        "client_username": user.username,
        "client_phone": user.phone,
        "source": booking.source,
        "by_admin": isinstance(event, BookingCancelled) and event.by_admin,
        "reason": booking.cancel_reason if isinstance(event, BookingCancelled) else None,
        "previous_starts_at": previous.isoformat() if previous else None,
        "from_waitlist": isinstance(event, BookingMade) and event.from_waitlist,
        "booking_id": booking.id,
        # Whether the client could still cancel it when it happened (the cancel button).
        "client_may_cancel": booking.updated_at <= deadline,
        "happened_at": booking.updated_at.isoformat(),
    }


def _pass_notice(key: str, sold: Pass, remaining: int, at: datetime) -> Notice:
    facts = {
        "pass_id": sold.id,
        "remaining": remaining,
        "visits": sold.visits,
        "expires": sold.expires_on.isoformat(),
    }
    return Notice(sold.user.telegram_id, key, facts, at)


def _waitlist_ended_notice(event: WaitlistEnded) -> Notice:
    """A CLIENT message (facts["kind"] WAITLIST_ENDED): the client waits no more, and why;
    not sent once the training waited for has started."""
    entry = event.entry
    facts = {
        "kind": WAITLIST_ENDED,
        "reason": event.reason,
        "name": event.name,
        "starts_at": entry.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "waitlist_id": entry.id,
    }
    return Notice(entry.user.telegram_id, CLIENT, facts, event.at, expires_at=entry.starts_at)


def _reminder_notice(event: ReminderDue) -> Notice:
    """Worded when it is sent, from the booking as it is then (dropped if cancelled or moved
    since); never sent once the training has started."""
    booking = event.reminder.booking
    facts = {
        "booking_id": booking.id,
        "starts_at": booking.starts_at.isoformat(),
        "offset_minutes": event.reminder.offset_minutes,
    }
    return Notice(
        booking.user.telegram_id,
        REMINDER,
        facts,
        event.at,
        booking_id=booking.id,
        expires_at=booking.starts_at,
    )


def _occurrence_notice(event: OccurrenceSettled) -> Notice:
    series, occurrence = event.series, event.occurrence
    facts = {
        "series_id": series.id,
        "weekday": series.weekday,
        "start": series.start,
        "date": occurrence.occurs_on.isoformat(),
        "starts_at": occurrence.starts_at.isoformat() if occurrence.starts_at else None,
        "reason": occurrence.reason,
        "booking_id": occurrence.booking_id,
    }
    key = OUTCOME_KEYS[occurrence.outcome]
    return Notice(
        series.user.telegram_id,
        key,
        facts,
        occurrence.created_at,
        booking_id=occurrence.booking_id,
    )


def _stop_notice(event: SeriesStopped) -> Notice:
    series = event.series
    if series.stopped_at is None:  # schedule.series.stop stamps it before it emits the event
        raise ValueError(f"series {series.id} is not stopped")
    facts = {
        "series_id": series.id,
        "weekday": series.weekday,
        "start": series.start,
        "reason": series.stop_reason,
        "cancelled": [starts.isoformat() for starts in event.cancelled],
    }
    return Notice(series.user.telegram_id, SERIES_STOPPED, facts, series.stopped_at)


# --- writing them ----------------------------------------------------------------------------


def record(session: Session, settings: Settings, event: Event) -> list[outbox.OutboxMessage]:
    """Write the notices of `event` to the outbox in `session`'s transaction (the change's);
    the rows written."""
    return write(session, notices_of(event, settings))


def write(session: Session, notices: list[Notice]) -> list[outbox.OutboxMessage]:
    """Add `notices` to the outbox in `session`'s transaction; the rows written. A trainer's
    news of a cancel folds away the news of that booking still held for the same chat (both
    dropped)."""
    written = []
    for notice in notices:
        if notice.folds_held and _fold_held(session, notice):
            continue
        written.append(
            outbox.enqueue(
                session,
                notice.chat_id,
                notice.key,
                dict(notice.facts),
                now=notice.at,
                booking_id=notice.booking_id,
                delay=notice.delay,
                expires_at=notice.expires_at,
            )
        )
    return written


def _fold_held(session: Session, notice: Notice) -> bool:
    """Drop this chat's held news of `notice`'s booking being made; whether there was any."""
    if notice.booking_id is None:
        return False
    held = [
        message
        for message in outbox.pending_for_booking(session, notice.booking_id, NEWS)
        if message.chat_id == notice.chat_id
        and message.facts.get("kind") == "booked"
        and message.available_at > notice.at
    ]
    for message in held:
        message.status, message.last_error = outbox.DROPPED, "cancelled at once: no news"
    return bool(held)
