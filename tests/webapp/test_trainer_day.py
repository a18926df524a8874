"""A trainer added through the API in the Mini App's trainer tab (DESIGN.md, "Trainers and
kinds": an owner manages every trainer's day, a trainer their own): the tab in the nav, their
own Day only, their own bookings cancelled and marked, and a 403 from the server for another
trainer's booking and for every screen and act that stays the owners'."""

from __future__ import annotations

import re

import pytest

from schedule import Booking
from schedule.kinds import add_kind, add_trainer
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, make_user
from webapp.extensions import db

HX = {"HX-Request": "true"}
ANNA_COACH = make_user(5001)  # a trainer added through the API
BORIS_COACH = make_user(5002, "ru")


@pytest.fixture
def gym(page_client, sqlite_app):
    """Coaches Anna and Boris give a personal hour; the client Anna books 10:00 with coach
    Anna, the client Boris 13:00 with coach Boris. Gives the two bookings' ids."""
    with sqlite_app.app_context():
        session, rules = db.session(), sqlite_app.config["SCHEDULE"]
        owner = Unit(session, rules, Actor.trainer())
        anna = add_trainer(owner, ANNA_COACH["id"], "Coach Anna")
        boris = add_trainer(owner, BORIS_COACH["id"], "Coach Boris")
        personal = add_kind(owner, "Personal", 60, 1, [anna.id, boris.id])
        trainers = anna.id, boris.id
    made = []
    for user, start, trainer in ((ANNA, "10:00", trainers[0]), (BORIS, "13:00", trainers[1])):
        body = {"date": TOMORROW, "start": start, "kind": personal.id, "trainer": trainer}
        response = page_client.post("/api/bookings", json=body, headers=auth(user))
        assert response.status_code == 201, response.get_data(as_text=True)
        made.append(response.json["id"])
    return tuple(made)


def page(client, path: str, user: dict, status: int = 200) -> str:
    response = client.get(path, headers={**auth(user), **HX})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def day_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-admin-booking-id="(\d+)"', html)]


def status_of(app, booking_id: int) -> str:
    with app.app_context():
        return db.session.get(Booking, booking_id).status


def test_a_trainer_has_the_tab_and_sees_their_own_day_only(page_client, gym):
    annas, boriss = gym
    assert 'data-nav="admin"' in page(page_client, "/app/my", ANNA_COACH)
    assert 'data-nav="admin"' not in page(page_client, "/app/my", ANNA)  # a client has none

    day = page(page_client, f"/app/admin?date={TOMORROW}", ANNA_COACH)
    assert day_ids(day) == [annas]
    assert 'data-nav="admin" ' in day and 'aria-current="page">' in day
    # The trainer filter is fixed to them: no chips, and asking for another's day is theirs
    assert "data-admin-trainer" not in day
    assert day_ids(page(page_client, f"/app/admin?date={TOMORROW}&trainer=2", ANNA_COACH)) == [
        annas
    ]
    assert day_ids(page(page_client, f"/app/admin?date={TOMORROW}", BORIS_COACH)) == [boriss]
    # Their Day and Week are offered; the owners' sections and tools are not, nor the client card
    assert re.findall(r'data-admin-nav="(\w+)"', day) == ["day", "week"]
    for owners in ('data-admin-nav="hours"', "data-admin-action", "data-client-id"):
        assert owners not in day, owners
    assert 'data-action="cancel"' in day
    # Landing on the tab without a date opens the day of their next training
    assert day_ids(page(page_client, "/app/admin", ANNA_COACH)) == [annas]


def test_an_owner_is_unchanged(page_client, gym):
    annas, boriss = gym
    assert 'data-nav="admin"' in page(page_client, "/app/my", TRAINER)
    day = page(page_client, f"/app/admin?date={TOMORROW}", TRAINER)
    assert day_ids(day) == [annas, boriss]
    assert day.count("data-admin-trainer=") == 3  # everyone, Anna, Boris
    for owners in ('data-admin-nav="hours"', 'data-admin-action="book"', "data-client-id"):
        assert owners in day, owners
    assert day_ids(page(page_client, f"/app/admin?date={TOMORROW}&trainer=2", TRAINER)) == [boriss]
    sheet = page(page_client, f"/app/admin/bookings/{annas}/cancel", TRAINER)
    assert "data-sheet" in sheet


