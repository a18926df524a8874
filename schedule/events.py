"""What happened: one value per change, made inside the transaction that made the change.

Each event is turned into the notices it causes by schedule.notices (who hears of it, which
message, which facts), written to the outbox on the same session by whoever emits it (a unit of
work's `emit`, schedule.unit; the pass duties), so the messages commit with the change or not at
all. The unit's observer (the adapter's: the web app's metrics count them) only observes; an
observer that raises rolls the change back, so observers do nothing but record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Booking

# Fields typed Any hold objects of modules that import this one (no import circles, even for
# types): schedule.series' Series and SeriesOccurrence, schedule.passes' PassView,
# schedule.reminders' DueReminder.


@dataclass(frozen=True)
class BookingMade:
    booking: Booking
    from_waitlist: bool = False
    # The pass it took a visit from, as it stands after (a PassView; None: unpaid).
    pass_view: Any = None


@dataclass(frozen=True)
class BookingCancelled:
    booking: Booking
    by_admin: bool
    # Cancelled by the trainer's stop of its series, which the client hears of in one message
    # (SeriesStopped) rather than one per booking.
    series_stopped: bool = False


@dataclass(frozen=True)
class BookingMoved:
    booking: Booking
    previous_starts_at: datetime


@dataclass(frozen=True)
class OccurrenceSettled:
    """The worker's pass booked, queued or skipped a date of a standing booking."""

    series: Any  # Series
    occurrence: Any  # SeriesOccurrence


@dataclass(frozen=True)
class SeriesStopped:
    """The trainer stopped a series; `cancelled` are the starts of its bookings cancelled."""

    series: Any  # Series
    cancelled: tuple[datetime, ...]


@dataclass(frozen=True)
class PassExpiring:
    """A pass with visits left expires soon (claimed once: `sold.expiry_noticed_at`)."""

    view: Any  # PassView


@dataclass(frozen=True)
class ReminderDue:
    """A reminder before a training came due and was claimed (once) at `at`."""

    reminder: Any  # DueReminder
    at: datetime


@dataclass(frozen=True)
class PaymentSettled:
    """A payment credited (its pass made) or refunded (its pass voided), at `at`."""

    refunded: bool
    facts: Any  # schedule.payments.payment_facts: plain JSON values
    at: datetime


@dataclass(frozen=True)
class WaitlistEnded:
    """A waitlist entry ended without a booking because the studio took away what it waited
    for: `reason` "kind_retired" (its kind) or "trainer_retired" (the trainer it named), `name`
    that kind's or trainer's name, `ends_at` when the training waited for would have ended."""

    entry: Any  # WaitlistEntry
    reason: str
    name: str
    ends_at: datetime
    at: datetime


BookingEvent = BookingMade | BookingCancelled | BookingMoved
Event = (
    BookingEvent
    | OccurrenceSettled
    | SeriesStopped
    | PassExpiring
    | ReminderDue
    | PaymentSettled
    | WaitlistEnded
)
EventHandler = Callable[[Event], None]
