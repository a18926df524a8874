"""`/start d20261126t1000` (the deep link https://t.me/<bot>?start=…) with the real
pyTelegramBotAPI against the fake Bot API: the start a link names, a button that opens the Mini
App on it, and the days to book with a short notice when the link opens nothing."""

from __future__ import annotations

from sqlalchemy import select

from schedule import Booking
from tests.bot.test_bot_waitlist import THURSDAY, fill
from tests.fixtures_bot import ALICE, PUBLIC_URL, answers


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


def test_kind_and_trainer_ride_along_in_the_apps_parameter(alice):
    alice.send("/start d20261126t1000k2r5")
    assert alice.button("Open the app")["web_app"] == {"url": app_url("d20261126t1000k2r5")}
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 10:00–11:30?")


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


def test_without_an_https_app_no_app_button(make_bot, chat):
    alice = chat(ALICE)
    alice.deliver = make_bot(public_url="http://localhost:5000").handle_update
    alice.send("/start d20261126t1000")
    assert alice.screen["text"].startswith("Book a training on Thu 26 Nov 10:00–11:30?")
    assert not [b for b in alice.buttons() if "web_app" in b]
    assert alice.button("Book it")