def test_a_trainer_cancels_their_own_booking_with_a_reason(page_client, gym, sqlite_app):
    annas, boriss = gym
    sheet = page(page_client, f"/app/admin/bookings/{annas}/cancel", ANNA_COACH)
    assert "data-sheet" in sheet and 'name="reason"' in sheet
    done = page_client.post(
        f"/app/admin/bookings/{annas}/cancel",
        data={"reason": "I am ill"},
        headers={**auth(ANNA_COACH), **HX},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert day_ids(done.get_data(as_text=True)) == []
    assert status_of(sqlite_app, annas) == "cancelled"
    assert status_of(sqlite_app, boriss) == "active"


def test_another_trainers_booking_is_refused_by_the_server(page_client, gym, sqlite_app, clock):
    annas, boriss = gym
    page(page_client, f"/app/admin/bookings/{boriss}/cancel", ANNA_COACH, status=403)
    refused = page_client.post(
        f"/app/admin/bookings/{boriss}/cancel",
        data={"reason": "not mine"},
        headers={**auth(ANNA_COACH), **HX},
    )
    assert refused.status_code == 403
    assert status_of(sqlite_app, boriss) == "active"

    clock.advance(days=1, hours=8, minutes=5)  # both trainings have started
    day = page(page_client, f"/app/admin?date={TOMORROW}", ANNA_COACH)
    tap = re.search(r'data-action="attended" hx-post="([^"]+)"', day)
    assert tap and f"/{annas}/" in tap.group(1), day
    marked = page_client.post(tap.group(1), headers={**auth(ANNA_COACH), **HX})
    assert marked.status_code == 200, marked.get_data(as_text=True)
    assert 'data-attendance="attended"' in marked.get_data(as_text=True)
    other = tap.group(1).replace(f"/{annas}/", f"/{boriss}/")
    assert page_client.post(other, headers={**auth(ANNA_COACH), **HX}).status_code == 403
    api = page_client.post(
        f"/api/admin/bookings/{boriss}/attendance",
        json={"status": "no_show"},
        headers=auth(ANNA_COACH),
    )
    assert api.status_code == 403 and api.json["error"] == "forbidden"
    mine = page_client.post(
        f"/api/admin/bookings/{annas}/attendance",
        json={"status": "no_show"},
        headers=auth(ANNA_COACH),
    )
    assert mine.status_code == 200 and mine.json["attendance"] == "no_show"
    with sqlite_app.app_context():
        assert db.session.get(Booking, boriss).attendance is None
    # The owner still marks anyone's
    owner = page_client.post(
        f"/api/admin/bookings/{boriss}/attendance",
        json={"status": "attended"},
        headers=auth(TRAINER),
    )
    assert owner.status_code == 200


# What a trainer may use: their Day, its cancel (in the app and as JSON) and attendance (their
# own bookings: checked above), the share link of a start, and their day as JSON. Everything
# else is the owners'.
TRAINERS_ROUTES = {
    "pages.admin_tab",
    "admin.week",  # their own week (tested below)
    "admin.confirm_cancel",
    "admin.cancel",
    "admin_api.cancel",
    "pass_pages.mark_in_day",
    "passes.mark",
    "links.share",
    "api.admin_bookings",
    "admin.download",  # a signed link, no init data: it checks ADMIN_IDS itself
    # their own closures (another trainer's: 403, tests/webapp/test_studio_api.py)
    "trainers.trainer_closures",
    "trainers.add_trainer_closure",
    "trainers.remove_trainer_closure",
    "studio.trainer_days_off",
    "studio.add_trainer_closure",
    "studio.remove_trainer_closure",
}


def admin_routes(app) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/admin/", "/app/admin")):
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


def test_every_owners_route_answers_403_to_a_trainer(page_client, gym, sqlite_app):
    routes = admin_routes(sqlite_app)
    assert len(routes) > 40
    assert {endpoint for endpoint, _, _ in routes} >= TRAINERS_ROUTES
    for endpoint, method, path in routes:
        if endpoint in TRAINERS_ROUTES:
            continue
        for headers in (auth(ANNA_COACH), {**auth(ANNA_COACH), **HX}):
            response = page_client.open(path, method=method, headers=headers, json={})
            assert response.status_code == 403, (endpoint, method, path, response.status_code)
    # Nothing changed behind the refusals
    assert status_of(sqlite_app, gym[0]) == "active"


def test_a_trainer_cancels_their_own_booking_over_the_json_api_and_no_other(page_client, gym):
    annas, boriss = gym
    path = "/api/admin/bookings/{}/cancel"
    body = {"reason": "Ill today"}
    other = page_client.post(path.format(boriss), json=body, headers=auth(ANNA_COACH))
    assert other.status_code == 403 and other.json["error"] == "forbidden"
    assert status_of(page_client.application, boriss) == "active"
    own = page_client.post(path.format(annas), json=body, headers=auth(ANNA_COACH))
    assert own.status_code == 200 and own.json["status"] == "cancelled"


def test_a_trainer_opening_the_app_lands_on_their_day(page_client, gym):
    annas, boriss = gym
    first = page_client.get("/app/book", headers={**auth(ANNA_COACH), **HX, "HX-Trigger": "app"})
    assert day_ids(first.get_data(as_text=True)) == [annas]
    client = page_client.get("/app/book", headers={**auth(ANNA), **HX, "HX-Trigger": "app"})
    assert day_ids(client.get_data(as_text=True)) == []
    assert "data-slot-start" in client.get_data(as_text=True)


def start_heads(html: str) -> list[tuple[str, str, str, str]]:
    """Each training on the Day: (start, end, places, its head's text without tags)."""
    found = re.findall(
        r'data-admin-start="([^"]+)" data-places="([^"]*)"[^>]*data-admin-end="([^"]+)" '
        r'data-admin-kind="\d+">\s*<div class="start-head">(.*?)</div>',
        html,
        re.S,
    )
    return [(s, e, p, re.sub(r"<[^>]+>", "", head)) for s, p, e, head in found]


def test_each_training_on_the_day_has_its_own_kinds_end_and_places(page_client, gym):
    """A personal hour (60 minutes, one visitor) shows 10:00-11:00 and full, not the default
    kind's 90 minutes and four places; a group training at the same time with the other
    trainer is a line of its own (the default kind first), with the default kind's end and
    places."""
    body = {"date": TOMORROW, "start": "10:00", "trainer": 2}
    made = page_client.post("/api/bookings", json=body, headers=auth(make_user(3001)))
    assert made.status_code == 201, made.get_data(as_text=True)
    day = page(page_client, f"/app/admin?date={TOMORROW}", TRAINER)
    assert start_heads(day) == [
        ("10:00", "11:30", "3", "10:00–11:30 Training · Coach Boris1 booked · 3 places left"),
        ("10:00", "11:00", "0", "10:00–11:00 Personal · Coach Anna1 booked · full"),
        ("13:00", "14:00", "0", "13:00–14:00 Personal · Coach Boris1 booked · full"),
    ]
    # Coach Anna's own Day: her hour, without her name on it
    assert start_heads(page(page_client, f"/app/admin?date={TOMORROW}", ANNA_COACH)) == [
        ("10:00", "11:00", "0", "10:00–11:00 Personal1 booked · full"),
    ]


def heat(html: str) -> dict[str, int]:
    """The week's cells of TOMORROW: start -> visitors there."""
    found = re.findall(rf'data-heat-cell="{TOMORROW} (\d\d:\d\d)" data-booked="(\d+)"', html)
    return {start: int(booked) for start, booked in found}


def test_a_trainer_sees_their_own_week_and_an_owner_filters_it(page_client, gym):
    week = f"/app/admin/week?from={TOMORROW}"
    annas = page(page_client, week, ANNA_COACH)
    assert (heat(annas)["10:00"], heat(annas)["13:00"]) == (1, 0)
    assert re.findall(r'data-admin-nav="(\w+)"', annas) == ["day", "week"]
    assert 'data-admin-nav="week" hx-get="/app/admin/week" aria-current="page"' in annas
    assert "data-admin-trainer" not in annas  # no filter: the week is theirs
    # Asking for another trainer's week gives their own, as the Day does
    assert heat(page(page_client, f"{week}&trainer=2", ANNA_COACH)) == heat(annas)
    boriss = page(page_client, week, BORIS_COACH)
    assert (heat(boriss)["10:00"], heat(boriss)["13:00"]) == (0, 1)
    # Their links keep to their own Day, with no trainer in them
    assert f'hx-get="/app/admin?date={TOMORROW}&amp;at=10:00"' in annas
    # The owner: everyone's, filtered by the same chips as the Day
    studio = page(page_client, week, TRAINER)
    assert (heat(studio)["10:00"], heat(studio)["13:00"]) == (1, 1)
    assert studio.count("data-admin-trainer=") == 3
    only_boris = page(page_client, f"{week}&trainer=2", TRAINER)
    assert (heat(only_boris)["10:00"], heat(only_boris)["13:00"]) == (0, 1)
    assert 'data-admin-trainer="2" aria-pressed="true"' in only_boris
    assert "trainer=2" in re.search(r'data-admin-week="next" hx-get="([^"]+)"', only_boris)[1]
    # A client has no week
    page(page_client, week, ANNA, status=403)
