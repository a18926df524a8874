"""The waitlist in chat: a full start offers it, /my lists it, stale buttons are re-checked, and
a freed place reaches the first in line within a second."""

from __future__ import annotations

import time
from datetime import date, datetime

from sqlalchemy import select

from bot import callbacks as cb
from schedule import Booking, Settings, User, services
from schedule.models import WaitlistEntry
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, BORIS, PUBLIC_URL, answers

THURSDAY = date(2026, 11, 26)
WEDNESDAY = date(2026, 11, 25)
TEN = 10 * 60
NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow, the `now` fixture
OTHERS = [
    {"id": 3000 + n, "is_bot": False, "first_name": f"U{n}", "language_code": "en"}
    for n in range(4)
]


def fill(session_factory, day: date = THURSDAY, minute: int = TEN) -> list[int]:
    """Four other clients take every place of `minute` on `day`; their booking ids."""
    ids = []
    with session_factory() as session:
        for other in OTHERS:
            user = services.upsert_user(session, other)
            ids.append(
                services.book(
                    Unit(session, Settings(), Actor.client(user), now=NOW), user, day, minute
                ).id
            )
    return ids


def cancel(session_factory, booking_id: int) -> None:
    with session_factory() as session:
        owner = session.get(Booking, booking_id).user
        services.cancel(Unit(session, Settings(), Actor.client(owner), now=NOW), booking_id)


def entries(session_factory) -> list[tuple[int, str]]:
    with session_factory() as session:
        rows = session.execute(
            select(User.telegram_id, WaitlistEntry.status)
            .join(User, User.id == WaitlistEntry.user_id)
            .order_by(WaitlistEntry.id)
        )
        return [tuple(row) for row in rows]


def alert(calls) -> str:
    [reply] = answers(calls)
    assert reply.get("show_alert") is True, reply
    return reply["text"]


def join(user, start: str = "10:00") -> list:
    user.send("/book")
    user.tap("26")
    user.tap(f"⏳ {start}")
    return user.tap("⏳")


def test_a_full_start_offers_the_waitlist_with_a_confirm_step(alice, bot_sessions):
    fill(bot_sessions)
    alice.send("/book")
    alice.tap("Thu 26 Nov")

    assert alice.screen["text"] == (
        "Thu 26 Nov: choose a start time (free places in brackets).\n"
        "⏳ — full: tap it to join the waitlist."
    )
    labels = [b["text"] for b in alice.buttons()]
    assert labels[:8] == [
        "08:00 (4)",
        "08:30 (4)",
        "⏳ 09:00",  # its 10:00 cell is full
        "⏳ 09:30",
        "⏳ 10:00",
        "⏳ 10:30",
        "⏳ 11:00",
        "11:30 (4)",
    ]
    alice.tap("⏳ 10:00")
    assert alice.screen["text"] == (
        "Thu 26 Nov 10:00–11:30 is full. Join the waitlist? When a place frees up, "
        "the first in line is booked automatically and told here.\n"
        "• Nobody is ahead of you: you will be first in line. Places are handed over from the "
        "line until Thu 26 Nov, 08:00.\n"
        "• No pass covers this date: you pay at the studio.\n"
        "• A booking from the line can still be cancelled for free until Thu 26 Nov, 08:00."
    )  # what joining will do (schedule.consequences), before the confirm
    assert entries(bot_sessions) == []  # nothing yet: this is the confirm step

    calls = alice.tap("Join the waitlist")

    assert answers(calls)[0]["text"] == "On the waitlist"
    assert alice.screen["text"] == (
        "You're on the waitlist for Thu 26 Nov 10:00–11:30: number 1 in line. "
        "If a place frees up, you'll be booked automatically and told here."
    )
    assert [b["text"] for b in alice.buttons()] == [
        "✖ Leave the waitlist Thu 26 Nov 10:00",
        "Open the app",
        "My trainings",
    ]
    assert alice.button("Open the app")["web_app"] == {"url": PUBLIC_URL}
    assert entries(bot_sessions) == [(ALICE["id"], "waiting")]


