"""/book with several kinds of training: the bot asks which kind first, then walks the kind's
days and starts (its length, any of its trainers) to a booking of that kind. With only the default
kind there is no such step (tests/bot/test_bot_flow.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from schedule import Booking, services
from schedule.kinds import add_kind, add_trainer
from schedule.unit import Actor, Unit

THURSDAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow, the `now` fixture


@pytest.fixture
def gym(bot_sessions, rules):
    with bot_sessions() as session:
        owner = Unit(session, rules, Actor.trainer())
        anna = add_trainer(owner, 5001, "Anna")
        boris = add_trainer(owner, 5002, "Boris", "12:00-20:00")
        personal = add_kind(owner, "Personal", 60, 1, [anna.id, boris.id])
        return anna.id, boris.id, personal.id


def test_book_asks_the_kind_first_and_books_that_kind(alice, gym, bot_sessions, fake_telegram):
    anna, boris, personal = gym
    alice.send("/book")
    assert alice.screen["text"] == "Which training?"
    assert [b["text"] for b in alice.buttons()][:2] == [
        "Training · 90 minutes",
        "Personal · 60 minutes",
    ]

    alice.tap("Personal")
    assert alice.screen["text"] == "Choose a day:"
    assert all(
        b["callback_data"].startswith(f"1|KD|{personal}|")
        for b in alice.buttons()
        if "Nov" in b["text"] or "Dec" in b["text"]
    )
    alice.tap("Thu 26 Nov")
    starts = [b["text"] for b in alice.buttons() if b["callback_data"].startswith("1|KT|")]
    # Anna from 08:00, Boris until 20:00; an hour's training ends by 20:00
    assert starts[0] == "08:00 (1)" and starts[-1] == "19:00 (1)"

    alice.tap("19:00")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 19:00–20:00?")
    alice.tap("Book it")
    assert alice.screen["text"] == "You're booked: Thu 26 Nov 19:00–20:00."
    with bot_sessions() as session:
        [booking] = session.scalars(select(Booking)).all()
    assert (booking.kind_id, booking.trainer_id, booking.source) == (personal, boris, "bot")
    assert booking.ends_at - booking.starts_at == timedelta(minutes=60)
    assert fake_telegram.unanswered_queries() == set()


def test_the_default_kind_goes_on_as_before_and_back_returns_to_the_kinds(alice, gym):
    alice.send("/book")
    alice.tap("Training")
    assert alice.screen["text"] == "Choose a day:"
    assert any(b["callback_data"].startswith("1|D|") for b in alice.buttons())
    alice.tap("Thu 26 Nov")
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    alice.tap("Back")  # to the days, which /book reached through the kinds
    assert alice.screen["text"] == "Which training?"


def test_a_forged_kind_is_stale(alice, gym, fake_telegram):
    alice.send("/book")
    calls = alice.tap_data("1|KB|99")
    assert alice.screen["text"] == "Which training?"
    assert any(c.method == "answerCallbackQuery" and c.params.get("show_alert") for c in calls)


def test_a_move_is_offered_the_starts_of_its_own_kind_and_trainer(alice, gym, bot_sessions, rules):
    anna, boris, personal = gym
    with bot_sessions() as session:
        other = services.upsert_user(session, {"id": 2090, "first_name": "Vera"})
        unit = Unit(session, rules, Actor.client(other), NOW)
        services.book(unit, other, THURSDAY, 15 * 60, kind=personal, trainer=boris)
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Thu 26 Nov")
    alice.tap("19:00")  # Boris's: Anna works until 18:00
    alice.tap("Book it")
    alice.send("/my")
    alice.tap("Move Thu 26 Nov 19:00")
    alice.tap("Thu 26 Nov")
    starts = [b["text"] for b in alice.buttons() if b["callback_data"].startswith("1|VT|")]
    # A personal hour with Boris, who gives one visitor at a time and works from 12:00: none that
    # overlaps Vera's 15:00-16:00 (the default kind with any trainer would offer those, and
    # 08:00 with Anna).
    assert starts[0] == "12:00 (1)" and "14:00 (1)" in starts and "16:00 (1)" in starts
    assert not {"14:30 (1)", "15:00 (1)", "15:30 (1)", "19:00 (1)"} & set(starts)
