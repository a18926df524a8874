"""The chat flow with the real pyTelegramBotAPI over HTTP against the fake Bot API server."""

from __future__ import annotations

from sqlalchemy import select

from schedule import Booking
from tests.fixtures_bot import ALICE, COACH, PUBLIC_URL, answers


def bookings(session_factory) -> list[Booking]:
    with session_factory() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


def test_start_greets_with_the_app_button_and_the_menu(alice, fake_telegram):
    calls = alice.send("/start")

    [sent] = [c.params for c in calls if c.method == "sendMessage"]
    assert int(sent["chat_id"]) == ALICE["id"]
    assert sent["parse_mode"] == "HTML"
    assert "Hello, Alice &lt;&amp;&gt;!" in sent["text"]  # the user's name is escaped
    app_button = alice.button("Open the app")
    assert app_button["web_app"] == {"url": PUBLIC_URL}
    assert {"Book a training", "My trainings"} <= {b["text"] for b in alice.buttons()}
    assert not [b for b in alice.buttons() if "Trainer" in b["text"]]


def test_start_without_an_https_public_url_says_so_instead_of_the_app_button(make_bot, chat):
    alice = chat(ALICE)
    alice.deliver = make_bot(public_url="http://localhost:5000").handle_update

    alice.send("/start")

    assert "The app is not available right now" in alice.screen["text"]
    assert not [b for b in alice.buttons() if "web_app" in b]


def test_start_with_a_deep_link_payload_opens_the_booking(alice):
    alice.send("/start book")

    assert alice.screen["text"] == "Choose a day:"


def test_book_then_my_then_cancel(alice, bot_sessions, fake_telegram):
    alice.send("/book")
    assert alice.screen["text"] == "Choose a day:"
    # Now is Wednesday 25 Nov, 09:00 in Moscow; the horizon is 7 days ahead.
    days = [b["text"] for b in alice.buttons() if b["callback_data"].startswith("1|D|")]
    assert days[:2] == ["Wed 25 Nov", "Thu 26 Nov"] and days[-1] == "Wed 2 Dec"

    alice.tap("Thu 26 Nov")
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    starts = [b["text"] for b in alice.buttons() if b["callback_data"].startswith("1|T|")]
    assert starts[0] == "08:00 (4)" and starts[-1] == "16:30 (4)" and len(starts) == 18

    alice.tap("10:00")
    assert alice.screen["text"] == "Book a training on Thu 26 Nov 10:00–11:30?"
    calls = alice.tap("Book it")

    assert alice.screen["text"] == "You're booked: Thu 26 Nov 10:00–11:30."
    assert answers(calls) == [{"callback_query_id": answers(calls)[0]["callback_query_id"],
                               "text": "Booked"}]  # fmt: skip
    assert alice.button("Open the app")["web_app"] == {"url": PUBLIC_URL}
    [booking] = bookings(bot_sessions)
    assert (booking.status, booking.source) == ("active", "bot")

    alice.send("/my")
    assert alice.screen["text"] == "Your trainings:\n• Thu 26 Nov 10:00–11:30"
    alice.tap("Cancel Thu 26 Nov 10:00")
    assert alice.screen["text"] == "Cancel your training on Thu 26 Nov 10:00–11:30?"
    calls = alice.tap("Yes, cancel")

    assert alice.screen["text"].startswith("Cancelled: Thu 26 Nov 10:00–11:30.")
    assert "You have no upcoming trainings." in alice.screen["text"]
    assert answers(calls)[0]["text"] == "Cancelled"
    assert [b.status for b in bookings(bot_sessions)] == ["cancelled"]
    assert fake_telegram.unanswered_queries() == set()


def test_back_buttons_walk_back_up(alice):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Back")
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    alice.tap("Back")
    assert alice.screen["text"] == "Choose a day:"
    alice.tap("Menu")
    assert alice.screen["text"].startswith("Hello, Alice")


def test_russian_users_read_russian(boris):
    boris.send("/start")
    assert boris.screen["text"].startswith("Здравствуйте, Борис!")

    boris.tap("Записаться")
    assert boris.screen["text"] == "Выберите день:"
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    boris.tap("Записаться")
    assert boris.screen["text"] == "Вы записаны: Чт 26 ноября 10:00–11:30."


def test_every_callback_data_fits_in_64_bytes(alice, coach, fake_telegram, dispatcher):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("16:30")
    alice.tap("Book it")
    assert dispatcher.flush()
    coach.send("/today")
    coach.tap("Thu 26")
    coach.tap("16:30")

    markups = [c.params["reply_markup"] for c in fake_telegram.calls if "reply_markup" in c.params]
    data = [
        b["callback_data"]
        for markup in markups
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "callback_data" in b
    ]
    assert len(data) > 50
    assert max(len(d.encode()) for d in data) <= 64


def test_the_trainer_sees_the_day_with_its_visitors(alice, boris, coach, dispatcher):
    for user in (alice, boris):
        user.send("/book")
        user.tap("26")
        user.tap("10:00")
        user.tap("✅")
    assert dispatcher.flush()

    coach.send("/today")
    assert coach.screen["text"] == "No trainings on Wed 25 Nov."
    coach.tap("Thu 26")

    assert coach.screen["text"] == (
        "Trainings on Thu 26 Nov:\n\n10:00–11:30 · 2/4\n  • Alice <&> @alice\n  • Борис"
    )
    assert "Alice &lt;&amp;&gt;" in coach.screen["html"]


def test_today_is_for_the_trainer_only(alice):
    alice.send("/today")

    assert alice.screen["text"] == "Only the trainer can do that."


def test_the_trainer_has_a_schedule_button_in_the_menu(coach):
    coach.send("/start")

    coach.tap("Trainer: schedule")

    assert coach.screen["text"] == "No trainings on Wed 25 Nov."


def test_phone_is_asked_before_the_first_booking_when_required(make_bot, chat, bot_sessions):
    from schedule import Settings

    alice = chat(ALICE)
    alice.deliver = make_bot(settings=Settings(phone_required=True)).handle_update
    calls = alice.send("/start")
    asked = [c.params for c in calls if c.method == "sendMessage"][-1]
    assert asked["reply_markup"]["keyboard"][0][0]["request_contact"] is True

    alice.send("/book")
    alice.tap("26")
    alice.tap("10:00")
    calls = alice.tap("Book it")
    assert answers(calls)[0]["show_alert"] is True
    assert answers(calls)[0]["text"] == "Please share your phone number first."
    assert bookings(bot_sessions) == []

    alice.share_contact("+7 999 123-45-67", contact_user_id=COACH["id"])
    assert alice.screen["text"] == "Please share your own number with the button."
    alice.share_contact("+7 999 123-45-67")
    assert alice.screen["text"].startswith("Thank you, your number is saved.")

    alice.send("/book")
    alice.tap("26")
    alice.tap("10:00")
    alice.tap("Book it")
    assert [b.user.phone for b in bookings(bot_sessions)] == ["+79991234567"]
