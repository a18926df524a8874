"""The waitlist of each kind over the JSON API (SQLite and PostgreSQL) and in the Mini App's
fragments (issue 25): joining names the kind and trainer looked at, the picture shows each
kind its own line, and My trainings says which kind an entry waits for.

Anna gives the personal hour (60 minutes, one visitor); the default kind is given by Anna and
Boris. Client 4000 holds Anna's personal hour at 10:00 tomorrow: the personal kind is full
there while the group at 10:00 is free with Boris.
"""

from __future__ import annotations

import re

import pytest

from schedule import services
from schedule.kinds import add_kind, add_trainer
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
from tests.webapp.test_api import assert_error
from webapp.extensions import db


def setup_studio(app) -> tuple[int, int, int]:
    with app.app_context():
        owner = trainer_unit(app)
        anna = add_trainer(owner, 5001, "Anna")
        boris = add_trainer(owner, 5002, "Boris")
        personal = add_kind(owner, "Personal", 60, 1, [anna.id])
        holder = services.upsert_user(db.session(), make_user(4000))
        services.book(client_unit(app, holder), holder, _day(), 10 * 60, kind=personal.id)
        return anna.id, boris.id, personal.id


def _day():
    from datetime import date

    return date.fromisoformat(TOMORROW)


@pytest.fixture
def studio(app):
    return setup_studio(app)


@pytest.fixture
def gym(sqlite_app):
    return setup_studio(sqlite_app)


def join(client, user=ANNA, **fields):
    body = {"date": TOMORROW, "start": "10:00", **fields}
    return client.post("/api/waitlist", json=body, headers=auth(user))


def slot_at(client, start="10:00", user=ANNA, **query) -> dict:
    asked = "".join(f"&{name}={value}" for name, value in query.items())
    response = client.get(f"/api/slots?date={TOMORROW}{asked}", headers=auth(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    return next(s for s in response.json["slots"] if s["start"] == start)


# --- the JSON API ----------------------------------------------------------------------------


def test_the_api_joins_the_line_of_the_kind_and_trainer_named(client, studio):
    anna, boris, personal = studio
    assert slot_at(client, kind=personal)["can_wait"] is True
    assert slot_at(client)["can_wait"] is False  # the group is free: book it instead
    assert_error(join(client), 409, "not_full")
    joined = join(client, kind=personal)
    assert joined.status_code == 201, joined.get_data(as_text=True)
    assert {k: v for k, v in joined.json.items() if k != "id"} == {
        "date": TOMORROW,
        "start": "10:00",
        "end": "11:00",  # the personal hour's length
        "position": 1,
        "kind": personal,
        "trainer": None,
    }
    named = join(client, BORIS, kind=personal, trainer=anna)
    assert (named.status_code, named.json["trainer"], named.json["position"]) == (201, anna, 2)
    listed = client.get("/api/waitlist", headers=auth(ANNA)).json["waitlist"]
    assert listed == [joined.json]
    # The picture: waiting in the personal line, not in the group's.
    mine = slot_at(client, kind=personal)
    assert (mine["waitlisted"], mine["can_wait"]) == (True, False)
    group = slot_at(client)
    assert (group["waitlisted"], group["can_start"]) == (False, True)
    assert slot_at(client, kind=personal, trainer=anna)["waitlisted"] is True
    # Unknown kind or trainer, or one who does not give it: 400.
    assert_error(join(client, BORIS, kind=99), 400)
    assert_error(join(client, BORIS, kind=personal, trainer=boris), 400)
    assert_error(join(client, BORIS, kind="x"), 400)


def test_a_freed_personal_hour_books_its_own_line_over_the_api(client, studio, app):
    anna, boris, personal = studio
    assert join(client, kind=personal).status_code == 201
    with app.app_context():
        holder = services.upsert_user(db.session(), make_user(4000))
        held = services.upcoming_bookings(db.session(), holder, app.config["CLOCK"]())
        services.cancel(trainer_unit(app), held[0].id)
    bookings = client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]
    assert [(b["start"], b["end"]) for b in bookings] == [("10:00", "11:00")]
    assert client.get("/api/waitlist", headers=auth(ANNA)).json["waitlist"] == []


# --- the Mini App ----------------------------------------------------------------------------


def cell(page: str, start: str) -> str:
    return re.search(rf'<(?:button|i) [^>]*data-slot-start="{start}"[^>]*>', page).group(0)


def test_the_grid_joins_the_kind_it_shows(page_client, gym):
    anna, boris, personal = gym
    page = page_client.get(f"/app/book?date={TOMORROW}&kind={personal}", headers=auth(ANNA))
    assert page.status_code == 200
    full = cell(page.get_data(as_text=True), "10:00")
    assert 'data-can-wait="true"' in full and 'data-action="join-waitlist"' in full
    wait_url = re.search(r'hx-get="([^"]+)"', full).group(1).replace("&amp;", "&")
    assert wait_url == f"/app/waitlist/confirm?date={TOMORROW}&kind={personal}&start=10:00"
    sheet = page_client.get(wait_url, headers=auth(ANNA)).get_data(as_text=True)
    assert "10:00–11:00" in sheet
    vals = re.search(r"hx-vals='([^']+)'", sheet).group(1)
    assert f'"kind": {personal}' in vals and "/app/waitlist" in sheet
    joined = page_client.post(
        "/app/waitlist",
        data={"date": TOMORROW, "start": "10:00", "kind": str(personal)},
        headers=auth(ANNA),
    )
    assert joined.status_code == 200, joined.get_data(as_text=True)
    after = joined.get_data(as_text=True)
    assert 'data-waitlist="true"' in cell(after, "10:00")  # still the personal kind's grid
    # The group's 10:00 is no line of Anna's: free to book.
    group = page_client.get(f"/app/grid?date={TOMORROW}", headers=auth(ANNA))
    assert 'data-waitlist="false"' in cell(group.get_data(as_text=True), "10:00")
    assert 'data-can-start="true"' in cell(group.get_data(as_text=True), "10:00")
    my = page_client.get("/app/my", headers=auth(ANNA)).get_data(as_text=True)
    assert f'data-waitlist-kind="{personal}"' in my and "Personal" in my
    assert "10:00–11:00" in my


def test_the_grid_refuses_the_group_line_while_the_group_is_free(page_client, gym):
    anna, boris, personal = gym
    refused = page_client.post(
        "/app/waitlist", data={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    )
    assert refused.status_code == 409
    my = page_client.get("/app/my", headers=auth(ANNA)).get_data(as_text=True)
    assert "data-waitlist-entry" not in my


def test_the_trainers_day_says_what_each_waits_for(page_client, gym):
    anna, boris, personal = gym
    assert (
        page_client.post(
            "/app/waitlist",
            data={"date": TOMORROW, "start": "10:00", "kind": str(personal)},
            headers=auth(ANNA),
        ).status_code
        == 200
    )
    day = page_client.get(f"/app/admin?date={TOMORROW}", headers=auth(TRAINER))
    names = re.search(r"data-waitlist-names>([^<]+)<", day.get_data(as_text=True)).group(1)
    assert "(Personal)" in names
    # Boris's Day: he does not give the personal hour, so its line is not his.
    boris_day = page_client.get(
        f"/app/admin?date={TOMORROW}&trainer={boris}", headers=auth(TRAINER)
    )
    assert "data-waitlist-names" not in boris_day.get_data(as_text=True)
