"""Trainers and kinds over the JSON API (DESIGN.md, "Trainers and kinds"), on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, make_user

ANNA_COACH = make_user(5001)  # a trainer added through the API
BORIS_COACH = make_user(5002)


def post(client, path, body, user=TRAINER):
    return client.post(path, json=body, headers=auth(user))


def assert_error(response, status: int, code: str = "invalid") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json) == {"error", "message"} and response.json["message"]
    assert response.json["error"] == code


@pytest.fixture
def gym(client):
    """Two trainers (Boris works 12:00-20:00) and a personal hour for one visitor both give."""
    anna = post(client, "/api/admin/trainers", {"telegram_id": 5001, "name": "Anna"})
    boris = post(
        client,
        "/api/admin/trainers",
        {"telegram_id": 5002, "name": "Boris", "opening_hours": "12:00-20:00"},
    )
    assert (anna.status_code, boris.status_code) == (201, 201)
    personal = post(
        client,
        "/api/admin/kinds",
        {
            "name": "Personal",
            "minutes": 60,
            "capacity": 1,
            "trainer_ids": [anna.json["id"], boris.json["id"]],
        },
    )
    assert personal.status_code == 201
    return anna.json, boris.json, personal.json


def slots(client, query: str, user=ANNA):
    return client.get(f"/api/slots?date={TOMORROW}{query}", headers=auth(user))


def test_owners_add_trainers_and_kinds_everyone_lists_them(client, gym):
    anna, boris, personal = gym
    assert anna == {
        "id": anna["id"],
        "telegram_id": 5001,
        "name": "Anna",
        "opening_hours": "08:00-18:00",  # the studio's
    }
    assert boris["opening_hours"] == "12:00-20:00"
    assert personal == {
        "id": 2,
        "name": "Personal",
        "minutes": 60,
        "capacity": 1,
        "trainer_ids": [anna["id"], boris["id"]],
    }
    listed = client.get("/api/trainers", headers=auth(ANNA)).json
    assert listed == {
        "trainers": [{"id": anna["id"], "name": "Anna"}, {"id": boris["id"], "name": "Boris"}]
    }
    kinds = client.get("/api/kinds", headers=auth(ANNA)).json["kinds"]
    assert kinds[0] == {
        "id": 1,
        "name": "Training",
        "minutes": 90,
        "capacity": 4,
        "trainer_ids": [anna["id"], boris["id"]],
    }
    assert kinds[1] == personal


def test_without_trainers_the_default_kind_is_all_there_is(client):
    assert client.get("/api/trainers", headers=auth(ANNA)).json == {"trainers": []}
    kinds = client.get("/api/kinds", headers=auth(BORIS)).json["kinds"]
    assert kinds == [
        {"id": 1, "name": "Тренировка", "minutes": 90, "capacity": 4, "trainer_ids": []}
    ]


def test_only_owners_add_trainers_and_kinds(client, gym):
    trainer = {"telegram_id": 5009, "name": "Vera"}
    assert post(client, "/api/admin/trainers", trainer, user=ANNA).status_code == 403
    assert post(client, "/api/admin/trainers", trainer, user=ANNA_COACH).status_code == 403
    kind = {"name": "X", "minutes": 60, "capacity": 1, "trainer_ids": [gym[0]["id"]]}
    assert post(client, "/api/admin/kinds", kind, user=ANNA_COACH).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"telegram_id": 5001, "name": "Anna again"},  # already a trainer
        {"telegram_id": 5003, "name": "Vera", "opening_hours": "nine to five"},
        {"telegram_id": 5003, "name": "Vera", "opening_hours": "08:10-12:00"},  # off the grid
        {"telegram_id": 5003, "name": ""},
        {"telegram_id": "5003", "name": "Vera"},
        {"name": "Vera"},
    ],
)
def test_a_bad_trainer_is_400(client, gym, body):
    assert_error(post(client, "/api/admin/trainers", body), 400)


@pytest.mark.parametrize(
    "change",
    [
        {"minutes": 45},  # not a multiple of the grid
        {"minutes": 0},
        {"capacity": 0},
        {"trainer_ids": [999]},  # unknown trainer
        {"trainer_ids": []},
        {"minutes": "60"},
    ],
)
def test_a_bad_kind_is_400(client, gym, change):
    body = {"name": "Group", "minutes": 60, "capacity": 3, "trainer_ids": [gym[0]["id"]], **change}
    assert_error(post(client, "/api/admin/kinds", body), 400)
    assert len(client.get("/api/kinds", headers=auth(ANNA)).json["kinds"]) == 2


def test_slots_of_a_kind_with_a_trainer(client, gym):
    anna, boris, personal = gym
    body = slots(client, f"&kind=2&trainer={boris['id']}").json
    assert (body["capacity"], body["training_minutes"]) == (1, 60)
    starts = [s["start"] for s in body["slots"]]
    assert starts[0] == "12:00" and starts[-1] == "19:30"  # Boris's hours
    assert all("trainer_ids" not in s for s in body["slots"])
    assert body["slots"][-1]["refusal"] == "after_hours"  # 19:30-20:30 runs past 20:00
    assert body["slots"][-2]["refusal"] is None


def test_slots_for_any_trainer_name_who_can_take_each_start(client, gym):
    anna, boris, personal = gym
    made = post(
        client,
        "/api/bookings",
        {"date": TOMORROW, "start": "13:00", "kind": 2, "trainer": anna["id"]},
        user=BORIS,
    )
    assert made.status_code == 201
    by_start = {s["start"]: s for s in slots(client, "&kind=2").json["slots"]}
    assert by_start["13:00"]["trainer_ids"] == [boris["id"]]
    assert by_start["14:00"]["trainer_ids"] == [anna["id"], boris["id"]]
    assert by_start["09:00"]["trainer_ids"] == [anna["id"]]  # Boris starts at 12:00
    # The default kind, any trainer: Anna gives a personal hour at 13:00, Boris is free
    default = {s["start"]: s for s in slots(client, "").json["slots"]}
    assert default["12:30"]["trainer_ids"] == [boris["id"]]


@pytest.mark.parametrize(
    "query", ["&kind=9", "&trainer=99", "&kind=abc", "&kind=-1", "&trainer=1.5"]
)
def test_slots_of_an_unknown_kind_or_trainer_are_400(client, gym, query):
    assert_error(slots(client, query), 400)


def test_booking_a_kind_answers_with_its_kind_and_trainer(client, gym):
    anna, boris, personal = gym
    wanted = {"date": TOMORROW, "start": "10:00", "kind": 2}
    made = post(client, "/api/bookings", wanted, user=ANNA)
    assert made.status_code == 201
    assert (made.json["kind"], made.json["trainer"]) == (2, anna["id"])
    assert (made.json["start"], made.json["end"]) == ("10:00", "11:00")
    # Anna is busy with her personal hour: the default kind with her is trainer_busy
    busy = post(
        client,
        "/api/bookings",
        {"date": TOMORROW, "start": "09:30", "trainer": anna["id"]},
        user=BORIS,
    )
    assert_error(busy, 409, "trainer_busy")
    # Nobody else gives a personal hour at 10:00 (Boris starts at 12:00)
    full = post(client, "/api/bookings", wanted, user=BORIS)
    assert_error(full, 409, "full")
    assert_error(post(client, "/api/bookings", {**wanted, "kind": 7}, user=BORIS), 400)


def test_the_day_a_trainer_sees_is_their_own_an_owner_sees_everyones(client, gym):
    anna, boris, personal = gym
    for user, start, trainer in ((ANNA, "10:00", anna), (BORIS, "13:00", boris)):
        body = {"date": TOMORROW, "start": start, "kind": 2, "trainer": trainer["id"]}
        assert post(client, "/api/bookings", body, user=user).status_code == 201

    def day(user, query=""):
        response = client.get(f"/api/admin/bookings?date={TOMORROW}{query}", headers=auth(user))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [(b["start"], b["trainer"], b["kind"]) for b in response.json["bookings"]]

    assert day(TRAINER) == [("10:00", anna["id"], 2), ("13:00", boris["id"], 2)]
    assert day(TRAINER, f"&trainer={boris['id']}") == [("13:00", boris["id"], 2)]
    assert day(ANNA_COACH) == [("10:00", anna["id"], 2)]
    assert day(ANNA_COACH, f"&trainer={boris['id']}") == [("10:00", anna["id"], 2)]
    assert day(BORIS_COACH) == [("13:00", boris["id"], 2)]
    assert client.get(f"/api/admin/bookings?date={TOMORROW}", headers=auth(ANNA)).status_code == 403
