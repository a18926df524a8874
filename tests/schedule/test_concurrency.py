"""Capacity holds when requests race: threads and processes, on a SQLite file and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schedule import Booking, ScheduleError, Settings, User
from schedule.db import make_engine
from schedule.services import book, reschedule, upsert_user
from schedule.unit import Actor, Unit
from tests.conftest import forked

NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
TOMORROW = date(2026, 11, 26)
TEN, TWO = 10 * 60, 14 * 60
RACERS = 20


@pytest.fixture
def racing_factory(database_url):
    """Sessions on an engine with a connection for every racer, so none waits for the pool."""
    engine = make_engine(database_url, pool_size=RACERS, max_overflow=2)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def make_users(factory, count: int, first_id: int = 1) -> list:
    with factory() as session:
        return [
            upsert_user(session, {"id": first_id + n, "first_name": f"R{n}"}) for n in range(count)
        ]


def race(factory, jobs) -> list[object]:
    """Run each job(session) in its own thread and session, all released at once.

    Returns each job's result or the code of the ScheduleError it raised; any other
    exception is returned as itself, so a test sees it instead of a lost thread.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index, job):
        with factory() as session:
            barrier.wait()
            try:
                results[index] = job(session)
            except ScheduleError as error:
                results[index] = error.code
            except Exception as error:  # noqa: BLE001 - reported by the test
                results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def active_at(factory, starts_at: datetime) -> int:
    with factory() as session:
        return session.scalar(
            select(func.count()).where(Booking.status == "active", Booking.starts_at == starts_at)
        )


def outcome(results) -> Counter:
    return Counter("booked" if isinstance(r, Booking) else r for r in results)


@pytest.mark.parametrize("free", [1, 2])
def test_twenty_threads_racing_get_exactly_the_free_places(racing_factory, free):
    settings = Settings()
    early = make_users(racing_factory, settings.capacity - free, first_id=1000)
    with racing_factory() as session:
        for user in early:
            book(Unit(session, settings, Actor.client(user), now=NOW), user, TOMORROW, TEN)
    racers = make_users(racing_factory, RACERS)

    results = race(
        racing_factory,
        [
            lambda session, user=user: book(
                Unit(session, settings, Actor.client(user), now=NOW), user, TOMORROW, TEN
            )
            for user in racers
        ],
    )

    assert outcome(results) == {"booked": free, "full": RACERS - free}
    starts_at = next(r for r in results if isinstance(r, Booking)).starts_at
    assert active_at(racing_factory, starts_at) == settings.capacity


def test_racers_overlapping_by_one_cell_never_overfill_it(racing_factory):
    settings = Settings(capacity=2)
    racers = make_users(racing_factory, RACERS)
    starts = [9 * 60, 9 * 60 + 30, TEN, 10 * 60 + 30, 11 * 60]

    race(
        racing_factory,
        [
            lambda session, user=user, n=n: book(
                Unit(session, settings, Actor.client(user), now=NOW),
                user,
                TOMORROW,
                starts[n % len(starts)],
            )
            for n, user in enumerate(racers)
        ],
    )

    with racing_factory() as session:
        spans = session.execute(
            select(Booking.starts_at, Booking.ends_at).where(Booking.status == "active")
        ).all()
    cells = sorted({s for s, _ in spans})
    for cell in cells:
        assert sum(1 for s, e in spans if s <= cell < e) <= settings.capacity
    assert spans


def test_a_user_racing_themself_gets_one_booking(racing_factory):
    settings = Settings()
    (user,) = make_users(racing_factory, 1)

    results = race(
        racing_factory,
        [
            lambda session, minute=minute: book(
                Unit(session, settings, Actor.client(user), now=NOW), user, TOMORROW, minute
            )
            for minute in (TEN, TEN, TEN + 30, TEN + 60, TEN, TEN + 30)  # all pairwise overlapping
        ],
    )

    assert outcome(results)["booked"] == 1
    assert set(outcome(results)) == {"booked", "overlapping"}


def test_concurrent_reschedules_into_the_last_place(racing_factory):
    settings = Settings(capacity=1)
    movers = make_users(racing_factory, 8)
    with racing_factory() as session:
        bookings = [  # each alone at its own time on the two days after tomorrow
            book(
                Unit(session, settings, Actor.client(user), now=NOW),
                user,
                date(2026, 11, 27 + n // 4),
                8 * 60 + 120 * (n % 4),
            )
            for n, user in enumerate(movers)
        ]
    before = {b.id: b.starts_at for b in bookings}

    results = race(
        racing_factory,
        [
            lambda session, b=b, user=user: reschedule(
                Unit(session, settings, Actor.client(user), now=NOW), b.id, TOMORROW, TWO
            )
            for b, user in zip(bookings, movers, strict=True)
        ],
    )

    assert outcome(results) == {"booked": 1, "full": len(movers) - 1}
    winner = next(r for r in results if isinstance(r, Booking))
    with racing_factory() as session:
        after = dict(session.execute(select(Booking.id, Booking.starts_at)).all())
    assert after == {**before, winner.id: winner.starts_at}


def _process_racer(url: str, telegram_id: int, barrier, results) -> None:
    """One OS process: its own engine, its own user, released with the others."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = upsert_user(session, {"id": telegram_id, "first_name": f"P{telegram_id}"})
            barrier.wait(timeout=60)
            try:
                book(Unit(session, Settings(), Actor.client(user), now=NOW), user, TOMORROW, TEN)
                results.put("booked")
            except ScheduleError as error:
                results.put(error.code)
    except Exception as error:  # noqa: BLE001 - reported to the parent
        results.put(repr(error))
    finally:
        engine.dispose()


def test_processes_racing_on_one_sqlite_file_get_exactly_the_free_places(sqlite_url):
    from schedule.db import create_schema

    engine = make_engine(sqlite_url)
    create_schema(engine)
    engine.dispose()
    # Each racer is a fork of one fresh process that imported this module once (forked()): a
    # fork of this (threaded) process would not be safe.
    context = forked()
    processes_count = 6
    barrier = context.Barrier(processes_count)
    results = context.Queue()
    processes = [
        context.Process(target=_process_racer, args=(sqlite_url, 7000 + n, barrier, results))
        for n in range(processes_count)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    outcomes = Counter(results.get(timeout=5) for _ in processes)
    assert outcomes == {"booked": 4, "full": processes_count - 4}
    assert all(process.exitcode == 0 for process in processes)


def test_a_new_users_first_requests_racing_create_one_user(racing_factory):
    telegram = {"id": 4242, "first_name": "Newcomer"}

    results = race(racing_factory, [lambda session: upsert_user(session, dict(telegram))] * 8)

    assert not [r for r in results if not isinstance(r, User)], results
    assert len({user.id for user in results}) == 1
    with racing_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
