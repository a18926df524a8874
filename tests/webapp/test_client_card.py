"""The trainer's client card in the Mini App (webapp/client_card.py): passes with their history,
visits, recording and correcting a pass, lifting a no-show pause; bad input is a 400 with the
reason in place and nothing changed. And a client refused `no_pass` is shown the trainer's
contact."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth

HX = {"HX-Request": "true"}
TRAINER_RU = {**TRAINER, "language_code": "ru"}
CARD = f"/app/admin/clients/{ANNA['id']}"


def as_trainer(user: dict = TRAINER) -> dict:
    return {**auth(user), **HX}


def card_json(client) -> dict:
    return client.get(CARD.replace("/app/", "/api/"), headers=auth(TRAINER)).json


def notice(response) -> str:
    found = re.search(r"data-notice[^>]*>([^<]*)<", response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else ""


@pytest.fixture
def anna(page_client):
    """Anna has opened the app and booked tomorrow at 10:00 (before holding any pass)."""
    page_client.post("/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA))
    return page_client


def record(client, user: dict = TRAINER, **fields):
    form = {"visits": "8", "valid_days": "30", "starts": "", "price": "", "note": "", **fields}
    return client.post(f"{CARD}/passes", data=form, headers=as_trainer(user))


def test_the_clients_list_opens_the_card(anna):
    listed = anna.get("/app/admin/clients", headers=as_trainer()).get_data(as_text=True)
    assert f'hx-get="{CARD}"' in listed and 'data-admin-action="open-client"' in listed

    page = anna.get(CARD, headers=as_trainer())
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-client-card="{ANNA["id"]}"' in body and "Anna K" in body
    assert 'data-unpaid="1"' in body  # the booking made before any pass
    assert "No pass yet." in body
    assert 'name="starts" value="2026-11-25"' in body  # today by default


def test_the_trainer_records_a_pass_and_sees_it_with_its_history(anna):
    done = record(anna, price="1500,50", note="November, cash")
    body = done.get_data(as_text=True)
    assert done.status_code == 200, body
    assert notice(done) == "Pass recorded."
    # the booking Anna made before holding it takes a visit from it at once
    assert 'data-visits="8"' in body and 'data-remaining="7"' in body
    assert 'data-starts="2026-11-25"' in body and 'data-expires="2026-12-24"' in body
    assert "<span data-price>RUB\u00a01,500.50</span>" in body and "November, cash" in body
    assert 'data-change-kind="created"' in body and "Trainer" in body  # who recorded it
    stored = card_json(anna)["passes"]
    assert [(p["visits"], p["price"], p["note"]) for p in stored] == [(8, 1500.5, "November, cash")]
    assert stored[0]["history"][0]["by"] == TRAINER["id"]

    # From now on a booking takes a visit from it.
    anna.post("/api/bookings", json={"date": "2026-11-27", "start": "10:00"}, headers=auth(ANNA))
    body = anna.get(CARD, headers=as_trainer()).get_data(as_text=True)
    assert 'data-used="2"' in body and 'data-remaining="6"' in body


def test_a_pass_may_start_on_another_day(anna):
    assert record(anna, starts="2026-12-01", valid_days="10").status_code == 200
    assert [(p["starts"], p["expires"]) for p in card_json(anna)["passes"]] == [
        ("2026-12-01", "2026-12-10")
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"visits": "abc"}, "Visits: type a whole number."),
        ({"visits": ""}, "Visits: type a whole number."),
        ({"visits": "0"}, "Visits: a whole number from 1 to 1000."),
        ({"visits": "1001"}, "Visits: a whole number from 1 to 1000."),
        ({"valid_days": "-3"}, "Valid, days: a whole number from 1 to 3660."),
        ({"valid_days": "1.5"}, "Valid, days: type a whole number."),
        ({"price": "12abc"}, "Price: type an amount like 1500 or 1500.50."),
        ({"starts": "2026-13-01"}, "Pick the start date."),
        ({"price": "-5"}, "Price: type an amount like 1500 or 1500.50."),
    ],
)
def test_bad_input_is_refused_in_place_and_records_nothing(anna, fields, message):
    refused = record(anna, **fields)
    assert refused.status_code == 400
    assert message in notice(refused)
    assert refused.headers["HX-Trigger"] == '{"tg-haptic": "error"}'
    body = refused.get_data(as_text=True)
    assert f'data-client-card="{ANNA["id"]}"' in body  # the card again, not a blank swap
    typed = next(iter(fields.values()))
    if typed:
        assert f'value="{typed}"' in body  # what the trainer typed is kept
    assert card_json(anna)["passes"] == []


def test_refusals_read_in_russian_for_a_russian_trainer(anna):
    refused = record(anna, user=TRAINER_RU, visits="0")
    assert refused.status_code == 400
    assert notice(refused) == "Занятий: целое число от 1 до 1000."
    refused = record(anna, user=TRAINER_RU, visits="много")
    assert notice(refused) == "Занятий: введите целое число."
    assert "Оформить абонемент" in refused.get_data(as_text=True)


def adjust(client, pass_id: int, user: dict = TRAINER, **fields):
    form = {"visits": "", "extend_days": "", "reason": "", **fields}
    return client.post(f"/app/admin/passes/{pass_id}/adjust", data=form, headers=as_trainer(user))


def test_a_correction_needs_a_reason_and_joins_the_history(anna):
    record(anna, visits="2")
    anna.post("/api/bookings", json={"date": "2026-11-27", "start": "10:00"}, headers=auth(ANNA))
    pass_id = card_json(anna)["passes"][0]["id"]

    no_reason = adjust(anna, pass_id, visits="+2")
    assert no_reason.status_code == 400
    assert notice(no_reason).startswith("Say why the pass changes")
    assert re.search(rf'data-pass-id="{pass_id}".*?data-pass-adjust open', no_reason.text, re.S)
    below_used = adjust(anna, pass_id, visits="-1", reason="typo")  # both visits are used
    assert below_used.status_code == 400
    assert "Visits of this pass already used: 2" in notice(below_used)
    nothing = adjust(anna, pass_id, reason="nothing really")
    assert nothing.status_code == 400 and notice(nothing).startswith(
        "Change the visits or the days"
    )
    not_number = adjust(anna, pass_id, extend_days="week", reason="holiday")
    assert not_number.status_code == 400 and notice(not_number).startswith("Extend, days")
    unchanged = card_json(anna)["passes"][0]
    assert (unchanged["visits"], unchanged["expires"], len(unchanged["history"])) == (
        2,
        "2026-12-24",
        1,
    )

    done = adjust(anna, pass_id, visits="+2", extend_days="7", reason="paid for 2 more")
    assert done.status_code == 200 and notice(done) == "Pass corrected."
    body = done.get_data(as_text=True)
    assert "paid for 2 more" in body and "+2 visits" in body and "+7 days" in body
    changed = card_json(anna)["passes"][0]
    assert (changed["visits"], changed["remaining"], changed["expires"]) == (4, 2, "2026-12-31")
    assert [c["reason"] for c in changed["history"]] == ["", "paid for 2 more"]


def test_a_paused_client_is_unblocked_from_the_card(anna, sqlite_app, clock):
    sqlite_app.config["SCHEDULE"] = dataclasses.replace(
        sqlite_app.config["SCHEDULE"], no_show_limit=1
    )
    booking_id = anna.get("/api/bookings", headers=auth(ANNA)).json["bookings"][0]["id"]
    clock.advance(days=1, hours=1, minutes=5)  # the training has started
    marked = anna.post(
        f"/api/admin/bookings/{booking_id}/attendance",
        json={"status": "no_show"},
        headers=auth(TRAINER),
    )
    assert marked.status_code == 200
    body = anna.get(CARD, headers=as_trainer()).get_data(as_text=True)
    assert 'data-blocked="true"' in body and 'data-no-show="1"' in body
    assert (
        anna.post(
            "/api/bookings", json={"date": "2026-11-28", "start": "10:00"}, headers=auth(ANNA)
        ).json["error"]
        == "no_show_limit"
    )

    lifted = anna.post(f"{CARD}/unblock", headers=as_trainer())
    assert lifted.status_code == 200 and notice(lifted) == "Booking allowed again."
    assert "data-blocked" not in lifted.get_data(as_text=True)
    assert card_json(anna)["blocked"] is False
    again = anna.post(
        "/api/bookings", json={"date": "2026-11-28", "start": "10:00"}, headers=auth(ANNA)
    )
    assert again.status_code == 201


def test_only_the_trainer_opens_or_changes_a_card(anna):
    record(anna)
    pass_id = card_json(anna)["passes"][0]["id"]
    for method, url, data in [
        ("GET", CARD, None),
        ("POST", f"{CARD}/passes", {"visits": "5", "valid_days": "5"}),
        ("POST", f"/app/admin/passes/{pass_id}/adjust", {"visits": "+5", "reason": "me"}),
        ("POST", f"{CARD}/unblock", None),
    ]:
        response = anna.open(url, method=method, data=data, headers={**auth(ANNA), **HX})
        assert response.status_code == 403, (method, url)
    assert [(p["visits"], len(p["history"])) for p in card_json(anna)["passes"]] == [(8, 1)]


def test_unknown_clients_and_passes_are_404_with_a_message(anna):
    missing = anna.get("/app/admin/clients/424242", headers=as_trainer())
    assert missing.status_code == 404 and "Client not found." in missing.text
    gone = adjust(anna, 999, visits="+1", reason="x")
    assert gone.status_code == 404 and "Pass not found." in gone.text
    huge = anna.get("/app/admin/clients/99999999999999999999", headers=as_trainer())
    assert huge.status_code == 404


# --- a client without a pass is told whom to ask -------------------------------------------


def test_no_pass_shows_the_trainers_contact(page_client, sqlite_app):
    sqlite_app.config["SCHEDULE"] = dataclasses.replace(
        sqlite_app.config["SCHEDULE"], pass_required=True
    )
    tab = page_client.get(f"/app/book?date={TOMORROW}", headers={**auth(BORIS), **HX})
    body = tab.get_data(as_text=True)
    assert 'data-refusal="no_pass"' in body
    help_line = re.search(r'<div class="banner pass-help" data-pass-help="no_pass">.*?</div>', body)
    assert help_line, body
    assert "оформите его у тренера" in help_line.group(0)
    # The trainer has not opened the app yet: a link to their Telegram id.
    assert 'href="tg://user?id=900"' in help_line.group(0)
    assert "Написать тренеру" in help_line.group(0)

    page_client.get("/api/admin/bookings?date=" + TOMORROW, headers=auth(TRAINER))  # @coach
    refused = page_client.post(
        "/app/bookings", data={"date": TOMORROW, "start": "10:00"}, headers={**auth(BORIS), **HX}
    )
    assert refused.status_code == 409
    assert 'href="https://t.me/coach" data-external data-trainer-contact' in refused.text

    # With a pass the line is gone and the start can be booked.
    page_client.get("/api/bookings", headers=auth(ANNA))
    assert record(page_client, visits="1").status_code == 200  # Anna's; Boris still has none
    mine = page_client.get(f"/app/book?date={TOMORROW}", headers={**auth(ANNA), **HX}).text
    assert "data-pass-help" not in mine and 'data-refusal="no_pass"' not in mine


def test_the_card_shows_the_clients_standing_bookings_and_offers_to_stop_them(page_client):
    made = page_client.post(
        "/api/series", json={"date": TOMORROW, "start": "10:00", "weeks": 4}, headers=auth(ANNA)
    )
    assert made.status_code == 201, made.get_json()
    series_id = made.get_json()["id"]

    body = page_client.get(CARD, headers=as_trainer()).get_data(as_text=True)

    assert "data-client-series" in body and f'data-series-id="{series_id}"' in body
    assert "Thursdays at 10:00" in body
    assert f"/app/admin/series/{series_id}/stop" in body
    assert 'data-series-booking="' in body
    page_client.get("/api/bookings", headers=auth(BORIS))  # Boris opened the app, no series
    bare = page_client.get(f"/app/admin/clients/{BORIS['id']}", headers=as_trainer())
    assert bare.status_code == 200 and "data-client-series" not in bare.get_data(as_text=True)


# --- the client's bookings, prices in words (issue 23) -----------------------------------------


def listed(body: str, which: str) -> list[str]:
    """The booking ids of the card's list `which` (upcoming, past), in order."""
    found = re.search(
        rf'<ul class="list card-bookings" data-client-bookings="{which}">(.*?)</ul>', body, re.S
    )
    return re.findall(r'data-booking-id="(\d+)"', found.group(1)) if found else []


