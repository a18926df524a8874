"""The use cases: each one transaction, refusing with a domain error and changing nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, func, select

from schedule import Booking, ConfigError, InvalidInput, ScheduleError, Settings, User
from schedule.availability import day_availability, effective_hours
from schedule.events import BookingCancelled, BookingMade, BookingMoved
from schedule.models import ScheduleLock
from schedule.services import (
    add_closure,
    book,
    cancel,
    closures_after,
    day_bookings,
    remove_closure,
    reschedule,
    set_opening_hours,
    set_phone,
    upcoming_bookings,
    upsert_user,
)
from schedule.settings import parse_opening_hours
from schedule.timegrid import parse_start
from schedule.unit import Actor, Unit
from tests.conftest import UNLIMITED

TODAY = date(2026, 11, 25)  # the `now` fixture: Wednesday 09:00 in Moscow (06:00 UTC)
TOMORROW = date(2026, 11, 26)
TEN = 10 * 60


def at(hhmm: str) -> int:
    return parse_start(hhmm, Settings())


def code_of(call) -> str:
    with pytest.raises(ScheduleError) as error:
        call()
    return error.value.code


def row_of(session_factory, booking_id: int) -> dict | None:
    """The booking as the database holds it, read in a fresh session (None: not there)."""
    with session_factory() as fresh:
        booking = fresh.get(Booking, booking_id)
        if booking is None:
            return None
        return {c.name: getattr(booking, c.name) for c in Booking.__table__.columns}


# book


def test_book_stores_utc_and_tells_what_happened(session, settings, make_user, now):
    user = make_user()
    events = []

    booking = book(
        Unit(session, settings, Actor.client(user), now=now, observe=events.append),
        user,
        TOMORROW,
        TEN,
        source="bot",
    )

    assert (booking.starts_at, booking.ends_at) == (
        datetime(2026, 11, 26, 7),
        datetime(2026, 11, 26, 8, 30),
    )
    assert (booking.status, booking.source, booking.user_id) == ("active", "bot", user.id)
    assert events == [BookingMade(booking)]


def test_book_commits(session, session_factory, settings, make_user, now):
    booking = book(
        Unit(session, settings, Actor.client(make_user()), now=now), make_user(), TOMORROW, TEN
    )

    assert row_of(session_factory, booking.id)["status"] == "active"


def test_book_refuses_an_unknown_source(session, settings, make_user, now):
    with pytest.raises(InvalidInput):
        book(
            Unit(session, settings, Actor.client(make_user()), now=now),
            make_user(),
            TOMORROW,
            TEN,
            source="fax",
        )


def test_a_refused_booking_writes_nothing_and_tells_nothing(session, settings, make_user, now):
    events = []

    code = code_of(
        lambda: book(
            Unit(session, settings, Actor.client(make_user()), now=now, observe=events.append),
            make_user(),
            TOMORROW,
            at("17:30"),
        )
    )

    assert code == "after_hours"
    assert events == []
    assert session.scalars(select(Booking)).all() == []


def test_phone_required_before_the_first_booking_except_for_the_trainer(session, make_user, now):
    settings = Settings(phone_required=True, **UNLIMITED)
    user = make_user()

    assert (
        code_of(
            lambda: book(Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, TEN)
        )
        == "phone_required"
    )
    assert book(
        Unit(session, settings, Actor.trainer(), now=now), user, TOMORROW, TEN, source="admin"
    ).is_active
    user.phone = "+79990000000"
    session.commit()
    assert book(
        Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, at("14:00")
    ).is_active


def test_error_messages_are_readable_in_russian_and_english(session, settings, make_user, now):
    with pytest.raises(ScheduleError) as error:
        book(
            Unit(session, settings, Actor.client(make_user()), now=now),
            make_user(),
            TOMORROW,
            at("17:30"),
        )

    assert error.value.message("en") == "The training would run past the opening hours."
    assert error.value.message("ru") == "Тренировка выходит за часы работы студии."
    assert error.value.http_status == 409


# cancel


def _tomorrow_at_ten(session, settings, user, now):
    return book(
        Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, TEN
    )  # 07:00 UTC


def test_a_client_cancels_up_to_the_deadline(session, settings, make_user, now):
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)
    events = []
    two_hours_before = booking.starts_at - timedelta(minutes=120)

    cancelled = cancel(
        Unit(session, settings, Actor.client(user), now=two_hours_before, observe=events.append),
        booking.id,
    )

    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancelled_at) == (
        "cancelled",
        "client",
        two_hours_before,
    )
    assert events == [BookingCancelled(cancelled, by_admin=False)]


def test_a_client_cannot_cancel_past_the_deadline(
    session, session_factory, settings, make_user, now
):
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)
    late = booking.starts_at - timedelta(minutes=119)

    assert (
        code_of(lambda: cancel(Unit(session, settings, Actor.client(user), now=late), booking.id))
        == "deadline_passed"
    )
    assert row_of(session_factory, booking.id)["status"] == "active"


def test_the_trainer_cancels_any_time_with_a_reason(
    session, session_factory, settings, make_user, now
):
    booking = _tomorrow_at_ten(session, settings, make_user(), now)
    events = []
    running = booking.starts_at + timedelta(minutes=10)

    cancel(
        Unit(session, settings, Actor.trainer(), now=running, observe=events.append),
        booking.id,
        reason="  Trainer is ill  ",
    )

    row = row_of(session_factory, booking.id)
    assert (row["status"], row["cancelled_by"], row["cancel_reason"]) == (
        "cancelled",
        "admin",
        "Trainer is ill",
    )
    assert [type(e) for e in events] == [BookingCancelled] and events[0].by_admin


def test_a_client_cannot_cancel_someone_elses_booking(session, settings, make_user, now):
    booking = _tomorrow_at_ten(session, settings, make_user("Owner"), now)

    assert (
        code_of(
            lambda: cancel(
                Unit(session, settings, Actor.client(make_user("Stranger")), now=now), booking.id
            )
        )
        == "not_found"
    )
    assert (
        code_of(lambda: cancel(Unit(session, settings, Actor.trainer(), now=now), 999_999))
        == "not_found"
    )


def test_cancelling_twice_is_refused(session, settings, make_user, now):
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)
    cancel(Unit(session, settings, Actor.client(user), now=now), booking.id)

    assert (
        code_of(lambda: cancel(Unit(session, settings, Actor.client(user), now=now), booking.id))
        == "not_active"
    )


# reschedule


def test_reschedule_moves_the_booking(session, session_factory, settings, make_user, now):
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)
    previous = booking.starts_at
    events = []

    moved = reschedule(
        Unit(session, settings, Actor.client(user), now=now, observe=events.append),
        booking.id,
        TOMORROW + timedelta(days=1),
        at("14:00"),
    )

    assert moved.id == booking.id
    row = row_of(session_factory, booking.id)
    assert (row["starts_at"], row["ends_at"], row["status"]) == (
        datetime(2026, 11, 27, 11),
        datetime(2026, 11, 27, 12, 30),
        "active",
    )
    assert events[0] == BookingMoved(moved, previous)


def test_reschedule_by_one_cell_overlapping_the_booking_itself(session, settings, make_user, now):
    settings = Settings(capacity=1)
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)

    moved = reschedule(
        Unit(session, settings, Actor.client(user), now=now), booking.id, TOMORROW, at("10:30")
    )

    assert moved.starts_at == datetime(2026, 11, 26, 7, 30)
    view = day_availability(session, settings, TOMORROW, user.id, now)
    assert [s.start for s in view.slots if s.mine] == ["10:30", "11:00", "11:30"]


def _full_at_two(session, settings, make_user, now):
    for n in range(settings.capacity):
        book(
            Unit(session, settings, Actor.client(make_user(f"V{n}")), now=now),
            make_user(f"V{n}"),
            TOMORROW,
            at("14:00"),
        )


@pytest.mark.parametrize(
    ("day", "start", "code"),
    [
        (TOMORROW, "14:00", "full"),
        (TOMORROW, "14:30", "full"),
        (TOMORROW, "17:00", "after_hours"),
        (TODAY, "09:00", "too_soon"),
        (TODAY + timedelta(days=8), "10:00", "too_far"),
        (TOMORROW, "11:30", "overlapping"),
    ],
)
def test_a_failed_reschedule_leaves_the_old_booking_exactly_as_it_was(
    session, session_factory, settings, make_user, now, day, start, code
):
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)
    book(Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, at("12:00"))
    _full_at_two(session, settings, make_user, now)
    before = row_of(session_factory, booking.id)
    events = []

    assert (
        code_of(
            lambda: reschedule(
                Unit(session, settings, Actor.client(user), now=now, observe=events.append),
                booking.id,
                day,
                at(start),
            )
        )
        == code
    )

    assert row_of(session_factory, booking.id) == before
    assert (booking.starts_at, booking.status) == (before["starts_at"], "active")
    assert events == []


def test_a_client_cannot_reschedule_past_the_deadline(
    session, session_factory, settings, make_user, now
):
    user = make_user()
    booking = _tomorrow_at_ten(session, settings, user, now)
    before = row_of(session_factory, booking.id)
    late = booking.starts_at - timedelta(minutes=90)

    assert (
        code_of(
            lambda: reschedule(
                Unit(session, settings, Actor.client(user), now=late),
                booking.id,
                TOMORROW,
                at("14:00"),
            )
        )
        == "deadline_passed"
    )
    assert row_of(session_factory, booking.id) == before
    assert reschedule(
        Unit(session, settings, Actor.trainer(), now=late), booking.id, TOMORROW, at("14:00")
    )


def test_nobody_reschedules_someone_elses_or_a_cancelled_booking(session, settings, make_user, now):
    owner = make_user("Owner")
    booking = _tomorrow_at_ten(session, settings, owner, now)

    assert (
        code_of(
            lambda: reschedule(
                Unit(session, settings, Actor.client(make_user("Stranger")), now=now),
                booking.id,
                TOMORROW,
                at("14:00"),
            )
        )
        == "not_found"
    )
    cancel(Unit(session, settings, Actor.client(owner), now=now), booking.id)
    assert (
        code_of(
            lambda: reschedule(
                Unit(session, settings, Actor.client(owner), now=now),
                booking.id,
                TOMORROW,
                at("14:00"),
            )
        )
        == "not_active"
    )


def test_rescheduling_frees_the_old_place(session, settings, make_user, now):
    settings = Settings(capacity=1)
    mover = make_user("Mover")
    booking = _tomorrow_at_ten(session, settings, mover, now)
    reschedule(
        Unit(session, settings, Actor.client(mover), now=now), booking.id, TOMORROW, at("14:00")
    )

    assert book(
        Unit(session, settings, Actor.client(make_user("Next")), now=now),
        make_user("Next"),
        TOMORROW,
        TEN,
    ).is_active


# upcoming and day bookings


def test_upcoming_bookings_are_the_users_active_ones_not_yet_ended(
    session, settings, make_user, now
):
    user, other = make_user("Me"), make_user("Other")
    running = book(Unit(session, settings, Actor.client(user), now=now), user, TODAY, at("09:30"))
    later = book(
        Unit(session, settings, Actor.client(user), now=now),
        user,
        TOMORROW + timedelta(days=1),
        TEN,
    )
    soon = _tomorrow_at_ten(session, settings, user, now)
    cancelled = book(
        Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, at("14:00")
    )
    cancel(Unit(session, settings, Actor.client(user), now=now), cancelled.id)
    book(Unit(session, settings, Actor.client(other), now=now), other, TOMORROW, at("12:00"))

    ids = [b.id for b in upcoming_bookings(session, user, now)]
    assert ids == [running.id, soon.id, later.id]
    during = running.starts_at + timedelta(minutes=89)
    assert [b.id for b in upcoming_bookings(session, user, during)][0] == running.id
    assert running.id not in [b.id for b in upcoming_bookings(session, user, running.ends_at)]


def test_day_bookings_are_those_starting_on_the_local_day(session, make_user, now):
    settings = Settings(opening_hours=parse_opening_hours("00:00-24:00"), **UNLIMITED)
    user, other = make_user("Me"), make_user("Other")
    first = book(
        Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, at("00:00")
    )  # 21:00 UTC the day before
    late = book(Unit(session, settings, Actor.client(other), now=now), other, TOMORROW, at("23:30"))
    gone = book(Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, at("12:00"))
    cancel(Unit(session, settings, Actor.trainer(), now=now), gone.id)
    book(
        Unit(session, settings, Actor.client(user), now=now),
        user,
        TOMORROW + timedelta(days=1),
        at("00:00"),
    )
    book(Unit(session, settings, Actor.client(other), now=now), other, TODAY, at("23:30"))

    assert [b.id for b in day_bookings(session, settings, TOMORROW)] == [first.id, late.id]
    assert [b.id for b in day_bookings(session, settings, TOMORROW, include_cancelled=True)] == [
        first.id,
        gone.id,
        late.id,
    ]
    assert day_bookings(session, settings, TOMORROW)[0].user.first_name == "Me"


# opening hours


def test_opening_hours_in_the_database_override_the_environment(session, settings, make_user, now):
    week = parse_opening_hours("mon-fri 07:00-10:00,16:00-21:00; sat 10:00-14:00")

    assert set_opening_hours(Unit(session, settings, Actor.trainer(), now=now), week) == week
    assert effective_hours(session, settings) == week
    view = day_availability(session, settings, TOMORROW, None, now)
    assert [s.start for s in view.slots][:2] == ["07:00", "07:30"]
    assert [s.start for s in view.slots][-1] == "20:30"
    code = code_of(
        lambda: book(
            Unit(session, settings, Actor.client(make_user()), now=now), make_user(), TOMORROW, TEN
        )
    )
    assert code == "after_hours"
    assert day_availability(session, settings, date(2026, 11, 29), None, now).slots == []


def test_without_trainer_hours_the_environment_applies(session, now):
    settings = Settings(opening_hours=parse_opening_hours("12:00-13:30"))

    assert [s.start for s in day_availability(session, settings, TOMORROW, None, now).slots] == [
        "12:00",
        "12:30",
        "13:00",
    ]


def test_a_closed_week_is_refused_since_no_hours_mean_the_environments(session, settings, now):
    kept = parse_opening_hours("09:00-12:00")
    set_opening_hours(Unit(session, settings, Actor.trainer(), now=now), kept)

    with pytest.raises(InvalidInput):
        set_opening_hours(
            Unit(session, settings, Actor.trainer(), now=now), {day: () for day in range(7)}
        )

    assert effective_hours(session, settings) == kept


def test_unlisted_weekdays_are_closed_in_trainer_hours(session, settings, now):
    set_opening_hours(Unit(session, settings, Actor.trainer(), now=now), {0: ((600, 720),)})

    assert effective_hours(session, settings)[3] == ()
    assert day_availability(session, settings, TOMORROW, None, now).slots == []


@pytest.mark.parametrize(
    "week",
    [{0: ((485, 600),)}, {0: ((480, 720), (600, 900))}, {9: ((480, 600),)}, {0: ((600, 480),)}],
)
def test_bad_opening_hours_are_refused_and_the_old_ones_kept(session, settings, now, week):
    kept = parse_opening_hours("09:00-12:00")
    set_opening_hours(Unit(session, settings, Actor.trainer(), now=now), kept)

    with pytest.raises((ConfigError, InvalidInput)):
        set_opening_hours(Unit(session, settings, Actor.trainer(), now=now), week)

    assert effective_hours(session, settings) == kept


# closures


def test_a_closure_can_be_removed_again(session, settings, make_user, now):
    closure = add_closure(
        Unit(session, settings, Actor.trainer(), now=now), TOMORROW, reason="holiday"
    )
    assert not day_availability(session, settings, TOMORROW, None, now).available

    remove_closure(Unit(session, settings, Actor.trainer(), now=now), closure.id)

    assert day_availability(session, settings, TOMORROW, None, now).available
    assert (
        code_of(
            lambda: remove_closure(Unit(session, settings, Actor.trainer(), now=now), closure.id)
        )
        == "not_found"
    )


def test_a_closure_removed_meanwhile_elsewhere_is_not_found(
    session_factory, session, settings, now
):
    closure = add_closure(
        Unit(session, settings, Actor.trainer(), now=now), TOMORROW
    )  # held by `session`
    with session_factory() as other:  # another trainer's request removes it first
        remove_closure(Unit(other, settings, Actor.trainer(), now=now), closure.id)

    assert (
        code_of(
            lambda: remove_closure(Unit(session, settings, Actor.trainer(), now=now), closure.id)
        )
        == "not_found"
    )


def test_a_whole_day_closure_runs_from_local_midnight_to_midnight(session, settings, now):
    closure = add_closure(
        Unit(session, settings, Actor.trainer(), now=now), TOMORROW, reason="holiday"
    )

    assert (closure.starts_at, closure.ends_at) == (
        datetime(2026, 11, 25, 21),
        datetime(2026, 11, 26, 21),
    )
    assert closure.reason == "holiday"


def test_a_closure_over_bookings_is_refused_unless_they_are_cancelled(
    session, session_factory, settings, make_user, now
):
    booking = _tomorrow_at_ten(session, settings, make_user(), now)

    assert (
        code_of(
            lambda: add_closure(
                Unit(session, settings, Actor.trainer(), now=now),
                TOMORROW,
                start_minute=at("11:00"),
                end_minute=at("12:00"),
            )
        )
        == "has_bookings"
    )
    assert row_of(session_factory, booking.id)["status"] == "active"
    events = []
    add_closure(
        Unit(session, settings, Actor.trainer(), now=now, observe=events.append),
        TOMORROW,
        start_minute=at("11:00"),
        end_minute=at("12:00"),
        reason="Flood",
        cancel_bookings=True,
    )
    row = row_of(session_factory, booking.id)
    assert (row["status"], row["cancelled_by"], row["cancel_reason"]) == (
        "cancelled",
        "admin",
        "Flood",
    )
    assert [type(e) for e in events] == [BookingCancelled]


def test_a_closure_starting_in_the_dst_gap_starts_when_the_clock_resumes(session, now):
    settings = Settings(timezone="Europe/Berlin", opening_hours=parse_opening_hours("00:00-24:00"))
    spring_forward = date(2026, 3, 29)

    closure = add_closure(
        Unit(session, settings, Actor.trainer(), now=datetime(2026, 3, 1)),
        spring_forward,
        start_minute=at("02:00"),
        end_minute=at("04:00"),
    )

    assert (closure.starts_at, closure.ends_at) == (
        datetime(2026, 3, 29, 1),
        datetime(2026, 3, 29, 2),
    )
    view = day_availability(session, settings, spring_forward, None, datetime(2026, 3, 27))
    # 00:30 CET ends as the clock jumps to 03:00 CEST; 01:00 CET would run into the closure.
    assert [s.start for s in view.slots if s.can_start][:3] == ["00:00", "00:30", "04:00"]


@pytest.mark.parametrize(
    ("start", "end"), [(600, None), (None, 600), (600, 600), (660, 600), (-30, 600), (600, 1470)]
)
def test_a_closure_needs_a_range_within_the_day(session, settings, now, start, end):
    with pytest.raises(InvalidInput):
        add_closure(
            Unit(session, settings, Actor.trainer(), now=now),
            TOMORROW,
            start_minute=start,
            end_minute=end,
        )


# upsert_user


def _count_writes(session):
    writes = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", record)
    return writes


def test_upsert_user_creates_a_user_from_telegram(session):
    user = upsert_user(
        session,
        {
            "id": 5_000_000_001,
            "first_name": "Anna",
            "last_name": "K",
            "username": "anna",
            "language_code": "ru",
            "is_bot": False,
        },
    )

    assert (user.telegram_id, user.name, user.username, user.language_code) == (
        5_000_000_001,
        "Anna K",
        "anna",
        "ru",
    )
    assert session.scalar(select(User.id).where(User.telegram_id == 5_000_000_001)) == user.id


def test_upsert_user_writes_nothing_when_unchanged(session):
    telegram = {"id": 42, "first_name": "Anna", "username": "anna"}
    user = upsert_user(session, telegram)
    writes = _count_writes(session)

    again = upsert_user(session, dict(telegram))

    assert again.id == user.id
    assert writes == []


def test_upsert_user_refreshes_changed_names(session, session_factory):
    upsert_user(session, {"id": 42, "first_name": "Anna", "username": "anna"})

    user = upsert_user(session, {"id": 42, "first_name": "Anne", "last_name": "Lee"})

    with session_factory() as fresh:
        stored = fresh.scalar(select(User).where(User.telegram_id == 42))
        assert (stored.first_name, stored.last_name, stored.username) == ("Anne", "Lee", None)
    assert user.name == "Anne Lee"
    assert session.scalar(select(User.id).where(User.telegram_id == 42)) == user.id


def test_upsert_user_keeps_what_telegram_does_not_send(session):
    user = upsert_user(session, {"id": 42, "first_name": "Anna"})
    user.phone = "+79990000000"
    session.commit()

    assert upsert_user(session, {"id": 42, "first_name": "Ann"}).phone == "+79990000000"


@pytest.mark.parametrize(
    "telegram", [{}, {"id": "42"}, {"id": True}, {"id": 4.2}, {"id": None, "first_name": "X"}]
)
def test_upsert_user_needs_a_numeric_id(session, telegram):
    with pytest.raises(InvalidInput):
        upsert_user(session, telegram)


def test_upsert_user_fits_long_telegram_fields_into_their_columns(session, session_factory):
    long = "x" * 300

    user = upsert_user(
        session, {"id": 43, "first_name": long, "username": long, "language_code": long}
    )

    with session_factory() as fresh:
        stored = fresh.get(User, user.id)
        assert (len(stored.first_name), len(stored.username), len(stored.language_code)) == (
            255,
            64,
            16,
        )
    assert (
        upsert_user(
            session, {"id": 43, "first_name": long, "username": long, "language_code": long}
        ).id
        == user.id
    )


@pytest.mark.parametrize("booking_id", [2**31, 2**63, -1, 0])
def test_a_booking_id_out_of_range_is_simply_not_found(
    session, settings, make_user, now, booking_id
):
    user = make_user()

    assert (
        code_of(lambda: cancel(Unit(session, settings, Actor.client(user), now=now), booking_id))
        == "not_found"
    )
    assert (
        code_of(
            lambda: reschedule(
                Unit(session, settings, Actor.trainer(), now=now), booking_id, TOMORROW, TEN
            )
        )
        == "not_found"
    )
    assert (
        code_of(
            lambda: remove_closure(Unit(session, settings, Actor.trainer(), now=now), booking_id)
        )
        == "not_found"
    )


def test_events_are_told_inside_the_transaction_of_the_change(
    session, session_factory, settings, make_user, now
):
    """What a handler writes (the outbox) commits with the change: it sees the change on the
    service's session while nobody else does yet."""
    seen = []

    def notify(happened):
        outside = row_of(session_factory, happened.booking.id)
        seen.append(
            (
                type(happened).__name__,
                happened.booking.status,
                outside and (outside["status"], outside["starts_at"].hour),
            )
        )

    user = make_user()
    booking = book(
        Unit(session, settings, Actor.client(user), now=now, observe=notify), user, TOMORROW, TEN
    )
    reschedule(
        Unit(session, settings, Actor.client(user), now=now, observe=notify),
        booking.id,
        TOMORROW,
        at("14:00"),
    )
    cancel(Unit(session, settings, Actor.client(user), now=now, observe=notify), booking.id)

    assert seen == [
        ("BookingMade", "active", None),  # not committed yet
        ("BookingMoved", "active", ("active", 7)),  # others still see it at 10:00
        ("BookingCancelled", "cancelled", ("active", 11)),
    ]
    assert row_of(session_factory, booking.id)["status"] == "cancelled"


