"""Changing and removing trainers and kinds, and a trainer's own closures, over the JSON API
(DESIGN.md, "Trainers and kinds"; issue 25), on SQLite and PostgreSQL: each route's success and
every failure it answers, and never a 500 on garbage."""

from __future__ import annotations

import pytest

from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, make_user

ANNA_COACH = make_user(5001)  # trainers added through the API
BORIS_COACH = make_user(5002)


def call(client, method, path, body=None, user=TRAINER):
    return client.open(path, method=method, json=body, headers=auth(user))


def assert_error(response, status: int, code: str = "invalid") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert {"error", "message"} <= set(response.json) and response.json["message"]
    assert response.json["error"] == code


@pytest.fixture
def gym(client):
    """Anna and Boris (12:00-20:00); a personal hour both give; a group only Anna gives."""
    anna = call(client, "POST", "/api/admin/trainers", {"telegram_id": 5001, "name": "Anna"})
    boris = call(
        client,
        "POST",
        "/api/admin/trainers",
        {"telegram_id": 5002, "name": "Boris", "opening_hours": "12:00-20:00"},
    )
    ids = [anna.json["id"], boris.json["id"]]
    personal = call(
        client,
        "POST",
        "/api/admin/kinds",
        {"name": "Personal", "minutes": 60, "capacity": 1, "trainer_ids": ids},
    )
    group = call(
        client,
        "POST",
        "/api/admin/kinds",
        {"name": "Group", "minutes": 60, "capacity": 3, "trainer_ids": ids[:1]},
    )
    assert {r.status_code for r in (anna, boris, personal, group)} == {201}
    return anna.json, boris.json, personal.json, group.json


def book(client, start, kind, trainer, user=ANNA):
    body = {"date": TOMORROW, "start": start, "kind": kind, "trainer": trainer}
    made = call(client, "POST", "/api/bookings", body, user=user)
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.json


def listed(client, what):
    return client.get(f"/api/{what}", headers=auth(ANNA)).json[what]


# --- trainers --------------------------------------------------------------------------------


def test_an_owner_renames_a_trainer_and_changes_their_hours(client, gym):
    anna, boris, _, _ = gym
    edited = call(client, "PATCH", f"/api/admin/trainers/{anna['id']}", {"name": "Anna K."})
    assert edited.status_code == 200
    assert edited.json == {**anna, "name": "Anna K.", "retired": False, "outside_hours": []}
    hours = call(
        client, "PATCH", f"/api/admin/trainers/{anna['id']}", {"opening_hours": "10:00-14:00"}
    )
    assert hours.json["opening_hours"] == "10:00-14:00" and hours.json["name"] == "Anna K."
    body = client.get(f"/api/slots?date={TOMORROW}&trainer={anna['id']}", headers=auth(BORIS))
    assert body.json["slots"][0]["start"] == "10:00"
    studio = call(client, "PATCH", f"/api/admin/trainers/{anna['id']}", {"opening_hours": None})
    assert studio.json["opening_hours"] == "08:00-18:00"  # back to the studio's
    assert {"id": anna["id"], "name": "Anna K."} in listed(client, "trainers")


def test_new_hours_keep_bookings_outside_them_and_list_them(client, gym):
    anna, _, personal, _ = gym
    made = book(client, "09:00", personal["id"], anna["id"])
    edited = call(
        client, "PATCH", f"/api/admin/trainers/{anna['id']}", {"opening_hours": "12:00-18:00"}
    )
    assert edited.status_code == 200
    assert [b["id"] for b in edited.json["outside_hours"]] == [made["id"]]
    mine = client.get("/api/bookings", headers=auth(ANNA)).json["bookings"]
    assert [b["status"] for b in mine] == ["active"]  # kept, for the owner to settle


def test_a_removed_trainer_is_not_booked_again(client, gym):
    anna, boris, personal, group = gym
    gone = call(client, "DELETE", f"/api/admin/trainers/{boris['id']}")
    assert gone.status_code == 200
    assert gone.json == {**boris, "retired": True}
    assert listed(client, "trainers") == [{"id": anna["id"], "name": "Anna"}]
    assert [k["trainer_ids"] for k in listed(client, "kinds")] == [[anna["id"]]] * 3
    wanted = {"date": TOMORROW, "start": "13:00", "kind": 2, "trainer": boris["id"]}
    assert_error(call(client, "POST", "/api/bookings", wanted, user=ANNA), 400)
    # twice, or changed afterwards: not found
    assert_error(call(client, "DELETE", f"/api/admin/trainers/{boris['id']}"), 404, "not_found")
    patch = call(client, "PATCH", f"/api/admin/trainers/{boris['id']}", {"name": "B"})
    assert_error(patch, 404, "not_found")
    # added again: back, with their old id
    again = call(client, "POST", "/api/admin/trainers", {"telegram_id": 5002, "name": "Boris"})
    assert again.status_code == 201 and again.json["id"] == boris["id"]