def test_the_second_in_line_is_told_so_in_their_language(alice, boris, bot_sessions):
    fill(bot_sessions)
    join(alice)

    boris.send("/book")
    boris.tap("Чт 26 ноября")
    boris.tap("⏳ 10:00")
    boris.tap("Встать в очередь")

    assert boris.screen["text"].startswith(
        "Вы в листе ожидания на Чт 26 ноября 10:00–11:30: 2-й в очереди."
    )


def test_a_start_already_waited_for_shows_the_place_instead_of_joining_again(alice, bot_sessions):
    fill(bot_sessions)
    join(alice)

    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("⏳ 10:00 (in line)")

    assert alice.screen["text"].startswith("You're on the waitlist for Thu 26 Nov 10:00–11:30")
    assert entries(bot_sessions) == [(ALICE["id"], "waiting")]


def test_my_lists_the_waitlist_and_leaving_is_one_tap(alice, boris, bot_sessions):
    fill(bot_sessions)
    join(alice)
    join(boris)

    alice.send("/my")
    assert alice.screen["text"] == (
        "You have no upcoming trainings.\n\nWaitlist:\n• Thu 26 Nov 10:00–11:30 — number 1 in line"
    )
    calls = alice.tap("Leave the waitlist Thu 26 Nov 10:00")

    assert answers(calls)[0]["text"] == "Left the waitlist"
    assert alice.screen["text"] == (
        "You left the waitlist for Thu 26 Nov 10:00–11:30.\n\nYou have no upcoming trainings."
    )
    assert entries(bot_sessions) == [(ALICE["id"], "left"), (BORIS["id"], "waiting")]
    boris.send("/my")
    assert boris.screen["text"].endswith("• Чт 26 ноября 10:00–11:30 — 1-й в очереди")


def test_my_no_longer_lists_a_wait_past_the_promotion_cutoff(alice, bot_sessions, clock):
    fill(bot_sessions)
    join(alice)
    clock.advance(hours=23, minutes=30)  # Thursday 08:30: no place can be given any more

    alice.send("/my")

    assert alice.screen["text"] == "You have no upcoming trainings."  # as in the Mini App
    assert not [b for b in alice.buttons() if "Leave" in b["text"]]
    ask = cb.encode(cb.WAIT_ASK, day=THURSDAY, minute=TEN)
    assert alert(alice.tap_data(ask)) == "This start is too soon or already past."


def test_a_day_booked_out_is_still_offered_for_its_waitlists(alice, bot_sessions):
    for minute in range(8 * 60, 16 * 60, 90):  # 08:00, 09:30, ... 14:00, 15:30: all full
        with bot_sessions() as session:
            for n in range(4):
                other = {"id": 5000 + minute + n, "first_name": f"V{n}"}
                user = services.upsert_user(session, other)
                services.book(
                    Unit(session, Settings(), Actor.client(user), now=NOW), user, THURSDAY, minute
                )

    alice.send("/book")
    assert "Thu 26 Nov" in [b["text"] for b in alice.buttons()]
    alice.tap("Thu 26 Nov")

    labels = [b["text"] for b in alice.buttons()]
    assert labels[0] == "⏳ 08:00" and labels[-2] == "⏳ 16:30" and labels[-1] == "« Back"
    assert all(label.startswith("⏳") for label in labels[:-1])


def test_a_place_freed_meanwhile_gets_an_alert_and_a_bookable_start(alice, bot_sessions):
    taken = fill(bot_sessions)
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    starts_screen = alice.screen
    cancel(bot_sessions, taken[0])

    calls = alice.tap("⏳ 10:00", message=starts_screen)

    assert alert(calls) == "There is a free place: book it instead of waiting."
    assert "10:00 (1)" in [b["text"] for b in alice.buttons()]
    assert entries(bot_sessions) == []


def test_a_confirmation_after_a_place_freed_joins_nothing(alice, bot_sessions):
    taken = fill(bot_sessions)
    alice.send("/book")
    alice.tap("Thu 26 Nov")
    alice.tap("⏳ 10:00")
    cancel(bot_sessions, taken[0])

    calls = alice.tap("Join the waitlist")

    assert alert(calls) == "There is a free place: book it instead of waiting."
    assert alice.screen["text"].startswith("Thu 26 Nov: choose a start time")
    assert "10:00 (1)" in [b["text"] for b in alice.buttons()]
    assert entries(bot_sessions) == []