def test_the_card_lists_the_clients_upcoming_and_past_bookings(anna, sqlite_app, clock):
    later = anna.post(
        "/api/bookings", json={"date": "2026-11-28", "start": "12:00"}, headers=auth(ANNA)
    ).json["id"]
    tomorrow = anna.get("/api/bookings", headers=auth(ANNA)).json["bookings"][0]["id"]
    body = anna.get(CARD, headers=as_trainer()).get_data(as_text=True)
    assert listed(body, "upcoming") == [str(tomorrow), str(later)]
    assert listed(body, "past") == [] and "Nothing in the last 90 days." in body

    cancelled = anna.post(
        f"/api/admin/bookings/{later}/cancel",
        json={"reason": "Coach is ill"},
        headers=auth(TRAINER),
    )
    assert cancelled.status_code == 200
    clock.advance(days=1, hours=3)  # tomorrow's training is over, unmarked
    body = anna.get(CARD, headers=as_trainer()).get_data(as_text=True)
    assert listed(body, "upcoming") == [] and "No upcoming trainings." in body
    assert listed(body, "past") == [str(later), str(tomorrow)]
    assert "cancelled by the studio · Coach is ill" in body
    assert re.search(rf'data-booking-id="{tomorrow}" data-status="active" data-paid="false"', body)
    assert "attendance not marked" in body
    assert 'data-admin-action="open-day" hx-get="/app/admin?date=2026-11-26"' in body


def test_prices_carry_the_currency_in_the_trainers_language_and_nothing_looks_like_a_value(anna):
    record(anna, price="1500")
    body = anna.get(CARD, headers=as_trainer(TRAINER_RU)).get_data(as_text=True)
    assert "<span data-price>1\u00a0500\u00a0₽</span>" in body and "Цена, ₽" in body
    english = anna.get(CARD, headers=as_trainer()).get_data(as_text=True)
    assert "<span data-price>RUB\u00a01,500</span>" in english and "Price, RUB" in english
    placeholders = re.findall(r'placeholder="([^"]*)"', english)
    assert not [p for p in placeholders if re.search(r"\d", p) and not p.startswith("e.g.")]
    assert "Back to clients" in english and "Correct this pass" in english


def test_prices_are_in_the_studios_payment_currency(anna, sqlite_app):
    sqlite_app.config["SCHEDULE"] = dataclasses.replace(
        sqlite_app.config["SCHEDULE"], payment_currency="EUR"
    )
    record(anna, price="1500")
    body = anna.get(CARD, headers=as_trainer()).get_data(as_text=True)
    assert "<span data-price>€1,500</span>" in body and "Price, €" in body