def test_a_trainer_with_bookings_to_come_or_alone_on_a_kind_stays(client, gym):
    anna, boris, personal, group = gym
    book(client, "13:00", personal["id"], boris["id"])
    refused = call(client, "DELETE", f"/api/admin/trainers/{boris['id']}")
    assert_error(refused, 409, "trainer_has_bookings")
    assert "1 booking" in refused.json["message"]
    alone = call(client, "DELETE", f"/api/admin/trainers/{anna['id']}")
    assert_error(alone, 409, "trainer_only_one")
    assert "Group" in alone.json["message"]
    assert len(listed(client, "trainers")) == 2


# --- kinds -----------------------------------------------------------------------------------


def test_an_owner_changes_a_kind(client, gym):
    anna, boris, personal, group = gym
    changed = call(
        client,
        "PATCH",
        f"/api/admin/kinds/{group['id']}",
        {"name": "Big group", "minutes": 120, "capacity": 6, "trainer_ids": [boris["id"]]},
    )
    assert changed.status_code == 200
    assert changed.json == {
        "id": group["id"],
        "name": "Big group",
        "minutes": 120,
        "capacity": 6,
        "trainer_ids": [boris["id"]],
        "retired": False,
    }
    assert listed(client, "kinds")[2] == {k: v for k, v in changed.json.items() if k != "retired"}
    only_name = call(client, "PATCH", f"/api/admin/kinds/{group['id']}", {"name": "G"})
    assert only_name.json["minutes"] == 120 and only_name.json["trainer_ids"] == [boris["id"]]


def test_a_kind_with_bookings_to_come_keeps_what_they_rely_on(client, gym):
    anna, boris, personal, group = gym
    book(client, "10:00", group["id"], anna["id"])
    book(client, "11:00", group["id"], anna["id"], user=BORIS)
    path = f"/api/admin/kinds/{group['id']}"
    for change in ({"minutes": 90}, {"capacity": 1}, {"trainer_ids": [boris["id"]]}):
        refused = call(client, "PATCH", path, change)
        assert_error(refused, 409, "kind_has_bookings")
        assert "2 bookings" in refused.json["message"]
    gone = call(client, "DELETE", path)
    assert_error(gone, 409, "kind_has_bookings")
    assert "2 bookings" in gone.json["message"]
    # what changes no booking goes through: a name, more places, another trainer besides
    fine = call(
        client,
        "PATCH",
        path,
        {"name": "Group+", "capacity": 5, "trainer_ids": [anna["id"], boris["id"]]},
    )
    assert fine.status_code == 200 and fine.json["capacity"] == 5
    assert listed(client, "kinds")[2]["name"] == "Group+"


def test_a_removed_kind_is_not_booked_again(client, gym):
    anna, boris, personal, group = gym
    gone = call(client, "DELETE", f"/api/admin/kinds/{personal['id']}")
    assert gone.status_code == 200
    assert gone.json == {**personal, "retired": True}
    assert [k["id"] for k in listed(client, "kinds")] == [1, group["id"]]
    wanted = {"date": TOMORROW, "start": "13:00", "kind": personal["id"]}
    assert_error(call(client, "POST", "/api/bookings", wanted, user=ANNA), 400)
    assert_error(call(client, "DELETE", f"/api/admin/kinds/{personal['id']}"), 404, "not_found")


def test_the_default_kind_is_no_row_to_change(client, gym):
    assert_error(call(client, "PATCH", "/api/admin/kinds/1", {"name": "X"}), 400)
    assert_error(call(client, "DELETE", "/api/admin/kinds/1"), 400)


@pytest.mark.parametrize(
    "change",
    [
        {"minutes": 45},
        {"minutes": 0},
        {"minutes": "60"},
        {"capacity": 0},
        {"capacity": 100000},
        {"capacity": True},
        {"trainer_ids": []},
        {"trainer_ids": [999]},
        {"trainer_ids": "1"},
        {"name": ""},
        {"name": "   "},
        {"name": 5},
        [],
        "garbage",
    ],
)
def test_a_bad_change_of_a_kind_is_400(client, gym, change):
    group = gym[3]
    assert_error(call(client, "PATCH", f"/api/admin/kinds/{group['id']}", change), 400)
    assert listed(client, "kinds")[2]["name"] == "Group"


@pytest.mark.parametrize(
    "change",
    [{"opening_hours": "nine to five"}, {"opening_hours": "closed"}, {"name": ""}, {"name": 1}],
)
def test_a_bad_change_of_a_trainer_is_400(client, gym, change):
    anna = gym[0]
    assert_error(call(client, "PATCH", f"/api/admin/trainers/{anna['id']}", change), 400)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("what", ["trainers", "kinds"])
@pytest.mark.parametrize("wanted", ["99", "0", "99999999999"])
def test_an_unknown_trainer_or_kind_is_404(client, gym, method, what, wanted):
    response = call(client, method, f"/api/admin/{what}/{wanted}", {"name": "X"})
    assert response.status_code == 404, response.get_data(as_text=True)


