"""Fixtures of the bot side: the fake Bot API server, the real bot wired to it, chat users."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

import bot.models  # noqa: F401 - the bot's table is part of the schema tests create
import bot.runner
import bot.telegram
from bot.config import BotConfig
from bot.dispatcher import Dispatcher
from bot.factory import BookingBot, create_bot
from schedule import Settings
from schedule.db import make_session_factory
from tests.conftest import UNLIMITED
from tests.fake_telegram import Call, FakeTelegram
from tests.initdata import TEST_BOT_TOKEN

PUBLIC_URL = "https://studio.example"
ALICE = {
    "id": 2001,
    "is_bot": False,
    "first_name": "Alice <&>",
    "username": "alice",
    "language_code": "en",
}
BORIS = {"id": 2002, "is_bot": False, "first_name": "Борис", "language_code": "ru"}
COACH = {"id": 2900, "is_bot": False, "first_name": "Coach", "language_code": "en"}


class ChatUser:
    """A Telegram user talking to the bot: sends texts and taps buttons; each action returns
    the Bot API calls the bot made while handling it."""

    def __init__(self, fake: FakeTelegram, deliver: Callable[[dict], object], user: dict) -> None:
        self.fake = fake
        self.deliver = deliver
        self.user = user
        self.id = user["id"]

    def _run(self, update: dict) -> list[Call]:
        mark = len(self.fake.calls)
        self.deliver(update)
        return self.fake.calls[mark:]

    def send(self, text: str) -> list[Call]:
        return self._run(self.fake.message_update(self.user, text))

    def share_contact(self, phone: str, contact_user_id: int | None = None) -> list[Call]:
        return self._run(self.fake.contact_update(self.user, phone, contact_user_id))

    @property
    def screen(self) -> dict:
        """The bot's newest message in this chat, as it looks now."""
        return self.fake.last_message(self.id)

    def now_showing(self, message: dict) -> dict:
        """`message` as it looks now (after the bot's edits)."""
        return self.fake.messages[(self.id, message["message_id"])]

    @property
    def keyboard_screen(self) -> dict:
        """The bot's newest message in this chat that has inline buttons."""
        with_buttons = [
            m
            for (chat, _), m in self.fake.messages.items()
            if chat == self.id and m.get("reply_markup")
        ]
        if not with_buttons:
            raise AssertionError(f"no message with buttons in chat {self.id}")
        return max(with_buttons, key=lambda m: m["message_id"])

    def buttons(self, message: dict | None = None) -> list[dict]:
        markup = (message or self.keyboard_screen).get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def button(self, label: str, message: dict | None = None) -> dict:
        matches = [b for b in self.buttons(message) if label in b["text"]]
        if not matches:
            texts = [b["text"] for b in self.buttons(message)]
            raise AssertionError(f"no button {label!r} among {texts}")
        return matches[0]

    def tap(self, label: str, message: dict | None = None) -> list[Call]:
        """Tap the first button whose text contains `label` on `message` (default: the newest
        message with buttons)."""
        message = message or self.keyboard_screen
        return self.tap_data(self.button(label, message)["callback_data"], message)

    def tap_data(self, data: str, message: dict | None = None) -> list[Call]:
        message = dict(message or self.keyboard_screen)
        message.pop("html", None)
        return self._run(self.fake.callback_update(self.user, message, data))


def answers(calls: list[Call]) -> list[dict]:
    return [c.params for c in calls if c.method == "answerCallbackQuery"]


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    yield fake
    fake.stop()
    # Telegram refuses an edit that changes nothing ("message is not modified"): the bot never
    # sends one (bot/handlers/common.py's show leaves a message that shows its view already).
    assert fake.not_modified == [], f"edits that changed nothing: {fake.not_modified}"


