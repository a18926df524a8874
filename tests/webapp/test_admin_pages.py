"""The trainer's tab through the Flask test client, on SQLite and PostgreSQL: the day, the
week's heat map, cancelling with a reason, hours, closures over bookings, booking on behalf,
clients and the CSV download link."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from schedule import Booking, services
from schedule.events import BookingCancelled
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, trainer_unit
from webapp import admin
from webapp.extensions import db

RU_TRAINER = {**TRAINER, "language_code": "ru"}


@pytest.fixture
def events(app) -> list:
    seen: list = []
    app.extensions["booking_events"] = seen.append
    app.extensions["clients_told"] = True  # a bot wired: its worker sends the notices
    return seen


def html(response) -> str:
    return response.get_data(as_text=True)


def book(client, user=ANNA, date=TOMORROW, start="10:00") -> int:
    response = client.post("/api/bookings", json={"date": date, "start": start}, headers=auth(user))
    assert response.status_code == 201, response.json
    return response.json["id"]


def get(client, path: str, user=TRAINER, **headers):
    return client.get(path, headers={**auth(user), **headers})


def post(client, path: str, data: dict, user=TRAINER):
    return client.post(path, data=data, headers=auth(user))


def booking(app, booking_id: int) -> Booking:
    with app.app_context():
        return db.session.get(Booking, booking_id)


def hx_vals(page: str, selector_attr: str) -> dict:
    tag = re.search(rf"<button [^>]*{selector_attr}[^>]*>", page).group(0)
    return json.loads(unescape(re.search(r"hx-vals='([^']*)'", tag).group(1)))


def conflict_form(page: str) -> dict:
    """What the conflict sheet posts: its hidden fields and the reason typed (kept)."""
    sheet = re.search(r"<form class=\"sheet\" data-sheet data-conflict.*?</form>", page, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', sheet[0]))
    reason = re.search(r'<textarea name="reason"[^>]*>([^<]*)</textarea>', sheet[0])
    return {**fields, "reason": unescape(reason[1])}


# --- the day --------------------------------------------------------------------------------


def test_the_day_lists_each_start_with_its_visitors(app, client):
    with app.app_context():
        services.set_phone(
            db.session(), services.upsert_user(db.session(), ANNA), "+7 916 123-45-67"
        )
    first = book(client, ANNA, start="10:00")
    second = book(client, BORIS, start="10:00")
    third = book(client, BORIS, date="2026-11-27", start="12:00")
    page = html(get(client, f"/app/admin?date={TOMORROW}"))
    assert 'data-nav="admin" hx-get="/app/admin" aria-current="page"' in page
    assert 'data-admin-nav="day"' in page and 'aria-current="page">Day<' in page
    assert page.count('data-admin-start="10:00"') == 1 and "10:00–11:30" in page
    assert (
        f'data-admin-booking-id="{first}"' in page and f'data-admin-booking-id="{second}"' in page
    )
    assert f'data-admin-booking-id="{third}"' not in page
    assert "Anna K" in page and "Борис" in page
    assert '<a href="https://t.me/anna" data-external>@anna</a>' in page
    assert '<a href="tel:+79161234567">+79161234567</a>' in page
    assert page.count('data-action="cancel"') == 2
    days = re.findall(r'data-admin-date="([^"]+)"', page)
    assert days == [f"2026-11-{n}" for n in range(23, 30)]  # Monday to Sunday
    assert 'hx-get="/app/admin?date=2026-11-16"' in page  # the week before
    assert 'hx-get="/app/admin?date=2026-11-30"' in page  # the week after


def test_the_day_opens_on_today_and_shows_closures(app, client):
    page = html(get(client, "/app/admin"))
    assert "Wed 25 Nov · today" in page and "No bookings on this day." in page
    with app.app_context():
        services.add_closure(
            trainer_unit(app),
            parse_date(TOMORROW),
            start_minute=720,
            end_minute=840,
            reason="Repairs",
        )
    page = html(get(client, f"/app/admin?date={TOMORROW}"))
    assert "Closed 12:00–14:00" in page and "Repairs" in page


def test_the_day_in_russian(client):
    book(client)
    page = html(get(client, f"/app/admin?date={TOMORROW}", user=RU_TRAINER))
    assert "Тренер" in page and "Записать клиента" in page and "записано: 1" in page
    assert "Отменить" in page


# --- cancelling with a reason -------------------------------------------------------------------


def test_cancelling_asks_for_a_reason_then_tells_the_client(app, client, events):
    booking_id = book(client)
    sheet = html(get(client, f"/app/admin/bookings/{booking_id}/cancel"))
    assert '<textarea name="reason" required' in sheet
    assert 'data-action="confirm"' in sheet and "Cancel Thu 26 Nov, 10:00–11:30?" in sheet

    refused = post(client, f"/app/admin/bookings/{booking_id}/cancel", {"reason": "  "})
    assert refused.status_code == 400
    assert "Write the reason" in html(refused)
    assert booking(app, booking_id).status == "active"

    events.clear()
    done = post(client, f"/app/admin/bookings/{booking_id}/cancel", {"reason": "Trainer is ill"})
    assert done.status_code == 200
    assert json.loads(done.headers["HX-Trigger"]) == {"tg-haptic": "success"}
    page = html(done)
    assert "Cancelled Anna K, Thu 26 Nov, 10:00–11:30. The client was told." in page
    assert f'data-admin-booking-id="{booking_id}"' not in page
    stored = booking(app, booking_id)
    assert (stored.status, stored.cancelled_by, stored.cancel_reason) == (
        "cancelled",
        "admin",
        "Trainer is ill",
    )
    [event] = events
    assert isinstance(event, BookingCancelled) and event.by_admin
    assert event.booking.cancel_reason == "Trainer is ill"

    again = post(client, f"/app/admin/bookings/{booking_id}/cancel", {"reason": "again"})
    assert again.status_code == 409 and "already cancelled" in html(again)
    confirm_again = get(client, f"/app/admin/bookings/{booking_id}/cancel")
    assert confirm_again.status_code == 409 and "already cancelled" in html(confirm_again)


# --- the week ---------------------------------------------------------------------------------


def test_the_week_heat_map(app, client):
    book(client, ANNA, start="10:00")
    book(client, BORIS, start="10:30")
    with app.app_context():
        services.add_closure(
            trainer_unit(app),
            parse_date("2026-11-27"),
            reason="Holiday",
        )
    page = html(get(client, "/app/admin/week?from=2026-11-26"))
    assert re.findall(r'data-heat-date="([^"]+)"', page) == [f"2026-11-{n}" for n in range(23, 30)]
    booked = dict(re.findall(r'data-heat-cell="([^"]+)" data-booked="(\d+)"', page))
    assert booked["2026-11-26 10:00"] == "1" and booked["2026-11-26 10:30"] == "2"
    assert booked["2026-11-26 12:00"] == "0" and len(booked) == 7 * 20
    cell = re.search(r'<button class="heat-cell (\w+)" data-heat-cell="2026-11-26 10:30"', page)
    assert cell.group(1) == "l2"
    closed = re.search(r'<span class="heat-cell (\w+)" data-heat-cell="2026-11-27 10:00"', page)
    assert closed.group(1) == "closed"
    assert 'data-heat-total="2026-11-26">2<' in page
    assert 'hx-get="/app/admin/week?from=2026-11-16"' in page
    assert 'hx-get="/app/admin/week?from=2026-11-30"' in page
    assert get(client, "/app/admin/week?from=soon").status_code == 400


def test_heat_levels():
    assert [admin.heat_level(n, 4) for n in range(6)] == [0, 1, 2, 3, 4, 4]
    assert [admin.heat_level(n, 10) for n in (1, 3, 5, 8, 10)] == [1, 2, 2, 4, 4]


# --- opening hours and closures -----------------------------------------------------------------


def hours_form(**days: list[tuple[str, str]]) -> dict:
    """The hours form's fields: every day open 08:00-18:00 unless given."""
    form: dict[str, list[str]] = {}
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        intervals = days.get(name, [("08:00", "18:00")])
        form[f"{name}_opens"] = [opens for opens, _ in intervals]
        form[f"{name}_closes"] = [closes for _, closes in intervals]
    return form


