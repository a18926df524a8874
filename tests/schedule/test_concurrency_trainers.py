"""Capacity per trainer holds when requests race, on a SQLite file and PostgreSQL: every booking
write runs under the schedule's write lock (schedule.db.write_transaction), so a trainer's last
place, and a trainer's one kind at a time, are never given twice."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from schedule import Booking, Settings
from schedule.db import make_engine
from schedule.kinds import add_kind, add_trainer
from schedule.services import book
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED
from tests.schedule.test_concurrency import NOW, RACERS, TOMORROW, make_users, race

ONE_PM = 13 * 60
RULES = Settings(**UNLIMITED)


@pytest.fixture
def racing_factory(database_url):
    """Sessions on an engine with a connection for every racer, so none waits for the pool."""
    engine = make_engine(database_url, pool_size=RACERS, max_overflow=2)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def gym(factory):
    with factory() as session:
        owner = Unit(session, RULES, Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna")
        boris = add_trainer(owner, 5002, "Boris")
        personal = add_kind(owner, "Personal", 60, 1, [anna.id, boris.id])
        return anna.id, boris.id, personal.id


def booker(user, **wanted):
    def job(session):
        return book(
            Unit(session, RULES, Actor.client(user), now=NOW), user, TOMORROW, ONE_PM, **wanted
        )

    return job


def held(factory) -> list[tuple]:
    with factory() as session:
        return session.execute(
            select(Booking.trainer_id, Booking.kind_id).where(Booking.status == "active")
        ).all()


def test_twenty_racers_for_any_trainer_get_one_personal_hour_each(racing_factory):
    anna, boris, personal = gym(racing_factory)
    racers = make_users(racing_factory, RACERS)

    results = race(racing_factory, [booker(user, kind=personal) for user in racers])

    outcome = Counter("booked" if isinstance(r, Booking) else r for r in results)
    assert outcome == {"booked": 2, "full": RACERS - 2}
    assert sorted(held(racing_factory)) == [(anna, personal), (boris, personal)]


def test_racers_for_two_kinds_with_one_trainer_get_one_kind(racing_factory):
    anna, boris, personal = gym(racing_factory)
    racers = make_users(racing_factory, RACERS)

    results = race(
        racing_factory,
        [
            booker(user, kind=personal if n % 2 else None, trainer=anna)
            for n, user in enumerate(racers)
        ],
    )

    rows = held(racing_factory)
    kinds = {kind for _, kind in rows}
    assert len(kinds) == 1 and {trainer for trainer, _ in rows} == {anna}
    booked = sum(isinstance(r, Booking) for r in results)
    assert booked == len(rows) == (1 if kinds == {personal} else RULES.capacity)
    refusals = Counter(r for r in results if not isinstance(r, Booking))
    assert set(refusals) <= {"full", "trainer_busy"} and refusals["trainer_busy"] >= RACERS // 2
