"""The waitlist through the JSON API, on SQLite and PostgreSQL: join a full start, see the
place in line, leave, and be booked when a place frees."""

from __future__ import annotations

import pytest

from schedule.events import BookingCancelled, BookingMade
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, auth, make_user
from tests.webapp.test_api import assert_error, book, slot

ENTRY_KEYS = {"id", "date", "start", "end", "position"}


def fill(client, start="10:00", date=TOMORROW, count=4) -> list[dict]:
    made = [book(client, make_user(2000 + n), date=date, start=start) for n in range(count)]
    assert all(r.status_code == 201 for r in made)
    return [r.json for r in made]


def join(client, user=ANNA, date=TOMORROW, start="10:00"):
    return client.post("/api/waitlist", json={"date": date, "start": start}, headers=auth(user))


def waitlist(client, user=ANNA) -> list[dict]:
    response = client.get("/api/waitlist", headers=auth(user))
    assert response.status_code == 200
    assert set(response.json) == {"waitlist"}
    return response.json["waitlist"]


def test_joining_a_full_start_answers_201_with_the_place_in_line(client):
    fill(client)
    first = join(client, ANNA)
    assert first.status_code == 201
    assert set(first.json) == ENTRY_KEYS
    assert {k: v for k, v in first.json.items() if k != "id"} == {
        "date": TOMORROW,
        "start": "10:00",
        "end": "11:30",
        "position": 1,
    }
    second = join(client, BORIS)
    assert (second.status_code, second.json["position"]) == (201, 2)
    assert waitlist(client, ANNA) == [first.json]
    assert waitlist(client, BORIS) == [second.json]


def test_joining_twice_is_joining_once(client):
    fill(client)
    first = join(client).json
    assert join(client).json == first
    assert waitlist(client) == [first]


def test_the_grid_marks_only_the_callers_waitlisted_starts(client):
    fill(client)
    join(client, ANNA)
    assert slot(client, "10:00", user=ANNA)["waitlisted"] is True
    assert slot(client, "10:30", user=ANNA)["waitlisted"] is False
    assert slot(client, "10:00", user=BORIS)["waitlisted"] is False


def test_leaving_answers_200_and_moves_the_next_one_up(client):
    fill(client)
    anna = join(client, ANNA).json
    join(client, BORIS)
    response = client.delete(f"/api/waitlist/{anna['id']}", headers=auth(ANNA))
    assert response.status_code == 200
    assert response.json == {
        **{k: anna[k] for k in ("id", "date", "start", "end")},
        "status": "left",
    }
    assert waitlist(client, ANNA) == []
    assert slot(client, "10:00", user=ANNA)["waitlisted"] is False
    assert [e["position"] for e in waitlist(client, BORIS)] == [1]
    assert_error(client.delete(f"/api/waitlist/{anna['id']}", headers=auth(ANNA)), 404, "not_found")


@pytest.mark.parametrize("entry_id", ["{other}", "999999", "99999999999999999999"])
def test_leaving_what_is_not_yours_is_404(client, entry_id):
    fill(client)
    boris = join(client, BORIS).json
    response = client.delete(
        f"/api/waitlist/{entry_id.format(other=boris['id'])}", headers=auth(ANNA)
    )
    assert_error(response, 404, "not_found")
    assert waitlist(client, BORIS) == [boris]


def test_a_cancellation_books_the_first_in_line_and_tells_the_notifier(app, client):
    seen = []
    app.extensions["booking_events"] = seen.append
    taken = fill(client)
    join(client, ANNA)
    join(client, BORIS)
    response = client.delete(f"/api/bookings/{taken[0]['id']}", headers=auth(make_user(2000)))
    assert response.status_code == 200
    mine = client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]
    assert [(b["date"], b["start"]) for b in mine] == [(TOMORROW, "10:00")]
    assert waitlist(client, ANNA) == []
    assert [e["position"] for e in waitlist(client, BORIS)] == [1]
    assert (slot(client, "10:00", user=ANNA)["waitlisted"], slot(client, "10:00")["mine"]) == (
        False,
        True,
    )
    assert [type(e) for e in seen] == [BookingMade] * 4 + [BookingCancelled, BookingMade]
    assert seen[-1].from_waitlist is True