def interval_inputs(page: str, day: str) -> list[tuple[str, str]]:
    opens = re.findall(rf'name="{day}_opens" value="([^"]*)"', page)
    closes = re.findall(rf'name="{day}_closes" value="([^"]*)"', page)
    return list(zip(opens, closes, strict=True))


def test_editing_opening_hours(client):
    page = html(get(client, "/app/admin/hours"))
    assert all(interval_inputs(page, day) == [("08:00", "18:00")] for day in ("mon", "sun"))
    form = hours_form(
        mon=[("07:00", "12:00"), ("16:00", "21:00")],
        sat=[("10:00", "14:00")],
        sun=[],
        fri=[("08:00", "00:00")],
    )
    saved = post(client, "/app/admin/hours", form)
    assert saved.status_code == 200 and "Opening hours saved." in html(saved)
    assert interval_inputs(html(saved), "mon") == [("07:00", "12:00"), ("16:00", "21:00")]
    assert interval_inputs(html(saved), "sun") == []
    assert 'data-hours-day="sun"' in html(saved) and "day off" in html(saved)
    hours = get(client, "/api/admin/hours").json["hours"]
    assert hours["mon"] == ["07:00-12:00", "16:00-21:00"] and hours["sun"] == []
    assert hours["fri"] == ["08:00-24:00"]  # a closing time of 00:00 is midnight
    assert interval_inputs(html(get(client, "/app/admin/hours")), "fri") == [("08:00", "00:00")]


