"""The waitlist of each kind of training (issue 25): joining, the picture, promotion and places
in line follow the kind and the trainer waited for, on SQLite and PostgreSQL.

The studio: Anna gives the personal hour (60 minutes, one visitor); the default kind (90
minutes, four visitors) is given by every trainer, Anna and Boris. At 10:00 tomorrow Anna holds
a personal hour, so the personal kind is full there while the group at 10:00 is free with Boris.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from schedule import InvalidInput, ScheduleError, consequences, services, waitlist
from schedule.availability import snapshot_for_days, view_kind
from schedule.kinds import add_kind, add_trainer
from schedule.limits import holdings
from schedule.models import ACTIVE, WAITING, Booking
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN = 10 * 60


@pytest.fixture
def studio(session, settings, now):
    owner = Unit(session, settings, Actor.trainer(), now=now)
    anna = add_trainer(owner, 7001, "Anna")
    boris = add_trainer(owner, 7002, "Boris")
    personal = add_kind(owner, "Personal", 60, 1, [anna.id])
    return anna.id, boris.id, personal.id


@pytest.fixture
def users(session):
    return [
        services.upsert_user(session, {"id": 800 + n, "first_name": f"Client {n}"})
        for n in range(10)
    ]


def own(session, settings, now, user) -> Unit:
    return Unit(session, settings, Actor.client(user), now=now)


def ten(settings):
    return start_instant(DAY, TEN, settings)


@pytest.fixture
def personal_full(session, settings, now, users, studio):
    """Anna's personal hour at 10:00, booked by user 0: the personal kind is full there."""
    _, _, personal = studio
    return services.book(own(session, settings, now, users[0]), users[0], DAY, TEN, kind=personal)


def fill_boris(session, settings, now, users) -> list[Booking]:
    """The group at 10:00 with Boris, full (users 1-4): with Anna busy, the default kind too."""
    return [services.book(own(session, settings, now, u), u, DAY, TEN) for u in users[1:5]]


def picture(session, settings, now, user, kind=None, trainer=None):
    snapshot = snapshot_for_days(session, settings, DAY, DAY)
    kind_info = snapshot.kinds.kind(kind)
    held = holdings(session, settings, user.id, now)
    in_line = waitlist.places_in_line(session, settings, user.id, DAY, now)
    view = view_kind(snapshot, kind_info, trainer, DAY, user.id, now, 0, held, in_line)
    return {slot.start: slot for slot in view.slots}["10:00"]


def test_the_full_kind_may_be_waited_for_the_free_one_refuses(
    session, settings, now, users, studio, personal_full
):
    anna, boris, personal = studio
    assert personal_full.trainer_id == anna
    joined = waitlist.join(own(session, settings, now, users[5]), users[5], DAY, TEN, kind=personal)
    assert joined.position == 1
    assert (joined.entry.kind_id, joined.entry.trainer_id) == (personal, None)
    # The group at 10:00 is free with Boris: no line for it.
    with pytest.raises(ScheduleError) as free:
        waitlist.join(own(session, settings, now, users[6]), users[6], DAY, TEN)
    assert free.value.code == "not_full"
    with pytest.raises(ScheduleError) as free_named:
        waitlist.join(own(session, settings, now, users[6]), users[6], DAY, TEN, trainer=boris)
    assert free_named.value.code == "not_full"
    # Anna named: the personal hour is full with her too.
    named = waitlist.join(
        own(session, settings, now, users[6]), users[6], DAY, TEN, kind=personal, trainer=anna
    )
    assert (named.entry.kind_id, named.entry.trainer_id, named.position) == (personal, anna, 2)
    # Joining twice is joining once; another kind at the same start is refused.
    again = waitlist.join(own(session, settings, now, users[5]), users[5], DAY, TEN, kind=personal)
    assert again.entry.id == joined.entry.id
    fill_boris(session, settings, now, users)
    with pytest.raises(ScheduleError) as other:
        waitlist.join(own(session, settings, now, users[5]), users[5], DAY, TEN)
    assert other.value.code == "overlapping"
    # A kind or trainer the studio lacks, or one who does not give it: bad input.
    for wrong in ({"kind": 99}, {"trainer": 99}, {"kind": personal, "trainer": boris}):
        with pytest.raises(InvalidInput):
            waitlist.join(own(session, settings, now, users[7]), users[7], DAY, TEN, **wrong)


def test_the_picture_offers_each_kind_its_own_line(
    session, settings, now, users, studio, personal_full
):
    anna, boris, personal = studio
    viewer = users[5]
    mine = picture(session, settings, now, viewer, personal)
    assert (mine.refusal, mine.can_wait, mine.in_line) == ("full", True, None)
    group = picture(session, settings, now, viewer)
    assert (group.refusal, group.can_wait, group.in_line) == (None, False, None)
    waitlist.join(own(session, settings, now, viewer), viewer, DAY, TEN, kind=personal)
    waiting = picture(session, settings, now, viewer, personal)
    assert (waiting.in_line, waiting.can_wait) == (1, False)
    assert picture(session, settings, now, viewer, personal, anna).in_line == 1
    # Waiting for the personal hour is no place in the group's line at 10:00.
    group = picture(session, settings, now, viewer)
    assert group.in_line is None and group.can_start
    assert picture(session, settings, now, viewer, None, boris).in_line is None
    # The group full with Boris too: the default kind may be waited for (not by one who waits
    # at 10:00 already: one line per start).
    fill_boris(session, settings, now, users)
    other = users[6]
    assert picture(session, settings, now, other).refusal == "full"
    assert picture(session, settings, now, other).can_wait
    assert not picture(session, settings, now, viewer).can_wait
    snapshot = snapshot_for_days(session, settings, DAY, DAY)
    refusal = waitlist.join_refusal(snapshot, ten(settings), other.id, now, kind=personal)
    assert refusal is None
    assert waitlist.join_refusal(snapshot, ten(settings), other.id, now) is None


