"""Notices end to end: schedule decides who hears of what and writes it to the outbox, the bot
words each message in its reader's language when it sends it. The trainers hear of every
change, clients of the trainer's cancellations."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from sqlalchemy import select

from schedule import Booking, Settings, services, waitlist
from schedule.notices import CLIENT, NEWS
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit
from tests.bot.test_bot_flow import reply
from tests.fixtures_bot import ALICE, BORIS, COACH

THURSDAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 6, 0)
# The studio's rules naming the trainer: schedule writes every change's notices itself.
TOLD = Settings(admin_ids=frozenset({COACH["id"]}), trainer_news_delay=0)


def messages_to(fake_telegram, telegram_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in fake_telegram.calls
        if c.method == "sendMessage"
        and c.params.get("chat_id") == str(telegram_id)
        and c.status == 200
    ]


def news_to(fake_telegram, telegram_id: int) -> str:
    """Everything a trainer was told, in order (a chat's waiting news leaves as one digest)."""
    return "\n\n".join(messages_to(fake_telegram, telegram_id))


def book(session_factory, telegram_user: dict, minute: int = 600, on_event=None) -> Booking:
    with session_factory() as session:
        user = services.upsert_user(session, telegram_user)
        return services.book(
            Unit(session, TOLD, Actor.client(user), now=NOW, observe=on_event),
            user,
            THURSDAY,
            minute,
        )


def test_the_trainer_cancels_and_the_client_is_told_why(alice, coach, dispatcher, fake_telegram):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")

    coach.send("/today")
    coach.tap("Thu 26")
    day = coach.screen
    coach.tap("✖ 10:00")
    reply(coach, "The trainer is ill", coach.screen)  # the reason is typed (a reply)
    assert dispatcher.flush()

    [told] = messages_to(fake_telegram, ALICE["id"])[-1:]
    assert told == (
        "Your training on <b>Thu 26 Nov 10:00–11:30</b> was cancelled by the trainer.\n"
        "Reason: The trainer is ill"
    )
    news = news_to(fake_telegram, COACH["id"])
    assert "\n\n❌ Cancelled by the trainer: Alice &lt;&amp;&gt; (@alice)\n" in news
    assert news.endswith("\nReason: The trainer is ill")
    assert any(
        m.startswith("Cancelled Alice") and m.endswith("No trainings on <b>Thu 26 Nov</b>.")
        for m in messages_to(fake_telegram, COACH["id"])
    )  # the reply is answered with the day as it is now
    assert coach.now_showing(day)["text"].startswith("Trainings on Thu 26 Nov")


def test_a_russian_client_reads_the_reason_in_russian(boris, coach, dispatcher, fake_telegram):
    boris.send("/book")
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    boris.tap("Записаться")

    coach.send("/today")
    coach.tap("Thu 26")
    coach.tap("✖ 10:00")
    reply(coach, "Студия закрыта", coach.screen)
    assert dispatcher.flush()

    assert messages_to(fake_telegram, BORIS["id"])[-1] == (
        "Тренер отменил вашу тренировку <b>Чт 26 ноября 10:00–11:30</b>.\nПричина: Студия закрыта"
    )


def test_the_trainer_reads_the_reason_of_their_cancel_in_their_own_language(
    boris, coach, dispatcher, fake_telegram, bot_sessions
):
    """A reason stored in the words of one of the bot's former presets, in the client's
    language (Russian here): the trainer's news of it is in the trainer's language."""
    boris.send("/book")
    boris.tap("Чт 26 ноября")
    boris.tap("10:00")
    boris.tap("Записаться")

    with bot_sessions() as session:
        [booking] = session.scalars(select(Booking)).all()
        services.cancel(
            Unit(session, TOLD, Actor.trainer(), now=NOW), booking.id, reason="Студия закрыта"
        )
    assert dispatcher.flush()

    news = news_to(fake_telegram, COACH["id"])
    assert "❌ Cancelled by the trainer: Борис" in news
    assert news.endswith("\nReason: The studio is closed")
    assert messages_to(fake_telegram, BORIS["id"])[-1].endswith("Причина: Студия закрыта")


def test_a_client_cancelling_is_not_told_but_the_trainer_is(alice, dispatcher, fake_telegram):
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("10:00")
    alice.tap("Book it")
    alice.tap("Cancel")
    alice.tap("Yes, cancel")
    assert dispatcher.flush()

    news = news_to(fake_telegram, COACH["id"]).split("\n\n")
    assert news[0].startswith("🆕 New booking: Alice &lt;&amp;&gt; (@alice)")
    assert news[1].startswith("❌ Cancelled by the client: Alice")
    assert not [
        t for t in messages_to(fake_telegram, ALICE["id"]) if "cancelled by the trainer" in t
    ]


def test_a_reschedule_reaches_the_trainer(bot_sessions, fake_telegram, dispatcher):
    booking = book(bot_sessions, ALICE)
    with bot_sessions() as session:
        user = session.get(Booking, booking.id).user
        services.reschedule(
            Unit(session, TOLD, Actor.client(user), now=NOW), booking.id, THURSDAY, 720
        )
    assert dispatcher.flush()

    assert news_to(fake_telegram, COACH["id"]).split("\n\n")[1:] == [
        "🔁 Moved: Alice &lt;&amp;&gt; (@alice)\nThu 26 Nov 10:00 → <b>Thu 26 Nov 12:00–13:30</b>"
    ]


def test_the_trainer_reads_news_in_their_own_language(
    coach, bot_sessions, fake_telegram, dispatcher
):
    coach.user = {**COACH, "language_code": "ru"}
    coach.send("/start")

    book(bot_sessions, ALICE)
    assert dispatcher.flush()

    assert messages_to(fake_telegram, COACH["id"])[-1].startswith("🆕 Новая запись: Alice")


def test_the_waitlist_booking_a_client_tells_them(bot_sessions, fake_telegram, dispatcher):
    others = [{"id": 3000 + n, "first_name": f"U{n}"} for n in range(4)]
    bookings = [book(bot_sessions, user) for user in others]
    with bot_sessions() as session:
        boris = services.upsert_user(session, BORIS)
        waitlist.join(Unit(session, TOLD, Actor.client(boris), now=NOW), boris, THURSDAY, 600)
        user = session.get(Booking, bookings[0].id).user
        services.cancel(Unit(session, TOLD, Actor.client(user), now=NOW), bookings[0].id)
    assert dispatcher.flush()

    assert messages_to(fake_telegram, BORIS["id"]) == [
        "Освободилось место, и вы записаны из листа ожидания: <b>Чт 26 ноября 10:00–11:30</b>."
    ]
    with bot_sessions() as session:
        assert session.scalar(select(Booking).where(Booking.user_id == boris.id)).is_active


def test_a_booking_the_trainer_makes_for_a_client_tells_the_client(
    bot_sessions, fake_telegram, dispatcher
):
    with bot_sessions() as session:
        alice = services.upsert_user(session, ALICE)
        services.book(
            Unit(session, TOLD, Actor.trainer(), now=NOW), alice, THURSDAY, 600, source="admin"
        )
    assert dispatcher.flush()

    assert messages_to(fake_telegram, ALICE["id"]) == [
        "The trainer has booked you for <b>Thu 26 Nov 10:00–11:30</b>."
    ]


def test_a_booking_the_trainer_makes_past_the_cancel_deadline_offers_no_cancel(
    bot_sessions, fake_telegram, dispatcher
):
    today = date(2026, 11, 25)  # NOW is 09:00 in Moscow: 10:30 is inside the 2-hour deadline
    with bot_sessions() as session:
        alice = services.upsert_user(session, ALICE)
        services.book(
            Unit(session, TOLD, Actor.trainer(), now=NOW), alice, today, 630, source="admin"
        )
    assert dispatcher.flush()

    [message] = [
        c.params for c in fake_telegram.calls_of("sendMessage") if c.params["chat_id"] == "2001"
    ]
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Open the app", "My trainings"]


def test_a_booking_the_client_makes_is_not_echoed_to_them(bot_sessions, fake_telegram, dispatcher):
    book(bot_sessions, ALICE)
    assert dispatcher.flush()
    assert messages_to(fake_telegram, ALICE["id"]) == []
    assert len(messages_to(fake_telegram, COACH["id"])) == 1


def test_notifying_never_waits_for_telegram(bot_sessions, fake_telegram, dispatcher):
    fake_telegram.fail(COACH["id"], 429, retry_after=1)
    started = time.monotonic()
    book(bot_sessions, ALICE)
    assert time.monotonic() - started < 0.9  # the 429 alone would take a second
    assert fake_telegram.calls == []  # written to the outbox, not sent by the booking

    assert dispatcher.flush()
    assert len(messages_to(fake_telegram, COACH["id"])) == 1


def test_an_observer_that_fails_rolls_the_change_back_and_its_notices(bot_sessions):
    """The messages are part of the change: no booking is committed without its news, nor
    news without its booking."""

    def failing(event):
        raise RuntimeError("the outbox is unwritable")

    with pytest.raises(RuntimeError):
        book(bot_sessions, ALICE, on_event=failing)
    with bot_sessions() as session:
        assert session.scalars(select(Booking)).all() == []
    assert outbox_rows(bot_sessions) == []


# --- the bridge of the old wiring ------------------------------------------------------------


def outbox_rows(session_factory) -> list[tuple[int, str]]:
    with session_factory() as session:
        found = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(m.chat_id, m.kind) for m in found]


def test_schedule_tells_with_nothing_installed_in_the_adapter(
    bot_sessions, fake_telegram, dispatcher
):
    with bot_sessions() as session:
        alice = services.upsert_user(session, ALICE)
        services.book(
            Unit(session, TOLD, Actor.trainer(), now=NOW), alice, THURSDAY, 600, source="admin"
        )
    assert outbox_rows(bot_sessions) == [(COACH["id"], NEWS), (ALICE["id"], CLIENT)]
    assert dispatcher.flush()

    assert messages_to(fake_telegram, ALICE["id"]) == [
        "The trainer has booked you for <b>Thu 26 Nov 10:00–11:30</b>."
    ]
    assert messages_to(fake_telegram, COACH["id"])[0].startswith("🆕 New booking: Alice")