def test_adding_and_removing_intervals_saves_nothing_until_asked(client):
    form = hours_form(mon=[("08:00", "12:00")])
    added = post(client, "/app/admin/hours/rows", {**form, "add_interval": "mon"})
    assert html(added).startswith('<form class="card form" id="hours-form"')
    assert interval_inputs(html(added), "mon") == [("08:00", "12:00"), ("12:00", "")]
    removed = post(client, "/app/admin/hours/rows", {**form, "remove_interval": "tue:0"})
    assert interval_inputs(html(removed), "tue") == []
    assert interval_inputs(html(removed), "mon") == [("08:00", "12:00")]
    ignored = post(
        client, "/app/admin/hours/rows", {**form, "remove_interval": "tue:7", "add_interval": "x"}
    )
    assert interval_inputs(html(ignored), "tue") == [("08:00", "18:00")]
    assert get(client, "/api/admin/hours").json["hours"]["mon"] == ["08:00-18:00"]


def test_bad_opening_hours_are_shown_with_what_was_typed(client):
    refused = post(client, "/app/admin/hours", hours_form(mon=[("12:00", "")]))
    assert refused.status_code == 400 and "notice error" in html(refused)
    assert "Mon: each interval needs both times" in html(refused)
    assert interval_inputs(html(refused), "mon") == [("12:00", "")]
    overlapping = hours_form(tue=[("08:00", "12:00"), ("11:00", "14:00")])
    assert post(client, "/app/admin/hours", overlapping).status_code == 400
    assert get(client, "/api/admin/hours").json["hours"]["mon"] == ["08:00-18:00"]


