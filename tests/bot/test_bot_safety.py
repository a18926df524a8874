"""Untrusted callbacks, stale keyboards, Telegram's 403 / 429 / network failures, duplicates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot import callbacks as cb
from schedule import Booking, Settings, User, services
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, BORIS, COACH, answers

THURSDAY = date(2026, 11, 26)


def book_via_services(
    session_factory, telegram_user: dict, minute: int = 600, rules: Settings | None = None
) -> int:
    """A booking made the way the Mini App makes it (told as `rules` say who hears of it)."""
    with session_factory() as session:
        user = services.upsert_user(session, telegram_user)
        booking = services.book(
            Unit(session, rules or Settings(), Actor.client(user), now=_now()),
            user,
            THURSDAY,
            minute,
            source="miniapp",
        )
        return booking.id


def _now():
    from datetime import datetime

    return datetime(2026, 11, 25, 6, 0)


def status_of(session_factory, booking_id: int) -> str:
    with session_factory() as session:
        return session.get(Booking, booking_id).status


def blocked(session_factory, telegram_id: int) -> bool:
    with session_factory() as session:
        return session.scalar(select(User.blocked_bot).where(User.telegram_id == telegram_id))


def alert(calls) -> dict:
    [reply] = answers(calls)
    assert reply.get("show_alert") is True, reply
    return reply


def test_a_forged_cancel_of_someone_elses_booking_changes_nothing(alice, bot_sessions, dispatcher):
    borises = book_via_services(bot_sessions, BORIS)
    alice.send("/my")

    for data in (
        cb.encode(cb.CANCEL_ASK, booking_id=borises),
        cb.encode(cb.CANCEL, booking_id=borises),
    ):
        calls = alice.tap_data(data)
        assert alert(calls)["text"] == "Booking not found."

    assert status_of(bot_sessions, borises) == "active"
    assert dispatcher.flush()


def test_forged_booking_ids_beyond_any_row_are_not_found(alice, coach, bot_sessions):
    borises = book_via_services(bot_sessions, BORIS)
    alice.send("/my")
    coach.send("/today")
    huge = 999_999_999_999  # a well-formed id no database column holds

    for user, data in (
        (alice, cb.encode(cb.CANCEL_ASK, booking_id=huge)),
        (alice, cb.encode(cb.CANCEL, booking_id=huge)),
        (coach, cb.encode(cb.ADMIN_CANCEL_ASK, booking_id=huge)),
    ):
        assert alert(user.tap_data(data))["text"] == "Booking not found."
    assert status_of(bot_sessions, borises) == "active"


def test_a_trainer_day_outside_the_calendar_is_a_stale_button(coach, caplog):
    coach.send("/today")
    for data in ("1|A|00010101", "1|A|99991231"):
        calls = coach.tap_data(data)
        assert alert(calls)["text"] == "This button is out of date. Here is a fresh one."
    assert "handler failed" not in caplog.text


def test_a_forged_trainer_callback_from_a_client_changes_nothing(alice, bot_sessions):
    borises = book_via_services(bot_sessions, BORIS)
    alice.send("/start")

    calls = alice.tap_data(cb.encode(cb.ADMIN_CANCEL_ASK, booking_id=borises))

    assert alert(calls)["text"] == "Only the trainer can do that."
    assert status_of(bot_sessions, borises) == "active"


def test_garbage_and_old_version_callbacks_get_an_alert_and_a_fresh_menu(alice, fake_telegram):
    alice.send("/start")
    for data in ("0|K|20261126|1000", "1|K|20261126|1015x", "1|Z", "1|X|0", "💥"):
        calls = alice.tap_data(data)
        assert alert(calls)["text"] == "This button is out of date. Here is a fresh one."
    alice.send("/book")
    calls = alice.tap_data("1|D|20261131")
    assert alert(calls)["text"] == "This button is out of date. Here is a fresh one."
    assert alice.screen["text"].startswith("Hello, Alice")
    assert fake_telegram.unanswered_queries() == set()


def test_a_start_taken_meanwhile_gets_an_alert_and_fresh_starts(alice, bot_sessions):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    starts_screen = alice.screen
    for n in range(4):  # the four places at 10:00 go while Alice looks at the keyboard
        book_via_services(bot_sessions, {"id": 3000 + n, "first_name": f"U{n}"})

    calls = alice.tap("10:00", message=starts_screen)

    assert alert(calls)["text"] == "This button is out of date. Here is a fresh one."
    starts = [b["text"] for b in alice.buttons()]
    assert "08:30 (4)" in starts and "11:30 (4)" in starts
    assert not [s for s in starts if s.startswith(("09:", "10:", "11:00"))]


def test_a_confirmation_of_a_start_taken_meanwhile_books_nothing(alice, bot_sessions):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    for n in range(4):
        book_via_services(bot_sessions, {"id": 3000 + n, "first_name": f"U{n}"})

    calls = alice.tap("Book it")

    assert alert(calls)["text"] == "No places left at this time."
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    with bot_sessions() as session:
        assert session.scalar(select(User).where(User.telegram_id == ALICE["id"])).bookings == []


def test_a_day_that_has_passed_gets_an_alert_and_the_current_days(alice, clock):
    alice.send("/book")
    days_screen = alice.screen
    clock.advance(days=2)

    calls = alice.tap("Thu 26 Nov", message=days_screen)

    assert alert(calls)["text"] == "No free starts left on this day."
    assert alice.screen["text"] == "Choose a day:"
    assert "Thu 26 Nov" not in [b["text"] for b in alice.buttons()]


def test_my_offers_no_cancel_button_past_the_deadline(alice, clock):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    alice.send("/my")
    assert "✖ Cancel Thu 26 Nov 10:00" in [b["text"] for b in alice.buttons()]

    clock.advance(hours=24)  # Thursday 09:00 Moscow: an hour before the start
    alice.send("/my")

    assert alice.screen["text"] == "Your trainings:\n• Thu 26 Nov 10:00–11:30"
    assert not [b for b in alice.buttons() if "Cancel" in b["text"]]


def test_cancelling_past_the_deadline_is_refused_with_the_rule_from_schedule(
    alice, bot_sessions, clock
):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    clock.advance(hours=24)  # Thursday 09:00 Moscow: an hour before the start

    alice.tap("Cancel")
    # The confirm says why it cannot be cancelled and offers only Back; a stale Yes is refused.
    assert "it can no longer be cancelled" in alice.screen["text"]
    assert [b["text"] for b in alice.buttons()] == ["« Back"]
    with bot_sessions() as session:
        booking_id = session.scalars(select(Booking.id)).one()
    calls = alice.tap_data(cb.encode(cb.CANCEL, booking_id=booking_id))

    assert alert(calls)["text"] == "It is too late to change this booking."
    with bot_sessions() as session:
        assert [b.status for b in session.scalars(select(Booking))] == ["active"]


def test_an_update_that_cannot_be_parsed_is_skipped(telegram_bot, fake_telegram, caplog):
    poison = {"update_id": fake_telegram.next_update_id(), "message": {"message_id": 1}}

    assert telegram_bot.handle_update(poison) is False
    assert "not a valid update" in caplog.text
    assert fake_telegram.calls == []


def test_a_duplicate_update_books_once(alice, telegram_bot, make_bot, bot_sessions, fake_telegram):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    message = dict(alice.screen)
    message.pop("html")
    update = fake_telegram.callback_update(ALICE, message, alice.button("Book it")["callback_data"])

    assert telegram_bot.handle_update(update) is True
    assert telegram_bot.handle_update(update) is False
    assert make_bot().handle_update(update) is False  # another process gets the redelivery

    with bot_sessions() as session:
        assert len(session.scalars(select(Booking)).all()) == 1


def test_a_user_who_blocked_the_bot_is_marked_and_no_longer_messaged(
    alice, coach, bot_sessions, rules, fake_telegram, dispatcher
):
    coach.send("/start")
    fake_telegram.fail(COACH["id"], 403)
    book_via_services(bot_sessions, BORIS, minute=600, rules=rules)
    assert dispatcher.flush()
    assert blocked(bot_sessions, COACH["id"]) is True

    mark = len(fake_telegram.calls)
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("12:00")
    alice.tap("Book it")
    assert dispatcher.flush()
    assert [
        c for c in fake_telegram.calls[mark:] if c.params.get("chat_id") == str(COACH["id"])
    ] == []

    coach.send("/start")  # writing to the bot again means they unblocked it
    assert blocked(bot_sessions, COACH["id"]) is False


def test_a_403_while_answering_marks_the_user_and_the_bot_goes_on(
    alice, boris, bot_sessions, fake_telegram
):
    alice.send("/start")
    fake_telegram.fail(ALICE["id"], 403)

    alice.send("/my")

    assert blocked(bot_sessions, ALICE["id"]) is True
    boris.send("/start")
    assert boris.screen["text"].startswith("Здравствуйте")


def test_a_429_is_retried_after_the_time_telegram_asks(alice, dispatcher, fake_telegram):
    fake_telegram.fail(COACH["id"], 429, retry_after=1)

    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    assert dispatcher.flush()

    to_coach = [c for c in fake_telegram.calls if c.params.get("chat_id") == str(COACH["id"])]
    assert [c.status for c in to_coach] == [429, 200]
    assert to_coach[1].at - to_coach[0].at >= 1.0
    assert "New booking" in to_coach[1].params["text"]


def test_a_429_in_a_chat_is_retried_too(alice, fake_telegram):
    fake_telegram.fail(ALICE["id"], 429, retry_after=1)

    calls = alice.send("/start")

    assert [c.status for c in calls] == [429, 200]
    assert alice.screen["text"].startswith("Hello, Alice")


def test_dropped_connections_are_retried_with_backoff(alice, fake_telegram, quick_retries):
    fake_telegram.drop_connections(2)

    alice.send("/start")

    assert alice.screen["text"].startswith("Hello, Alice")


def test_every_callback_is_answered_even_when_handling_fails(alice, fake_telegram, bot_sessions):
    alice.send("/my")
    fake_telegram.fail(ALICE["id"], 400, times=2)  # the edit and the fallback send both refused

    calls = alice.tap("Book a training")

    assert alert(calls)["text"] == "Something went wrong. Please try again."
    assert fake_telegram.unanswered_queries() == set()


def test_a_trainer_who_never_opened_the_bot_and_blocks_it_is_not_retried(
    bot_sessions, rules, fake_telegram, dispatcher
):
    fake_telegram.fail(COACH["id"], 403)
    book_via_services(bot_sessions, ALICE, minute=600, rules=rules)
    assert dispatcher.flush()
    book_via_services(bot_sessions, BORIS, minute=600, rules=rules)
    assert dispatcher.flush()

    to_coach = [c for c in fake_telegram.calls if c.params.get("chat_id") == str(COACH["id"])]
    assert [c.status for c in to_coach] == [403]


def test_telegram_telling_of_a_block_marks_the_user_and_an_unblock_clears_it(
    alice, telegram_bot, bot_sessions, fake_telegram
):
    alice.send("/start")

    telegram_bot.handle_update(fake_telegram.membership_update(ALICE, "kicked"))
    assert blocked(bot_sessions, ALICE["id"]) is True

    telegram_bot.handle_update(fake_telegram.membership_update(ALICE, "member"))
    assert blocked(bot_sessions, ALICE["id"]) is False


def test_the_same_update_in_two_processes_at_once_books_once(
    alice, make_bot, bot_sessions, fake_telegram
):
    import threading

    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    message = dict(alice.screen)
    message.pop("html")
    update = fake_telegram.callback_update(ALICE, message, alice.button("Book it")["callback_data"])
    bots = [make_bot(), make_bot()]
    barrier = threading.Barrier(len(bots))
    results = []

    def deliver(bot) -> None:
        barrier.wait()
        results.append(bot.handle_update(update))

    threads = [threading.Thread(target=deliver, args=(bot,)) for bot in bots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results) == [False, True]
    with bot_sessions() as session:
        assert len(session.scalars(select(Booking)).all()) == 1
