"""Both run modes end to end against the fake Bot API server, and the Mini App beside the bot:
long polling through the real runner in a thread, the webhook through the Flask route."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bot.models import ProcessedUpdate
from bot.runner import run_polling
from bot.worker import Inbox
from schedule import Booking
from schedule.db import make_engine
from tests.fixtures_bot import ALICE, COACH, PUBLIC_URL, ChatUser
from tests.fixtures_web import auth, build_app
from webapp.extensions import db
from webapp.webhook import SECRET_HEADER, WEBHOOK_PREFIX


@pytest.fixture
def web(database_url, clock, bot_config) -> Iterator[Flask]:
    """The web app with the bot configured against the fake server."""
    app = build_app(
        database_url,
        clock,
        BOT=bot_config,
        SCHEDULE=bot_config.settings,  # the bot's rules: the trainer named, news not held
        ADMIN_IDS=bot_config.admin_ids,
        PUBLIC_URL=PUBLIC_URL,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def hook_url(app: Flask) -> str:
    return f"{WEBHOOK_PREFIX}/{app.extensions['telegram'].config.webhook_path}"


def post_update(app: Flask, update: dict, secret: str | None = None):
    """POST `update` as Telegram does; the route only records it."""
    config = app.extensions["telegram"].config
    headers = {SECRET_HEADER: config.webhook_secret_token if secret is None else secret}
    return app.test_client().post(hook_url(app), json=update, headers=headers)


@pytest.fixture
def worker_inbox(web, bot_sessions) -> Iterator[Inbox]:
    """What `flask --app webapp worker` runs for the updates the route recorded."""
    inbox = Inbox(web.extensions["telegram"].bot, bot_sessions)
    yield inbox
    inbox.pool.close()


@pytest.fixture
def web_alice(web, fake_telegram, worker_inbox) -> ChatUser:
    def deliver(update: dict) -> None:
        assert post_update(web, update).status_code == 200
        assert worker_inbox.drain()

    return ChatUser(fake_telegram, deliver, ALICE)


def test_webhook_flow_start_book_booked(web_alice, web, fake_telegram, dispatcher):
    web_alice.send("/start")
    web_alice.tap("Book a training")
    web_alice.tap("Thu 26 Nov")
    web_alice.tap("10:00")
    web_alice.tap("Book it")

    assert web_alice.screen["text"] == "You're booked: Thu 26 Nov 10:00–11:30."
    assert fake_telegram.unanswered_queries() == set()
    assert dispatcher.flush()
    to_coach = [
        c.params for c in fake_telegram.calls if c.params.get("chat_id") == str(COACH["id"])
    ]
    assert "New booking" in to_coach[0]["text"] and "via the bot" in to_coach[0]["text"]


def test_webhook_refuses_a_wrong_secret_token(web, fake_telegram, worker_inbox):
    update = fake_telegram.message_update(ALICE, "/start")

    assert post_update(web, update, secret="wrong").status_code == 403
    assert post_update(web, update, secret="").status_code == 403
    client = web.test_client()
    assert client.post(hook_url(web), json=update).status_code == 403
    assert fake_telegram.calls == []

    assert post_update(web, update).status_code == 200
    assert fake_telegram.calls == []  # recorded, not handled on the request thread
    assert worker_inbox.drain()
    assert [c.method for c in fake_telegram.calls] == ["sendMessage"]


def test_webhook_under_another_path_is_not_found(web, fake_telegram):
    config = web.extensions["telegram"].config
    update = fake_telegram.message_update(ALICE, "/start")
    response = web.test_client().post(
        f"{WEBHOOK_PREFIX}/not-the-secret-path",
        json=update,
        headers={SECRET_HEADER: config.webhook_secret_token},
    )
    assert response.status_code == 404
    assert fake_telegram.calls == []


def test_webhook_bodies_that_are_not_updates_are_400(web):
    for body in (
        {"no": "update_id"},
        [1, 2],
        {"update_id": "7"},
        {"update_id": True},
        {"update_id": -1},
        {"update_id": 2**63},
    ):
        response = post_update(web, body)
        assert response.status_code == 400, body
        assert response.get_json()["error"] == "invalid"


def test_webhook_skips_an_unparseable_update_with_200(web, fake_telegram, worker_inbox):
    response = post_update(web, {"update_id": 77, "message": {"message_id": 1}})

    assert response.status_code == 200
    assert worker_inbox.drain()  # handled as "skipped", not retried forever
    assert fake_telegram.calls == []


def test_webhook_duplicate_delivery_books_once(web_alice, web, fake_telegram, worker_inbox):
    web_alice.send("/book")
    web_alice.tap("Thu 26 Nov")
    web_alice.tap("10:00")
    message = dict(web_alice.screen)
    message.pop("html")
    update = fake_telegram.callback_update(
        ALICE, message, web_alice.button("Book it")["callback_data"]
    )

    assert post_update(web, update).status_code == 200
    assert post_update(web, update).status_code == 200
    assert worker_inbox.drain()

    with web.app_context():
        assert len(db.session.scalars(select(Booking)).all()) == 1
    assert len(fake_telegram.calls_of("answerCallbackQuery")) == 3


def test_set_and_delete_webhook_commands(web, fake_telegram):
    runner = web.test_cli_runner()
    config = web.extensions["telegram"].config

    result = runner.invoke(args=["bot", "set-webhook"])

    assert result.exit_code == 0, result.output
    assert fake_telegram.webhook_url == f"{PUBLIC_URL}{WEBHOOK_PREFIX}/{config.webhook_path}"
    [call] = fake_telegram.calls_of("setWebhook")
    assert call.params["secret_token"] == config.webhook_secret_token
    assert config.webhook_path not in result.output  # the secret path is not printed
    assert fake_telegram.calls_of("setChatMenuButton")

    result = runner.invoke(args=["bot", "webhook-info"])
    assert result.exit_code == 0, result.output
    assert f"url: {PUBLIC_URL}{WEBHOOK_PREFIX}/…" in result.output

    result = runner.invoke(args=["bot", "delete-webhook"])
    assert result.exit_code == 0, result.output
    assert fake_telegram.webhook_url == ""


def test_set_webhook_refuses_a_plain_http_url(web, fake_telegram):
    result = web.test_cli_runner().invoke(args=["bot", "set-webhook", "--url", "http://x.example"])

    assert result.exit_code != 0
    assert "https" in result.output
    assert fake_telegram.calls_of("setWebhook") == []


def test_a_booking_made_in_the_bot_shows_in_the_mini_app_api(web_alice, web):
    web_alice.send("/book")
    web_alice.tap("Thu 26 Nov")
    web_alice.tap("10:00")
    web_alice.tap("Book it")

    response = web.test_client().get("/api/bookings", headers=auth(ALICE))

    assert response.status_code == 200
    [booking] = response.get_json()["bookings"]
    assert (booking["date"], booking["start"], booking["end"]) == ("2026-11-26", "10:00", "11:30")
    assert booking["status"] == "active"


def test_a_booking_made_in_the_mini_app_shows_in_my_and_reaches_the_trainer(
    web_alice, web, fake_telegram, dispatcher
):
    client = web.test_client()
    response = client.post(
        "/api/bookings", json={"date": "2026-11-26", "start": "12:30"}, headers=auth(ALICE)
    )
    assert response.status_code == 201, response.get_json()

    web_alice.send("/my")
    assert web_alice.screen["text"] == "Your trainings:\n• Thu 26 Nov 12:30–14:00"

    booking_id = response.get_json()["id"]
    assert client.delete(f"/api/bookings/{booking_id}", headers=auth(ALICE)).status_code == 200
    assert dispatcher.flush()
    to_coach = [c.params["text"] for c in fake_telegram.calls if c.params.get("chat_id") == "2900"]
    news = [part for text in to_coach for part in text.split("\n\n")]  # a digest holds both
    assert "New booking" in news[0] and "via the app" in news[0]
    assert "Cancelled by the client" in news[1]


def test_under_testing_the_app_never_builds_a_bot_for_the_real_telegram(database_url, clock):
    app = build_app(database_url, clock)  # BOT_TOKEN set, TELEGRAM_API_URL the default

    assert "telegram" not in app.extensions
    with app.app_context():
        db.engine.dispose()


def test_polling_end_to_end(bot_config, bot_sessions, clock, fake_telegram):
    fake_telegram.webhook_url = "https://old.example/hook"
    stop, ready = threading.Event(), threading.Event()
    runner = threading.Thread(
        target=run_polling,
        args=(bot_config, stop),
        kwargs={"session_factory": bot_sessions, "clock": clock, "poll_timeout": 1, "ready": ready},
    )
    runner.start()
    try:
        assert ready.wait(10)
        methods = [c.method for c in fake_telegram.calls]
        assert methods.index("deleteWebhook") == 0 and fake_telegram.webhook_url == ""
        commands = fake_telegram.calls_of("setMyCommands")
        assert {c.params.get("language_code") for c in commands} >= {"en", "ru"}
        [menu] = fake_telegram.calls_of("setChatMenuButton")
        assert menu.params["menu_button"]["web_app"]["url"] == PUBLIC_URL

        # A poison update (no chat, no date) comes first; the bot goes on to the next one.
        poison = {"update_id": fake_telegram.next_update_id(), "message": {"message_id": 1}}
        fake_telegram.enqueue(poison)
        fake_telegram.enqueue(fake_telegram.message_update(ALICE, "/book"))
        fake_telegram.wait_for(lambda: fake_telegram.calls_of("sendMessage"))
        alice = ChatUser(fake_telegram, fake_telegram.enqueue, ALICE)
        assert alice.screen["text"] == "Choose a day:"

        for label in ("Thu 26 Nov", "10:00", "Book it"):
            alice.tap(label)
            fake_telegram.wait_for(lambda: not fake_telegram.unanswered_queries())
        assert alice.screen["text"] == "You're booked: Thu 26 Nov 10:00–11:30."
        fake_telegram.wait_for(
            lambda: [c for c in fake_telegram.calls if c.params.get("chat_id") == "2900"]
        )
    finally:
        stop.set()
        fake_telegram.release_polls()
        runner.join(15)
    assert not runner.is_alive()
    with bot_sessions() as session:
        assert len(session.scalars(select(Booking)).all()) == 1


def test_polling_waits_out_an_unreachable_api_and_stops_when_asked(
    bot_config, bot_sessions, caplog, quick_retries
):
    config = replace(bot_config, api_url="http://127.0.0.1:9")  # nothing listens there
    stop, ready = threading.Event(), threading.Event()
    runner = threading.Thread(
        target=run_polling,
        args=(config, stop),
        kwargs={"session_factory": bot_sessions, "ready": ready},
    )
    runner.start()
    assert not ready.wait(1)  # still trying, not crashed
    assert runner.is_alive()
    stop.set()
    runner.join(15)
    assert not runner.is_alive()
    assert "could not reach the Bot API" in caplog.text
    assert "/bot<BOT_TOKEN>/" in caplog.text  # the URL is logged, the token is not
    assert bot_config.token not in caplog.text


def test_polling_retries_an_update_whose_id_cannot_be_recorded(
    bot_config, bot_sessions, clock, fake_telegram, quick_retries
):
    engine = make_engine(bot_config.database_url)
    ProcessedUpdate.__table__.drop(engine)  # the database cannot record update ids for now
    stop, ready = threading.Event(), threading.Event()
    runner = threading.Thread(
        target=run_polling,
        args=(bot_config, stop),
        kwargs={"session_factory": bot_sessions, "clock": clock, "poll_timeout": 1, "ready": ready},
    )
    runner.start()
    try:
        assert ready.wait(10)
        polls = len(fake_telegram.calls_of("getUpdates"))
        fake_telegram.enqueue(fake_telegram.message_update(ALICE, "/start"))
        fake_telegram.wait_for(lambda: len(fake_telegram.calls_of("getUpdates")) >= polls + 2)
        assert fake_telegram.calls_of("sendMessage") == []

        ProcessedUpdate.__table__.create(engine)
        fake_telegram.wait_for(lambda: fake_telegram.calls_of("sendMessage"))
    finally:
        stop.set()
        fake_telegram.release_polls()
        runner.join(15)
        engine.dispose()
    assert not runner.is_alive()
    assert len(fake_telegram.calls_of("sendMessage")) == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_bot_main_polls_and_stops_cleanly_on_a_signal(
    stop_signal, bot_config, fake_telegram, tmp_path
):
    env = {
        **os.environ,
        "BOT_TOKEN": bot_config.token,
        "TELEGRAM_API_URL": fake_telegram.url,
        "DATABASE_URL": bot_config.database_url,
        "PUBLIC_URL": PUBLIC_URL,
        "ADMIN_IDS": str(COACH["id"]),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    root = Path(__file__).resolve().parents[2]
    with open(tmp_path / "bot.log", "wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "bot_main.py"], cwd=root, env=env, stdout=log, stderr=log
        )
        try:
            fake_telegram.wait_for(lambda: fake_telegram.calls_of("setChatMenuButton"), timeout=30)
            fake_telegram.enqueue(fake_telegram.message_update(ALICE, "/start"))
            fake_telegram.wait_for(lambda: fake_telegram.calls_of("sendMessage"))

            bot.send_signal(stop_signal)
            fake_telegram.release_polls()
            assert bot.wait(timeout=20) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
    assert "polling stopped" in (tmp_path / "bot.log").read_text()
    assert '"event": "polling stopped"' in (tmp_path / "logs" / "bot.log").read_text()


def test_bot_main_without_a_token_says_so(tmp_path):
    env = {**os.environ, "BOT_TOKEN": "", "LOG_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]

    done = subprocess.run(
        [sys.executable, "bot_main.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "BOT_TOKEN is not set" in done.stderr
