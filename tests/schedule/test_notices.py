"""schedule.notices: who hears of what, decided by one pure function of an event and the rules;
written to the outbox by schedule itself, in the change's transaction.

The rule tests build their events from plain objects (no database); the last ones check that
the services, the series and the pass duties write what the function decides, with no adapter's
handler installed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from schedule import ConfigError, ScheduleError, Settings, notices, passes, series, services
from schedule.events import (
    BookingCancelled,
    BookingMade,
    BookingMoved,
    OccurrenceSettled,
    PassExpiring,
    ReminderDue,
    SeriesStopped,
)
from schedule.models import Booking, Pass, User
from schedule.notices import (
    CLIENT,
    NEWS,
    PASS_EXPIRING,
    PASS_LOW,
    REMINDER,
    SERIES_BOOKED,
    SERIES_SKIPPED,
    SERIES_STOPPED,
    SERIES_WAITING,
    notices_of,
)
from schedule.outbox import DROPPED, PENDING, OutboxMessage
from schedule.passes import PassView
from schedule.reminders import DueReminder
from schedule.series import Series, SeriesOccurrence
from schedule.unit import Actor, Unit

TRAINERS = frozenset({2900, 2901})
RULES = Settings(admin_ids=TRAINERS, trainer_news_delay=60)
AT = datetime(2026, 11, 25, 6, 0)  # 09:00 in Moscow
STARTS = datetime(2026, 11, 26, 7, 0)  # Thursday 10:00 in Moscow


def client(**fields) -> User:
    values = {
        "telegram_id": 2001,
        "first_name": "Alice",
        "username": "alice",
        "phone": "+70000000001",
        "language_code": "en",
    }
    return User(**{**values, **fields})


def booking(source: str = "miniapp", **fields) -> Booking:
    values = {
        "id": 7,
        "user": client(),
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(minutes=90),
        "status": "active",
        "source": source,
        "updated_at": AT,
    }
    return Booking(**{**values, **fields})


def who(found: list[notices.Notice]) -> list[tuple[int, str]]:
    return [(notice.chat_id, notice.key) for notice in found]


# --- the rules, as plain functions --------------------------------------------------------


def test_a_clients_booking_is_news_for_every_trainer_held_and_not_echoed_to_the_client():
    found = notices_of(BookingMade(booking("bot")), RULES)

    assert who(found) == [(2900, NEWS), (2901, NEWS)]
    assert {n.delay for n in found} == {timedelta(seconds=60)}
    assert {n.booking_id for n in found} == {7} and {n.at for n in found} == {AT}
    facts = found[0].facts
    assert facts["kind"] == "booked" and facts["source"] == "bot"
    assert facts["client_id"] == 2001 and facts["client_name"] == "Alice"
    assert facts["client_username"] == "alice" and facts["client_phone"] == "+70000000001"
    assert facts["starts_at"] == "2026-11-26T07:00:00"
    assert "client_language" not in facts  # each reader's own language is chosen when sent
    assert json.loads(json.dumps(facts)) == facts  # plain JSON values, nothing to convert


def test_a_booking_the_trainer_makes_tells_the_client_and_the_trainers_at_once():
    found = notices_of(BookingMade(booking("admin")), RULES)

    assert who(found) == [(2900, NEWS), (2901, NEWS), (2001, CLIENT)]
    assert {n.delay for n in found} == {timedelta(0)}
    assert found[-1].facts["client_may_cancel"] is True  # a day ahead: before the deadline


def test_a_booking_made_for_the_client_inside_the_deadline_offers_no_cancel():
    late = booking("admin", starts_at=AT + timedelta(hours=1), ends_at=AT + timedelta(hours=2))
    [*_, told] = notices_of(BookingMade(late), RULES)
    assert told.key == CLIENT and told.facts["client_may_cancel"] is False


def test_the_trainers_cancel_tells_the_client_why():
    cancelled = booking("bot", status="cancelled", cancel_reason="The trainer is ill")
    found = notices_of(BookingCancelled(cancelled, by_admin=True), RULES)

    assert who(found) == [(2900, NEWS), (2901, NEWS), (2001, CLIENT)]
    assert {n.delay for n in found} == {timedelta(0)}
    assert all(n.facts["reason"] == "The trainer is ill" and n.facts["by_admin"] for n in found)
    assert [n.folds_held for n in found] == [True, True, False]


def test_a_clients_own_cancel_is_held_news_that_folds_and_not_told_to_them():
    found = notices_of(BookingCancelled(booking("miniapp"), by_admin=False), RULES)

    assert who(found) == [(2900, NEWS), (2901, NEWS)]
    assert all(n.folds_held and n.delay == timedelta(seconds=60) for n in found)


def test_a_move_is_news_with_where_it_was():
    found = notices_of(BookingMoved(booking("bot"), STARTS - timedelta(hours=2)), RULES)

    assert who(found) == [(2900, NEWS), (2901, NEWS)]
    assert found[0].facts["kind"] == "moved"
    assert found[0].facts["previous_starts_at"] == "2026-11-26T05:00:00"
    assert not found[0].folds_held


def test_a_place_the_waitlist_gives_tells_the_client_and_the_trainers_at_once():
    found = notices_of(BookingMade(booking("waitlist"), from_waitlist=True), RULES)

    assert who(found) == [(2900, NEWS), (2901, NEWS), (2001, CLIENT)]
    assert {n.delay for n in found} == {timedelta(0)}
    assert found[-1].facts["from_waitlist"] is True


def test_a_cancel_of_a_series_the_trainer_stops_is_told_only_in_the_stops_message():
    cancelled = booking("series", status="cancelled", cancel_reason="Moving")
    assert notices_of(BookingCancelled(cancelled, by_admin=True, series_stopped=True), RULES) == []


def test_no_trainer_named_no_trainer_news_but_the_client_still_hears():
    lone = replace(RULES, admin_ids=frozenset())
    assert notices_of(BookingMade(booking("bot")), lone) == []
    assert who(notices_of(BookingMade(booking("admin")), lone)) == [(2001, CLIENT)]


def a_pass(visits: int = 10) -> Pass:
    return Pass(id=3, user=client(), visits=visits, expires_on=date(2026, 12, 31))


def test_the_second_to_last_visit_taken_tells_the_client_one_is_left():
    left_one = PassView(a_pass(), used=9, valid=True)
    found = notices_of(BookingMade(booking("bot"), pass_view=left_one), RULES)

    assert who(found)[-1] == (2001, PASS_LOW)
    assert found[-1].facts == {"pass_id": 3, "remaining": 1, "visits": 10, "expires": "2026-12-31"}
    left_two = PassView(a_pass(), used=8, valid=True)
    assert PASS_LOW not in [
        n.key for n in notices_of(BookingMade(booking(), pass_view=left_two), RULES)
    ]


def test_a_pass_about_to_expire_tells_its_client():
    sold = a_pass()
    sold.expiry_noticed_at = AT
    [told] = notices_of(PassExpiring(PassView(sold, used=6, valid=True)), RULES)
    assert (told.chat_id, told.key, told.at) == (2001, PASS_EXPIRING, AT)
    assert told.facts["remaining"] == 4


def test_a_reminder_tells_the_client_until_the_training_starts():
    due = DueReminder(claim_id=1, booking=booking(), offset_minutes=120)
    [told] = notices_of(ReminderDue(due, AT), RULES)

    assert (told.chat_id, told.key, told.at, told.booking_id) == (2001, REMINDER, AT, 7)
    assert told.expires_at == STARTS
    assert told.facts == {
        "booking_id": 7,
        "starts_at": "2026-11-26T07:00:00",
        "offset_minutes": 120,
    }


def standing_booking(**fields) -> Series:
    values = {
        "id": 5,
        "user": client(),
        "weekday": 3,
        "start_minute": 600,
        "first_on": STARTS.date(),
    }
    return Series(**{**values, **fields})


@pytest.mark.parametrize(
    ("outcome", "reason", "key"),
    [
        ("booked", None, SERIES_BOOKED),
        ("waiting", None, SERIES_WAITING),
        ("skipped", "closed", SERIES_SKIPPED),
    ],
)
def test_a_date_the_worker_settles_tells_the_client_what_became_of_it(outcome, reason, key):
    occurrence = SeriesOccurrence(
        occurs_on=STARTS.date(),
        starts_at=STARTS,
        outcome=outcome,
        reason=reason,
        booking_id=7 if outcome == "booked" else None,
        created_at=AT,
    )
    [told] = notices_of(OccurrenceSettled(standing_booking(), occurrence), RULES)

    assert (told.chat_id, told.key, told.at) == (2001, key, AT)
    assert told.facts == {
        "series_id": 5,
        "weekday": 3,
        "start": "10:00",
        "date": "2026-11-26",
        "starts_at": "2026-11-26T07:00:00",
        "reason": reason,
        "booking_id": 7 if outcome == "booked" else None,
    }


def test_the_trainers_stop_is_one_message_with_the_dates_it_cancelled():
    stopped = standing_booking(status="stopped", stopped_at=AT, stop_reason="Moving")
    [told] = notices_of(SeriesStopped(stopped, (STARTS, STARTS + timedelta(weeks=1))), RULES)

    assert (told.chat_id, told.key, told.at) == (2001, SERIES_STOPPED, AT)
    assert told.facts["reason"] == "Moving"
    assert told.facts["cancelled"] == ["2026-11-26T07:00:00", "2026-12-03T07:00:00"]


def test_the_trainers_and_their_news_delay_are_read_from_the_environment():
    read = Settings.from_env({"ADMIN_IDS": "2900, 2901 2902", "TRAINER_NEWS_DELAY_SECONDS": "5"})
    assert read.admin_ids == frozenset({2900, 2901, 2902}) and read.trainer_news_delay == 5.0
    assert Settings.from_env({}).admin_ids == frozenset()
    assert Settings.from_env({}).trainer_news_delay == 60.0
    with pytest.raises(ConfigError, match="ADMIN_IDS"):
        Settings.from_env({"ADMIN_IDS": "2900,coach"})
    for wrong in ("-1", "86401", "soon", "nan"):
        with pytest.raises(ConfigError, match="TRAINER_NEWS_DELAY_SECONDS"):
            Settings.from_env({"TRAINER_NEWS_DELAY_SECONDS": wrong})


# --- written by schedule, in the change's transaction -------------------------------------

THURSDAY = date(2026, 11, 26)
TEN = 600


def rows(session) -> list[tuple[int, str, str]]:
    found = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [(m.chat_id, m.kind, m.status) for m in found]


@pytest.fixture
def rules(settings) -> Settings:
    return replace(settings, admin_ids=TRAINERS, trainer_news_delay=60)


def test_the_services_write_the_notices_with_no_handler_installed(session, rules, make_user):
    alice = make_user("Alice", id=2001)
    made = services.book(
        Unit(session, rules, Actor.trainer(), now=AT), alice, THURSDAY, TEN, source="admin"
    )
    services.cancel(Unit(session, rules, Actor.trainer(), now=AT), made.id, reason="Ill")

    assert rows(session) == [
        (2900, NEWS, PENDING),
        (2901, NEWS, PENDING),
        (2001, CLIENT, PENDING),
        (2900, NEWS, PENDING),
        (2901, NEWS, PENDING),
        (2001, CLIENT, PENDING),
    ]


def test_settings_that_name_no_trainer_still_tell_the_client(session, settings, make_user):
    alice = make_user("Alice", id=2001)
    made = services.book(
        Unit(session, settings, Actor.trainer(), now=AT), alice, THURSDAY, TEN, source="admin"
    )
    services.cancel(Unit(session, settings, Actor.trainer(), now=AT), made.id, reason="Ill")
    assert [(chat, key) for chat, key, _ in rows(session)] == [(2001, CLIENT), (2001, CLIENT)]


def test_a_refused_change_writes_no_notice(session, rules, make_user):
    alice = make_user("Alice", id=2001)
    services.book(Unit(session, rules, Actor.client(alice), now=AT), alice, THURSDAY, TEN)
    with pytest.raises(ScheduleError):
        services.book(
            Unit(session, rules, Actor.client(alice), now=AT), alice, THURSDAY, TEN
        )  # overlapping
    assert len(rows(session)) == 2  # the first booking's news only


def test_a_quick_cancel_folds_the_held_news_away(session, rules, make_user):
    alice = make_user("Alice", id=2001)
    made = services.book(
        Unit(session, rules, Actor.client(alice), now=AT), alice, THURSDAY, TEN, source="bot"
    )
    services.cancel(
        Unit(session, rules, Actor.client(alice), now=AT + timedelta(seconds=30)), made.id
    )
    assert rows(session) == [(2900, NEWS, DROPPED), (2901, NEWS, DROPPED)]

    kept = services.book(
        Unit(session, rules, Actor.client(alice), now=AT + timedelta(minutes=5)),
        alice,
        THURSDAY,
        TEN,
    )
    services.cancel(
        Unit(session, rules, Actor.client(alice), now=AT + timedelta(minutes=7)), kept.id
    )
    assert rows(session)[2:] == [(t, NEWS, PENDING) for t in (2900, 2901, 2900, 2901)]


def test_the_trainers_stop_of_a_series_writes_one_message_for_it_all(session, rules, make_user):
    alice = make_user("Alice", id=2001)
    made = series.start(Unit(session, rules, Actor.client(alice), now=AT), alice, THURSDAY, TEN, 4)
    before = len(rows(session))  # the trainers' news of the dates booked with it
    series.stop(Unit(session, rules, Actor.trainer(), now=AT), made.series.id, reason="Moving")

    assert [(chat, kind) for chat, kind, _ in rows(session)[before:]] == [(2001, SERIES_STOPPED)]


def test_a_date_the_worker_books_is_told_to_the_client(session, rules, make_user):
    alice = make_user("Alice", id=2001)
    series.start(Unit(session, rules, Actor.client(alice), now=AT), alice, THURSDAY, TEN, 4)
    before = len(rows(session))
    [settled] = series.book_due(Unit(session, rules, Actor.system(), now=AT + timedelta(days=1)))

    assert settled.outcome == "booked"
    written = rows(session)[before:]
    assert [(chat, kind) for chat, kind, _ in written] == [
        (2900, NEWS),
        (2901, NEWS),
        (2001, SERIES_BOOKED),
    ]


def test_the_pass_duties_write_the_expiry_notice_with_their_claim(session, rules, make_user):
    alice = make_user("Alice", id=2001)
    sold = passes.record(
        Unit(session, rules, Actor.trainer(), now=AT), alice, visits=5, valid_days=3
    )
    [claimed] = passes.claim_expiring(session, rules, AT)

    assert claimed.sold.id == sold.id
    message = session.scalar(select(OutboxMessage))
    assert (message.chat_id, message.kind, message.facts["remaining"]) == (2001, PASS_EXPIRING, 5)
    assert passes.claim_expiring(session, rules, AT) == []  # told once