@pytest.fixture
def bot_config(request, fake_telegram, database_url) -> BotConfig:
    """The bot's configuration; a test changes fields of it with
    `@pytest.mark.parametrize("bot_config", [{field: value}], indirect=True)`."""
    return BotConfig(
        token=TEST_BOT_TOKEN,
        api_url=fake_telegram.url,
        public_url=PUBLIC_URL,
        database_url=database_url,
        # The trainer hears of every change at once (no news held) unless a test says so.
        settings=Settings(**UNLIMITED, admin_ids=frozenset({COACH["id"]}), trainer_news_delay=0),
        **getattr(request, "param", {}),
    )


@pytest.fixture
def bot_sessions(database_url, bot_config) -> Iterator[sessionmaker[Session]]:
    factory = make_session_factory(database_url, bot_config.dependency_deadline)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def rules(bot_config) -> Settings:
    """The studio's rules the bot runs with: they name the trainer, so each change's notices
    are written to the outbox (schedule.notices; the dispatcher sends them)."""
    return bot_config.settings


# The tests' dispatchers try a failed send again after 0.25 s, 0.5 s, 1 s … (deployed: 2 s, 4 s,
# 8 s …): the same doubling, in an eighth of the time (tests/bot/test_outbox.py holds the
# deployed steps).
FIRST_RETRY = timedelta(seconds=0.25)


@pytest.fixture
def quick_retries(monkeypatch) -> None:
    """The bot's own retries start at a tenth of the deployed 0.5 s, doubling as deployed: a
    Bot API call's backoff after a network error or a 502-504 (bot/telegram.py) and the
    polling loop's pause after a failed call or update (bot/runner.py)."""
    monkeypatch.setattr(bot.telegram, "FIRST_BACKOFF_SECONDS", 0.05)
    monkeypatch.setattr(bot.runner, "FIRST_ERROR_PAUSE_SECONDS", 0.05)


class RunningClock:
    """The test's clock, running on in real time from each value the test sets: the
    dispatcher waits out retries and pacing in real seconds from the test's "now"."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.base = clock()
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        base = self.clock()
        if base != self.base:  # the test moved its clock: run on from there
            self.base, self.started = base, time.monotonic()
        return base + timedelta(seconds=time.monotonic() - self.started)


def running_clock(clock: Callable[[], datetime]) -> RunningClock:
    return RunningClock(clock)


@pytest.fixture
def dispatcher(bot_config, bot_sessions, clock) -> Iterator[Dispatcher]:
    """The outbox dispatcher over the fake Bot API, without per-chat pacing (tests that are
    about pacing make their own); `dispatcher.flush()` sends everything due."""
    dispatcher = Dispatcher(
        bot_config,
        bot_sessions,
        clock=running_clock(clock),
        chat_interval=0,
        first_retry=FIRST_RETRY,
    )
    yield dispatcher
    dispatcher.close()


@pytest.fixture
def running_dispatcher(dispatcher) -> Iterator[Dispatcher]:
    """The dispatcher sending in a thread of its own, as bot_main.py and the worker run it."""
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.run, args=(stop, 0.02), daemon=True)
    thread.start()
    yield dispatcher
    stop.set()
    thread.join(10)


@pytest.fixture
def make_bot(bot_config, bot_sessions, clock) -> Callable[..., BookingBot]:
    def make(**changes) -> BookingBot:
        return create_bot(replace(bot_config, **changes), bot_sessions, clock=clock)

    return make


@pytest.fixture
def telegram_bot(make_bot) -> BookingBot:
    """The real bot, handling each update synchronously (as the webhook does)."""
    return make_bot()


@pytest.fixture
def chat(fake_telegram, telegram_bot) -> Callable[[dict], ChatUser]:
    return lambda user: ChatUser(fake_telegram, telegram_bot.handle_update, user)


@pytest.fixture
def alice(chat) -> ChatUser:
    return chat(ALICE)


@pytest.fixture
def boris(chat) -> ChatUser:
    return chat(BORIS)


@pytest.fixture
def coach(chat) -> ChatUser:
    return chat(COACH)
