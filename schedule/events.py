"""What happened, handed to adapters inside the transaction that made it.

The bot's notifier writes its messages to the outbox (schedule.outbox) on the same session,
so they commit with the change; metrics count them. A handler that raises rolls the change
back, so handlers do nothing but record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .models import Booking


@dataclass(frozen=True)
class BookingMade:
    booking: Booking
    from_waitlist: bool = False


@dataclass(frozen=True)
class BookingCancelled:
    booking: Booking
    by_admin: bool


@dataclass(frozen=True)
class BookingMoved:
    booking: Booking
    previous_starts_at: datetime


Event = BookingMade | BookingCancelled | BookingMoved
EventHandler = Callable[[Event], None]