@pytest.mark.parametrize("user", [ANNA, ANNA_COACH])
def test_only_owners_change_or_remove_trainers_and_kinds(client, gym, user):
    anna, boris, personal, group = gym
    for method, path, body in (
        ("PATCH", f"/api/admin/trainers/{anna['id']}", {"name": "X"}),
        ("DELETE", f"/api/admin/trainers/{boris['id']}", None),
        ("PATCH", f"/api/admin/kinds/{group['id']}", {"name": "X"}),
        ("DELETE", f"/api/admin/kinds/{personal['id']}", None),
    ):
        assert_error(call(client, method, path, body, user=user), 403, "forbidden")
    assert len(listed(client, "kinds")) == 3 and len(listed(client, "trainers")) == 2


# --- a trainer's own closures ----------------------------------------------------------------


def test_a_trainer_closes_their_own_day_and_reopens_it(client, gym):
    anna, boris, personal, group = gym
    path = f"/api/admin/trainers/{anna['id']}/closures"
    added = call(client, "POST", path, {"date": TOMORROW, "reason": "Seminar"}, user=ANNA_COACH)
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.json["trainer_id"] == anna["id"] and added.json["whole_day"]
    assert added.json["cancelled"] == []
    listed_ = call(client, "GET", path, user=TRAINER).json["closures"]
    assert [c["id"] for c in listed_] == [added.json["id"]]
    # the studio's own closures do not list it; Anna is closed, Boris is not
    assert call(client, "GET", "/api/admin/closures").json["closures"] == []
    anna_day = client.get(f"/api/slots?date={TOMORROW}&trainer={anna['id']}", headers=auth(BORIS))
    assert {s["refusal"] for s in anna_day.json["slots"]} == {"closed"}
    boris_day = client.get(f"/api/slots?date={TOMORROW}&trainer={boris['id']}", headers=auth(BORIS))
    assert "closed" not in {s["refusal"] for s in boris_day.json["slots"]}
    removed = call(client, "DELETE", f"{path}/{added.json['id']}", user=ANNA_COACH)
    assert removed.status_code == 200 and removed.json["id"] == added.json["id"]
    assert call(client, "GET", path).json["closures"] == []


def test_a_trainers_closure_over_their_bookings_asks_first(client, gym):
    anna, boris, personal, group = gym
    made = book(client, "10:00", personal["id"], anna["id"])
    book(client, "13:00", personal["id"], boris["id"], user=BORIS)  # Boris's: not inside
    path = f"/api/admin/trainers/{anna['id']}/closures"
    wanted = {"date": TOMORROW, "start": "09:00", "end": "14:00"}
    refused = call(client, "POST", path, wanted)
    assert_error(refused, 409, "has_bookings")
    assert [b["id"] for b in refused.json["bookings"]] == [made["id"]]
    no_reason = call(client, "POST", path, {**wanted, "cancel_bookings": True})
    assert no_reason.status_code == 400
    done = call(client, "POST", path, {**wanted, "cancel_bookings": True, "reason": "Ill"})
    assert done.status_code == 201
    assert [b["id"] for b in done.json["cancelled"]] == [made["id"]]


def test_a_trainers_closures_are_theirs_and_the_owners(client, gym):
    anna, boris, personal, group = gym
    path = f"/api/admin/trainers/{anna['id']}/closures"
    mine = call(client, "POST", path, {"date": TOMORROW}, user=ANNA_COACH).json
    for user in (BORIS_COACH, ANNA):  # another trainer, a client
        assert call(client, "POST", path, {"date": TOMORROW}, user=user).status_code == 403
        assert call(client, "GET", path, user=user).status_code == 403
        assert call(client, "DELETE", f"{path}/{mine['id']}", user=user).status_code == 403
    # Boris cannot reach Anna's closure through his own path either
    other = f"/api/admin/trainers/{boris['id']}/closures/{mine['id']}"
    assert_error(call(client, "DELETE", other, user=BORIS_COACH), 404, "not_found")
    assert_error(call(client, "DELETE", f"{path}/999"), 404, "not_found")
    assert_error(call(client, "GET", "/api/admin/trainers/99/closures"), 404, "not_found")
    assert call(client, "DELETE", f"{path}/{mine['id']}").status_code == 200  # an owner


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2026-11-24"},  # yesterday
        {"date": "tomorrow"},
        {"date": TOMORROW, "start": "12:00"},
        {"date": TOMORROW, "start": "14:00", "end": "12:00"},
        {"date": TOMORROW, "start": "9am", "end": "12:00"},
        {"date": TOMORROW, "cancel_bookings": "yes"},
        {},
        [],
        "garbage",
    ],
)
def test_a_bad_trainer_closure_is_400(client, gym, body):
    path = f"/api/admin/trainers/{gym[0]['id']}/closures"
    response = call(client, "POST", path, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert call(client, "GET", path).json["closures"] == []


def test_the_contract_lists_the_new_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"patch", "delete"} <= set(paths["/api/admin/trainers/{trainer_id}"])
    assert {"patch", "delete"} <= set(paths["/api/admin/kinds/{kind_id}"])
    assert {"get", "post"} <= set(paths["/api/admin/trainers/{trainer_id}/closures"])
    assert "delete" in paths["/api/admin/trainers/{trainer_id}/closures/{closure_id}"]
