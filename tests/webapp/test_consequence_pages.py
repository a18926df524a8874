"""Issue 23 in the Mini App's fragments (Flask test client): every sheet lists what its act will
do (data-consequence), the grid's own booking asks before cancelling, one notice about the
viewer above the grid (data-notice), the strip marks the viewer's days (data-mine), the
history of My trainings and the API, the phone asked before the first sheet, the favicon."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from schedule import attendance, passes, services, waitlist
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_web import (
    ANNA,
    BORIS,
    TOMORROW,
    TRAINER,
    auth,
    client_unit,
    make_user,
    trainer_unit,
)
from tests.webapp.test_pages import contact_response
from webapp.extensions import db

HX = {"HX-Request": "true"}
TODAY = "2026-11-25"  # the clock: 09:00 in Moscow


def rules(app, **changes) -> None:
    app.config["SCHEDULE"] = dataclasses.replace(app.config["SCHEDULE"], **changes)


def get(client, url: str, user: dict = ANNA) -> str:
    response = client.get(url, headers={**auth(user), **HX})
    assert response.status_code == 200, response.text
    return response.get_data(as_text=True)


def consequences(page: str) -> list[str]:
    return re.findall(r'data-consequence="(\w+)"', page)


def seed_user(app, user: dict = ANNA):
    with app.app_context():
        return services.upsert_user(db.session(), user).id


def give_pass(app, user: dict = ANNA, visits: int = 5) -> None:
    with app.app_context():
        session = db.session()
        client = services.upsert_user(session, user)
        passes.record(
            Unit(session, app.config["SCHEDULE"], Actor.trainer(), now=app.config["CLOCK"]()),
            client,
            visits=visits,
            valid_days=30,
        )


def book(app, start: str, user: dict = ANNA, day: str = TOMORROW) -> int:
    with app.app_context():
        session = db.session()
        client = services.upsert_user(session, user)
        minute = int(start[:2]) * 60 + int(start[3:])
        return services.book(
            Unit(session, app.config["SCHEDULE"], Actor.client(client), now=app.config["CLOCK"]()),
            client,
            parse_date(day),
            minute,
        ).id


# --- consequences on every sheet --------------------------------------------------------------


def test_the_book_sheet_says_which_pass_pays_and_until_when_it_can_be_cancelled(
    page_client, sqlite_app
):
    give_pass(sqlite_app, visits=5)
    sheet = get(page_client, f"/app/confirm?date={TOMORROW}&start=10:00")
    assert consequences(sheet) == ["pass", "cancel_until", "refund"]
    assert 'data-consequence="pass" data-visits-left="4"' in sheet
    assert "4 visits left after this" in sheet
    assert "until Thu 26 Nov, 08:00" in sheet  # 120 minutes before the start
    assert sheet.index("data-consequence") < sheet.index('data-action="confirm"')


def test_without_a_pass_the_sheet_says_so_in_russian_too(page_client):
    sheet = get(page_client, f"/app/confirm?date={TOMORROW}&start=10:00", user=BORIS)
    assert consequences(sheet) == ["unpaid", "cancel_until"]
    assert "Абонемента на эту дату нет — оплата в студии." in sheet


def test_a_start_inside_the_cancel_window_says_so_before_the_booking(page_client):
    sheet = get(page_client, f"/app/confirm?date={TODAY}&start=10:00")  # in 60 minutes
    assert consequences(sheet) == ["unpaid", "late"]
    assert "can no longer be cancelled or moved" in sheet


def test_a_move_sheet_keeps_the_pass_it_already_took(page_client, sqlite_app):
    give_pass(sqlite_app, visits=5)
    booking_id = book(sqlite_app, "10:00")
    sheet = get(page_client, f"/app/confirm?date={TOMORROW}&start=14:00&move={booking_id}")
    assert 'data-consequence="pass" data-visits-left="4"' in sheet  # not taken twice


def test_the_grids_own_booking_sheet_asks_before_it_cancels(page_client, sqlite_app):
    give_pass(sqlite_app, visits=5)
    booking_id = book(sqlite_app, "10:00")
    own = get(page_client, f"/app/bookings/{booking_id}")
    assert "hx-delete" not in own  # no cancel in one tap
    asks = re.search(r'<button[^>]*data-action="cancel"[^>]*>', own).group(0)
    assert f'hx-get="/app/bookings/{booking_id}/cancel?sheet=1"' in asks

    sheet = get(page_client, f"/app/bookings/{booking_id}/cancel?sheet=1")
    assert consequences(sheet) == ["refund"]
    assert 'data-visits-left="5"' in sheet and "5 visits left on it" in sheet
    assert re.search(r'data-action="confirm" hx-delete="/app/bookings/\d+"', sheet)


def test_the_cancel_in_my_trainings_lists_what_it_does_too(page_client, sqlite_app):
    booking_id = book(sqlite_app, "10:00")
    card = get(page_client, f"/app/bookings/{booking_id}/cancel")
    assert f'data-booking-id="{booking_id}"' in card
    assert consequences(card) == ["unpaid"]


def test_the_waitlist_sheet_says_the_place_in_line(page_client, sqlite_app):
    rules(sqlite_app, capacity=1)
    book(sqlite_app, "10:00", user=make_user(3001))
    with sqlite_app.app_context():
        first = services.upsert_user(db.session(), make_user(3002))
        waitlist.join(
            client_unit(sqlite_app, first),
            first,
            parse_date(TOMORROW),
            600,
        )
    sheet = get(page_client, f"/app/waitlist/confirm?date={TOMORROW}&start=10:00")
    assert consequences(sheet) == ["waitlist", "unpaid", "cancel_until"]
    assert "1 person is ahead of you: your place in line will be 2." in sheet


def test_the_weekly_sheet_lists_what_it_does_for_the_weeks_chosen(page_client, sqlite_app):
    give_pass(sqlite_app, visits=1)
    sheet = get(page_client, f"/app/series/new?date={TOMORROW}&start=10:00")
    assert "data-consequences-of-series" in sheet
    assert consequences(sheet)[0] == "pass"
    again = get(page_client, f"/app/series/consequences?date={TOMORROW}&start=10:00&weeks=2")
    assert consequences(again) == ["pass", "cancel_until", "refund"]
    bad = page_client.get(
        f"/app/series/consequences?date={TOMORROW}&start=10:00&weeks=x", headers=auth()
    )
    assert bad.status_code == 400


def test_weekly_bookings_tell_each_date_with_its_state(page_client, sqlite_app):
    rules(sqlite_app, booking_horizon_days=14)
    with sqlite_app.app_context():
        session = db.session()
        services.add_closure(
            Unit(
                session,
                sqlite_app.config["SCHEDULE"],
                Actor.trainer(),
                now=sqlite_app.config["CLOCK"](),
            ),
            parse_date(TOMORROW) + timedelta(days=7),
            reason="Holiday",
        )
    made = page_client.post(
        "/app/series",
        data={"date": TOMORROW, "start": "10:00", "weeks": "2"},
        headers={**auth(), **HX},
    )
    assert made.status_code == 200
    notice = re.search(r"data-notice[^>]*>([^<]*)<", made.text).group(1)
    assert "Thu 26 Nov: booked" in notice
    assert "Thu 3 Dec: not booked, closed" in notice.replace("&#39;", "'")


# --- one notice instead of a wall --------------------------------------------------------------


def test_a_client_at_the_daily_limit_gets_one_notice_and_their_day_is_marked(
    page_client, sqlite_app
):
    rules(sqlite_app, max_bookings_per_day=1)
    book(sqlite_app, "10:00")
    tab = get(page_client, f"/app/book?date={TOMORROW}")
    assert tab.count('data-notice="limit_reached"') == 1
    assert 'data-refusal="limit_reached"' in tab  # the cells keep their refusals
    assert 'data-limit="per_day"' in tab
    assert 'hx-get="/app/my"' in tab[tab.index('data-notice="limit_reached"') :]
    day = re.search(rf'<button class="day" data-date="{TOMORROW}"[^>]*>', tab).group(0)
    assert 'data-mine="true"' in day
    other = re.search(r'<button class="day" data-date="2026-11-27"[^>]*>', tab).group(0)
    assert "data-mine" not in other


def test_a_day_with_a_bookable_start_has_no_notice(page_client, sqlite_app):
    rules(sqlite_app, max_bookings_per_day=1)
    book(sqlite_app, "10:00")
    tab = get(page_client, "/app/book?date=2026-11-27")
    assert 'data-notice="' not in tab


def test_a_client_without_a_pass_is_told_to_ask_the_trainer_once(page_client, sqlite_app):
    rules(sqlite_app, pass_required=True)
    tab = get(page_client, f"/app/book?date={TOMORROW}", user=BORIS)
    assert tab.count('data-notice="no_pass"') == 1
    assert "Написать тренеру" in tab


# --- history ----------------------------------------------------------------------------------


def test_my_trainings_and_the_api_show_the_last_90_days(page_client, sqlite_app):
    attended = book(sqlite_app, "10:00")
    studio = book(sqlite_app, "10:00", day="2026-11-27")
    mine = book(sqlite_app, "12:00", day="2026-11-28")
    with sqlite_app.app_context():
        session, settings = db.session(), sqlite_app.config["SCHEDULE"]
        at = sqlite_app.config["CLOCK"]()
        services.cancel(
            Unit(session, settings, Actor.trainer(), now=at), studio, reason="The trainer is ill"
        )
        client = services.upsert_user(session, ANNA)
        services.cancel(Unit(session, settings, Actor.client(client), now=at), mine)
    sqlite_app.config["CLOCK"].advance(days=1, hours=6)  # 26 Nov, 15:00: the 10:00 is over
    with sqlite_app.app_context():
        attendance.mark(
            trainer_unit(sqlite_app),
            attended,
            "attended",
        )

    page = get(page_client, "/app/my")
    assert "data-history" in page
    assert re.search(rf'data-past-booking-id="{attended}" data-state="attended"', page)
    assert re.search(rf'data-past-booking-id="{studio}" data-state="cancelled_studio"', page)
    assert "Reason: The trainer is ill" in page
    assert re.search(rf'data-past-booking-id="{mine}" data-state="cancelled_client"', page)

    found = page_client.get("/api/bookings?scope=history", headers=auth()).get_json()
    by_id = {b["id"]: b for b in found["bookings"]}
    assert by_id[studio]["cancelled_by"] == "studio"
    assert by_id[studio]["reason"] == "The trainer is ill"
    assert by_id[mine]["cancelled_by"] == "client" and by_id[mine]["reason"] is None
    assert by_id[attended]["attendance"] == "attended" and by_id[attended]["status"] == "active"
    assert [b["id"] for b in found["bookings"]] == [mine, studio, attended]  # newest first
    upcoming = page_client.get("/api/bookings", headers=auth()).get_json()["bookings"]
    assert upcoming == []


def test_history_forgets_what_is_older_than_90_days(page_client, sqlite_app):
    book(sqlite_app, "10:00")  # 26 Nov
    recent = book(sqlite_app, "10:00", day="2026-11-29")
    sqlite_app.config["CLOCK"].advance(days=92)  # 25 Feb: 91 and 88 days later
    found = page_client.get("/api/bookings?scope=history", headers=auth()).get_json()
    assert [b["id"] for b in found["bookings"]] == [recent]


# --- the phone first, the page's frame --------------------------------------------------------


def test_with_phone_required_the_first_sheet_asks_for_the_phone_with_the_reason(
    page_client, sqlite_app
):
    rules(sqlite_app, phone_required=True)
    seed_user(sqlite_app, TRAINER)
    sheet = get(page_client, f"/app/confirm?date={TOMORROW}&start=10:00")
    assert "data-phone-sheet" in sheet and "data-share-phone" in sheet
    assert "to reach you if a training changes" in sheet
    assert "data-phone-declined" in sheet and "data-trainer-contact" in sheet  # a way on
    assert "data-consequence" not in sheet
    wait = get(page_client, f"/app/waitlist/confirm?date={TOMORROW}&start=10:00")
    assert "data-phone-sheet" in wait


def test_once_the_phone_is_shared_the_next_tap_opens_the_booking_sheet(page_client, sqlite_app):
    rules(sqlite_app, phone_required=True)
    headers = {**auth(), **HX}  # the same init data throughout, as in one open app
    asked = page_client.get(f"/app/confirm?date={TOMORROW}&start=10:00", headers=headers)
    assert "data-phone-sheet" in asked.text
    shared = page_client.post(
        "/app/phone", data={"response": contact_response(ANNA["id"])}, headers=headers
    )
    assert shared.status_code == 200
    sheet = page_client.get(f"/app/confirm?date={TOMORROW}&start=10:00", headers=headers)
    assert "data-phone-sheet" not in sheet.text
    assert consequences(sheet.text) == ["unpaid", "cancel_until"]


def test_the_page_has_a_main_landmark_a_heading_and_an_icon(page_client):
    page = page_client.get("/").get_data(as_text=True)
    assert "<main>" in page and '<h1 class="sr-only">' in page
    icon = page_client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_waitlist_cells_say_what_they_show(page_client, sqlite_app):
    rules(sqlite_app, capacity=1)
    book(sqlite_app, "10:00", user=make_user(3001))
    tab = get(page_client, f"/app/book?date={TOMORROW}")
    cell = re.search(r'<button [^>]*data-join-start="10:00".*?</button>', tab).group(0)
    assert "aria-label" not in cell  # its spoken name starts with what it shows


def test_under_the_forfeit_policy_a_late_cancel_says_the_visit_stays_used(page_client, sqlite_app):
    rules(sqlite_app, late_cancel="forfeit")
    give_pass(sqlite_app, visits=5)
    booking_id = book(sqlite_app, "10:00")
    sqlite_app.config["CLOCK"].advance(days=1, minutes=-30)  # 26 Nov 08:30, the start at 10:00
    sheet = get(page_client, f"/app/bookings/{booking_id}/cancel?sheet=1")
    assert consequences(sheet) == ["late", "forfeit"]
    assert "The free cancel ended 2 hours before the start." in sheet
    assert "the visit stays used" in sheet
    assert 'data-action="confirm"' in sheet  # accepted until the start
