"""The bot tells a client the studio ended their wait (schedule.kinds.retire_kind /
retire_trainer expire the lines of what they take away): the real dispatcher sends the
CLIENT message whose facts say "waitlist_ended" through the fake Bot API, in the client's
language, with the kind's own end."""

from __future__ import annotations

from datetime import date, datetime

from schedule import Settings, services
from schedule.kinds import add_kind, add_trainer, retire_kind, retire_trainer
from schedule.models import WAITING, WaitlistEntry
from schedule.timegrid import start_instant
from schedule.unit import Actor, Unit
from tests.bot.test_bot_notify import messages_to
from tests.fixtures_bot import ALICE, BORIS

THURSDAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 6, 0)
RULES = Settings()


def test_retiring_a_kind_and_a_trainer_tells_those_waiting(bot_sessions, fake_telegram, dispatcher):
    with bot_sessions() as session:
        owner = Unit(session, RULES, Actor.trainer(), now=NOW)
        anna = add_trainer(owner, 5001, "Anna")
        boris = add_trainer(owner, 5002, "Boris")
        personal = add_kind(owner, "Personal", 60, 1, [anna.id, boris.id])
        alice = services.upsert_user(session, ALICE)
        russian = services.upsert_user(session, BORIS)
        ten = start_instant(THURSDAY, 600, RULES)
        for user, kind, trainer in ((alice, personal.id, None), (russian, None, boris.id)):
            session.add(
                WaitlistEntry(
                    user_id=user.id,
                    starts_at=ten,
                    kind_id=kind,
                    trainer_id=trainer,
                    status=WAITING,
                    created_at=NOW,
                )
            )
        session.commit()
        retire_kind(owner, personal.id)
        session.commit()
        add_kind(owner, "Stretch", 60, 2, [anna.id])  # Boris is not the only one of a kind
        retire_trainer(owner, boris.id)
        session.commit()
    assert dispatcher.flush()

    assert messages_to(fake_telegram, ALICE["id"]) == [
        "The studio no longer offers Personal, so you are off the waitlist for "
        "<b>Thu 26 Nov 10:00–11:00</b>. Pick another training in /book."
    ]
    assert messages_to(fake_telegram, BORIS["id"]) == [
        "Boris больше не ведёт тренировки в студии, поэтому вы больше не в листе ожидания на "
        "<b>Чт 26 ноября 10:00–11:30</b>. Выберите другую тренировку в /book."
    ]
