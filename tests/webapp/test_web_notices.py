"""The Mini App's changes are told like any other: schedule writes their notices to the outbox
in the request's transaction (the studio's rules name the trainers), with no bot wired and no
notifier installed; the app's event hook only observes (metrics count it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from schedule import Settings
from schedule.notices import CLIENT, NEWS
from schedule.outbox import OutboxMessage
from tests.conftest import UNLIMITED
from tests.fixtures_web import ANNA, TOMORROW, TRAINER, _dispose, auth, build_app
from webapp.extensions import db

RULES = Settings(**UNLIMITED, admin_ids=frozenset({TRAINER["id"]}), trainer_news_delay=60)


@pytest.fixture
def app(database_url, clock) -> Iterator[Flask]:
    app = build_app(database_url, clock, SCHEDULE=RULES)
    yield app
    _dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


def outbox(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(m.chat_id, m.kind, m.facts["kind"]) for m in rows]


def test_the_mini_apps_changes_are_told_with_no_bot_wired(app, client, clock):
    assert "telegram" not in app.extensions  # no bot, so no notifier either
    assert app.extensions["booking_events"] is not None  # the metrics' observer

    booked = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    )
    assert booked.status_code == 201
    assert outbox(app) == [(TRAINER["id"], NEWS, "booked")]

    clock.advance(minutes=2)  # past the trainer's news delay: the news of the booking stands
    cancel = f"/api/admin/bookings/{booked.json['id']}/cancel"
    response = client.post(cancel, json={"reason": "The trainer is ill"}, headers=auth(TRAINER))
    assert response.status_code == 200
    assert outbox(app)[1:] == [
        (TRAINER["id"], NEWS, "cancelled"),
        (ANNA["id"], CLIENT, "cancelled"),
    ]


def test_a_refused_request_writes_no_notice(app, client):
    booking = {"date": TOMORROW, "start": "10:00"}
    assert client.post("/api/bookings", json=booking, headers=auth(ANNA)).status_code == 201
    assert client.post("/api/bookings", json=booking, headers=auth(ANNA)).status_code == 409
    assert len(outbox(app)) == 1