def test_a_start_with_a_free_place_is_409_not_full(client):
    fill(client, count=3)
    assert_error(join(client), 409, "not_full")


@pytest.mark.parametrize(
    ("date", "start", "code"),
    [
        (TOMORROW, "17:00", "after_hours"),
        ("2026-11-25", "10:00", "too_soon"),
        ("2026-12-03", "10:00", "too_far"),
    ],
)
def test_starts_the_rules_refuse_are_409(client, date, start, code):
    assert_error(join(client, date=date, start=start), 409, code)


def test_a_start_inside_the_cancel_deadline_is_too_soon(client):
    fill(client, date="2026-11-25", start="10:30")  # 09:00 now: 1 h 30 min ahead
    assert_error(join(client, date="2026-11-25", start="10:30"), 409, "too_soon")


def test_waiting_beside_your_own_booking_is_409_overlapping(client):
    fill(client)
    assert book(client, ANNA, start="11:30").status_code == 201
    assert_error(join(client, start="10:30"), 409, "overlapping")


@pytest.mark.parametrize(
    "body",
    [
        {"date": TOMORROW},
        {"start": "10:00"},
        {"date": TOMORROW, "start": "10:15"},
        {"date": "2026-02-30", "start": "10:00"},
        {"date": TOMORROW, "start": 600},
        [TOMORROW, "10:00"],
        None,
    ],
)
def test_malformed_joins_are_400(client, body):
    assert_error(client.post("/api/waitlist", json=body, headers=auth(ANNA)), 400, "invalid")


def test_the_waitlist_needs_init_data(client):
    assert_error(client.get("/api/waitlist"), 401, "unauthorized")
    assert_error(client.post("/api/waitlist", json={"date": TOMORROW, "start": "10:00"}), 401)
    assert_error(client.delete("/api/waitlist/1"), 401)


def test_the_grid_sees_a_join_made_elsewhere_and_still_costs_one_query(app, client, database_url):
    from sqlalchemy import event

    from schedule import services
    from schedule import waitlist as schedule_waitlist
    from schedule.db import make_session_factory
    from schedule.timegrid import parse_date
    from webapp.extensions import db

    fill(client)
    assert slot(client, "10:00")["waitlisted"] is False  # the grid is cached now
    with make_session_factory(database_url)() as session:  # the bot has its own engine
        user = services.upsert_user(session, ANNA)
        schedule_waitlist.join(
            Unit(session, app.config["SCHEDULE"], Actor.client(user), now=app.config["CLOCK"]()),
            user,
            parse_date(TOMORROW),
            600,
        )
        session.get_bind().dispose()
    assert slot(client, "10:00")["waitlisted"] is True

    headers = auth(ANNA)
    url = f"/api/slots?date={TOMORROW}"
    assert client.get(url, headers=headers).status_code == 200  # these init data checked once
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(connection, cursor, statement, *rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        again = client.get(url, headers=headers).json["slots"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert {e["start"]: e["waitlisted"] for e in again}["10:00"] is True
    assert len(statements) == 1 and "schedule_lock" in statements[0]


def test_the_grid_stops_marking_an_entry_that_can_no_longer_be_promoted(client, clock):
    fill(client, date="2026-11-25", start="12:00")  # 09:00 now: 3 h ahead
    assert join(client, date="2026-11-25", start="12:00").status_code == 201
    assert slot(client, "12:00", date="2026-11-25")["waitlisted"] is True
    clock.advance(hours=1, minutes=1)  # inside the cancel deadline: it would expire, not promote
    assert slot(client, "12:00", date="2026-11-25")["waitlisted"] is False


def test_the_waitlist_leaves_out_entries_that_can_no_longer_be_promoted(client, clock):
    fill(client, date="2026-11-25", start="12:00")
    fill(client)
    today = join(client, date="2026-11-25", start="12:00").json
    tomorrow = join(client).json
    assert waitlist(client) == [today, tomorrow]
    clock.advance(hours=1, minutes=1)
    assert waitlist(client) == [tomorrow]
