"""Counted texts read as people write them, through each adapter: the Mini App's fragments (Flask
test client) and the bot's texts and buttons (the real bot against the fake Bot API), in English
("1 place left", "2 places left") and Russian ("осталось 1 место", "2 места", "5 мест")."""

from __future__ import annotations

import re
from datetime import date

from bot import keyboards
from bot.passes import PASS_EXPIRING, render_pass_notice
from schedule import passes, services
from schedule.unit import Actor, Unit
from tests.fixtures_bot import BORIS as BOT_BORIS
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth
from tests.webapp.test_pages import fill
from webapp.extensions import db

TRAINER_RU = {**TRAINER, "language_code": "ru"}
HX = {"HX-Request": "true"}


def page(client, path: str, user: dict) -> str:
    response = client.get(path, headers={**auth(user), **HX})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def start_head(day: str, start: str) -> str:
    """The trainer's Day: the line under a start's times ("3 booked · 1 place left")."""
    return re.search(rf"<b>{start}–[^<]*</b><span>([^<]*)</span>", day)[1]


def test_the_trainers_day_counts_the_places_left(sqlite_app, page_client):
    fill(sqlite_app, "10:00", 3)  # capacity 4
    fill(sqlite_app, "12:00", 2)
    day = page(page_client, f"/app/admin?date={TOMORROW}", TRAINER)
    assert start_head(day, "10:00") == "3 booked · 1 place left"
    assert start_head(day, "12:00") == "2 booked · 2 places left"
    day = page(page_client, f"/app/admin?date={TOMORROW}", TRAINER_RU)
    assert start_head(day, "10:00") == "записано: 3 · осталось 1 место"
    assert start_head(day, "12:00") == "записано: 2 · осталось 2 места"


def test_the_series_sheet_offers_weeks_in_russian(page_client):
    confirm = page(page_client, f"/app/confirm?date={TOMORROW}&start=10:00", BORIS)
    repeat = re.search(r'data-action="repeat-weekly" hx-get="([^"]+)"', confirm)[1]
    sheet = page(page_client, repeat.replace("&amp;", "&"), BORIS)
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', sheet))
    assert (options["2"], options["4"], options["5"], options["12"]) == (
        "2 недели",
        "4 недели",
        "5 недель",
        "12 недель",
    )


def test_the_pass_history_counts_signed_changes(sqlite_app, page_client, clock):
    with sqlite_app.app_context():
        session = db.session()
        anna = services.upsert_user(session, ANNA)
        settings = sqlite_app.config["SCHEDULE"]
        sold = passes.record(
            Unit(session, settings, Actor.trainer(), now=clock()), anna, visits=5, valid_days=30
        )
        passes.adjust(
            Unit(session, settings, Actor.trainer(), now=clock()),
            sold.id,
            visits=-1,
            reason="typo",
        )
        passes.adjust(
            Unit(session, settings, Actor.trainer(), now=clock()),
            sold.id,
            visits=2,
            extend_days=1,
            reason="gift",
        )
        session.commit()
    card = f"/app/admin/clients/{ANNA['id']}"
    english = page(page_client, card, TRAINER)
    assert "-1 visit · typo" in english and "+2 visits · +1 day · gift" in english
    russian = page(page_client, card, TRAINER_RU)
    assert "-1 занятие · typo" in russian and "+2 занятия · +1 день · gift" in russian


def test_the_bot_greets_and_counts_in_russian(boris, bot_sessions, bot_config, clock):
    boris.send("/start")
    assert "Записывайтесь на тренировку (90 минут)" in boris.screen["text"]
    with bot_sessions() as session:
        user = services.upsert_user(session, BOT_BORIS)
        passes.record(
            Unit(session, bot_config.settings, Actor.trainer(), now=clock()),
            user,
            visits=21,
            valid_days=30,
        )
    boris.send("/my")
    assert "🎫 Абонемент: осталось 21 из 21 занятия, до Чт 24 декабря" in boris.screen["text"]


def test_the_bots_pass_notice_and_week_buttons_take_their_forms(bot_config):
    facts = {"expires": date(2026, 11, 27).isoformat()}
    told = [
        render_pass_notice(PASS_EXPIRING, {**facts, "remaining": n}, "ru", bot_config)[0]
        for n in (1, 3, 5)
    ]
    assert [line.rsplit(", ", 1)[1] for line in told] == [
        "осталось 1 занятие.",
        "осталось 3 занятия.",
        "осталось 5 занятий.",
    ]
    english = render_pass_notice(PASS_EXPIRING, {**facts, "remaining": 1}, "en", bot_config)[0]
    assert english == "Your pass expires on Fri 27 Nov with 1 visit left."
    labels = [
        [button.text for button in row]
        for row in keyboards.repeat_weeks("ru", 1, (1, 4, 8, 21)).keyboard
    ][0]
    assert labels == ["1 неделю", "4 недели", "8 недель", "21 неделю"]
