"""What happened, handed to adapters (notifications) after the transaction commits."""

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
