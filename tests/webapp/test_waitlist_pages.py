"""The waitlist in the Mini App's fragments: a full start offers it, the sheet confirms it,
the grid and my trainings show it, one tap leaves it."""

from __future__ import annotations

import re

from tests.fixtures_web import ANNA, BORIS, TOMORROW, auth
from tests.webapp.test_pages import book, fill, html, slot_tag


def grid(page_client, user=ANNA, date=TOMORROW) -> str:
    response = page_client.get(f"/app/grid?date={date}", headers=auth(user))
    assert response.status_code == 200
    return html(response)


def join_control(page: str, start: str) -> str | None:
    found = re.search(rf'<button [^>]*data-join-start="{start}"[^>]*>', page)
    return found.group(0) if found else None


def join(page_client, user=ANNA, start="10:00", date=TOMORROW):
    return page_client.post(
        "/app/waitlist", data={"date": date, "start": start}, headers=auth(user)
    )


def test_a_full_start_offers_its_waitlist_and_a_free_one_does_not(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    page = grid(page_client)
    full = slot_tag(page, "10:00")  # the full cell is its own waitlist control
    assert 'data-free="0"' in full and "disabled" not in full and 'data-waitlist="false"' in full
    assert 'data-refusal="full"' in full and 'data-can-wait="true"' in full
    control = join_control(page, "10:00")
    assert 'data-action="join-waitlist"' in control
    assert f'hx-get="/app/waitlist/confirm?date={TOMORROW}&amp;start=10:00"' in control
    assert join_control(page, "12:00") is None
    # free in its own cell, but a training there runs into the full 10:00: full, and waitable
    assert 'data-places="0"' in join_control(page, "09:00")


def test_no_waitlist_where_it_would_be_refused(sqlite_app, page_client, clock):
    fill(sqlite_app, "10:00", 4, date="2026-11-25")  # today, 1 h ahead: inside the deadline
    assert join_control(grid(page_client, date="2026-11-25"), "10:00") is None
    booked = book(page_client, start="11:30")  # Anna's own training overlaps 10:30
    assert booked.status_code == 200
    fill(sqlite_app, "10:00", 4)
    page = grid(page_client)
    assert join_control(page, "10:00") is not None
    assert join_control(page, "10:30") is None


def test_the_sheet_confirms_joining_with_start_and_end(sqlite_app, page_client):
    response = page_client.get(
        f"/app/waitlist/confirm?date={TOMORROW}&start=10:00", headers=auth(ANNA)
    )
    assert response.status_code == 200
    sheet = html(response)
    assert "Join the waitlist for this training?" in sheet
    assert "Thu 26 Nov, 10:00–11:30" in sheet
    assert 'data-action="confirm" hx-post="/app/waitlist"' in sheet
    assert '{"date": "2026-11-26", "start": "10:00"}' in sheet


def test_joining_shows_the_place_in_line_in_the_notice_and_the_cell(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    assert join(page_client, BORIS).status_code == 200
    response = join(page_client, ANNA)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == '{"tg-haptic": "success"}'
    page = html(response)
    assert "On the waitlist for Thu 26 Nov, 10:00–11:30: #2 in line" in page
    cell = re.search(r'<button [^>]*data-slot-start="10:00".*?</button>', page).group(0)
    assert 'data-waitlist="true"' in cell and "#2 in line" in cell
    assert join_control(page, "10:00") is None  # waiting already
    assert 'data-waitlist="false"' in slot_tag(page, "10:30")
    assert 'data-waitlist="false"' in slot_tag(grid(page_client, CHARLIE), "10:00")


CHARLIE = {"id": 1003, "first_name": "Charlie", "language_code": "en"}


def test_a_refused_join_is_409_with_the_reason_and_the_truth(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 3)
    response = join(page_client)
    assert response.status_code == 409
    page = html(response)
    assert "There is a free place: book it instead of waiting." in page
    assert 'data-can-start="true"' in slot_tag(page, "10:00")


def test_my_trainings_list_the_waitlist_and_leave_it_in_one_tap(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    join(page_client, BORIS)
    join(page_client, ANNA)
    page = html(page_client.get("/app/my", headers=auth(ANNA)))
    entry = re.search(r'<li [^>]*data-waitlist-entry="(\d+)".*?</li>', page, re.S)
    assert "Thu 26 Nov" in entry.group(0) and "10:00–11:30" in entry.group(0)
    assert "#2 in line" in entry.group(0)
    entry_id = entry.group(1)
    leave = re.search(r'<button [^>]*data-action="leave-waitlist"[^>]*>', entry.group(0)).group(0)
    assert f'data-waitlist-id="{entry_id}"' in leave
    assert f'hx-delete="/app/waitlist/{entry_id}"' in leave
    assert "No upcoming trainings." not in page

    left = page_client.delete(f"/app/waitlist/{entry_id}", headers=auth(ANNA))
    assert left.status_code == 200
    assert "You left the waitlist for Thu 26 Nov, 10:00–11:30" in html(left)
    assert "data-waitlist-entry" not in html(left)
    assert 'data-waitlist="false"' in slot_tag(grid(page_client), "10:00")
    again = page_client.delete(f"/app/waitlist/{entry_id}", headers=auth(ANNA))
    assert again.status_code == 404
    assert page_client.delete(f"/app/waitlist/{entry_id}", headers=auth(BORIS)).status_code == 404


def test_russian_wording(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    page = html(join(page_client, BORIS))
    assert "1-й в очереди" in page
    sheet = html(
        page_client.get(f"/app/waitlist/confirm?date={TOMORROW}&start=10:00", headers=auth(BORIS))
    )
    assert "Встать в лист ожидания на эту тренировку?" in sheet


def test_moving_a_booking_offers_no_waitlist(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    book(page_client, start="14:00")
    my = html(page_client.get("/app/my", headers=auth(ANNA)))
    booking_id = re.search(r'data-booking-id="(\d+)"', my).group(1)
    page = html(page_client.get(f"/app/grid?date={TOMORROW}&move={booking_id}", headers=auth(ANNA)))
    assert join_control(page, "10:00") is None


TODAY = "2026-11-25"  # 09:00 in Moscow by the test clock


def waiting_entries(page_client, user=ANNA) -> list[str]:
    page = html(page_client.get("/app/my", headers=auth(user)))
    return re.findall(r"<li [^>]*data-waitlist-entry=.*?</li>", page, re.S)


def test_an_entry_that_can_no_longer_be_promoted_is_not_shown(sqlite_app, page_client, clock):
    fill(sqlite_app, "12:00", 4, date=TODAY)  # 3 h ahead: still open to the waitlist
    fill(sqlite_app, "10:00", 4)
    assert join(page_client, start="12:00", date=TODAY).status_code == 200
    assert join(page_client).status_code == 200
    assert len(waiting_entries(page_client)) == 2
    assert 'data-waitlist="true"' in slot_tag(grid(page_client, date=TODAY), "12:00")

    clock.advance(hours=1)  # 10:00: 12:00 is exactly the cancel deadline away, still promotable
    assert len(waiting_entries(page_client)) == 2
    assert 'data-waitlist="true"' in slot_tag(grid(page_client, date=TODAY), "12:00")

    clock.advance(minutes=1)  # past it: promotion would expire the entry, not book it
    (left,) = waiting_entries(page_client)
    assert "Thu 26 Nov" in left and "10:00–11:30" in left
    today = grid(page_client, date=TODAY)
    assert 'data-waitlist="false"' in slot_tag(today, "12:00")
    assert "in line" not in today
    tomorrow = html(page_client.get(f"/app/book?date={TOMORROW}", headers=auth(ANNA)))
    assert 'data-waitlist="true"' in slot_tag(tomorrow, "10:00")


def test_my_trainings_with_only_waitlist_entries_still_offer_booking(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 4)
    join(page_client)
    page = html(page_client.get("/app/my", headers=auth(ANNA)))
    assert "data-waitlist-entry" in page and "data-booking-id" not in page
    empty = re.search(r'<div class="empty">.*?</div>', page, re.S).group(0)
    assert "No booked trainings yet" in empty
    assert re.search(r'<button [^>]*hx-get="/app/book">Book a training</button>', empty)
