"""The chat flow with the real pyTelegramBotAPI over HTTP against the fake Bot API server."""

from __future__ import annotations

from sqlalchemy import select

from schedule import Booking
from schedule.unit import Actor, Unit
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
    assert alice.screen["text"] == (
        "Book a training on Thu 26 Nov 10:00–11:30?\n"
        "• No pass covers this date: you pay at the studio.\n"
        "• You can cancel or move it for free until Thu 26 Nov, 08:00."
    )  # what booking will do (schedule.consequences), before the confirm
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
    assert alice.screen["text"] == (
        "Cancel your training on Thu 26 Nov 10:00–11:30?\n"
        "• No pass paid for it, so no visit returns to a pass."
    )
    assert [b.status for b in bookings(bot_sessions)] == ["active"]  # it asks first
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
        "Trainings on Thu 26 Nov:\n\n10:00–11:30 · 2/4\n  • Alice <&> @alice (unpaid)\n"
        "  • Борис (unpaid)"
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


# --- the bot says what an act will do, and does what the Mini App does (issue 23) -------------


def reply(user, text: str, question: dict) -> list:
    """`user` answers the bot's message `question` (Telegram's reply: ForceReply's answer)."""
    update = user.fake.message_update(user.user, text)
    asked = {k: v for k, v in question.items() if k not in ("html", "reply_markup")}
    update["message"]["reply_to_message"] = asked
    return user._run(update)


def test_cancel_asks_first_and_says_the_visit_returns_to_the_pass(alice, bot_sessions, clock):
    from schedule import passes, services
    from schedule.settings import Settings

    with bot_sessions() as session:
        user = services.upsert_user(session, ALICE)
        passes.record(
            Unit(session, Settings(), Actor.trainer(), now=clock()), user, visits=8, valid_days=30
        )
        session.commit()
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    assert (
        "• Paid from your pass (valid until Thu 24 Dec): 7 visits left after this."
        in (alice.screen["text"])
    )
    alice.tap("Book it")
    alice.send("/my")

    alice.tap("Cancel Thu 26 Nov 10:00")

    assert alice.screen["text"] == (
        "Cancel your training on Thu 26 Nov 10:00–11:30?\n"
        "• The visit returns to your pass: 8 visits left on it."
    )
    assert [b.status for b in bookings(bot_sessions)] == ["active"]
    alice.tap("Back")
    assert alice.screen["text"].startswith("🎫 Pass: 7 of 8 visits left")


def test_a_booking_moves_in_the_bot_with_the_same_availability(alice, bot_sessions, fake_telegram):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    alice.send("/my")

    alice.tap("Move Thu 26 Nov 10:00")
    assert alice.screen["text"] == "Move your training on Thu 26 Nov 10:00–11:30: choose a day."
    alice.tap("Thu 26 Nov")
    starts = [b["text"] for b in alice.buttons() if b["callback_data"].startswith("1|VT|")]
    # Its own start is not offered; the others are weighed without it (4 places each).
    assert "10:00 (4)" not in starts and "10:30 (4)" in starts and len(starts) == 17
    alice.tap("Back")
    alice.tap("Fri 27 Nov")
    alice.tap("12:00")
    assert alice.screen["text"] == (
        "Move your training from Thu 26 Nov 10:00–11:30 to Fri 27 Nov 12:00–13:30?\n"
        "• No pass covers this date: you pay at the studio.\n"
        "• You can cancel or move it for free until Fri 27 Nov, 10:00."
    )
    [booking] = bookings(bot_sessions)
    assert booking.starts_at.day == 26  # nothing moved before the confirm

    calls = alice.tap("Yes, move it")

    assert answers(calls)[0]["text"] == "Moved"
    assert alice.screen["text"].startswith("✅ Moved to Fri 27 Nov 12:00–13:30.")
    [moved] = bookings(bot_sessions)
    assert (moved.id, moved.status, moved.starts_at.day, moved.starts_at.hour) == (
        booking.id,
        "active",
        27,
        9,  # 12:00 in Moscow
    )
    assert fake_telegram.unanswered_queries() == set()


