"""The Mini App's side of passes: My trainings shows the visits left and the expiry; the
trainer's Day view marks attendance with one tap once a training has started."""

from __future__ import annotations

import re

from tests.fixtures_web import ANNA, TOMORROW, TRAINER, auth

HX = {"HX-Request": "true"}


def test_my_trainings_show_the_visits_left_and_the_expiry(page_client):
    page_client.get("/api/bookings", headers=auth(ANNA))
    body = {"telegram_id": ANNA["id"], "visits": 8, "valid_days": 30}
    assert (
        page_client.post("/api/admin/passes", json=body, headers=auth(TRAINER)).status_code == 201
    )
    page_client.post("/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA))

    html = page_client.get("/app/my", headers={**auth(ANNA), **HX}).get_data(as_text=True)
    assert 'data-remaining="7"' in html and 'data-expires="2026-12-24"' in html
    assert "7 of 8 visits left · until Thu 24 Dec" in html


def test_the_day_view_marks_attendance_once_started(page_client, clock):
    page_client.post("/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA))
    day = page_client.get(f"/app/admin?date={TOMORROW}", headers={**auth(TRAINER), **HX})
    assert 'data-action="attended"' not in day.get_data(as_text=True)  # not started yet

    clock.advance(days=1, hours=1, minutes=5)
    day = page_client.get(f"/app/admin?date={TOMORROW}", headers={**auth(TRAINER), **HX})
    html = day.get_data(as_text=True)
    tap = re.search(r'data-action="no-show" hx-post="([^"]+)"', html)
    assert tap, html
    marked = page_client.post(tap.group(1), headers={**auth(TRAINER), **HX})
    assert marked.status_code == 200
    assert 'data-attendance="no_show"' in marked.get_data(as_text=True)
    booking = page_client.get("/api/admin/bookings?date=" + TOMORROW, headers=auth(TRAINER))
    assert booking.json["bookings"][0]["attendance"] == "no_show"
    refused = page_client.post(tap.group(1), headers={**auth(ANNA), **HX})
    assert refused.status_code == 403
