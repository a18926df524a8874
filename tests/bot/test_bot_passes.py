"""The bot and passes: /my shows the visits left, the client hears (through the outbox) that one
visit is left and that a pass expires soon, each once; the trainer marks attendance in /today.
The real bot and dispatcher against the fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from bot.passes import pass_duties_once
from schedule import Booking, passes, services
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE


def sell(bot_sessions, bot_config, visits: int, valid_days: int = 30, now=None):
    with bot_sessions() as session:
        user = services.upsert_user(session, ALICE)
        return passes.record(
            Unit(session, bot_config.settings, Actor.trainer(), now=now),
            user,
            visits=visits,
            valid_days=valid_days,
        )


def texts_to(fake_telegram, telegram_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in fake_telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == str(telegram_id) and c.status == 200
    ]


def test_my_shows_the_visits_left(alice, bot_sessions, bot_config, clock):
    alice.send("/my")
    assert "Pass" not in alice.screen["text"]  # never had one: nothing about passes
    sell(bot_sessions, bot_config, visits=5, now=clock())
    alice.send("/my")
    assert "🎫 Pass: 5 of 5 visits left, until Thu 24 Dec" in alice.screen["text"]


def test_one_visit_left_is_told_once_with_the_booking(
    alice, bot_sessions, bot_config, fake_telegram, dispatcher, clock
):
    sell(bot_sessions, bot_config, visits=2, now=clock())
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    assert dispatcher.flush()
    told = [t for t in texts_to(fake_telegram, ALICE["id"]) if "One visit is left" in t]
    assert told == [
        "One visit is left on your pass (valid until Thu 24 Dec). Ask the trainer for a new one."
    ]
    alice.send("/my")
    assert "1 of 2 visits left" in alice.screen["text"]


def test_expiry_is_told_once_however_often_the_duty_runs(
    bot_sessions, bot_config, fake_telegram, dispatcher, clock
):
    sell(bot_sessions, bot_config, visits=3, valid_days=3, now=clock())
    for _ in range(3):
        pass_duties_once(bot_config, bot_sessions, clock())
    assert dispatcher.flush()
    told = [t for t in texts_to(fake_telegram, ALICE["id"]) if "expires" in t]
    assert told == ["Your pass expires on Fri 27 Nov with 3 visits left."]


def test_the_trainer_marks_attendance_in_today_once_started(
    alice, coach, bot_sessions, dispatcher, clock
):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    coach.send("/today")
    coach.tap("Thu 26")
    labels = [b["text"] for b in coach.buttons()]
    assert not any(label.startswith("✅") for label in labels)  # not started: cancel only

    clock.advance(days=1, hours=1, minutes=5)  # Thursday 10:05
    coach.send("/today")
    coach.tap("🚫 no-show")
    with bot_sessions() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.attendance == "no_show"
    assert "🚫 Alice" in coach.screen["text"]
    coach.tap(next(b["text"] for b in coach.buttons() if b["text"].startswith("✅ 10:00")))
    with bot_sessions() as session:
        assert session.scalars(select(Booking)).one().attendance == "attended"
