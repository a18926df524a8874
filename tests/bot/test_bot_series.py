"""Standing bookings from the bot's /my, with the real pyTelegramBotAPI against the fake Bot API
server: repeat a booked training weekly, read the series in /my, stop it after a confirm step;
forged callbacks change nothing; every button's data fits Telegram's 64 bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import callbacks as cb
from bot.series import book_due
from schedule import Booking, Settings, User, services
from schedule import series as standing
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, BORIS, COACH, ChatUser, answers

THU = date(2026, 11, 26)  # the day after the test's now (Wednesday 25 Nov, 09:00 in Moscow)
TEN = 600


def thursday(weeks: int) -> datetime:
    return datetime(2026, 11, 26, 7, 0) + timedelta(weeks=weeks)  # 10:00 in Moscow, in UTC


@pytest.fixture
def rules(bot_config) -> Settings:
    """The bot's rules with a 21-day horizon: Thursdays 26 Nov, 3 and 10 Dec can be booked now,
    17 Dec later."""
    return replace(bot_config.settings, booking_horizon_days=21)


@pytest.fixture
def regular(fake_telegram, make_bot, rules) -> ChatUser:
    """Alice, talking to a bot with the 21-day horizon."""
    return ChatUser(fake_telegram, make_bot(settings=rules).handle_update, ALICE)


def book_thursday_ten(user: ChatUser) -> None:
    user.send("/book")
    user.tap("Thu 26 Nov")
    user.tap("10:00")
    user.tap("Book it")


def active_starts(session_factory, telegram_id: int) -> list[datetime]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(Booking.starts_at)
                .join(User, Booking.user_id == User.id)
                .where(Booking.status == "active", User.telegram_id == telegram_id)
                .order_by(Booking.starts_at)
            )
        )


def all_series(session_factory) -> list[standing.Series]:
    with session_factory() as session:
        return list(session.scalars(select(standing.Series).order_by(standing.Series.id)))


def alert(calls) -> str:
    [reply] = answers(calls)
    assert reply.get("show_alert") is True, reply
    return reply["text"]


def test_repeat_weekly_from_my_makes_the_series_and_its_bookings(
    regular, bot_sessions, rules, bot_config, clock, fake_telegram
):
    book_thursday_ten(regular)
    regular.send("/my")

    regular.tap("Repeat Thu 26 Nov 10:00 weekly")
    assert regular.screen["text"].startswith(
        "🔁 Repeat Thursdays at 10:00 every week from Thu 26 Nov: for how long?"
    )
    choices = [b["text"] for b in regular.buttons()]
    # The Mini App's lengths (schedule.series.week_choices): 2 to SERIES_MAX_WEEKS, or until
    # stopped.
    assert choices == [f"{n} weeks" for n in range(2, 13)] + ["Until I stop it", "« Back"]
    regular.tap("4 weeks")
    # What it will do comes first (schedule.consequences), then the confirm makes it.
    assert regular.screen["text"].startswith(
        "🔁 Standing booking Thursdays at 10:00, from Thu 26 Nov. Length: 4 weeks.\n•"
    )
    assert (
        "Each date can be cancelled for free until 2 hours before its start."
        in (regular.screen["text"])
    )
    assert all_series(bot_sessions) == []
    calls = regular.tap("Start the weekly bookings")

    assert answers(calls)[0]["text"] == "Repeating weekly"
    assert regular.screen["text"] == (
        "🔁 Standing booking Thursdays at 10:00: 3 booked, 0 on the waitlist, 0 skipped. "
        "Later dates are booked as they open.\n\n"
        "🔁 Thursdays at 10:00, until Thu 17 Dec\n"
        "  • Thu 26 Nov 10:00–11:30\n"
        "  • Thu 3 Dec 10:00–11:30\n"
        "  • Thu 10 Dec 10:00–11:30"
    )
    [made] = all_series(bot_sessions)
    assert (made.weeks, made.status, made.first_on) == (4, "active", THU)
    assert active_starts(bot_sessions, ALICE["id"]) == [thursday(n) for n in range(3)]
    # Her training is no longer offered to repeat; the series offers to stop.
    assert not [b for b in regular.buttons() if "Repeat" in b["text"]]
    assert regular.button("Stop Thursdays at 10:00")

    # The worker's pass books 17 Dec as it opens; /my lists it with the others.
    clock.advance(hours=14)
    assert book_due(replace(bot_config, settings=rules), bot_sessions, clock) == 1
    regular.send("/my")
    assert "  • Thu 17 Dec 10:00–11:30" in regular.screen["text"]
    assert active_starts(bot_sessions, ALICE["id"]) == [thursday(n) for n in range(4)]
    assert fake_telegram.unanswered_queries() == set()


def test_my_lists_waiting_and_skipped_dates_of_a_series_until_stopped(
    regular, bot_sessions, rules, now
):
    with bot_sessions() as session:
        services.add_closure(
            Unit(session, rules, Actor.trainer(), now=now),
            THU + timedelta(weeks=1),
            reason="Holiday",
        )
        for n in range(rules.capacity):  # 10 Dec full
            other = services.upsert_user(session, {"id": 3000 + n, "first_name": f"Other{n}"})
            services.book(
                Unit(session, rules, Actor.client(other), now=now),
                other,
                THU + timedelta(weeks=2),
                TEN,
            )
    book_thursday_ten(regular)
    regular.send("/my")
    regular.tap("Repeat Thu 26 Nov 10:00 weekly")
    regular.tap("Until I stop it")
    assert "• No places on Thu 10 Dec: you join the line there." in regular.screen["text"]

    regular.tap("Start the weekly bookings")

    assert regular.screen["text"].startswith(
        "🔁 Standing booking Thursdays at 10:00: 1 booked, 1 on the waitlist, 1 skipped."
    )
    assert (
        "🔁 Thursdays at 10:00, until stopped\n"
        "  • Thu 26 Nov 10:00–11:30\n"
        "  ✕ Thu 3 Dec — The studio is closed at this time.\n"
        "  ⏳ Thu 10 Dec — on the waitlist"
    ) in regular.screen["text"]
    [made] = all_series(bot_sessions)
    assert made.weeks is None


def test_russian_users_repeat_and_stop_in_russian(fake_telegram, make_bot, rules, bot_sessions):
    boris = ChatUser(fake_telegram, make_bot(settings=rules).handle_update, BORIS)
    boris.send("/book")
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    boris.tap("Записаться")
    boris.send("/my")

    boris.tap("Повторять Чт 26 ноября 10:00 каждую неделю")
    boris.tap("8 недель")
    assert boris.screen["text"].startswith("🔁 Постоянная запись по четвергам в 10:00, с Чт 26")
    boris.tap("Начать постоянную запись")

    assert "🔁 по четвергам в 10:00, до Чт 14 января" in boris.screen["text"]
    boris.tap("Остановить по четвергам в 10:00")
    assert boris.screen["text"].startswith("Остановить постоянную запись по четвергам в 10:00?")
    calls = boris.tap("Да, остановить")
    assert answers(calls)[0]["text"] == "Остановлено"
    assert boris.screen["text"].startswith("Постоянная запись по четвергам в 10:00 остановлена.")
    assert [s.status for s in all_series(bot_sessions)] == ["stopped"]


def test_stop_with_confirm_cancels_what_the_deadline_allows(
    regular, coach, bot_sessions, clock, dispatcher, fake_telegram
):
    book_thursday_ten(regular)
    regular.send("/my")
    regular.tap("Repeat Thu 26 Nov 10:00 weekly")
    regular.tap("4 weeks")
    regular.tap("Start the weekly bookings")
    assert dispatcher.flush()
    # Thursday 09:00 in Moscow: the first training is inside the 120-minute deadline.
    clock.now = datetime(2026, 11, 26, 6, 0)
    regular.send("/my")

    regular.tap("Stop Thursdays at 10:00")
    assert regular.screen["text"] == (
        "Stop your standing booking Thursdays at 10:00? No more dates are booked, and its "
        "trainings you can still cancel are cancelled."
    )
    regular.tap("Back")
    assert regular.screen["text"].startswith("🔁 Thursdays at 10:00, until Thu 17 Dec")
    assert [s.status for s in all_series(bot_sessions)] == ["active"]
    regular.tap("Stop Thursdays at 10:00")
    calls = regular.tap("Yes, stop")

    assert answers(calls)[0]["text"] == "Stopped"
    assert regular.screen["text"] == (
        "Standing booking Thursdays at 10:00 stopped.\n\nYour trainings:\n• Thu 26 Nov 10:00–11:30"
    )
    assert active_starts(bot_sessions, ALICE["id"]) == [thursday(0)]
    [stopped] = all_series(bot_sessions)
    assert (stopped.status, stopped.stopped_by) == ("stopped", "client")
    # The trainer hears of each cancelled date, through the outbox written with the stop.
    assert dispatcher.flush()
    news = [m["text"] for (chat, _), m in fake_telegram.messages.items() if chat == COACH["id"]]
    parts = [part for text in news for part in text.split("\n\n")]  # a digest holds several
    cancelled = [part for part in parts if part.startswith("❌ Cancelled by the client")]
    assert len(cancelled) == 2
    assert fake_telegram.unanswered_queries() == set()


def borises_series(bot_sessions, rules, now) -> tuple[int, list[int]]:
    """Boris's standing booking made in the Mini App: its id and its bookings' ids."""
    with bot_sessions() as session:
        boris = services.upsert_user(session, BORIS)
        made = standing.start(
            Unit(session, rules, Actor.client(boris), now=now), boris, THU, TEN, 4
        )
        return made.series.id, [b.id for b in made.bookings]


def test_a_forged_stop_of_someone_elses_series_changes_nothing(
    regular, bot_sessions, rules, now, fake_telegram
):
    series_id, bookings = borises_series(bot_sessions, rules, now)
    regular.send("/my")

    for data in (
        cb.encode(cb.SERIES_STOP_ASK, series_id=series_id),
        cb.encode(cb.SERIES_STOP, series_id=series_id),
        cb.encode(cb.SERIES_STOP, series_id=999_999_999_999),
        cb.encode(cb.SERIES_STOP_ASK, series_id=999_999_999_999),
    ):
        assert alert(regular.tap_data(data)) == "Standing booking not found."

    assert [s.status for s in all_series(bot_sessions)] == ["active"]
    assert active_starts(bot_sessions, BORIS["id"]) == [thursday(n) for n in range(3)]
    assert fake_telegram.unanswered_queries() == set()


def test_a_forged_repeat_of_someone_elses_booking_makes_nothing(regular, bot_sessions, rules, now):
    _, bookings = borises_series(bot_sessions, rules, now)
    regular.send("/my")

    for data in (
        cb.encode(cb.REPEAT_ASK, booking_id=bookings[0]),
        cb.encode(cb.REPEAT, booking_id=bookings[0], weeks=4),
        cb.encode(cb.REPEAT, booking_id=999_999_999_999, weeks=0),
    ):
        assert alert(regular.tap_data(data)) == "Booking not found."

    assert len(all_series(bot_sessions)) == 1
    assert active_starts(bot_sessions, ALICE["id"]) == []


def test_weeks_beyond_the_maximum_are_refused_and_nothing_is_made(regular, bot_sessions):
    book_thursday_ten(regular)
    booking_id = cb.decode(regular.button("Repeat")["callback_data"]).booking_id  # just booked

    calls = regular.tap_data(cb.encode(cb.REPEAT, booking_id=booking_id, weeks=13))

    assert alert(calls) == "weeks must be a whole number from 1 to 12, or null"
    assert all_series(bot_sessions) == []
    assert regular.screen["text"].startswith("Your trainings:")


def test_a_stopped_series_is_not_stopped_again_and_a_second_repeat_is_refused(
    regular, bot_sessions
):
    book_thursday_ten(regular)
    regular.send("/my")
    regular.tap("Repeat Thu 26 Nov 10:00 weekly")
    regular.tap("4 weeks")
    four_weeks = regular.button("Start the weekly bookings")["callback_data"]
    regular.tap_data(four_weeks)
    # The same weeks button again (a stale message): the series exists already.
    assert alert(regular.tap_data(four_weeks)) == (
        "You already have a standing booking at this weekday and time."
    )
    regular.tap("Stop Thursdays at 10:00")
    yes_stop = regular.button("Yes, stop")["callback_data"]
    regular.tap_data(yes_stop)
    assert answers(regular.tap_data(yes_stop))[0]["text"] == "Stopped"  # a double tap: no harm
    [stopped] = all_series(bot_sessions)

    stale = cb.encode(cb.SERIES_STOP_ASK, series_id=stopped.id)
    assert alert(regular.tap_data(stale)) == "Standing booking not found."
    assert not [b for b in regular.buttons() if "Stop" in b["text"]]
    assert stopped.status == "stopped"


def test_repeat_and_stop_count_as_writes_for_the_throttle(fake_telegram, make_bot, rules):
    bot = make_bot(settings=replace(rules, rate_limit_writes="1/minute"))
    alice = ChatUser(fake_telegram, bot.handle_update, ALICE)
    book_thursday_ten(alice)  # the one write of this minute
    alice.send("/my")
    alice.tap("Repeat Thu 26 Nov 10:00 weekly")  # a read: goes through
    alice.tap("4 weeks")  # a read: what it will do

    calls = alice.tap("Start the weekly bookings")

    assert alert(calls).startswith("Too many taps")
    assert [c.method for c in calls] == ["answerCallbackQuery"]


def test_every_series_callback_data_fits_in_64_bytes(regular, bot_sessions, fake_telegram):
    book_thursday_ten(regular)
    regular.send("/my")
    regular.tap("Repeat Thu 26 Nov 10:00 weekly")
    regular.tap("Until I stop it")
    regular.tap("Start the weekly bookings")
    regular.tap("Stop Thursdays at 10:00")
    regular.tap("Back")

    markups = [c.params["reply_markup"] for c in fake_telegram.calls if "reply_markup" in c.params]
    data = [
        b["callback_data"]
        for markup in markups
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "callback_data" in b
    ]
    actions = {cb.decode(d).action for d in data}
    assert {cb.REPEAT_ASK, cb.REPEAT_PICK, cb.REPEAT, cb.SERIES_STOP_ASK, cb.SERIES_STOP} <= actions
    assert max(len(d.encode()) for d in data) <= cb.MAX_BYTES
    widest = (
        cb.encode(cb.REPEAT, booking_id=999_999_999_999, weeks=99),
        cb.encode(cb.SERIES_STOP, series_id=999_999_999_999),
    )
    assert all(len(d.encode()) <= cb.MAX_BYTES for d in widest)
    assert cb.decode(widest[0]) == cb.Callback(cb.REPEAT, booking_id=999_999_999_999, weeks=99)