def test_a_forged_move_of_someone_elses_booking_changes_nothing(alice, boris, bot_sessions):
    from bot import callbacks as cb

    boris.send("/book")
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    boris.tap("Записаться")
    [borises] = bookings(bot_sessions)
    alice.send("/my")
    for data in (
        cb.encode(cb.MOVE_ASK, booking_id=borises.id),
        cb.encode(cb.MOVE_PICK, booking_id=borises.id, day=borises.starts_at.date(), minute=720),
        cb.encode(cb.MOVE, booking_id=borises.id, day=borises.starts_at.date(), minute=720),
    ):
        [answer] = answers(alice.tap_data(data))
        assert (answer["text"], answer["show_alert"]) == ("Booking not found.", True)
    assert [(b.status, b.starts_at) for b in bookings(bot_sessions)] == [
        ("active", borises.starts_at)
    ]


def test_the_trainers_reason_is_typed_and_the_client_reads_it_in_their_language(
    alice, boris, coach, bot_sessions, dispatcher, fake_telegram
):
    boris.send("/book")
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    boris.tap("Записаться")
    assert dispatcher.flush()
    [booking] = bookings(bot_sessions)
    coach.send("/today")
    coach.tap("Thu 26")

    calls = coach.tap("10:00 Борис")

    [asked] = [c for c in calls if c.method == "sendMessage"]
    assert asked.params["reply_markup"]["force_reply"] is True
    question = coach.screen
    assert question["text"] == (
        "Cancel the training of Борис on Thu 26 Nov 10:00–11:30? Reply to this message with "
        "the reason: the bot passes it on to the client. To keep the booking, just do not "
        f"reply. (booking #{booking.id})"
    )
    assert [b.status for b in bookings(bot_sessions)] == ["active"]  # it asks first

    # Someone else's reply to the question changes nothing.
    reply(alice, "because", question)
    assert alice.screen["text"] == "Only the trainer can do that."
    assert [b.status for b in bookings(bot_sessions)] == ["active"]

    reply(coach, "Тренер заболел, простите", question)

    [cancelled] = bookings(bot_sessions)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Тренер заболел, простите")
    assert coach.screen["text"].startswith("Cancelled Борис, Thu 26 Nov 10:00–11:30.")
    assert dispatcher.flush()
    told = fake_telegram.last_message(boris.id)["text"]
    assert told.startswith("Тренер отменил вашу тренировку") and "Тренер заболел" in told

    reply(coach, "again", question)  # the booking is cancelled already: said, nothing changes
    assert "This booking is already cancelled." in [
        m["text"] for (chat, _), m in fake_telegram.messages.items() if chat == COACH["id"]
    ]


def test_under_late_cancel_forfeit_the_confirm_says_the_visit_stays_used(
    make_bot, chat, bot_config, bot_sessions, clock
):
    from dataclasses import replace

    from schedule import passes, services

    rules = replace(bot_config.settings, late_cancel="forfeit")
    alice = chat(ALICE)
    alice.deliver = make_bot(settings=rules).handle_update
    with bot_sessions() as session:
        user = services.upsert_user(session, ALICE)
        passes.record(
            Unit(session, rules, Actor.trainer(), now=clock()), user, visits=8, valid_days=30
        )
        session.commit()
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    clock.advance(hours=24)  # Thursday 09:00: an hour before the start, past the free cancel
    alice.send("/my")

    alice.tap("Cancel Thu 26 Nov 10:00")

    lines = alice.screen["text"].split("\n")
    assert lines[1] == "• The free cancel ended 2 hours before the start."
    assert lines[2] == "• If you cancel it now, the visit stays used."
    calls = alice.tap("Yes, cancel")
    assert answers(calls)[0]["text"] == "Cancelled"
    [booking] = bookings(bot_sessions)
    assert booking.status == "cancelled" and booking.pass_id is not None
