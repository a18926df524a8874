"""A client's /stop and /start with the real pyTelegramBotAPI against the fake Bot API: /stop
ends the trainer's broadcasts at once (those already queued too), messages about their own
bookings still reach them, and /start turns broadcasts back on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from schedule import User, broadcasts, services
from schedule.broadcasts import Audience
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, BORIS

THURSDAY = date(2026, 11, 26)


def texts_to(fake_telegram, telegram_id: int) -> list[str]:
    """The plain texts the bot sent `telegram_id`, in order."""
    return [
        fake_telegram.messages[key]["text"]
        for key in sorted(fake_telegram.messages, key=lambda k: k[1])
        if key[0] == telegram_id
    ]


def broadcast(bot_sessions, rules, clock, text: str) -> broadcasts.Broadcast:
    with bot_sessions() as session:
        return broadcasts.send(session, rules, text, Audience("all"), now=clock())


def trainer(session, rules, clock) -> Unit:
    return Unit(session, rules, Actor.trainer(), clock())


def progress(bot_sessions, broadcast_id: int) -> broadcasts.Progress:
    with bot_sessions() as session:
        return broadcasts.progress(session, broadcast_id)


def test_stop_ends_broadcasts_at_once_and_start_resumes_them(
    alice, boris, bot_sessions, rules, clock, dispatcher, fake_telegram
):
    alice.send("/start")
    boris.send("/start")
    first = broadcast(bot_sessions, rules, clock, "Hall closed on Friday")
    assert dispatcher.flush()
    assert "Hall closed on Friday" in texts_to(fake_telegram, ALICE["id"])[-1]

    queued = broadcast(bot_sessions, rules, clock, "New timetable")  # queued, not yet sent
    [said] = [c.params["text"] for c in alice.send("/stop") if c.method == "sendMessage"]
    assert "won't come any more" in said and "/start" in said
    assert dispatcher.flush()
    assert not any("New timetable" in t for t in texts_to(fake_telegram, ALICE["id"]))
    assert "New timetable" in texts_to(fake_telegram, BORIS["id"])[-1]
    stopped = progress(bot_sessions, queued.id)
    assert (stopped.recipients, stopped.sent, stopped.failed) == (2, 1, 1)
    assert progress(bot_sessions, first.id).sent == 2

    later = broadcast(bot_sessions, rules, clock, "Sauna is open")
    assert later.recipients == 1  # Boris only

    # A message about her own booking still reaches her: the trainer cancels it.
    with bot_sessions() as session:
        anna = session.scalar(select(User).where(User.telegram_id == ALICE["id"]))
        booking = services.book(
            Unit(session, rules, Actor.client(anna), clock()), anna, THURSDAY, 600
        )
        services.cancel(trainer(session, rules, clock), booking.id, reason="The trainer is ill")
    assert dispatcher.flush()
    assert "Reason: The trainer is ill" in texts_to(fake_telegram, ALICE["id"])[-1]

    alice.send("/help")  # not /start: still stopped
    assert broadcast(bot_sessions, rules, clock, "Still quiet").recipients == 1
    [*_, said] = [c.params["text"] for c in alice.send("/start") if c.method == "sendMessage"]
    assert "on again" in said
    back = broadcast(bot_sessions, rules, clock, "Welcome back")
    assert back.recipients == 2
    assert dispatcher.flush()
    assert "Welcome back" in texts_to(fake_telegram, ALICE["id"])[-1]
    assert progress(bot_sessions, back.id).sent == 2


def test_a_row_queued_before_the_stop_is_checked_when_it_is_sent(
    alice, bot_sessions, rules, clock, dispatcher, fake_telegram
):
    """A row a dispatcher had already claimed when the client stopped is not dropped by the
    stop; the dispatcher's own check at send time drops it."""
    alice.send("/start")
    sent = broadcast(bot_sessions, rules, clock, "Hall closed on Friday")
    with bot_sessions() as session:  # the flag alone, as if the row had been leased meanwhile
        session.execute(
            update(User)
            .where(User.telegram_id == ALICE["id"])
            .values(broadcasts_stopped_at=clock())
        )
        session.commit()
    assert dispatcher.flush()

    assert not any("Hall closed" in t for t in texts_to(fake_telegram, ALICE["id"]))
    with bot_sessions() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.broadcast_id == sent.id))
        assert (row.status, row.last_error) == ("dropped", broadcasts.STOPPED)
    assert progress(bot_sessions, sent.id).failed == 1


def test_a_broadcast_goes_alone_not_in_a_digest_with_the_bots_notices(
    alice, bot_sessions, rules, clock, dispatcher, fake_telegram
):
    alice.send("/start")
    with bot_sessions() as session:
        anna = session.scalar(select(User).where(User.telegram_id == ALICE["id"]))
        booking = services.book(
            Unit(session, rules, Actor.client(anna), clock()), anna, THURSDAY, 600
        )
        services.cancel(trainer(session, rules, clock), booking.id, reason="ill")
    broadcast(bot_sessions, rules, clock, "Hall closed <on> Friday & Saturday")
    mark = len(texts_to(fake_telegram, ALICE["id"]))
    assert dispatcher.flush()

    notice, told = texts_to(fake_telegram, ALICE["id"])[mark:]
    assert "Reason: ill" in notice and "Hall closed" not in notice
    assert told.splitlines()[2] == "Hall closed <on> Friday & Saturday"  # as typed, not markup
