"""Lines the studio ends or opens by changing its trainers and kinds (issue 25), on SQLite and
PostgreSQL: retiring a kind or a trainer expires the entries waiting for it in the same
transaction (promotion would skip them for ever) and tells each client waiting for a training
to come (a CLIENT notice whose facts say "waitlist_ended"); new hours for a trainer, or a
trainer's day off removed, book the clients waiting for the places they open, as the studio's
own hours and closures do."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from schedule import ScheduleError, services, waitlist
from schedule.kinds import add_kind, add_trainer, retire_kind, retire_trainer
from schedule.models import ACTIVE, WAITING, Booking, WaitlistEntry
from schedule.notices import CLIENT, WAITLIST_ENDED
from schedule.outbox import OutboxMessage
from schedule.services import edit_trainer
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN = 10 * 60


@pytest.fixture
def studio(session, settings, now):
    """Anna (the studio's hours) gives the group and a personal hour; Boris works 12:00-20:00
    and gives the group."""
    owner = Unit(session, settings, Actor.trainer(), now=now)
    anna = add_trainer(owner, 7001, "Anna")
    boris = add_trainer(owner, 7002, "Boris", "12:00-20:00")
    personal = add_kind(owner, "Personal", 60, 1, [anna.id])
    session.commit()
    return anna.id, boris.id, personal.id


@pytest.fixture
def users(session):
    return [
        services.upsert_user(session, {"id": 800 + n, "first_name": f"Client {n}"})
        for n in range(8)
    ]


def owner(session, settings, now) -> Unit:
    return Unit(session, settings, Actor.trainer(), now=now)


def waiting(session, now, user, starts_at, kind=None, trainer=None) -> WaitlistEntry:
    """An entry left waiting (how it came to wait is the waitlist's tests' business: a client
    holding an overlapping booking, or at a limit, is skipped by promotion)."""
    entry = WaitlistEntry(
        user_id=user.id,
        starts_at=starts_at,
        kind_id=kind,
        trainer_id=trainer,
        status=WAITING,
        created_at=now,
    )
    session.add(entry)
    session.commit()
    return entry


def told(session) -> list[tuple[int, dict]]:
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [(row.chat_id, row.facts) for row in rows if row.kind == CLIENT]


def status(session, entry: WaitlistEntry) -> str:
    return session.get(WaitlistEntry, entry.id, populate_existing=True).status


def test_retiring_a_kind_ends_its_lines_and_tells_each_client(
    session, settings, now, users, studio
):
    _, _, personal = studio
    ten = start_instant(DAY, TEN, settings)
    mine = waiting(session, now, users[0], ten, kind=personal)
    group = waiting(session, now, users[1], ten)  # the group's line stays
    gone = waiting(session, now, users[2], now - timedelta(hours=1), kind=personal)  # past

    retire_kind(owner(session, settings, now), personal)
    session.commit()

    assert status(session, mine) == "expired" and status(session, gone) == "expired"
    assert status(session, group) == WAITING
    [(chat, facts)] = told(session)  # nobody is told of a training already begun
    assert chat == users[0].telegram_id
    assert facts == {
        "kind": WAITLIST_ENDED,
        "reason": "kind_retired",
        "name": "Personal",
        "starts_at": ten.isoformat(),
        "ends_at": (ten + timedelta(minutes=60)).isoformat(),
        "waitlist_id": mine.id,
    }
    assert waitlist.user_entries(session, users[0], now, settings=settings) == []


def test_retiring_a_trainer_ends_the_lines_naming_them(session, settings, now, users, studio):
    _, boris, _ = studio
    one = start_instant(DAY, 13 * 60, settings)
    theirs = waiting(session, now, users[0], one, trainer=boris)
    anyone = waiting(session, now, users[1], one)  # any trainer: Anna may still take it

    retire_trainer(owner(session, settings, now), boris)
    session.commit()

    assert (status(session, theirs), status(session, anyone)) == ("expired", WAITING)
    [(chat, facts)] = told(session)
    assert chat == users[0].telegram_id
    assert (facts["reason"], facts["name"]) == ("trainer_retired", "Boris")
    assert facts["ends_at"] == (one + timedelta(minutes=90)).isoformat()


def test_a_refused_retiring_leaves_the_line_as_it_was(session, settings, now, users, studio):
    _, _, personal = studio
    unit = Unit(session, settings, Actor.client(users[3]), now=now)
    services.book(unit, users[3], DAY, 15 * 60, kind=personal)
    entry = waiting(session, now, users[0], start_instant(DAY, TEN, settings), kind=personal)
    with pytest.raises(ScheduleError) as refused:
        retire_kind(owner(session, settings, now), personal)
    assert refused.value.code == "kind_has_bookings"
    session.rollback()
    assert status(session, entry) == WAITING and told(session) == []


def fill_anna(session, settings, now, users) -> None:
    """The group at 10:00 with Anna, full (users 1-4); Boris does not work before 12:00, so
    the group is full there for anyone."""
    for user in users[1:5]:
        unit = Unit(session, settings, Actor.client(user), now=now)
        services.book(unit, user, DAY, TEN)
    session.commit()


def bookings_of(session, user) -> list[Booking]:
    return list(
        session.scalars(select(Booking).where(Booking.user_id == user.id, Booking.status == ACTIVE))
    )


def test_new_hours_for_a_trainer_book_the_clients_waiting(session, settings, now, users, studio):
    anna, boris, _ = studio
    fill_anna(session, settings, now, users)
    unit = Unit(session, settings, Actor.client(users[0]), now=now)
    entry = waitlist.join(unit, users[0], DAY, TEN).entry
    session.commit()

    edit_trainer(owner(session, settings, now), boris, opening_hours="08:00-20:00")
    session.commit()

    assert status(session, entry) == "promoted"
    [booking] = bookings_of(session, users[0])
    assert (booking.trainer_id, booking.source) == (boris, "waitlist")
    assert [facts["from_waitlist"] for _, facts in told(session)] == [True]


def test_a_trainers_day_off_removed_books_the_clients_waiting(
    session, settings, now, users, studio
):
    anna, boris, _ = studio
    trainer = owner(session, settings, now)
    edit_trainer(trainer, boris, opening_hours="08:00-20:00")
    closure = services.add_closure(trainer, DAY, trainer_id=boris)
    session.commit()
    fill_anna(session, settings, now, users)
    unit = Unit(session, settings, Actor.client(users[0]), now=now)
    entry = waitlist.join(unit, users[0], DAY, TEN).entry
    session.commit()

    services.remove_closure(owner(session, settings, now), closure.id, trainer_id=boris)
    session.commit()

    assert status(session, entry) == "promoted"
    [booking] = bookings_of(session, users[0])
    assert booking.trainer_id == boris
