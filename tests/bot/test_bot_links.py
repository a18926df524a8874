"""`/start d20261126t1000` (the deep link https://t.me/<bot>?start=…) with the real
pyTelegramBotAPI against the fake Bot API: the start a link names, a button that opens the Mini
App on it, and the days to book with a short notice when the link opens nothing; a link naming a
kind and a trainer (`k`, `r`) speaks of that kind's start with that trainer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from schedule import Booking
from tests.bot.test_bot_kinds import make_gym
from tests.bot.test_bot_waitlist import THURSDAY, fill
from tests.fixtures_bot import ALICE, PUBLIC_URL, answers


@pytest.fixture
def gym(bot_sessions, rules):
    """Anna and Boris (12:00-20:00) give Personal (an hour, one visitor), Anna alone Stretch."""
    return make_gym(bot_sessions, rules)


def app_url(param: str) -> str:
    return f"{PUBLIC_URL}/?tgWebAppStartParam={param}"


def test_a_bookable_start_answers_its_confirm_and_the_app_on_it(alice, bot_sessions):
    calls = alice.send("/start d20261126t1000")

    [sent] = [c.params for c in calls if c.method == "sendMessage"]
    assert sent["text"].startswith("Book a training on <b>Thu 26 Nov 10:00–11:30</b>?")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 10:00–11:30?")
    assert "You can cancel or move it for free until" in alice.screen["text"]
    assert alice.button("Open the app")["web_app"] == {"url": app_url("d20261126t1000")}
    assert alice.buttons()[0]["text"] == "Open the app"  # the app first, then the booking

    calls = alice.tap("Book it")

    assert alice.screen["text"] == "You're booked: Thu 26 Nov 10:00–11:30."
    assert answers(calls)[0]["text"] == "Booked"
    with bot_sessions() as session:
        [booking] = session.scalars(select(Booking)).all()
        assert booking.source == "bot"


def test_a_link_naming_a_kind_and_trainer_speaks_of_their_start(alice, gym, bot_sessions):
    anna, boris, personal, _ = gym
    param = f"d20261126t1300k{personal}r{boris}"
    alice.send(f"/start {param}")

    assert alice.screen["text"].startswith(
        "Book a training on Thu 26 Nov 13:00–14:00?\n"  # Personal's hour
        "Kind of training: Personal\nTrainer: Boris\n1 place left\n"
    )
    assert alice.button("Open the app")["web_app"] == {"url": app_url(param)}
    assert alice.button("Book it")["callback_data"] == f"1|PK|{personal}|{boris}|20261126|1300"
    alice.tap("Book it")
    assert alice.screen["text"].endswith("Trainer: Boris")
    with bot_sessions() as session:
        [booking] = session.scalars(select(Booking)).all()
    assert (booking.kind_id, booking.trainer_id, booking.source) == (personal, boris, "bot")


def test_a_linked_start_the_trainer_cannot_take_says_why_over_their_starts(alice, gym):
    anna, boris, personal, _ = gym
    alice.send(f"/start d20261126t1000k{personal}r{boris}")  # Boris works from 12:00
    text = alice.screen["text"]
    assert text.startswith("Training on Thu 26 Nov 10:00–11:00.\n")
    assert "Trainer: Boris" in text and "Thu 26 Nov: choose a start time" in text
    starts = [b for b in alice.buttons() if b.get("callback_data", "").startswith("1|PT|")]
    assert starts[0]["text"] == "12:00 (1)"
    assert starts[0]["callback_data"] == f"1|PT|{personal}|{boris}|20261126|1200"


def test_a_link_naming_a_kind_with_any_trainer(alice, gym):
    anna, boris, personal, _ = gym
    alice.send(f"/start d20261126t1000k{personal}")
    assert alice.screen["text"].startswith(
        "Book a training on Thu 26 Nov 10:00–11:00?\nKind of training: Personal\n1 place left"
    )
    assert alice.button("Book it")["callback_data"] == f"1|PK|{personal}|0|20261126|1000"
    alice.tap("Book it")
    assert alice.screen["text"].endswith("Trainer: Anna")  # the only one at 10:00


def test_a_kind_or_trainer_the_studio_lacks_gets_the_bad_link_notice(alice, gym, bot_sessions):
    anna, boris, personal, stretch = gym
    for param in (
        "d20261126t1000k99",  # no such kind
        f"d20261126t1000k{personal}r99",  # no such trainer
        f"d20261126t1000k{stretch}r{boris}",  # Boris does not give Stretch
        "d20261126t1000r99",
    ):
        calls = alice.send(f"/start {param}")
        assert alice.screen["text"].startswith("This link does not lead to a training."), param
        assert alice.screen["text"].endswith("Choose a day:")
        assert not [b for b in alice.buttons() if "web_app" in b]
        assert [c for c in calls if c.method == "sendMessage"]
    assert nothing_booked(bot_sessions)


def nothing_booked(bot_sessions) -> bool:
    with bot_sessions() as session:
        return session.scalars(select(Booking)).all() == []


def test_a_full_start_answers_the_waitlists_confirm(alice, bot_sessions):
    fill(bot_sessions)
    alice.send("/start d20261126t1000")
    assert alice.screen["text"].startswith("Thu 26 Nov 10:00–11:30 is full. Join the waitlist?")
    assert alice.button("Open the app")["web_app"] == {"url": app_url("d20261126t1000")}
    alice.tap("Join")
    assert "number 1 in line" in alice.screen["text"]


def test_the_clients_own_booking_answers_that_it_is_theirs(alice):
    alice.send("/start d20261126t1000")
    alice.tap("Book it")
    alice.send("/start d20261126t1000")
    assert alice.screen["text"] == "You are booked for Thu 26 Nov 10:00–11:30."
    assert alice.button("Open the app")["web_app"] == {"url": app_url("d20261126t1000")}
    assert alice.button("My trainings")


def test_a_start_the_client_cannot_take_says_why_over_that_days_starts(alice):
    alice.send("/start d20261126t1700")  # 17:00-18:30 runs past closing at 18:00

    text = alice.screen["text"]
    assert text.startswith("Training on Thu 26 Nov 17:00–18:30.\n")
    assert "Thu 26 Nov: choose a start time" in text
    starts = [b["text"] for b in alice.buttons() if b.get("callback_data", "").startswith("1|T|")]
    assert starts[0] == "08:00 (4)" and "17:00" not in " ".join(starts)
    alice.tap("10:00")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 10:00–11:30?")


def test_no_training_at_that_time(alice):
    alice.send("/start d20261126t2000")
    assert "No training starts at this time." in alice.screen["text"]


def test_a_past_link_says_so_over_the_days_to_book(alice):
    alice.send("/start d20261124t1000")

    assert alice.screen["text"].startswith("That training has already started.")
    assert alice.screen["text"].endswith("Choose a day:")
    days = [b["text"] for b in alice.buttons() if b.get("callback_data", "").startswith("1|D|")]
    assert days[:2] == ["Wed 25 Nov", "Thu 26 Nov"]
    assert not [b for b in alice.buttons() if "web_app" in b]  # nothing to open the app on


def test_bad_links_say_so_and_other_payloads_keep_their_meaning(alice):
    alice.send("/start d2026")
    assert alice.screen["text"].startswith("This link does not lead to a training.")
    alice.send("/start d20261209t1000")
    assert alice.screen["text"].startswith("Booking for that day is not open yet.")
    alice.send("/start d20261126t1015")
    assert alice.screen["text"].startswith("No training starts at the time in this link.")
    alice.send("/start book")
    assert alice.screen["text"] == "Choose a day:"
    alice.send("/start hello")  # no link: the greeting and the menu, as before
    assert "Hello, Alice" in alice.screen["text"]


def test_in_the_clients_language(boris):
    boris.send("/start d20261124t1000")
    assert boris.screen["text"].startswith("Эта тренировка уже началась.")
    boris.send(f"/start d{THURSDAY:%Y%m%d}t1000")
    assert boris.screen["text"].startswith("Записаться на тренировку Чт 26 ноября 10:00–11:30?")


def test_a_kind_and_trainer_in_russian(boris, gym):
    anna, _, personal, _ = gym
    boris.send(f"/start d{THURSDAY:%Y%m%d}t1000k{personal}r{anna}")
    assert boris.screen["text"].startswith(
        "Записаться на тренировку Чт 26 ноября 10:00–11:00?\n"
        "Вид тренировки: Personal\nТренер: Anna\nосталось 1 место"
    )
    boris.send(f"/start d{THURSDAY:%Y%m%d}t1000k99")
    assert boris.screen["text"].startswith("Эта ссылка не ведёт к тренировке.")


def test_without_an_https_app_no_app_button(make_bot, chat):
    alice = chat(ALICE)
    alice.deliver = make_bot(public_url="http://localhost:5000").handle_update
    alice.send("/start d20261126t1000")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 10:00–11:30?")
    assert not [b for b in alice.buttons() if "web_app" in b]
    assert alice.button("Book it")
