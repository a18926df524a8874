"""Fair use in chat: the bot says which limit refuses a booking, and a flood of taps gets an
alert with nothing done, against the fake Bot API on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot import callbacks as cb
from schedule import Settings
from schedule.models import ACTIVE, Booking
from tests.conftest import UNLIMITED
from tests.fixtures_bot import ALICE, BORIS, ChatUser, answers

THURSDAY = date(2026, 11, 26)
ONE_A_DAY = Settings(**{**UNLIMITED, "max_bookings_per_day": 1, "max_active_bookings": 4})


@pytest.fixture
def limited_alice(fake_telegram, make_bot) -> ChatUser:
    return ChatUser(fake_telegram, make_bot(settings=ONE_A_DAY).handle_update, ALICE)


def active(bot_sessions) -> list[Booking]:
    with bot_sessions() as session:
        return list(session.scalars(select(Booking).where(Booking.status == ACTIVE)))


def test_a_booking_past_the_daily_limit_is_an_alert_saying_which(
    limited_alice, bot_sessions, fake_telegram
):
    limited_alice.send("/book")
    limited_alice.tap("Thu 26 Nov")
    limited_alice.tap("10:00")
    limited_alice.tap("Book it")
    assert len(active(bot_sessions)) == 1

    # A button from before (or a forged one) for 14:00 the same day.
    calls = limited_alice.tap_data(cb.encode(cb.BOOK, day=THURSDAY, minute=14 * 60))
    [reply] = answers(calls)
    assert reply["show_alert"] is True
    assert reply["text"] == "Limit reached: at most 1 booking on one day."
    assert len(active(bot_sessions)) == 1

    # The day itself offers nothing more to book, and says why.
    calls = limited_alice.tap_data(cb.encode(cb.DAY, day=THURSDAY))
    [reply] = answers(calls)
    assert (reply["show_alert"], reply["text"]) == (
        True,
        "Limit reached: at most 1 booking on one day.",
    )
    assert fake_telegram.unanswered_queries() == set()


def test_a_flood_of_taps_gets_an_alert_and_nothing_is_done(fake_telegram, make_bot, bot_sessions):
    bot = make_bot(settings=Settings(**{**UNLIMITED, "rate_limit_writes": "1/minute"}))
    alice = ChatUser(fake_telegram, bot.handle_update, ALICE)
    boris = ChatUser(fake_telegram, bot.handle_update, BORIS)
    book_ten = cb.encode(cb.BOOK, day=THURSDAY, minute=10 * 60)
    book_two = cb.encode(cb.BOOK, day=THURSDAY, minute=14 * 60)
    alice.send("/book")

    first = alice.tap_data(book_ten)
    flood = alice.tap_data(book_two)

    assert answers(first)[0]["text"] == "Booked"
    [reply] = answers(flood)
    assert reply["show_alert"] is True and reply["text"].startswith("Too many taps")
    assert [c.method for c in flood] == ["answerCallbackQuery"]
    assert [b.starts_at.hour for b in active(bot_sessions)] == [7]  # 10:00 in Moscow
    # Another user is served meanwhile; Alice may still look around (reads are apart).
    boris.send("/book")
    assert answers(boris.tap_data(book_two))[0]["text"] == "Готово"
    assert not answers(alice.tap_data(cb.encode(cb.DAYS)))[0].get("show_alert")


def test_reads_are_throttled_too_in_russian(fake_telegram, make_bot):
    bot = make_bot(settings=Settings(**{**UNLIMITED, "rate_limit_reads": "2/minute"}))
    boris = ChatUser(fake_telegram, bot.handle_update, BORIS)
    boris.send("/book")
    replies = [answers(boris.tap_data(cb.encode(cb.DAYS)))[0] for _ in range(3)]
    assert [r.get("show_alert") for r in replies[:2]] == [None, None]
    assert replies[2]["show_alert"] is True
    assert replies[2]["text"].startswith("Слишком много нажатий")
