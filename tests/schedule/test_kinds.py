"""Kinds of training and several trainers (DESIGN.md, "Trainers and kinds"): the rules as pure
functions over snapshots, then the services on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from schedule import Booking, InvalidInput, ScheduleError, Settings
from schedule.availability import Snapshot, Span, day_availability, pick, view_day, view_kind
from schedule.kinds import (
    DEFAULT_KIND_ID,
    Catalog,
    KindInfo,
    TrainerInfo,
    add_kind,
    add_trainer,
    bookings_outside,
    edit_kind,
    format_week,
    kind_bookings,
    load_catalog,
    retire_kind,
    retire_trainer,
    staff,
)
from schedule.models import Closure
from schedule.outbox import OutboxMessage
from schedule.services import book, edit_trainer, reschedule
from schedule.settings import parse_opening_hours
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED

NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
TOMORROW = date(2026, 11, 26)
RULES = Settings(**UNLIMITED)
ANNA_T, BORIS_T = 1, 2  # trainers
PERSONAL, GROUP = 2, 3  # kinds


def at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return start_instant(TOMORROW, hours * 60 + minutes, RULES)


def catalog(anna_hours: str | None = None) -> Catalog:
    hours = parse_opening_hours(anna_hours) if anna_hours else None
    return Catalog(
        kinds=(
            KindInfo(DEFAULT_KIND_ID, "", 90, 4, (ANNA_T, BORIS_T)),
            KindInfo(PERSONAL, "Personal", 60, 1, (ANNA_T, BORIS_T)),
            KindInfo(GROUP, "Long group", 120, 2, (ANNA_T,)),
        ),
        trainers=(
            TrainerInfo(ANNA_T, 501, "Anna", hours),
            TrainerInfo(BORIS_T, 502, "Boris", None),
        ),
    )


def booking(booking_id, start, minutes, kind=None, trainer=None, user=900) -> Span:
    starts_at = at(start)
    return Span(starts_at, starts_at + timedelta(minutes=minutes), user, booking_id, kind, trainer)


def snapshot(*bookings: Span, closures=(), trainer_closures=(), kinds=None) -> Snapshot:
    return Snapshot(
        settings=RULES,
        hours=RULES.opening_hours,
        closures=tuple(closures),
        bookings=tuple(bookings),
        catalog=kinds or catalog(),
        trainer_closures=tuple(trainer_closures),
    )


def refusal(snap, kind_id, trainer, start, user=1):
    kind = snap.kinds.kind(kind_id)
    return snap.picture(kind, trainer).refusal(at(start), user, NOW)


# --- the rules, pure --------------------------------------------------------------------


def test_with_nothing_but_the_default_kind_the_picture_is_the_studio_snapshot_itself():
    plain = Snapshot(RULES, RULES.opening_hours, (), (booking(1, "10:00", 90),))
    assert plain.picture() is plain
    assert plain.kinds.candidates(plain.kinds.default) == (None,)
    view = view_kind(plain, None, None, TOMORROW, 1, NOW)
    assert view == view_day(plain, TOMORROW, 1, NOW)
    assert all(slot.trainer_ids is None for slot in view.slots)


def test_a_kind_has_its_own_length_and_visitors_at_once():
    snap = snapshot(booking(1, "10:00", 60, PERSONAL, ANNA_T))
    personal = snap.picture(snap.kinds.kind(PERSONAL), ANNA_T)
    assert personal.settings.training_minutes == 60 and personal.settings.capacity == 1
    assert refusal(snap, PERSONAL, ANNA_T, "10:00") == "full"
    assert refusal(snap, PERSONAL, ANNA_T, "09:30") == "full"  # 09:30-10:30 meets it
    assert refusal(snap, PERSONAL, ANNA_T, "11:00") is None  # right after it
    assert refusal(snap, PERSONAL, BORIS_T, "10:00") is None  # another trainer is free


def test_the_sliding_rule_holds_per_trainer_and_kind():
    # Anna's long group (2 at once, 120 min): one at 10:00, one at 11:00.
    snap = snapshot(
        booking(1, "10:00", 120, GROUP, ANNA_T, user=901),
        booking(2, "11:00", 120, GROUP, ANNA_T, user=902),
    )
    assert refusal(snap, GROUP, ANNA_T, "10:30") == "full"  # 11:00-12:00 holds both
    assert refusal(snap, GROUP, ANNA_T, "09:30") == "full"  # 09:30-11:30 meets both at 11:00
    assert refusal(snap, GROUP, ANNA_T, "09:00") is None  # 09:00-11:00: one at a time
    assert refusal(snap, GROUP, ANNA_T, "08:00") is None  # ends at 10:00
    group = snap.picture(snap.kinds.kind(GROUP), ANNA_T)
    assert group.fixed(at("12:30")).places == 1  # 12:30-13:00 still holds the 11:00 one
    assert group.fixed(at("13:00")).places == 2


def test_a_trainer_giving_one_kind_is_busy_for_another():
    snap = snapshot(booking(1, "10:00", 60, PERSONAL, ANNA_T))
    assert refusal(snap, DEFAULT_KIND_ID, ANNA_T, "09:00") == "trainer_busy"  # 09:00-10:30
    assert refusal(snap, GROUP, ANNA_T, "10:30") == "trainer_busy"
    assert refusal(snap, DEFAULT_KIND_ID, ANNA_T, "11:00") is None
    assert refusal(snap, DEFAULT_KIND_ID, BORIS_T, "09:00") is None
    # Not full: places stay the kind's own
    default = snap.picture(snap.kinds.default, ANNA_T)
    assert default.fixed(at("09:00")).places == 4


def test_the_viewers_own_booking_with_another_trainer_overlaps():
    snap = snapshot(booking(1, "10:00", 60, PERSONAL, BORIS_T, user=7))
    assert refusal(snap, DEFAULT_KIND_ID, ANNA_T, "09:30", user=7) == "overlapping"
    assert refusal(snap, DEFAULT_KIND_ID, ANNA_T, "09:30", user=8) is None
    view = view_kind(snap, snap.kinds.kind(PERSONAL), ANNA_T, TOMORROW, 7, NOW)
    assert {s.start for s in view.slots if s.mine} == {"10:00", "10:30"}


def test_a_trainers_hours_and_closures_are_their_own():
    anna_hours = "12:00-16:00"
    closure = Span(at("14:00"), at("15:00"), trainer_id=BORIS_T)
    snap = snapshot(kinds=catalog(anna_hours), trainer_closures=[closure])
    anna = view_kind(snap, snap.kinds.kind(PERSONAL), ANNA_T, TOMORROW, 1, NOW)
    assert [s.start for s in anna.slots][0] == "12:00" and anna.slots[-1].start == "15:30"
    assert refusal(snap, PERSONAL, ANNA_T, "15:30") == "after_hours"
    assert refusal(snap, PERSONAL, ANNA_T, "14:00") is None
    assert refusal(snap, PERSONAL, BORIS_T, "14:00") == "closed"
    assert refusal(snap, PERSONAL, BORIS_T, "13:30") == "closed"  # 13:30-14:30 meets it
    # A studio closure closes everyone.
    studio = snapshot(closures=[Span(at("12:00"), at("13:00"))], kinds=catalog(anna_hours))
    assert refusal(studio, PERSONAL, ANNA_T, "12:00") == "closed"
    assert refusal(studio, PERSONAL, BORIS_T, "12:30") == "closed"


def test_a_studio_booking_counts_for_every_trainer():
    """Made before trainers existed (trainer None): no place it took is sold twice."""
    snap = snapshot(*(booking(n, "10:00", 90, user=900 + n) for n in range(1, 5)))
    assert refusal(snap, DEFAULT_KIND_ID, ANNA_T, "10:00") == "full"
    assert refusal(snap, DEFAULT_KIND_ID, BORIS_T, "10:00") == "full"
    assert refusal(snap, PERSONAL, BORIS_T, "10:00") == "trainer_busy"


def test_any_trainer_fills_a_group_before_opening_another():
    snap = snapshot(booking(1, "10:00", 90, None, BORIS_T))
    trainer, verdict = pick(snap, None, None, at("10:00"), 1, NOW)
    assert (trainer, verdict.refusal, verdict.places) == (BORIS_T, None, 3)
    trainer, verdict = pick(snap, None, None, at("12:00"), 1, NOW)
    assert (trainer, verdict.places) == (ANNA_T, 4)  # nobody there: the lower id


def test_any_trainer_view_names_who_can_take_each_start():
    snap = snapshot(booking(1, "10:00", 60, PERSONAL, ANNA_T))
    view = view_kind(snap, snap.kinds.kind(PERSONAL), None, TOMORROW, 1, NOW)
    slots = {slot.start: slot for slot in view.slots}
    assert slots["10:00"].trainer_ids == (BORIS_T,) and slots["10:00"].can_start
    assert slots["12:00"].trainer_ids == (ANNA_T, BORIS_T)
    assert slots["10:00"].booked == 1 and slots["10:00"].free == 1  # summed over both
    # Both busy: refused, full first (its waitlist)
    both = snapshot(
        booking(1, "10:00", 60, PERSONAL, ANNA_T), booking(2, "10:00", 60, PERSONAL, BORIS_T)
    )
    slot = {
        s.start: s for s in view_kind(both, both.kinds.kind(PERSONAL), None, TOMORROW, 1, NOW).slots
    }
    assert slot["10:00"].refusal == "full" and slot["10:00"].trainer_ids == ()
    assert slot["10:00"].can_wait  # full for every trainer of the kind: its own waitlist


def test_a_trainer_not_giving_a_kind_gets_nothing():
    snap = snapshot()
    trainer, verdict = pick(snap, snap.kinds.kind(GROUP), BORIS_T, at("10:00"), 1, NOW)
    assert (trainer, verdict.refusal) == (None, "trainer_busy")
    assert view_kind(snap, snap.kinds.kind(GROUP), BORIS_T, TOMORROW, 1, NOW).slots == []


def test_catalog_resolves_kinds_and_trainers_or_says_what_is_unknown():
    kinds = catalog()
    assert kinds.resolve(None, None).id == DEFAULT_KIND_ID
    assert kinds.resolve(GROUP, ANNA_T).minutes == 120
    for wanted in ((99, None), (None, 99), (GROUP, BORIS_T)):
        with pytest.raises(InvalidInput):
            kinds.resolve(*wanted)


def test_format_week_writes_hours_like_opening_hours():
    assert format_week(parse_opening_hours("08:00-18:00")) == "08:00-18:00"
    week = parse_opening_hours("mon-fri 07:00-12:00,16:00-21:00; sat 09:00-14:00")
    assert parse_opening_hours(format_week(week)) == week


# --- the services, on SQLite and PostgreSQL ----------------------------------------------


@pytest.fixture
def gym(session, settings):
    """Anna and Boris; a personal hour (1 visitor) both give, a long group only Anna gives."""
    owner = unit(session, settings)
    anna = add_trainer(owner, 501, "Anna")
    boris = add_trainer(owner, 502, "Boris", "12:00-20:00")
    personal = add_kind(unit(session, settings), "Personal", 60, 1, [anna.id, boris.id])
    group = add_kind(unit(session, settings), "Long group", 120, 6, [anna.id])
    return anna, boris, personal, group


def unit(session, settings, who=None) -> Unit:
    return Unit(session, settings, Actor.trainer() if who is None else Actor.client(who), NOW)


def test_kinds_get_ids_after_the_default_kind(session, settings, gym):
    anna, boris, personal, group = gym
    assert (personal.id, group.id) == (2, 3)
    found = load_catalog(session, settings)
    assert [k.id for k in found.kinds] == [1, 2, 3]
    assert found.default.trainer_ids == (anna.id, boris.id)
    assert found.kind(3).trainer_ids == (anna.id,)
    assert found.trainer(boris.id).hours == parse_opening_hours("12:00-20:00")


@pytest.mark.parametrize(
    ("minutes", "capacity", "trainers"),
    [(45, 1, "known"), (0, 1, "known"), (60, 0, "known"), (60, 1, "unknown"), (60, 1, "none")],
)
def test_a_kind_is_refused_off_the_grid_without_visitors_or_trainers(
    session, settings, gym, minutes, capacity, trainers
):
    ids = {"known": [gym[0].id], "unknown": [gym[0].id, 999], "none": []}[trainers]
    with pytest.raises(InvalidInput):
        add_kind(unit(session, settings), "Odd", minutes, capacity, ids)
    assert len(load_catalog(session, settings).kinds) == 3


def test_a_trainer_twice_or_with_bad_hours_is_refused(session, settings, gym):
    with pytest.raises(InvalidInput):
        add_trainer(unit(session, settings), 501, "Anna again")
    for hours in ("nonsense", "08:15-10:00", "closed"):
        with pytest.raises(InvalidInput):
            add_trainer(unit(session, settings), 503, "Vera", hours)


def test_booking_a_kind_with_a_trainer_stores_both(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    client = make_user("Kate")
    made = book(unit(session, settings, client), client, TOMORROW, 10 * 60, kind=2, trainer=anna.id)
    assert (made.kind_id, made.trainer_id) == (personal.id, anna.id)
    assert made.ends_at - made.starts_at == timedelta(minutes=60)
    other = make_user("Lev")
    with pytest.raises(ScheduleError) as refused:
        book(unit(session, settings, other), other, TOMORROW, 10 * 60, kind=2, trainer=anna.id)
    assert refused.value.code == "full"
    with pytest.raises(ScheduleError) as busy:
        book(unit(session, settings, other), other, TOMORROW, 9 * 60, trainer=anna.id)
    assert busy.value.code == "trainer_busy"


def test_any_trainer_goes_to_whoever_can_take_it(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    first, second, third = make_user("A"), make_user("B"), make_user("C")
    # 10:00 is outside Boris's hours (12:00-20:00): Anna only
    made = book(unit(session, settings, first), first, TOMORROW, 10 * 60, kind=2)
    assert made.trainer_id == anna.id
    with pytest.raises(ScheduleError) as refused:
        book(unit(session, settings, second), second, TOMORROW, 10 * 60, kind=2)
    assert refused.value.code == "full"
    # 13:00: both work, the lower id first, then the other
    one = book(unit(session, settings, second), second, TOMORROW, 13 * 60, kind=2)
    two = book(unit(session, settings, third), third, TOMORROW, 13 * 60, kind=2)
    assert (one.trainer_id, two.trainer_id) == (anna.id, boris.id)


def test_the_default_kind_with_trainers_goes_to_a_trainer(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    client = make_user("Kate")
    made = book(unit(session, settings, client), client, TOMORROW, 10 * 60)
    assert (made.kind_id, made.trainer_id) == (None, anna.id)
    view = day_availability(session, settings, TOMORROW, client.id, NOW)
    assert view.slots  # the studio's picture still paints


def test_unknown_kind_or_trainer_is_bad_input(session, settings, make_user, gym):
    client = make_user("Kate")
    for wanted in ({"kind": 77}, {"trainer": 77}, {"kind": 3, "trainer": gym[1].id}):
        with pytest.raises(InvalidInput):
            book(unit(session, settings, client), client, TOMORROW, 10 * 60, **wanted)
    assert session.scalars(select(Booking)).all() == []


def test_a_move_keeps_the_kind_and_the_trainer(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    client = make_user("Kate")
    made = book(unit(session, settings, client), client, TOMORROW, 13 * 60, kind=3)
    moved = reschedule(unit(session, settings, client), made.id, TOMORROW, 15 * 60)
    assert (moved.kind_id, moved.trainer_id) == (group.id, anna.id)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=120)


def test_a_trainers_closure_closes_only_their_day(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    starts = start_instant(TOMORROW, 12 * 60, settings)
    session.add(Closure(starts_at=starts, ends_at=starts + timedelta(hours=4), trainer_id=boris.id))
    session.commit()
    client = make_user("Kate")
    with pytest.raises(ScheduleError) as refused:
        book(unit(session, settings, client), client, TOMORROW, 13 * 60, kind=2, trainer=boris.id)
    assert refused.value.code == "closed"
    made = book(unit(session, settings, client), client, TOMORROW, 13 * 60, kind=2)
    assert made.trainer_id == anna.id


def test_staff_is_decided_in_one_place(session, settings, gym):
    owners = frozenset({42, 501})
    assert staff(session, owners, 12345) is None
    owner = staff(session, owners, 42)
    assert owner.owner and owner.may_manage(gym[0].id) and owner.day_filter(None) is None
    anna = staff(session, settings.admin_ids, 501)
    assert not anna.owner and anna.trainer_id == gym[0].id
    assert anna.may_manage(gym[0].id) and not anna.may_manage(gym[1].id)
    assert anna.day_filter(None) == gym[0].id == anna.day_filter(gym[1].id)
    both = staff(session, owners, 501)
    assert both.owner and both.trainer_id == gym[0].id


def test_kind_bookings_names_each_kinds_bookings(session, settings, make_user, gym):
    client = make_user("Kate")
    default = book(unit(session, settings, client), client, TOMORROW, 10 * 60)
    personal = book(unit(session, settings, client), client, TOMORROW, 14 * 60, kind=2)
    rows = {
        kind: set(session.scalars(select(Booking.id).where(kind_bookings(session, kind))))
        for kind in (1, 2, 3)
    }
    assert rows == {1: {default.id}, 2: {personal.id}, 3: set()}
    assert kind_bookings(session, 4) is None


def test_a_broadcast_to_a_kind_reaches_the_clients_booked_on_it(session, settings, make_user, gym):
    from schedule import broadcasts

    kate, lev = make_user("Kate"), make_user("Lev")
    book(unit(session, settings, kate), kate, TOMORROW, 10 * 60)
    book(unit(session, settings, lev), lev, TOMORROW, 14 * 60, kind=2)
    counts = {
        kind: broadcasts.count(
            session, settings, broadcasts.parse_audience(session, f"kind:{kind}")
        )
        for kind in (1, 2, 3)
    }
    assert counts == {1: 1, 2: 1, 3: 0}


def test_the_trainer_who_gives_a_booking_hears_of_it_besides_the_owners(
    session, settings, make_user, gym
):
    anna, boris, personal, group = gym
    client = make_user("Kate")
    made = book(
        unit(session, settings, client), client, TOMORROW, 13 * 60, kind=2, trainer=boris.id
    )
    news = session.scalars(
        select(OutboxMessage.chat_id).where(OutboxMessage.booking_id == made.id)
    ).all()
    assert sorted(news) == sorted({*settings.admin_ids, boris.telegram_id})
    assert anna.telegram_id not in news


# --- changing and removing trainers and kinds (issue 25) --------------------------------------


def test_only_an_owner_changes_the_studio(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    client = make_user("Kate")
    coach = make_user("Coach", id=501)  # Anna herself: a trainer, not an owner
    for actor in (Actor.client(client), Actor.trainer(coach), Actor.system()):
        who = Unit(session, settings, actor, NOW)
        for act in (
            lambda who=who: add_trainer(who, 777, "Vera"),
            lambda who=who: add_kind(who, "X", 60, 1, [anna.id]),
            lambda who=who: edit_trainer(who, anna.id, name="X"),
            lambda who=who: retire_trainer(who, boris.id),
            lambda who=who: edit_kind(who, personal.id, name="X"),
            lambda who=who: retire_kind(who, personal.id),
        ):
            with pytest.raises(ScheduleError) as refused:
                act()
            assert refused.value.code == "forbidden" and refused.value.http_status == 403
    owner_user = make_user("Owner", id=900)
    owner = Unit(session, replace(settings, admin_ids=frozenset({900})), Actor.trainer(owner_user))
    assert edit_kind(owner, personal.id, name="Personal 1:1").name == "Personal 1:1"


def test_retired_trainers_and_kinds_leave_the_catalog_and_the_staff(session, settings, gym):
    anna, boris, personal, group = gym
    owner = unit(session, settings)
    retire_kind(owner, group.id)
    retire_trainer(owner, boris.id)
    found = load_catalog(session, settings)
    assert [k.id for k in found.kinds] == [DEFAULT_KIND_ID, personal.id]
    assert found.kind(personal.id).trainer_ids == (anna.id,)
    assert [t.id for t in found.trainers] == [anna.id]
    assert staff(session, frozenset(), 502) is None
    with pytest.raises(ScheduleError) as again:
        retire_kind(owner, group.id)
    assert again.value.code == "not_found"
    with pytest.raises(InvalidInput):
        retire_kind(owner, DEFAULT_KIND_ID)
    back = add_trainer(owner, 502, "Boris")
    assert back.id == boris.id and back.retired_at is None


def test_what_bookings_rely_on_stays_while_they_are_to_come(session, settings, make_user, gym):
    anna, boris, personal, group = gym
    client = make_user("Kate")
    book(unit(session, settings, client), client, TOMORROW, 10 * 60, kind=group.id)
    owner = unit(session, settings)
    for change in ({"minutes": 90}, {"capacity": 2}):
        with pytest.raises(ScheduleError) as refused:
            edit_kind(owner, group.id, **change)
        assert refused.value.code == "kind_has_bookings" and refused.value.http_status == 409
    with pytest.raises(ScheduleError) as busy:
        retire_trainer(owner, anna.id)
    assert busy.value.code == "trainer_has_bookings" and "1 booking" in busy.value.message()
    assert edit_kind(owner, group.id, capacity=10, trainer_ids=[anna.id, boris.id]).capacity == 10
    with pytest.raises(ScheduleError) as only:
        edit_kind(owner, group.id, trainer_ids=[boris.id])  # Anna gives the booked one
    assert only.value.code == "kind_has_bookings"
    # Hours that leave the booking outside are saved; the booking is listed, not cancelled
    edit_trainer(owner, anna.id, opening_hours="12:00-18:00")
    outside = bookings_outside(session, settings, anna.id, parse_opening_hours("12:00-18:00"), NOW)
    assert [b.starts_at for b in outside] == [at("10:00")]