def test_leaving_after_being_booked_gets_an_alert_and_shows_the_booking(alice, bot_sessions):
    taken = fill(bot_sessions)
    join(alice)
    waiting_screen = alice.screen
    cancel(bot_sessions, taken[0])

    calls = alice.tap("Leave the waitlist", message=waiting_screen)

    assert alert(calls) == "You are not on this waitlist (any more)."
    assert alice.now_showing(waiting_screen)["text"] == "Your trainings:\n• Thu 26 Nov 10:00–11:30"
    assert entries(bot_sessions) == [(ALICE["id"], "promoted")]


def test_forged_waitlist_buttons_change_nothing(alice, boris, bot_sessions):
    fill(bot_sessions)
    join(boris)
    alice.send("/my")

    leave_borises = cb.encode(cb.LEAVE, day=THURSDAY, minute=TEN)
    assert alert(alice.tap_data(leave_borises)) == "You are not on this waitlist (any more)."
    free_start = cb.encode(cb.WAIT, day=THURSDAY, minute=14 * 60)
    assert alert(alice.tap_data(free_start)) == "There is a free place: book it instead of waiting."
    for off_the_grid in (cb.WAIT, cb.WAIT_ASK, cb.BOOK):
        data = cb.encode(off_the_grid, day=THURSDAY, minute=TEN + 15)
        assert alert(alice.tap_data(data)) == "This button is out of date. Here is a fresh one."

    assert entries(bot_sessions) == [(BORIS["id"], "waiting")]
    with bot_sessions() as session:
        assert len(session.scalars(select(Booking)).all()) == 4


def test_no_waitlist_where_a_freed_place_could_not_be_given_in_time(alice, bot_sessions):
    fill(bot_sessions, WEDNESDAY, 10 * 60 + 30)  # today 10:30: inside the cancel deadline
    alice.send("/book")
    alice.tap("Wed 25 Nov")

    labels = [b["text"] for b in alice.buttons()]
    assert not [label for label in labels if "10:30" in label]
    assert "12:00 (4)" in labels
    ask = cb.encode(cb.WAIT_ASK, day=WEDNESDAY, minute=10 * 60 + 30)
    assert alert(alice.tap_data(ask)) == "This start is too soon or already past."
    assert entries(bot_sessions) == []


def test_a_freed_place_reaches_the_first_in_line_within_a_second(
    chat, alice, bot_sessions, fake_telegram, running_dispatcher
):
    others = [chat(other) for other in OTHERS]
    for other in others:
        other.send("/book")
        other.tap("Thu 26 Nov")
        other.tap("10:00")
        other.tap("Book it")
    join(alice)
    others[0].send("/my")
    others[0].tap("Cancel Thu 26 Nov 10:00")

    started = time.monotonic()
    others[0].tap("Yes, cancel")
    promoted = fake_telegram.wait_for(
        lambda: [
            c
            for c in fake_telegram.calls_of("sendMessage")
            if c.params["chat_id"] == str(ALICE["id"]) and "waitlist" in c.params["text"]
        ]
    )  # waits generously; the second is asserted on when the message reached Telegram

    [message] = promoted
    assert message.at - started < 1.0
    assert message.params["text"] == (
        "A place has freed up and you're booked from the waitlist: <b>Thu 26 Nov 10:00–11:30</b>."
    )
    markup = message.params["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in markup] == [
        ["✖ Cancel Thu 26 Nov 10:00"],
        ["↔️ Move Thu 26 Nov 10:00"],
        ["Open the app"],
        ["My trainings"],
    ]
    assert markup[2][0]["web_app"] == {"url": PUBLIC_URL}

    alice.tap("Cancel", message=alice.screen)  # the cancel button of that message
    calls = alice.tap("Yes, cancel")
    assert answers(calls)[0]["text"] == "Cancelled"
    with bot_sessions() as session:
        alices = session.scalar(select(Booking).join(User).where(User.telegram_id == ALICE["id"]))
        assert (alices.source, alices.status) == ("waitlist", "cancelled")
