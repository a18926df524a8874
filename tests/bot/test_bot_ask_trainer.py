"""The bot tells a client refused `no_pass` (PASS_REQUIRED=1) or paused for no-shows why, and
gives them the trainer's contact; once the trainer records a pass, /book offers days again.
The real bot against the fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from schedule import Settings, passes, services
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, COACH


@pytest.fixture
def bot_config(bot_config):
    """Passes are required in this studio."""
    settings = dataclasses.replace(bot_config.settings, pass_required=True)
    return dataclasses.replace(bot_config, settings=settings)


def test_book_without_a_pass_says_whom_to_ask(alice, bot_sessions, bot_config, clock):
    alice.send("/book")
    screen = alice.screen["html"]
    assert "You have no pass with a visit left for this date; ask the trainer" in screen
    # The trainer never wrote to the bot: a link by their Telegram id.
    assert f'<a href="tg://user?id={COACH["id"]}">Message the trainer</a>' in screen

    with bot_sessions() as session:
        services.upsert_user(session, {**COACH, "username": "coach_anna"})
        session.commit()
    alice.send("/book")
    assert '<a href="https://t.me/coach_anna">Message the trainer</a>' in alice.screen["html"]

    with bot_sessions() as session:
        user = services.upsert_user(session, ALICE)
        passes.record(
            Unit(session, bot_config.settings, Actor.trainer(), now=clock()),
            user,
            visits=1,
            valid_days=30,
        )
    alice.send("/book")
    assert "Message the trainer" not in alice.screen["text"]
    assert any(button["text"] == "Thu 26 Nov" for button in alice.buttons())


def test_a_booking_refused_no_pass_on_the_tap_gives_the_contact(
    alice, bot_sessions, bot_config, clock
):
    with bot_sessions() as session:
        user = services.upsert_user(session, ALICE)
        sold = passes.record(
            Unit(session, bot_config.settings, Actor.trainer(), now=clock()),
            user,
            visits=1,
            valid_days=30,
        )
        pass_id = sold.id
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    with bot_sessions() as session:  # the pass is used up meanwhile (by the trainer's fix)
        passes.adjust(
            Unit(session, Settings(), Actor.trainer(), now=clock()),
            pass_id,
            extend_days=-29,
            reason="ends today",
        )
    calls = alice.tap("Book it")
    alert = [c.params for c in calls if c.method == "answerCallbackQuery"][0]
    assert alert["show_alert"] in (True, "true") and "no pass" in alert["text"]
    assert "Message the trainer" in alice.screen["text"]
