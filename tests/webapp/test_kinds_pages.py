"""The Mini App's kind and trainer pickers (DESIGN.md, "Trainers and kinds") through the Flask
test client: nothing new on screen with only the default kind; with several, the pickers, the
picture of the chosen kind and trainer, and a booking of it."""

from __future__ import annotations

import re

import pytest

from schedule import Booking
from schedule.kinds import add_kind, add_trainer, retire_kind
from schedule.unit import Actor, Unit
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth
from webapp.extensions import db


def html(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


@pytest.fixture
def gym(sqlite_app):
    """Anna (the studio's hours) and Boris (12:00-20:00) both give a personal hour."""
    with sqlite_app.app_context():
        session, rules = db.session(), sqlite_app.config["SCHEDULE"]
        owner = Unit(session, rules, Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna")
        boris = add_trainer(owner, 5002, "Boris", "12:00-20:00")
        personal = add_kind(owner, "Personal", 60, 1, [anna.id, boris.id])
        return anna.id, boris.id, personal.id


def starts(page: str) -> list[str]:
    return re.findall(r'data-slot-start="(\d\d:\d\d)"', page)


def test_with_only_the_default_kind_nothing_changes_on_screen(page_client):
    page = html(page_client.get(f"/app/book?date={TOMORROW}", headers=auth(ANNA)))
    assert "data-pickers" not in page and "data-kind=" not in page
    assert starts(page)[0] == "08:00"


def test_the_pickers_offer_each_kind_and_trainer(page_client, gym):
    anna, boris, personal = gym
    page = html(page_client.get(f"/app/book?date={TOMORROW}", headers=auth(ANNA)))
    assert re.findall(r'data-kind="(\d+)" aria-pressed="(\w+)"', page) == [
        ("1", "true"),
        (str(personal), "false"),
    ]
    assert re.findall(r'data-trainer="(\w+)" aria-pressed="(\w+)"', page) == [
        ("any", "true"),
        (str(anna), "false"),
        (str(boris), "false"),
    ]
    assert "Personal" in page and "60 minutes" in page


def test_a_kind_with_a_trainer_paints_their_day_and_books_it(page_client, gym, sqlite_app):
    anna, boris, personal = gym
    query = f"date={TOMORROW}&kind={personal}&trainer={boris}"
    page = html(page_client.get(f"/app/book?{query}", headers=auth(ANNA)))
    assert starts(page)[0] == "12:00"  # Boris's hours
    assert f'data-trainer="{boris}" aria-pressed="true"' in page
    # Every link of the tab keeps the kind and the trainer
    confirm = re.search(r'hx-get="(/app/confirm[^"]*)&amp;start=12:00"', page).group(1)
    assert f"kind={personal}" in confirm and f"trainer={boris}" in confirm
    strip = re.search(r'hx-get="(/app/grid[^"]*)"', page).group(1)
    assert f"kind={personal}" in strip and f"trainer={boris}" in strip
    sheet = html(
        page_client.get(confirm.replace("&amp;", "&") + "&start=12:00", headers=auth(ANNA))
    )
    assert "12:00–13:00" in sheet and f'"kind": {personal}' in sheet
    made = page_client.post(
        "/app/bookings",
        data={"date": TOMORROW, "start": "12:00", "kind": personal, "trainer": boris},
        headers=auth(ANNA),
    )
    assert made.status_code == 200, made.get_data(as_text=True)
    with sqlite_app.app_context():
        booking = db.session.query(Booking).one()
        assert (booking.kind_id, booking.trainer_id) == (personal, boris)
    # Boris's 12:00 hour is taken: for Boris it is full
    again = html(page_client.get(f"/app/grid?{query}", headers=auth(BORIS)))
    assert re.search(r'data-slot-start="12:00"[^>]*data-refusal="full"', again)


@pytest.mark.parametrize("query", ["kind=99", "trainer=77", "kind=x"])
def test_an_unknown_kind_or_trainer_is_a_400(page_client, gym, query):
    response = page_client.get(f"/app/book?date={TOMORROW}&{query}", headers=auth(ANNA))
    assert response.status_code == 400


def test_the_owners_day_filters_by_trainer(page_client, gym):
    anna, boris, personal = gym
    for user, start, trainer in ((ANNA, "10:00", anna), (BORIS, "13:00", boris)):
        made = page_client.post(
            "/app/bookings",
            data={"date": TOMORROW, "start": start, "kind": personal, "trainer": trainer},
            headers=auth(user),
        )
        assert made.status_code == 200

    def day(query=""):
        page = html(page_client.get(f"/app/admin?date={TOMORROW}{query}", headers=auth(TRAINER)))
        return page, re.findall(r'data-admin-start="(\d\d:\d\d)"', page)

    page, everyone = day()
    assert everyone == ["10:00", "13:00"]
    assert f'data-admin-trainer="{boris}" aria-pressed="false"' in page
    page, borises = day(f"&trainer={boris}")
    assert borises == ["13:00"]
    assert f'data-admin-trainer="{boris}" aria-pressed="true"' in page
    assert f"trainer={boris}" in re.search(r'data-admin-date="[^"]*" hx-get="([^"]*)"', page)[1]


def test_a_link_naming_a_kind_and_trainer_opens_their_start(page_client, gym):
    anna, boris, personal = gym
    page = html(
        page_client.get(
            "/app/link",
            query_string={"start": f"d20261126t1300k{personal}r{boris}"},
            headers=auth(ANNA),
        )
    )
    assert starts(page)[0] == "12:00"  # Boris's personal hours' day
    loader = re.search(r'data-link-start="13:00" hx-get="([^"]*)"', page)[1].replace("&amp;", "&")
    assert loader == f"/app/confirm?date={TOMORROW}&start=13:00&kind={personal}&trainer={boris}"
    sheet = html(page_client.get(loader, headers=auth(ANNA)))
    assert "13:00–14:00" in sheet


@pytest.mark.parametrize(
    "param",
    [
        "d20261126t1300k99",  # no such kind
        "d20261126t1300r99",  # no such trainer
        "d20261126t1300k{personal}r99",
        "d20261126t1300k{stretch}r{boris}",  # Boris does not give Stretch
        "d20261126t1300k{retired}",  # a kind the studio no longer has
    ],
)
def test_a_link_naming_a_kind_or_trainer_the_studio_lacks_gives_the_notice(
    page_client, gym, sqlite_app, param
):
    """As the bot answers such a /start link (tests/bot/test_bot_links.py): the schedule of the
    first bookable day with the bad-link notice, no sheet (one rule: schedule.links.in_catalog)."""
    anna, boris, personal = gym
    with sqlite_app.app_context():
        session, rules = db.session(), sqlite_app.config["SCHEDULE"]
        owner = Unit(session, rules, Actor.trainer())
        stretch = add_kind(owner, "Stretch", 60, 2, [anna])
        retired = add_kind(owner, "Yoga", 60, 2, [anna])
        retire_kind(owner, retired.id)
        session.commit()
    start = param.format(personal=personal, stretch=stretch.id, boris=boris, retired=retired.id)
    page = html(page_client.get("/app/link", query_string={"start": start}, headers=auth(ANNA)))
    assert 'data-notice="link_unreadable"' in page
    assert "This link does not lead to a training." in page
    assert "data-link-start" not in page and "data-link-refusal" not in page
    assert re.search(r'data-kind="1" aria-pressed="true"', page)  # the default kind's tab
