"""The Sunday post of the coming week's free places to the studio's channel
(SCHEDULE_CHANNEL_ID): due on Sunday evening only, written once however many workers try,
worded in the trainers' language, sent through the outbox like any message."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.broadcasts import week_post_once
from bot.worker import start_background
from runtime.config import read_config
from schedule import Closure, ConfigError, broadcasts, services
from schedule.outbox import OutboxMessage
from schedule.unit import Actor, Unit
from tests.fixtures_bot import ALICE, COACH

CHANNEL = -1001234567890
# Sunday 29 Nov 2026 in Moscow (UTC+3): 17:59 and 18:00 local.
BEFORE = datetime(2026, 11, 29, 14, 59)
SUNDAY_EVENING = datetime(2026, 11, 29, 15, 0)
MONDAY = date(2026, 11, 30)


@pytest.fixture
def channel_config(bot_config):
    return replace(bot_config, schedule_channel_id=CHANNEL)


def test_the_post_is_due_on_sunday_evening_for_the_coming_week(rules):
    assert broadcasts.week_due(rules, BEFORE) is None
    assert broadcasts.week_due(rules, SUNDAY_EVENING) == MONDAY
    assert broadcasts.week_due(rules, datetime(2026, 11, 29, 20, 59)) == MONDAY  # 23:59
    assert broadcasts.week_due(rules, datetime(2026, 11, 29, 21, 0)) is None  # Monday 00:00
    assert broadcasts.week_due(rules, datetime(2026, 11, 25, 15, 0)) is None  # a Wednesday


def test_the_week_is_posted_once_with_each_days_free_starts(
    channel_config, bot_sessions, rules, clock, dispatcher, fake_telegram, coach
):
    clock.now = SUNDAY_EVENING
    coach.send("/start")  # the trainer's language is the channel's
    with bot_sessions() as session:
        anna = services.upsert_user(session, ALICE)
        unit = Unit(session, rules, Actor.client(anna), SUNDAY_EVENING)
        services.book(unit, anna, MONDAY, 10 * 60)  # 10:00 keeps 3 places
        start = datetime(2026, 12, 1, 21, 0)  # Wednesday 2 Dec, local midnight
        session.add(Closure(starts_at=start, ends_at=start + timedelta(days=1), reason="x"))
        session.commit()

    assert not week_post_once(channel_config, bot_sessions, BEFORE)
    assert week_post_once(channel_config, bot_sessions, SUNDAY_EVENING)
    assert not week_post_once(channel_config, bot_sessions, SUNDAY_EVENING)  # once
    assert not week_post_once(
        replace(channel_config, schedule_channel_id=None), bot_sessions, SUNDAY_EVENING
    )

    with bot_sessions() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == CHANNEL))
        assert row.kind == broadcasts.WEEK_POST
        assert row.expires_at == datetime(2026, 11, 29, 21, 0)  # when the week begins
        week = dict(row.facts["week"])
        assert sorted(week) == [(MONDAY + timedelta(days=n)).isoformat() for n in range(7)]
        monday = dict(week["2026-11-30"])
        assert (monday["08:00"], monday["10:00"], monday["16:30"]) == (4, 3, 4)
        assert week["2026-12-02"] == []  # closed
    assert dispatcher.flush()

    [post] = [m for (chat, _), m in fake_telegram.messages.items() if chat == CHANNEL]
    lines = post["text"].splitlines()
    assert lines[0] == "🗓 Free places, Mon 30 Nov – Sun 6 Dec"
    assert lines[2].startswith("Mon 30 Nov: 08:00 (4), 08:30 (4), 09:00 (3)")
    assert "Wed 2 Dec: none left" in lines
    assert lines[-1].startswith("In brackets: places left")


def test_the_worker_runs_the_post_only_with_a_channel(channel_config, bot_config, bot_sessions):
    stop = threading.Event()
    stop.set()  # each loop ends after its first pass
    names = {t.name for t in start_background(channel_config, bot_sessions, stop)}
    assert "week post" in names
    names = {t.name for t in start_background(bot_config, bot_sessions, stop)}
    assert "week post" not in names


def test_the_channel_is_read_from_the_environment():
    assert read_config({}).bot.schedule_channel_id is None
    assert read_config({"SCHEDULE_CHANNEL_ID": " -1001234567890 "}).bot.schedule_channel_id == (
        CHANNEL
    )
    for bad in ("@studio", "12ab", "0", "-"):
        with pytest.raises(ConfigError, match="SCHEDULE_CHANNEL_ID"):
            read_config({"SCHEDULE_CHANNEL_ID": bad})


def test_a_channel_that_refused_once_is_still_posted_to(
    channel_config, bot_sessions, clock, dispatcher, fake_telegram
):
    """A channel is no user who blocked the bot: a 403 (the bot not yet its admin) fails that
    post only, and next week's goes."""
    clock.now = SUNDAY_EVENING
    fake_telegram.fail(CHANNEL, 403)
    assert week_post_once(channel_config, bot_sessions, clock())
    assert dispatcher.flush()
    clock.advance(days=7)
    assert week_post_once(channel_config, bot_sessions, clock())
    assert dispatcher.flush()
    assert [chat for chat, _ in fake_telegram.messages].count(CHANNEL) == 1
    assert COACH["id"] not in {chat for chat, _ in fake_telegram.messages}


def test_workers_racing_post_the_week_once(channel_config, bot_sessions):
    start = threading.Barrier(4)
    posted = []

    def worker() -> None:
        start.wait()
        posted.append(week_post_once(channel_config, bot_sessions, SUNDAY_EVENING))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(posted) == [False, False, False, True]
    with bot_sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == CHANNEL))
        assert len(rows.all()) == 1