def test_new_hours_that_leave_bookings_outside_say_so(client):
    book(client, start="16:00")
    week = {day: [("08:00", "12:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    page = html(post(client, "/app/admin/hours", hours_form(**week)))
    assert "data-outside-hours" in page and "Bookings outside the new hours: 1" in page
    assert "Thu 26 Nov, 16:00–17:30 · Anna K" in page


def test_closing_a_day_that_holds_a_booking_shows_it_then_cancels_it(app, client, events):
    booking_id = book(client)
    form = {"date": TOMORROW, "start": "", "end": "", "reason": "Holiday"}
    conflict = post(client, "/app/admin/closures", form)
    assert conflict.status_code == 409
    page = html(conflict)
    assert "data-conflict" in page and f'data-conflict-booking-id="{booking_id}"' in page
    assert "Anna K" in page and "Thu 26 Nov, 10:00–11:30" in page
    assert "Close and cancel 1" in page
    assert booking(app, booking_id).status == "active" and events == [BookingMadeOnly()]
    assert get(client, "/api/admin/closures").json["closures"] == []

    confirm = conflict_form(page)
    assert confirm == {**form, "cancel_bookings": "1"}
    done = post(client, "/app/admin/closures", confirm)
    assert done.status_code == 200
    assert "Closed: Thu 26 Nov, all day." in html(done)
    assert "Bookings cancelled: 1; the clients were told." in html(done)
    stored = booking(app, booking_id)
    assert (stored.status, stored.cancel_reason) == ("cancelled", "Holiday")
    assert isinstance(events[-1], BookingCancelled) and events[-1].by_admin
    [closure] = get(client, "/api/admin/closures").json["closures"]
    assert f'data-closure-id="{closure["id"]}"' in html(done)

    reopened = client.delete(f"/app/admin/closures/{closure['id']}", headers=auth(TRAINER))
    assert reopened.status_code == 200 and "Reopened." in html(reopened)
    assert get(client, "/api/admin/closures").json["closures"] == []
    again = client.delete(f"/app/admin/closures/{closure['id']}", headers=auth(TRAINER))
    assert again.status_code == 404


def test_closing_hours_without_bookings_and_bad_closures(client):
    book(client, start="15:00")
    done = post(
        client,
        "/app/admin/closures",
        {"date": TOMORROW, "start": "09:00", "end": "12:00", "reason": "Works"},
    )
    assert done.status_code == 200 and "Closed: Thu 26 Nov, 09:00–12:00." in html(done)
    bad = post(client, "/app/admin/closures", {"date": TOMORROW, "start": "12:00", "end": ""})
    assert bad.status_code == 400 and "Give both times" in html(bad)
    assert 'name="start" step="1800" value="12:00"' in html(bad)  # the form keeps the input
    assert post(client, "/app/admin/closures", {"date": "soon"}).status_code == 400
    assert len(get(client, "/api/admin/closures").json["closures"]) == 1


class BookingMadeOnly:
    """Equal to a BookingMade event: the only one before the trainer confirms."""

    def __eq__(self, other) -> bool:
        return type(other).__name__ == "BookingMade"


# --- clients and booking on their behalf ------------------------------------------------


def test_the_clients_list_and_search(client, clock):
    book(client, ANNA, date="2026-11-25", start="11:00")
    book(client, BORIS)
    clock.advance(hours=6)
    page = html(get(client, "/app/admin/clients"))
    assert 'data-client-id="1001"' in page and 'data-client-id="1002"' in page
    anna = re.search(r'data-client-id="1001".*?</li>', page, re.S).group(0)
    assert "upcoming 0 · past 1 · last Wed 25 Nov" in anna
    found = get(client, "/app/admin/clients?q=бор", HX_Target="clients")
    fragment = html(found)
    assert fragment.startswith('<ul class="list" id="clients">')
    assert 'data-client-id="1002"' in fragment and 'data-client-id="1001"' not in fragment
    nobody = html(get(client, "/app/admin/clients?q=zzz", HX_Target="clients"))
    assert "Nobody found." in nobody


def test_booking_a_walk_in_for_a_client(app, client, events):
    client.get("/api/bookings", headers=auth(BORIS))  # Boris has opened the app once
    page = html(get(client, f"/app/admin/clients?date={TOMORROW}"))
    assert "Pick a client for Thu 26 Nov" in page
    assert f'hx-get="/app/admin/book?client=1002&amp;date={TOMORROW}"' in page

    form = html(get(client, f"/app/admin/book?client=1002&date={TOMORROW}"))
    assert "Booking for Борис" in form
    slot = re.search(r'<button [^>]*data-slot-start="11:00"[^>]*>', form).group(0)
    assert 'data-can-start="true"' in slot
    sheet = html(get(client, f"/app/admin/book/confirm?client=1002&date={TOMORROW}&start=11:00"))
    assert "Thu 26 Nov, 11:00–12:30" in sheet and "Book Борис?" in sheet
    values = hx_vals(sheet, 'data-action="confirm"')
    assert values == {"client": "1002", "date": TOMORROW, "start": "11:00"}

    done = post(client, "/app/admin/book", values)
    assert done.status_code == 200
    assert "Booked Борис: Thu 26 Nov, 11:00–12:30" in html(done)
    assert "booked by you" in html(done)
    with app.app_context():
        [made] = db.session.scalars(db.select(Booking)).all()
        assert (made.source, made.user.telegram_id) == ("admin", BORIS["id"])
    assert type(events[-1]).__name__ == "BookingMade"

    again = post(client, "/app/admin/book", values)
    assert again.status_code == 409 and "already have a training" in html(again)
    taken = html(get(client, f"/app/admin/book?client=1002&date={TOMORROW}"))
    assert re.search(r'data-slot-start="11:00" data-free="3" data-can-start="false"', taken)
    assert get(client, "/app/admin/book?client=5").status_code == 404
    assert get(client, "/app/admin/book?client=abc").status_code == 400


# --- the export link ------------------------------------------------------------------------------


def export_url(page: str) -> str:
    return unescape(re.search(r'href="([^"]+)" download data-external', page).group(1))


def test_the_export_link_downloads_the_csv_without_the_header(client):
    book(client)
    page = html(get(client, "/app/admin/clients"))
    assert 'name="from" value="2026-11-01"' in page and 'name="to" value="2026-11-30"' in page
    response = client.get(export_url(page))  # as Telegram's openLink would: no init data
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="bookings-2026-11-01-2026-11-30.csv"'
    )
    body = response.get_data()
    assert body.startswith("\ufeffbooking_id,date,start,end".encode())
    assert ",2026-11-26,10:00,11:30,active,Anna K,anna,1001," in body.decode("utf-8")

    other = html(get(client, "/app/admin/export?from=2026-12-01&to=2026-12-31"))
    assert other.startswith('<form class="card form" id="export"')
    assert (
        "bookings-2026-12-01-2026-12-31"
        in client.get(export_url(other)).headers["Content-Disposition"]
    )
    bad = get(client, "/app/admin/export?from=2026-12-01&to=later")
    assert bad.status_code == 400 and "download data-external" not in html(bad)


def test_export_links_are_for_the_trainer_only(app, client, monkeypatch):
    url = export_url(html(get(client, "/app/admin/clients")))
    assert client.get(url.replace(".csv", "x.csv")).status_code == 403
    with app.test_request_context():
        from flask import g

        from schedule import User

        g.user = User(telegram_id=ANNA["id"])
        forged = admin.export_link(*admin.default_export_range())
    assert client.get(forged).status_code == 403  # signed, but Anna is no trainer
    monkeypatch.setattr(admin, "EXPORT_LINK_SECONDS", -1)
    assert client.get(url).status_code == 403  # expired


def test_refusals_read_in_the_trainers_language(client):
    booking_id = book(client)
    no_reason = post(client, f"/app/admin/bookings/{booking_id}/cancel", {"reason": ""}, RU_TRAINER)
    assert "Напишите причину" in html(no_reason)
    bad_hours = post(client, "/app/admin/hours", hours_form(mon=[("", "17:00")]), RU_TRAINER)
    assert "Пн: у каждого интервала нужны оба времени" in html(bad_hours)
    no_days = post(client, "/app/admin/hours", {}, RU_TRAINER)
    assert "Оставьте хотя бы один рабочий день" in html(no_days)
    off_grid = post(client, "/app/admin/hours", hours_form(mon=[("08:10", "18:00")]))
    assert "on the 30-minute grid" in html(off_grid)
    bad_range = post(
        client,
        "/app/admin/closures",
        {"date": TOMORROW, "start": "14:00", "end": "12:00"},
        RU_TRAINER,
    )
    assert bad_range.status_code == 400 and "Укажите оба времени" in html(bad_range)


# --- the day leads somewhere (issue 23) --------------------------------------------------------


def test_each_visitor_opens_the_client_card_and_shows_paid_and_attendance(app, client, clock):
    paid = book(client, ANNA, start="10:00")
    unpaid = book(client, BORIS, start="10:00")
    with app.app_context():
        from schedule import passes

        anna = services.upsert_user(db.session(), ANNA)
        settings, now = app.config["SCHEDULE"], app.config["CLOCK"]()
        passes.record(
            Unit(db.session(), settings, Actor.trainer(), now=now), anna, visits=4, valid_days=30
        )
        db.session.commit()
    page = html(get(client, f"/app/admin?date={TOMORROW}"))
    opens = re.search(rf'<button class="client-name" data-client-id="{ANNA["id"]}"[^>]*>', page)
    assert opens, page
    assert f'hx-get="/app/admin/clients/{ANNA["id"]}?day={TOMORROW}"' in opens[0]
    assert re.search(rf'data-admin-booking-id="{paid}" data-paid="true"', page)
    assert re.search(rf'data-admin-booking-id="{unpaid}" data-paid="false"', page)
    assert "paid by a pass" in page and "unpaid" in page
    assert "Cancel booking" in page and "Close this day or some hours…" in page

    card = html(get(client, f"/app/admin/clients/{ANNA['id']}?day={TOMORROW}"))
    assert f'data-client-card="{ANNA["id"]}"' in card
    assert f'hx-get="/app/admin?date={TOMORROW}">Back to the day<' in card

    clock.advance(days=1, hours=1, minutes=5)  # the training has started
    client.post(
        f"/api/admin/bookings/{unpaid}/attendance",
        json={"status": "no_show"},
        headers=auth(TRAINER),
    )
    page = html(get(client, f"/app/admin?date={TOMORROW}"))
    assert re.search(rf'data-admin-booking-id="{unpaid}"[^>]*data-attendance-state="no_show"', page)
    assert 'aria-pressed="true">✗ no-show<' in page


def test_the_day_speaks_russian_and_names_what_each_control_acts_on(client):
    book(client, BORIS)
    page = html(get(client, f"/app/admin?date={TOMORROW}", user=RU_TRAINER))
    assert "не оплачено" in page and "Отменить запись" in page
    assert 'aria-label="Отменить запись: Борис"' in page
    assert "Закрыть этот день или часы…" in page and "Записать клиента на этот день" in page


def test_the_trainer_lands_on_the_day_of_the_next_training(app, client, clock):
    book(client, ANNA, date="2026-11-27", start="12:00")  # Friday; nothing today
    page = html(get(client, "/app/admin"))
    assert 'data-admin-date="2026-11-27" hx-get="/app/admin?date=2026-11-27" aria-current' in page
    week = html(get(client, "/app/admin/week"))
    assert "Mon 23 Nov – Sun 29 Nov" in week


def test_on_sunday_evening_the_trainer_lands_on_the_coming_week(client, clock):
    clock.advance(days=4, hours=10)  # Sunday 29 Nov, 19:00: the studio closed at 18:00
    page = html(get(client, "/app/admin"))
    assert 'data-admin-date="2026-11-30" hx-get="/app/admin?date=2026-11-30" aria-current' in page
    assert "Mon 30 Nov" in page
    week = html(get(client, "/app/admin/week"))
    assert "Mon 30 Nov – Sun 6 Dec" in week
    clock.advance(hours=-10)  # Sunday 09:00: the day is still open
    assert 'data-admin-date="2026-11-29" hx-get="/app/admin?date=2026-11-29" aria-current' in html(
        get(client, "/app/admin")
    )
