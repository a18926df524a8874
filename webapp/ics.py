"""A booking as an iCalendar file (RFC 5545), written by the `icalendar` library.

Why a library: it escapes text (commas, semicolons, newlines in a summary), folds long lines
at 75 octets and writes dates in UTC the way calendar apps read them. Each booking keeps one
UID, and its SEQUENCE grows with every change, so a calendar that imported the file before
replaces the event when the client downloads it again: moved to the new time, or marked
STATUS:CANCELLED.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from schedule import Booking

PRODUCT = "-//training-booking//Mini App//EN"


def utc(naive: datetime) -> datetime:
    """Stored instants are naive UTC."""
    return naive.replace(tzinfo=UTC)


def sequence(booking: Booking) -> int:
    """The revision number: seconds between creation and the last change (moves and cancels
    set updated_at), one more once cancelled so that a cancel never ties with the version
    before it."""
    changed = max(0, int((booking.updated_at - booking.created_at).total_seconds()))
    return changed + (0 if booking.is_active else 1)


def booking_calendar(booking: Booking, *, summary: str, host: str, stamp: datetime) -> bytes:
    """The .ics file of one booking: a calendar holding its one event."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@{host}")
    event.add("dtstamp", utc(stamp))
    event.add("dtstart", utc(booking.starts_at))
    event.add("dtend", utc(booking.ends_at))
    event.add("last-modified", utc(booking.updated_at))
    event.add("sequence", sequence(booking))
    event.add("summary", summary)
    event.add("status", "CONFIRMED" if booking.is_active else "CANCELLED")
    if not booking.is_active and booking.cancel_reason:
        event.add("description", booking.cancel_reason)
    calendar.add_component(event)
    return calendar.to_ical()
