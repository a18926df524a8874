"""The owners' Studio screen through the Flask test client (issue 25): trainers and kinds
listed with their hooks, added, changed and removed from the screen, each remove asking first
with what it does; a trainer's own days off, for owners and for that trainer alone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from schedule.kinds import add_kind, add_trainer
from schedule.models import Closure, Kind, Trainer
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, TOMORROW, TRAINER, auth, make_user
from webapp.extensions import db

HX = {"HX-Request": "true"}
ANNA_COACH = make_user(5001)
BORIS_COACH = make_user(5002, "ru")
TRAINER_RU = {**TRAINER, "language_code": "ru"}


def html(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def get(client, path, user=TRAINER):
    return client.get(path, headers={**auth(user), **HX})


def post(client, path, data, user=TRAINER):
    return client.post(path, data=data, headers={**auth(user), **HX})


@pytest.fixture
def gym(sqlite_app):
    with sqlite_app.app_context():
        owner = Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna").id
        boris = add_trainer(owner, 5002, "Boris", "12:00-20:00").id
        personal = add_kind(owner, "Personal", 60, 1, [anna, boris]).id
    return anna, boris, personal


def test_the_screen_lists_trainers_and_kinds_with_their_hooks(page_client, gym):
    anna, boris, personal = gym
    page = html(get(page_client, "/app/admin/studio"))
    assert 'data-admin-nav="studio" ' in page and 'aria-current="page"' in page
    assert re.findall(r'data-trainer-id="(\d+)"', page) == [str(anna), str(boris)]
    assert re.findall(r'data-kind-id="(\d+)"', page) == ["1", str(personal)]
    for action in ("edit-trainer", "retire-trainer", "edit-kind", "retire-kind"):
        assert f'data-action="{action}"' in page
    assert "Hours: 12:00–20:00" in page and "Hours: studio&#39;s hours" in page
    assert "60 min · 1 at once" in page and "Given by: Anna, Boris" in page
    russian = html(get(page_client, "/app/admin/studio", user=TRAINER_RU))
    assert "Студия" in russian and "Виды тренировок" in russian and "60 мин · мест: 1" in russian


def test_a_trainers_own_hours_read_in_the_viewers_language(page_client, sqlite_app):
    """The card reads runs of weekdays alike, in the viewer's language; the edit form keeps
    the written form that OPENING_HOURS takes."""
    written = "mon-fri 07:00-12:00; sat 10:00-14:00"
    with sqlite_app.app_context():
        owner = Unit(db.session(), sqlite_app.config["SCHEDULE"], Actor.trainer())
        vera = add_trainer(owner, 5003, "Vera", written).id
    english = html(get(page_client, "/app/admin/studio"))
    assert "Hours: Mon–Fri 07:00–12:00 · Sat 10:00–14:00 · Sun closed" in english
    russian = html(get(page_client, "/app/admin/studio", user=TRAINER_RU))
    assert "Пн–Пт 07:00–12:00 · Сб 10:00–14:00 · Вс закрыто" in russian
    form = html(get(page_client, f"/app/admin/studio/trainers/{vera}?mode=edit"))
    assert 'value="mon 07:00-12:00; tue 07:00-12:00' in form


def test_without_trainers_it_says_so(page_client):
    page = html(get(page_client, "/app/admin/studio"))
    assert "No trainers yet" in page and "Add a trainer first" in page
    assert 'data-studio-add="kind"' not in page


def test_an_owner_adds_edits_and_removes_a_kind(page_client, gym, sqlite_app):
    anna, boris, personal = gym
    added = html(
        post(
            page_client,
            "/app/admin/studio/kinds",
            {"name": "Stretching", "minutes": "60", "capacity": "5", "trainer_ids": [str(anna)]},
        )
    )
    assert "Added: Stretching." in added
    with sqlite_app.app_context():
        kind = db.session.scalar(select(Kind).where(Kind.name == "Stretching"))
        kind_id = kind.id
    form = html(get(page_client, f"/app/admin/studio/kinds/{kind_id}?mode=edit"))
    assert 'data-action="save-kind"' in form and 'value="Stretching"' in form
    assert re.search(rf'value="{anna}" checked', form)
    saved = html(
        post(
            page_client,
            f"/app/admin/studio/kinds/{kind_id}",
            {"name": "Stretch", "minutes": "90", "capacity": "8", "trainer_ids": [str(boris)]},
        )
    )
    assert "Saved: Stretch." in saved and "90 min · 8 at once" in saved
    sheet = html(get(page_client, f"/app/admin/studio/kinds/{kind_id}?mode=retire"))
    assert 'data-action="confirm"' in sheet and "Clients can no longer book it" in sheet
    assert "clients waiting for it are taken off the waitlist and told" in sheet
    removed = html(post(page_client, f"/app/admin/studio/kinds/{kind_id}/retire", {}))
    assert "is removed" in removed and f'data-kind-id="{kind_id}"' not in removed
    with sqlite_app.app_context():
        assert db.session.get(Kind, kind_id).retired_at is not None


@pytest.mark.parametrize(
    "form",
    [
        {"name": "X", "minutes": "45", "capacity": "1"},
        {"name": "X", "minutes": "sixty", "capacity": "1"},
        {"name": "X", "minutes": "60", "capacity": "0"},
        {"name": "X", "minutes": "60", "capacity": "²"},
        {"name": "", "minutes": "60", "capacity": "1"},
        {"name": "X", "minutes": "60", "capacity": "1", "no_trainer": "1"},
        {"name": "X", "minutes": "60", "capacity": "1", "trainer_ids": "abc"},
        {"name": "X", "minutes": "60", "capacity": "1", "trainer_ids": "999"},
        {},
    ],
)
def test_a_bad_kind_form_is_refused_in_place(page_client, gym, form):
    anna = gym[0]
    if "trainer_ids" not in form and "no_trainer" not in form and form:
        form = {**form, "trainer_ids": str(anna)}
    page = html(post(page_client, "/app/admin/studio/kinds", form), 400)
    assert 'class="notice error"' in page and 'data-studio-add="kind" open' in page


def test_a_kind_with_bookings_to_come_cannot_shrink_or_go(page_client, gym, sqlite_app):
    anna, boris, personal = gym
    made = page_client.post(
        "/api/bookings",
        json={"date": TOMORROW, "start": "13:00", "kind": personal, "trainer": boris},
        headers=auth(ANNA),
    )
    assert made.status_code == 201
    refused = html(post(page_client, f"/app/admin/studio/kinds/{personal}/retire", {}), 409)
    assert "1 booking to come" in refused
    form = {"name": "Personal", "minutes": "90", "capacity": "1", "trainer_ids": [str(anna)]}
    assert "1 booking" in html(post(page_client, f"/app/admin/studio/kinds/{personal}", form), 409)
    gone = html(post(page_client, f"/app/admin/studio/trainers/{boris}/retire", {}), 409)
    assert "Boris still has 1 booking to come" in gone


def test_an_owner_adds_edits_and_removes_a_trainer(page_client, gym, sqlite_app):
    anna, boris, personal = gym
    bad = post(page_client, "/app/admin/studio/trainers", {"telegram_id": "x", "name": "Vera"})
    assert 'data-studio-add="trainer" open' in html(bad, 400)
    added = html(
        post(
            page_client,
            "/app/admin/studio/trainers",
            {"telegram_id": "5003", "name": "Vera", "opening_hours": "10:00-16:00"},
        )
    )
    assert "Vera is a trainer now." in added and "10:00–16:00" in added
    with sqlite_app.app_context():
        vera = db.session.scalar(select(Trainer.id).where(Trainer.telegram_id == 5003))
    form = html(get(page_client, f"/app/admin/studio/trainers/{vera}?mode=edit"))
    assert 'value="10:00-16:00"' in form
    saved = html(
        post(
            page_client,
            f"/app/admin/studio/trainers/{vera}",
            {"name": "Vera P.", "opening_hours": ""},
        )
    )
    assert "Saved: Vera P." in saved
    sheet = html(get(page_client, f"/app/admin/studio/trainers/{vera}?mode=retire"))
    assert "Remove Vera P.?" in sheet and 'data-action="confirm"' in sheet
    assert "taken off the waitlist and told" in sheet
    removed = html(post(page_client, f"/app/admin/studio/trainers/{vera}/retire", {}))
    assert f'data-trainer-id="{vera}"' not in removed
    alone = html(post(page_client, f"/app/admin/studio/trainers/{anna}/retire", {}), 200)
    assert "Anna is removed" in alone  # Boris still gives the personal hour


def test_the_screen_is_the_owners(page_client, gym):
    anna, boris, personal = gym
    for user in (ANNA, ANNA_COACH):
        assert get(page_client, "/app/admin/studio", user=user).status_code == 403
        response = post(page_client, f"/app/admin/studio/kinds/{personal}/retire", {}, user=user)
        assert response.status_code == 403


def test_a_trainer_manages_their_own_days_off(page_client, gym, sqlite_app):
    anna, boris, personal = gym
    day = html(get(page_client, "/app/admin", user=ANNA_COACH))
    assert 'data-action="trainer-days-off"' in day and "My days off" in day
    path = f"/app/admin/studio/trainers/{anna}/closures"
    screen = html(get(page_client, path, user=ANNA_COACH))
    assert 'data-action="add-trainer-closure"' in screen and "No days off ahead." in screen
    closed = html(post(page_client, path, {"date": TOMORROW, "reason": "Seminar"}, ANNA_COACH))
    assert "Closed: " in closed and "Seminar" in closed
    with sqlite_app.app_context():
        closure = db.session.scalar(select(Closure))
        assert closure.trainer_id == anna
        closure_id = closure.id
    # her Day shows it; Boris's screen and acts are not hers
    tomorrow = html(get(page_client, f"/app/admin?date={TOMORROW}", user=ANNA_COACH))
    assert f'data-closure-id="{closure_id}"' in tomorrow
    assert get(page_client, path, user=BORIS_COACH).status_code == 403
    other = f"/app/admin/studio/trainers/{boris}/closures"
    assert get(page_client, other, user=ANNA_COACH).status_code == 403
    past = html(post(page_client, path, {"date": "2026-11-24"}, ANNA_COACH), 400)
    assert 'class="notice error"' in past
    # an owner sees it too, and the studio's own Hours do not list it
    assert "Seminar" in html(get(page_client, path))
    assert f'data-closure-id="{closure_id}"' not in html(get(page_client, "/app/admin/hours"))
    reopened = page_client.delete(f"{path}/{closure_id}", headers={**auth(ANNA_COACH), **HX})
    assert "Reopened." in html(reopened)


def test_a_trainers_day_off_over_their_bookings_asks_first(page_client, gym, sqlite_app):
    anna, boris, personal = gym
    made = page_client.post(
        "/api/bookings",
        json={"date": TOMORROW, "start": "10:00", "kind": personal, "trainer": anna},
        headers=auth(ANNA),
    )
    assert made.status_code == 201
    path = f"/app/admin/studio/trainers/{anna}/closures"
    sheet = html(post(page_client, path, {"date": TOMORROW}, ANNA_COACH), 409)
    assert f'data-conflict-booking-id="{made.json["id"]}"' in sheet
    done = html(
        post(
            page_client,
            path,
            {"date": TOMORROW, "cancel_bookings": "1", "reason": "Ill"},
            ANNA_COACH,
        )
    )
    assert "Closed: " in done
