"""The .ics download of a booking: a calendar file icalendar reads back, with one UID per
booking and a SEQUENCE that grows as the booking moves and is cancelled."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import Calendar

from tests.fixtures_web import ANNA, TOMORROW, TRAINER, auth


def booked(page_client) -> tuple[int, str]:
    """Anna books tomorrow 10:00 through the Mini App; (booking id, its .ics link)."""
    made = page_client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    )
    assert made.status_code == 201
    page = page_client.get("/app/my", headers=auth(ANNA)).get_data(as_text=True)
    url = re.search(r'href="(/app/calendar/[^"]+\.ics)"', page).group(1)
    return made.get_json()["id"], url


def event_of(page_client, url: str):
    response = page_client.get(url)  # a plain link: no Authorization header
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    raw = response.get_data()
    calendar = Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    return calendar, event, raw


def test_the_file_parses_with_the_booking_in_utc(page_client):
    number, url = booked(page_client)

    calendar, event, raw = event_of(page_client, url)

    assert calendar["VERSION"] == "2.0" and calendar["METHOD"] == "PUBLISH"
    assert event["UID"] == f"booking-{number}@localhost"
    assert event.decoded("DTSTART") == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 10:00 Moscow
    assert event.decoded("DTEND") == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert event["SUMMARY"] == "Training"
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("SEQUENCE") == 0
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")


def test_a_move_keeps_the_uid_and_raises_the_sequence(page_client, clock):
    number, url = booked(page_client)
    _, before, _ = event_of(page_client, url)
    clock.advance(minutes=5)

    moved = page_client.post(
        f"/api/bookings/{number}/reschedule",
        json={"date": TOMORROW, "start": "12:00"},
        headers=auth(ANNA),
    )
    assert moved.status_code == 200

    _, after, _ = event_of(page_client, url)
    assert after["UID"] == before["UID"]
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert after.decoded("DTSTART") == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_a_cancelled_booking_is_cancelled_in_the_calendar_with_its_reason(page_client):
    number, url = booked(page_client)
    _, before, _ = event_of(page_client, url)
    reason = "Trainer ill; sorry, really\nNew date, soon: " + "long words " * 12

    cancelled = page_client.post(
        f"/api/admin/bookings/{number}/cancel", json={"reason": reason}, headers=auth(TRAINER)
    )
    assert cancelled.status_code == 200

    _, after, raw = event_of(page_client, url)
    assert after["UID"] == before["UID"]
    assert after["STATUS"] == "CANCELLED"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert str(after["DESCRIPTION"]) == reason.strip()  # escaped and folded, then read back
    assert b"Trainer ill\\; sorry\\, really\\n" in raw
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
