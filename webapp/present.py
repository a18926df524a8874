"""Domain objects as the API's JSON and the pages' labels, in the studio's local time."""

from __future__ import annotations

from datetime import date, datetime

from schedule import Booking, Settings, User
from schedule.availability import DayView
from schedule.history import Past
from schedule.settings import format_minutes
from schedule.timegrid import to_local

from .i18n import day_label


def local_day(instant: datetime, settings: Settings) -> date:
    return to_local(instant, settings).date()


def local_date_or_none(instant: datetime | None, settings: Settings) -> str | None:
    """The date of `instant` in the studio's time as YYYY-MM-DD; None for no instant."""
    return local_day(instant, settings).isoformat() if instant else None


def clock(instant: datetime, settings: Settings) -> str:
    return to_local(instant, settings).strftime("%H:%M")


def booking_json(booking: Booking, settings: Settings) -> dict:
    return {
        "id": booking.id,
        "date": local_day(booking.starts_at, settings).isoformat(),
        "start": clock(booking.starts_at, settings),
        "end": clock(booking.ends_at, settings),
        "status": booking.status,
        "pass_id": booking.pass_id,
        "attendance": booking.attendance,
        "forfeited": bool(booking.forfeited),
    }


def person_json(user: User) -> dict:
    """Who a client is, as the trainer's JSON shows them."""
    return {
        "telegram_id": user.telegram_id,
        "name": user.name,
        "username": user.username,
        "phone": user.phone,
    }


def admin_booking_json(booking: Booking, settings: Settings) -> dict:
    return {**booking_json(booking, settings), "user": person_json(booking.user)}


def slots_json(view: DayView, settings: Settings) -> dict:
    return {
        "date": view.day.isoformat(),
        "timezone": settings.timezone,
        "capacity": settings.capacity,
        "training_minutes": settings.training_minutes,
        "slot_minutes": settings.slot_minutes,
        "slots": [
            {
                "start": slot.start,
                "end": format_minutes((slot.cell.minute + settings.slot_minutes) % 1440),
                "booked": slot.booked,
                "free": slot.free,
                "can_start": slot.can_start,
                "mine": slot.mine,
                "refusal": slot.refusal,
                "places": slot.places,
                "can_wait": slot.can_wait,
                "waitlisted": slot.in_line is not None,
            }
            for slot in view.slots
        ],
    }


def when(booking: Booking, settings: Settings) -> str:
    """'Wed 25 Nov, 10:00–11:30' in the current language."""
    day = local_day(booking.starts_at, settings)
    start, end = clock(booking.starts_at, settings), clock(booking.ends_at, settings)
    return f"{day_label(day)}, {start}–{end}"


def past_json(past: Past, settings: Settings) -> dict:
    """A line of the client's history (DESIGN.md, "History")."""
    return {
        **booking_json(past.booking, settings),
        "cancelled_by": past.cancelled_by,
        "reason": past.reason,
    }


# The rules about the viewer rather than the start (schedule.availability.REFUSALS): when one
# of them refuses a whole day, the grid says so once, above it, with what to do.
VIEWER_REFUSALS = ("no_show_limit", "no_pass", "week_limit", "limit_reached")


def viewer_notice(grid: DayView) -> str | None:
    """The rule about the viewer that keeps every start of `grid` from them (no start can be
    booked, and a rule about the viewer refuses some), or None; the cells keep their refusals."""
    if grid.available:
        return None
    found = {slot.refusal for slot in grid.slots if not slot.past}
    return next((refusal for refusal in VIEWER_REFUSALS if refusal in found), None)


def day_is_mine(view: DayView) -> bool:
    """Whether the viewer holds a booking on that day (the strip's data-mine)."""
    return any(slot.mine for slot in view.slots)