def test_a_freed_place_goes_to_the_first_entry_whose_kind_fits(
    session, settings, now, users, studio, personal_full
):
    anna, boris, personal = studio
    group = fill_boris(session, settings, now, users)
    # First in time: a group entry with Boris; then a personal one (any trainer).
    for_group = waitlist.join(
        own(session, settings, now, users[5]), users[5], DAY, TEN, trainer=boris
    ).entry
    for_personal = waitlist.join(
        own(session, settings, now, users[6]), users[6], DAY, TEN, kind=personal
    ).entry
    assert (for_group.kind_id, for_group.trainer_id) == (None, boris)
    trainer = Unit(session, settings, Actor.trainer(), now=now)
    # Anna's personal hour frees: the personal entry is booked into it, the group one (Boris
    # still full) keeps waiting.
    services.cancel(trainer, personal_full.id)
    session.refresh(for_group)
    session.refresh(for_personal)
    assert (for_group.status, for_personal.status) == (WAITING, "promoted")
    made = session.get(Booking, for_personal.booking_id)
    assert (made.user_id, made.kind_id, made.trainer_id) == (users[6].id, personal, anna)
    assert (made.ends_at - made.starts_at).total_seconds() == 3600
    assert made.status == ACTIVE and made.source == "waitlist"
    # A place of Boris's group frees: the group entry is booked with him.
    services.cancel(trainer, group[0].id)
    session.refresh(for_group)
    assert for_group.status == "promoted"
    made = session.get(Booking, for_group.booking_id)
    assert (made.user_id, made.kind_id, made.trainer_id) == (users[5].id, None, boris)
    assert (made.ends_at - made.starts_at).total_seconds() == 90 * 60


def test_an_entry_of_one_kind_is_not_booked_into_a_place_of_another(
    session, settings, now, users, studio, personal_full
):
    anna, boris, personal = studio
    group = fill_boris(session, settings, now, users)
    waiting = waitlist.join(
        own(session, settings, now, users[5]), users[5], DAY, TEN, kind=personal
    ).entry
    services.cancel(Unit(session, settings, Actor.trainer(), now=now), group[0].id)
    session.refresh(waiting)
    assert waiting.status == WAITING and waiting.booking_id is None
    held = session.scalars(
        select(Booking).where(Booking.user_id == users[5].id, Booking.status == ACTIVE)
    ).all()
    assert held == []
    # The freed group place is still there for the group (Boris has one free place).
    assert picture(session, settings, now, users[7]).can_start


def test_places_in_line_count_each_kind_and_trainer_apart(
    session, settings, now, users, studio, personal_full
):
    anna, boris, personal = studio
    fill_boris(session, settings, now, users)
    first = waitlist.join(own(session, settings, now, users[5]), users[5], DAY, TEN)
    second = waitlist.join(own(session, settings, now, users[6]), users[6], DAY, TEN, kind=personal)
    third = waitlist.join(
        own(session, settings, now, users[7]), users[7], DAY, TEN, kind=personal, trainer=anna
    )
    fourth = waitlist.join(own(session, settings, now, users[8]), users[8], DAY, TEN, trainer=boris)
    # The group line: 1 (any), then Boris's: the one for any trainer is ahead of it.
    # The personal line: 1 (any), 2 (Anna: the one for any is ahead).
    assert [p.position for p in (first, second, third, fourth)] == [1, 1, 2, 2]
    places = {
        u.id: waitlist.places_in_line(session, settings, u.id, DAY, now).get(ten(settings))
        for u in users[5:9]
    }
    assert [places[u.id] for u in users[5:9]] == [1, 1, 2, 2]
    assert (places[users[7].id].kind_id, places[users[7].id].trainer_id) == (personal, anna)
    mine = waitlist.user_entries(session, users[7], now, settings=settings)
    assert [(p.entry.kind_id, p.position) for p in mine] == [(personal, 2)]
    # The sheet before joining counts the line of the kind asked for.
    line = consequences.of_waitlist(session, settings, users[9], ten(settings), now, kind=personal)
    assert line[0].facts["place"] == 3
    line = consequences.of_waitlist(session, settings, users[9], ten(settings), now, trainer=boris)
    assert line[0].facts["place"] == 3
    # For any trainer: behind everyone waiting for the kind (any trainer's place is theirs).
    line = consequences.of_waitlist(session, settings, users[9], ten(settings), now)
    assert line[0].facts["place"] == 3


def test_the_trainers_day_says_what_each_waits_for(
    session, settings, now, users, studio, personal_full
):
    anna, boris, personal = studio
    fill_boris(session, settings, now, users)
    waitlist.join(own(session, settings, now, users[5]), users[5], DAY, TEN)
    waitlist.join(
        own(session, settings, now, users[6]), users[6], DAY, TEN, kind=personal, trainer=anna
    )
    lines = waitlist.day_lines(session, settings, DAY, default_name="Group")
    assert [w.name for w in lines[ten(settings)]] == [
        "Client 5 (Group)",
        "Client 6 (Personal, Anna)",
    ]
    assert [w.kind.id for w in lines[ten(settings)]] == [1, personal]
    # Boris's day: not the personal line (he does not give it).
    boris_day = waitlist.day_lines(session, settings, DAY, trainer=boris)
    assert [w.user.id for w in boris_day[ten(settings)]] == [users[5].id]
