"""Standing bookings through the JSON API (DESIGN.md, "Standing bookings"), the worker's pass
as the bot runs it (two at once), and the messages the client receives through the outbox."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.series import render, run_series
from schedule import Settings, outbox
from schedule.models import ACTIVE, Booking
from tests.conftest import UNLIMITED
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, build_app, make_user
from webapp.extensions import db

WIDE = Settings(**UNLIMITED, booking_horizon_days=21)
SERIES = {"date": TOMORROW, "start": "10:00", "weeks": 4}  # Thursdays 26 Nov .. 17 Dec


@pytest.fixture
def app(database_url, clock):
    app = build_app(database_url, clock, SCHEDULE=WIDE)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def messages(app, kind: str | None = None) -> list[outbox.OutboxMessage]:
    with app.app_context():
        query = select(outbox.OutboxMessage).order_by(outbox.OutboxMessage.id)
        rows = list(db.session.scalars(query))
        db.session.remove()
    return [m for m in rows if kind is None or m.kind == kind]


def test_a_series_books_the_dates_inside_the_horizon(client):
    answer = client.post("/api/series", json=SERIES, headers=auth())
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["weekday"] == 3 and body["start"] == "10:00"
    assert body["weeks"] == 4 and body["until"] == "2026-12-17"
    assert [b["date"] for b in body["bookings"]] == ["2026-11-26", "2026-12-03", "2026-12-10"]
    assert all(b["start"] == "10:00" and b["status"] == "active" for b in body["bookings"])
    assert body["skipped"] == [] and body["waiting"] == []

    listed = client.get("/api/series", headers=auth()).json["series"]
    assert [s["id"] for s in listed] == [body["id"]]
    assert client.get("/api/series", headers=auth(BORIS)).json == {"series": []}
    mine = client.get("/api/bookings", headers=auth()).json["bookings"]
    assert len(mine) == 3


def test_the_rest_is_booked_by_two_workers_running_at_once_exactly_once(
    app, client, clock, bot_config, bot_sessions
):
    created = client.post("/api/series", json=SERIES, headers=auth()).json
    config = replace(bot_config, settings=WIDE)
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=run_series,
            args=(config, stop),
            kwargs={"session_factory": bot_sessions, "clock": clock, "interval": 0.01},
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        clock.advance(hours=14)  # 23:00 in Moscow: 17 Dec opens at midnight
        deadline = threading.Event()
        for _ in range(200):
            if messages(app, "series_booked"):
                break
            deadline.wait(0.02)
        deadline.wait(0.3)  # both workers ran several passes since
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
    booked = messages(app, "series_booked")
    assert len(booked) == 1 and booked[0].chat_id == ANNA["id"]
    assert booked[0].facts["date"] == "2026-12-17"
    with app.app_context():
        starts = db.session.scalars(
            select(Booking.starts_at).where(Booking.status == ACTIVE).order_by(Booking.starts_at)
        ).all()
    assert len(starts) == 4 and len(set(starts)) == 4
    listed = client.get("/api/series", headers=auth()).json["series"][0]
    assert listed["id"] == created["id"] and len(listed["bookings"]) == 4
    text, markup = render("series_booked", booked[0].facts, "en", config, clock())
    assert "Thursdays at 10:00" in text and "17 Dec" in text
    assert any("Cancel" in b["text"] for row in markup.to_dict()["inline_keyboard"] for b in row)


def test_a_closed_date_is_skipped_and_a_full_one_waits(app, client, clock, bot_config):
    trainer = auth(TRAINER)
    closed = client.post(
        "/api/admin/closures", json={"date": "2026-12-03", "reason": "Holiday"}, headers=trainer
    )
    assert closed.status_code == 201, closed.json
    for n in range(WIDE.capacity):
        answer = client.post(
            "/api/bookings",
            json={"date": "2026-12-10", "start": "10:00"},
            headers=auth(make_user(5000 + n)),
        )
        assert answer.status_code == 201, answer.json
    body = client.post("/api/series", json=SERIES, headers=auth()).json
    assert [b["date"] for b in body["bookings"]] == ["2026-11-26"]
    assert body["skipped"] == [{"date": "2026-12-03", "reason": "closed"}]
    assert body["waiting"] == [{"date": "2026-12-10", "start": "10:00"}]
    assert client.get("/api/waitlist", headers=auth()).json["waitlist"][0]["date"] == "2026-12-10"

    # Later dates are told: 17 Dec closed too, through the worker's pass.
    client.post("/api/admin/closures", json={"date": "2026-12-17"}, headers=trainer)
    clock.advance(days=1)
    from bot.series import book_due

    config = replace(bot_config, settings=WIDE)
    with app.app_context():
        from sqlalchemy.orm import sessionmaker

        factory = sessionmaker(db.engine, expire_on_commit=False)
        assert book_due(config, factory, clock) == 1
    skipped = messages(app, "series_skipped")
    assert [(m.chat_id, m.facts["date"], m.facts["reason"]) for m in skipped] == [
        (ANNA["id"], "2026-12-17", "closed")
    ]
    text, _ = render("series_skipped", skipped[0].facts, "ru", config, clock())
    assert "17 декабря" in text and "закрыта" in text


def test_none_can_be_had_is_409_with_the_first_refusal(client):
    trainer = auth(TRAINER)
    for week in range(3):
        day = (date(2026, 11, 26) + timedelta(weeks=week)).isoformat()
        client.post("/api/admin/closures", json={"date": day}, headers=trainer)
    answer = client.post("/api/series", json=SERIES, headers=auth())
    assert answer.status_code == 409
    assert answer.json["error"] == "closed" and answer.json["message"]
    assert client.get("/api/series", headers=auth()).json == {"series": []}


@pytest.mark.parametrize(
    "body",
    [
        {"date": TOMORROW, "start": "10:00", "weeks": 13},
        {"date": TOMORROW, "start": "10:00", "weeks": 0},
        {"date": TOMORROW, "start": "10:00", "weeks": "4"},
        {"date": TOMORROW, "start": "10:15", "weeks": 4},
        {"date": "2026-02-30", "start": "10:00", "weeks": 4},
        {"start": "10:00", "weeks": 4},
        [1, 2],
    ],
)
def test_bad_input_is_400(client, body):
    answer = client.post("/api/series", json=body, headers=auth())
    assert answer.status_code == 400 and answer.json["error"] == "invalid"


def test_weeks_null_runs_until_stopped(client):
    body = client.post("/api/series", json={**SERIES, "weeks": None}, headers=auth()).json
    assert body["weeks"] is None and body["until"] is None


def test_the_client_stops_a_series_and_its_bookings_are_cancelled(client, clock):
    created = client.post("/api/series", json=SERIES, headers=auth()).json
    assert client.delete(f"/api/series/{created['id']}", headers=auth(BORIS)).status_code == 404
    assert client.delete("/api/series/999999", headers=auth()).status_code == 404
    clock.advance(hours=23, minutes=30)  # 26 Nov 08:30: the first is past its deadline
    stopped = client.delete(f"/api/series/{created['id']}", headers=auth())
    assert stopped.status_code == 200
    assert stopped.json["status"] == "stopped"
    assert [b["date"] for b in stopped.json["bookings"]] == ["2026-11-26"]
    assert client.get("/api/series", headers=auth()).json == {"series": []}
    assert len(client.get("/api/bookings", headers=auth()).json["bookings"]) == 1


def test_the_trainer_stops_a_series_and_the_client_is_told(app, client, bot_config, clock):
    created = client.post("/api/series", json=SERIES, headers=auth()).json
    url = f"/api/admin/series/{created['id']}/stop"
    assert client.post(url, json={"reason": "x"}, headers=auth()).status_code == 403
    assert (
        client.post("/api/admin/series/999999/stop", json={"reason": "x"}, headers=auth(TRAINER))
    ).status_code == 404
    assert client.post(url, json={}, headers=auth(TRAINER)).status_code == 400
    answer = client.post(url, json={"reason": "New timetable"}, headers=auth(TRAINER))
    assert answer.status_code == 200 and answer.json["status"] == "stopped"
    assert client.get("/api/bookings", headers=auth()).json["bookings"] == []
    told = messages(app, "series_stopped")
    assert [(m.chat_id, m.facts["reason"]) for m in told] == [(ANNA["id"], "New timetable")]
    assert not [m for m in messages(app, "client") if m.chat_id == ANNA["id"]]
    text, _ = render(
        "series_stopped", told[0].facts, "en", replace(bot_config, settings=WIDE), clock()
    )
    assert "New timetable" in text and "26 Nov" in text


@pytest.mark.parametrize(
    ("day", "refusal"),
    [("2000-01-01", "too_soon"), ("2026-12-24", "too_far"), ("9999-12-30", "too_far")],
)
def test_a_first_date_in_the_past_or_beyond_the_horizon_is_409(client, day, refusal):
    answer = client.post("/api/series", json={**SERIES, "date": day}, headers=auth())
    assert answer.status_code == 409 and answer.json["error"] == refusal
    assert client.get("/api/series", headers=auth()).json == {"series": []}