def test_a_database_without_the_lock_row_says_how_to_fix_it(session, settings, make_user, now):
    user = make_user()
    session.execute(delete(ScheduleLock))
    session.commit()

    with pytest.raises(RuntimeError, match="db upgrade"):
        book(Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, TEN)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("79990001122", "+79990001122"),
        ("+7 (999) 000-11-22", "+79990001122"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_a_shared_phone_is_stored_as_plus_and_digits(session, make_user, raw, stored):
    user = make_user()

    set_phone(session, user, raw)

    assert session.scalar(select(User.phone).where(User.id == user.id)) == stored


@pytest.mark.parametrize("raw", ["", "12345", "1" * 16, "call me", "٧٩٩٩٠٠٠١١٢٢", None])
def test_something_that_is_not_a_phone_number_is_refused(session, make_user, raw):
    with pytest.raises(InvalidInput):
        set_phone(session, make_user(), raw)


def test_a_users_name_falls_back_to_username_then_id(session):
    assert upsert_user(session, {"id": 1, "first_name": "A", "last_name": "B"}).name == "A B"
    assert upsert_user(session, {"id": 2, "username": "bee"}).name == "@bee"
    assert upsert_user(session, {"id": 3}).name == "3"


def test_closures_after_lists_those_not_yet_over(session, settings, now):
    two_days_ago = now - timedelta(days=2)  # closed then, over now
    past = add_closure(
        Unit(session, settings, Actor.trainer(), now=two_days_ago), TODAY - timedelta(days=1)
    )
    today = add_closure(Unit(session, settings, Actor.trainer(), now=now), TODAY)
    later = add_closure(
        Unit(session, settings, Actor.trainer(), now=now),
        TOMORROW,
        start_minute=TEN,
        end_minute=TEN + 60,
    )

    assert [c.id for c in closures_after(session, now)] == [today.id, later.id]
    assert past.id not in [c.id for c in closures_after(session, now)]


@pytest.mark.parametrize("minute", [10 * 60 + 15, -30, 1440, 1470])
def test_a_start_off_the_grid_or_outside_the_day_is_refused_by_the_service(
    session, settings, make_user, now, minute
):
    with pytest.raises(InvalidInput):
        book(
            Unit(session, settings, Actor.client(make_user()), now=now),
            make_user(),
            date(2026, 11, 26),
            minute,
        )
    assert session.scalar(select(func.count()).select_from(Booking)) == 0


def test_every_booking_cancel_and_move_is_one_log_line(session, settings, make_user, now, caplog):
    caplog.set_level("INFO", logger="schedule")
    user = make_user()
    booking = book(Unit(session, settings, Actor.client(user), now=now), user, TOMORROW, TEN)
    reschedule(
        Unit(session, settings, Actor.client(user), now=now), booking.id, TOMORROW, at("14:00")
    )
    cancel(Unit(session, settings, Actor.client(user), now=now), booking.id)

    lines = [
        (r.getMessage(), r.booking_id, r.client) for r in caplog.records if r.name == "schedule"
    ]
    assert lines == [
        ("booking made", booking.id, user.telegram_id),
        ("booking moved", booking.id, user.telegram_id),
        ("booking cancelled", booking.id, user.telegram_id),
    ]
    moved = [r for r in caplog.records if r.getMessage() == "booking moved"][0]
    assert moved.moved_from == "2026-11-26T07:00:00Z" and moved.starts_at.endswith("11:00:00Z")
