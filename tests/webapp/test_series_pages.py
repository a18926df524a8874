"""Standing bookings in the Mini App's fragments: "Repeat weekly" on a booking's card and in the
confirm sheet, My trainings grouping a series, stopping it; the trainer's mark and stop."""

from __future__ import annotations

import re

from tests.fixtures_web import ANNA, TOMORROW, TRAINER, auth


def my_tab(client, user=ANNA) -> str:
    return client.get("/app/my", headers=auth(user)).get_data(as_text=True)


def start_series(client, weeks="4", user=ANNA):
    return client.post(
        "/app/series",
        data={"date": TOMORROW, "start": "10:00", "weeks": weeks},
        headers=auth(user),
    )


def test_the_confirm_sheet_and_a_booking_card_offer_repeat_weekly(page_client):
    sheet = page_client.get(f"/app/confirm?date={TOMORROW}&start=10:00", headers=auth()).get_data(
        as_text=True
    )
    assert 'data-action="repeat-weekly"' in sheet
    page_client.post("/app/bookings", data={"date": TOMORROW, "start": "10:00"}, headers=auth())
    page = my_tab(page_client)
    assert page.count('data-action="repeat-weekly"') == 1
    repeat = re.search(r'data-action="repeat-weekly" hx-get="([^"]+)"', page)[1]
    sheet = page_client.get(repeat.replace("&amp;", "&"), headers=auth()).get_data(as_text=True)
    assert "Thursdays at 10:00" in sheet and 'data-action="confirm"' in sheet
    assert 'name="weeks"' in sheet and 'value=""' in sheet  # until stopped


def test_my_trainings_group_a_series_and_stop_it(page_client):
    page_client.post("/app/bookings", data={"date": TOMORROW, "start": "10:00"}, headers=auth())
    made = start_series(page_client)
    assert made.status_code == 200
    page = made.get_data(as_text=True)
    assert "Every week: 1 booked, 0 waiting, 0 skipped." in page  # a 7-day horizon: 26 Nov
    series = re.search(r'data-series-id="(\d+)"', page)[1]
    group = page[page.index("data-series-list") : page.index('data-action="stop-series"')]
    assert group.count("data-booking-id") == 1
    assert page.count("data-booking-id") == 1  # not listed again among the single bookings
    assert 'data-action="repeat-weekly"' not in page
    sheet = page_client.get(f"/app/series/{series}/stop", headers=auth()).get_data(as_text=True)
    assert 'data-action="confirm"' in sheet
    stopped = page_client.delete(f"/app/series/{series}", headers=auth())
    assert stopped.status_code == 200
    page = stopped.get_data(as_text=True)
    assert "Stopped: Thursdays at 10:00." in page
    assert "data-series-list" not in page and "data-booking-id" not in page


def test_a_refused_series_is_shown_in_place(page_client):
    answer = start_series(page_client, weeks="99")
    assert answer.status_code == 400
    answer = page_client.post(
        "/app/series", data={"date": "2026-11-20", "start": "10:00"}, headers=auth()
    )
    assert answer.status_code == 409 and "too soon" in answer.get_data(as_text=True)


def test_russian_wording(page_client):
    boris = {"id": 1002, "first_name": "Борис", "language_code": "ru"}
    page = start_series(page_client, weeks="", user=boris).get_data(as_text=True)
    assert "по четвергам в 10:00" in page and "пока не остановите" in page


def test_the_trainer_sees_the_mark_in_day_and_stops_with_a_reason(page_client):
    start_series(page_client)
    day = page_client.get(f"/app/admin?date={TOMORROW}", headers=auth(TRAINER))
    page = day.get_data(as_text=True)
    assert "data-series-mark" in page
    series = re.search(r'data-action="stop-series" data-series-id="(\d+)"', page)[1]
    sheet = page_client.get(
        f"/app/admin/series/{series}/stop?date={TOMORROW}", headers=auth(TRAINER)
    ).get_data(as_text=True)
    assert 'name="reason"' in sheet and "Anna" in sheet
    empty = page_client.post(
        f"/app/admin/series/{series}/stop", data={"date": TOMORROW}, headers=auth(TRAINER)
    )
    assert empty.status_code == 400
    done = page_client.post(
        f"/app/admin/series/{series}/stop",
        data={"date": TOMORROW, "reason": "New timetable"},
        headers=auth(TRAINER),
    )
    assert done.status_code == 200
    assert "data-series-mark" not in done.get_data(as_text=True)  # its bookings are cancelled
    assert page_client.get(f"/app/admin/series/{series}/stop", headers=auth()).status_code == 403
