"""/book with several kinds of training and trainers: the bot asks which kind first, then whom
when several trainers give that kind (each of them, or any), then walks that kind's days and
starts with that trainer's picture (its length, the trainer's hours and bookings) to a booking
of that kind with that trainer. With only the default kind and at most one trainer there is no
such step (tests/bot/test_bot_flow.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from schedule import Booking, User, services
from schedule.kinds import add_kind, add_trainer, retire_trainer
from schedule.models import WaitlistEntry
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, answers

THURSDAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow, the `now` fixture
STALE = "This button is out of date. Here is a fresh one."


def owner(session, rules) -> Unit:
    """A unit of work of an owner (a command on the server), who adds trainers and kinds."""
    return Unit(session, rules, Actor.trainer(), NOW)


@pytest.fixture
def gym(bot_sessions, rules):
    return make_gym(bot_sessions, rules)


def make_gym(bot_sessions, rules) -> tuple[int, int, int, int]:
    """Anna (the studio's hours, 08:00-18:00) and Boris (12:00-20:00) give the default kind
    and Personal (an hour, one visitor); Anna alone gives Stretch (an hour, two visitors).
    Their ids: Anna, Boris, Personal, Stretch."""
    with bot_sessions() as session:
        anna = add_trainer(owner(session, rules), 5001, "Anna")
        boris = add_trainer(owner(session, rules), 5002, "Boris", "12:00-20:00")
        personal = add_kind(owner(session, rules), "Personal", 60, 1, [anna.id, boris.id])
        stretch = add_kind(owner(session, rules), "Stretch", 60, 2, [anna.id])
        session.commit()
        return anna.id, boris.id, personal.id, stretch.id


def book_for(bot_sessions, rules, telegram_id: int, minute: int, **choice) -> None:
    """Another client books on Thursday (`choice`: services.book's kind and trainer)."""
    with bot_sessions() as session:
        other = services.upsert_user(session, {"id": telegram_id, "first_name": "Vera"})
        services.book(
            Unit(session, rules, Actor.client(other), NOW), other, THURSDAY, minute, **choice
        )


def bookings_of(bot_sessions, telegram_id: int = ALICE["id"]) -> list[Booking]:
    with bot_sessions() as session:
        return list(
            session.scalars(
                select(Booking)
                .join(User, User.id == Booking.user_id)
                .where(User.telegram_id == telegram_id)
                .order_by(Booking.starts_at)
            )
        )


def buttons_of(chat, action: str) -> list[str]:
    return [b["text"] for b in chat.buttons() if b["callback_data"].startswith(f"1|{action}|")]


def alerted(calls) -> str | None:
    found = [a for a in answers(calls) if a.get("show_alert")]
    return found[0].get("text") if found else None


def test_book_asks_the_kind_then_whom_and_books_that_kind(alice, gym, bot_sessions, fake_telegram):
    anna, boris, personal, _ = gym
    alice.send("/book")
    assert alice.screen["text"] == "Which training?"
    assert [b["text"] for b in alice.buttons()] == [
        "Training · 90 minutes",
        "Personal · 60 minutes",
        "Stretch · 60 minutes",
        "« Menu",
    ]

    alice.tap("Personal")
    assert alice.screen["text"] == "Which trainer?\nKind of training: Personal"
    assert [(b["text"], b["callback_data"]) for b in alice.buttons()] == [
        ("Anna", f"1|PB|{personal}|{anna}"),
        ("Boris", f"1|PB|{personal}|{boris}"),
        ("Any trainer", f"1|PB|{personal}|0"),
        ("« Back", "1|KN"),
    ]
    alice.tap("Any trainer")
    assert alice.screen["text"] == "Choose a day:\nKind of training: Personal"
    assert all(
        b["callback_data"].startswith(f"1|PD|{personal}|0|")
        for b in alice.buttons()
        if "Nov" in b["text"] or "Dec" in b["text"]
    )
    alice.tap("Thu 26 Nov")
    starts = buttons_of(alice, "PT")
    # Anna from 08:00, Boris until 20:00; an hour's training ends by 20:00
    assert starts[0] == "08:00 (1)" and starts[-1] == "19:00 (1)"

    alice.tap("19:00")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 19:00–20:00?")
    alice.tap("Book it")
    # A booking for any trainer names the one the rules gave it to (Anna works until 18:00).
    assert alice.screen["text"] == (
        "You're booked: Thu 26 Nov 19:00–20:00.\nKind of training: Personal\nTrainer: Boris"
    )
    [booking] = bookings_of(bot_sessions)
    assert (booking.kind_id, booking.trainer_id, booking.source) == (personal, boris, "bot")
    assert booking.ends_at - booking.starts_at == timedelta(minutes=60)
    assert fake_telegram.unanswered_queries() == set()


def test_a_chosen_trainers_picture_and_a_booking_that_names_them(alice, gym, bot_sessions, rules):
    anna, boris, personal, _ = gym
    book_for(bot_sessions, rules, 2090, 15 * 60, kind=personal, trainer=boris)
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Boris")
    assert alice.screen["text"] == "Choose a day:\nKind of training: Personal\nTrainer: Boris"
    alice.tap("Thu 26 Nov")
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    assert "Trainer: Boris" in alice.screen["text"]
    starts = buttons_of(alice, "PT")
    # Boris's own day: from 12:00, and not the hours around his 15:00 that Vera holds (any
    # trainer would offer those: Anna is free then)
    assert starts[0] == "12:00 (1)" and starts[-1] == "19:00 (1)"
    assert "14:00 (1)" in starts and not {"14:30 (1)", "15:00 (1)", "15:30 (1)"} & set(starts)
    assert all(
        b["callback_data"].startswith(f"1|PT|{personal}|{boris}|20261126|")
        for b in alice.buttons()
        if b["text"].endswith("(1)")
    )

    alice.tap("13:00")
    assert alice.screen["text"].startswith(
        "Book a training on Thu 26 Nov 13:00–14:00?\nKind of training: Personal\nTrainer: Boris"
    )
    alice.tap("Book it")
    assert alice.screen["text"] == (
        "You're booked: Thu 26 Nov 13:00–14:00.\nKind of training: Personal\nTrainer: Boris"
    )
    [booking] = bookings_of(bot_sessions)
    assert (booking.kind_id, booking.trainer_id) == (personal, boris)


def test_no_trainer_step_for_a_kind_one_trainer_gives(alice, gym, bot_sessions):
    anna, _, _, stretch = gym
    alice.send("/book")
    alice.tap("Stretch")
    assert alice.screen["text"] == "Choose a day:\nKind of training: Stretch"
    assert alice.buttons()[-1]["callback_data"] == "1|KN"  # back to the kinds, one step
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    assert alice.screen["text"] == (
        "You're booked: Thu 26 Nov 10:00–11:00.\nKind of training: Stretch"
    )
    [booking] = bookings_of(bot_sessions)
    assert (booking.kind_id, booking.trainer_id) == (stretch, anna)


def test_any_trainer_goes_where_the_rules_say(alice, gym, bot_sessions, rules):
    """The default kind, any trainer: the trainer whose training there already holds the most
    visitors, the lower id among equals."""
    anna, boris, _, _ = gym
    book_for(bot_sessions, rules, 2090, 13 * 60, trainer=boris)
    for start in ("13:00", "15:00"):
        alice.send("/book")
        alice.tap("Training")
        assert alice.screen["text"] == "Which trainer?\nKind of training: Training"
        alice.tap("Any trainer")
        alice.tap("Thu 26 Nov")
        alice.tap(start)
        alice.tap("Book it")
    at_one, at_three = bookings_of(bot_sessions)
    assert (at_one.kind_id, at_one.trainer_id) == (None, boris)  # joins Vera's group
    assert (at_three.kind_id, at_three.trainer_id) == (None, anna)  # both empty: the lower id
    assert alice.screen["text"].endswith("Trainer: Anna")


def test_back_goes_back_one_step(alice, gym):
    anna, _, _, _ = gym
    alice.send("/book")
    alice.tap("Training")
    alice.tap("Anna")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 10:00–11:30?")
    assert "Trainer: Anna" in alice.screen["text"]
    alice.tap("Back")
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    alice.tap("Back")
    assert alice.screen["text"] == "Choose a day:\nKind of training: Training\nTrainer: Anna"
    alice.tap("Back")
    assert alice.screen["text"] == "Which trainer?\nKind of training: Training"
    alice.tap("Back")
    assert alice.screen["text"] == "Which training?"
    assert alice.buttons()[-1]["text"] == "« Menu"


def test_a_forged_or_stale_trainer_is_an_alert_and_books_nothing(
    alice, gym, bot_sessions, fake_telegram
):
    anna, boris, personal, stretch = gym
    alice.send("/book")
    for data in (
        f"1|PK|{personal}|999|20261126|1300",  # no such trainer
        f"1|PK|{stretch}|{boris}|20261126|1300",  # Boris doesn't give Stretch
        f"1|PT|{personal}|999|20261126|1300",
        f"1|PB|{personal}|999",
        f"1|PJ|{personal}|999|20261126|1300",
        f"1|PK|99|{anna}|20261126|1300",  # no such kind
        f"1|PK|{personal}|01|20261126|1300",  # not a shape the bot writes
        f"1|PK|{personal}|{anna}|{anna}|20261126|1300",
    ):
        calls = alice.tap_data(data)
        assert alerted(calls) == STALE, data
    assert bookings_of(bot_sessions) == []
    # A wrong trainer of a kind that several give: the trainers again, to choose afresh.
    alice.tap_data(f"1|PB|{personal}|999")
    assert alice.screen["text"].startswith("Which trainer?")
    assert fake_telegram.unanswered_queries() == set()


def test_a_trainer_retired_meanwhile_is_stale(alice, gym, bot_sessions, rules):
    anna, boris, personal, _ = gym
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Boris")
    alice.tap("Thu 26 Nov")
    with bot_sessions() as session:
        retire_trainer(owner(session, rules), boris)
        session.commit()
    calls = alice.tap("13:00")
    assert alerted(calls) == STALE
    # Personal is Anna's alone now: no trainer step, the kinds to choose from again.
    assert alice.screen["text"] == "Which training?"
    assert bookings_of(bot_sessions) == []


def test_in_russian(boris, gym, bot_sessions):
    anna, _, personal, _ = gym
    boris.send("/book")
    assert boris.screen["text"] == "Какая тренировка?"
    boris.tap("Personal")
    assert boris.screen["text"] == "К какому тренеру?\nВид тренировки: Personal"
    assert [b["text"] for b in boris.buttons()][-2:] == ["Любой тренер", "« Назад"]
    boris.tap("Anna")
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    assert "Тренер: Anna" in boris.screen["text"]
    boris.tap("Записаться")
    assert boris.screen["text"].endswith("Вид тренировки: Personal\nТренер: Anna")
    [booking] = bookings_of(bot_sessions, boris.id)
    assert (booking.kind_id, booking.trainer_id) == (personal, anna)


def fill_with(bot_sessions, rules, trainer: int, minute: int) -> None:
    """Four other clients take every place of the default kind with `trainer` on Thursday."""
    for n in range(4):
        book_for(bot_sessions, rules, 2100 + n, minute, trainer=trainer)


def test_a_full_start_with_the_chosen_trainer_may_be_waited_for(alice, gym, bot_sessions, rules):
    anna, _, _, _ = gym
    fill_with(bot_sessions, rules, anna, 10 * 60)  # only Anna works at 10:00
    alice.send("/book")
    alice.tap("Training")
    alice.tap("Anna")
    alice.tap("Thu 26 Nov")
    wait = alice.button("⏳ 10:00")
    assert wait["callback_data"] == f"1|PW|1|{anna}|20261126|1000"
    alice.tap("⏳ 10:00")
    assert alice.screen["text"].startswith("Thu 26 Nov 10:00–11:30 is full. Join the waitlist?")
    assert "Trainer: Anna" in alice.screen["text"]
    assert alice.button("Join")["callback_data"] == f"1|PJ|1|{anna}|20261126|1000"
    alice.tap("Join")
    assert "number 1 in line" in alice.screen["text"]
    [entry] = entries_of(bot_sessions)
    assert (entry.kind_id, entry.trainer_id, entry.status) == (None, anna, "waiting")


def test_the_line_of_a_kind_with_its_trainer(alice, gym, bot_sessions, rules):
    """Personal with Boris at 13:00 is full (one visitor): waiting for it names both; with any
    trainer there is no line at 13:00 (Anna can take it), and the start is booked instead."""
    anna, boris, personal, _ = gym
    book_for(bot_sessions, rules, 2090, 13 * 60, kind=personal, trainer=boris)
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Any trainer")
    alice.tap("Thu 26 Nov")
    assert "13:00 (1)" in buttons_of(alice, "PT") and not buttons_of(alice, "PW")
    alice.tap("« Back")
    alice.tap("« Back")
    alice.tap("Boris")
    alice.tap("Thu 26 Nov")
    # Vera's hour with Boris overlaps the hours from 12:30 to 13:30: full for him
    assert buttons_of(alice, "PW") == ["⏳ 12:30", "⏳ 13:00", "⏳ 13:30"]
    assert {"12:00 (1)", "14:00 (1)"} <= set(buttons_of(alice, "PT"))
    alice.tap("⏳ 13:00")
    assert alice.screen["text"].startswith("Thu 26 Nov 13:00–14:00 is full. Join the waitlist?")
    alice.tap("Join")
    assert "number 1 in line" in alice.screen["text"]
    [entry] = entries_of(bot_sessions)
    assert (entry.kind_id, entry.trainer_id, entry.status) == (personal, boris, "waiting")
    assert bookings_of(bot_sessions) == []


def entries_of(bot_sessions, telegram_id: int = ALICE["id"]) -> list[WaitlistEntry]:
    with bot_sessions() as session:
        return list(
            session.scalars(
                select(WaitlistEntry)
                .join(User, User.id == WaitlistEntry.user_id)
                .where(User.telegram_id == telegram_id)
            )
        )


def test_only_the_default_kind_with_two_trainers_asks_whom(alice, bot_sessions, rules):
    with bot_sessions() as session:
        add_trainer(owner(session, rules), 5001, "Anna")
        add_trainer(owner(session, rules), 5002, "Boris", "12:00-20:00")
        session.commit()
    alice.send("/book")
    assert alice.screen["text"] == "Which trainer?"
    assert [b["text"] for b in alice.buttons()] == ["Anna", "Boris", "Any trainer", "« Menu"]
    alice.tap("Boris")
    alice.tap("Thu 26 Nov")
    assert buttons_of(alice, "PT")[0] == "12:00 (4)"
    alice.tap("Back")
    alice.tap("Back")
    assert alice.screen["text"] == "Which trainer?"


def test_one_trainer_asks_nothing(alice, bot_sessions, rules):
    with bot_sessions() as session:
        add_trainer(owner(session, rules), 5001, "Anna")
        session.commit()
    alice.send("/book")
    assert alice.screen["text"] == "Choose a day:"
    assert any(b["callback_data"].startswith("1|D|") for b in alice.buttons())


def test_a_forged_kind_is_stale(alice, gym, fake_telegram):
    alice.send("/book")
    calls = alice.tap_data("1|KB|99")
    assert alice.screen["text"] == "Which training?"
    assert alerted(calls) == STALE


def test_a_move_is_offered_the_starts_of_its_own_kind_and_trainer(alice, gym, bot_sessions, rules):
    anna, boris, personal, _ = gym
    book_for(bot_sessions, rules, 2090, 15 * 60, kind=personal, trainer=boris)
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Any trainer")
    alice.tap("Thu 26 Nov")
    alice.tap("19:00")  # Boris's: Anna works until 18:00
    alice.tap("Book it")
    alice.send("/my")
    alice.tap("Move Thu 26 Nov 19:00")
    alice.tap("Thu 26 Nov")
    starts = buttons_of(alice, "VT")
    # A personal hour with Boris, who gives one visitor at a time and works from 12:00: none that
    # overlaps Vera's 15:00-16:00 (the default kind with any trainer would offer those, and
    # 08:00 with Anna).
    assert starts[0] == "12:00 (1)" and "14:00 (1)" in starts and "16:00 (1)" in starts
    assert not {"14:30 (1)", "15:00 (1)", "15:30 (1)", "19:00 (1)"} & set(starts)
    alice.tap("12:00")
    # The move keeps the kind (an hour) and the trainer: its confirm speaks of that hour.
    assert alice.screen["text"].startswith(
        "Move your training from Thu 26 Nov 19:00–20:00 to Thu 26 Nov 12:00–13:00?"
    )
    alice.tap("Yes, move it")
    [booking] = bookings_of(bot_sessions)
    assert (booking.kind_id, booking.trainer_id) == (personal, boris)
    assert booking.ends_at - booking.starts_at == timedelta(minutes=60)


def test_waiting_for_a_kind_says_its_length_kind_and_trainer(alice, gym, bot_sessions, rules):
    """The line of Personal (an hour) with Boris: the bot's "you're on the waitlist", the same
    start tapped again, and /my each say 13:00-14:00 (not the default 90 minutes) and name
    the kind and the trainer; leaving says the hour too."""
    _, boris, _, _ = gym
    book_for(bot_sessions, rules, 2090, 13 * 60, kind=gym[2], trainer=boris)
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Boris")
    alice.tap("Thu 26 Nov")
    alice.tap("⏳ 13:00")
    alice.tap("Join")
    joined = alice.screen["text"]
    assert "Thu 26 Nov 13:00–14:00" in joined and "number 1 in line" in joined
    assert "Kind of training: Personal" in joined and "Trainer: Boris" in joined
    alice.send("/book")
    alice.tap("Personal")
    alice.tap("Boris")
    alice.tap("Thu 26 Nov")
    alice.tap("⏳ 13:00")  # already waiting: the place in line again
    again = alice.screen["text"]
    assert "13:00–14:00" in again and "Trainer: Boris" in again
    alice.send("/my")
    mine = alice.screen["text"]
    assert "Thu 26 Nov 13:00–14:00 — number 1 in line (Personal, Boris)" in mine, mine
    assert "11:30" not in mine


def test_waiting_for_the_default_kind_names_it_when_there_are_several(
    alice, gym, bot_sessions, rules
):
    anna, _, _, _ = gym
    fill_with(bot_sessions, rules, anna, 10 * 60)
    alice.send("/book")
    alice.tap("Training")
    alice.tap("Any trainer")
    alice.tap("Thu 26 Nov")
    alice.tap("⏳ 10:00")
    alice.tap("Join")
    joined = alice.screen["text"]
    assert "10:00–11:30" in joined and "Kind of training: Training" in joined
    assert "Trainer:" not in joined
    alice.send("/my")
    assert "Thu 26 Nov 10:00–11:30 — number 1 in line (Training)" in alice.screen["text"]
