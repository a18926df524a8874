"""The trainer's Messages screen through the Flask test client, on SQLite and PostgreSQL: write,
choose whom, see how many it will reach before the confirm, send, and watch the card count
what was delivered (the card asks again while any message is pending)."""

from __future__ import annotations

import re
from html import unescape

from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth

SCREEN = "/app/admin/messages"
RU_TRAINER = {**TRAINER, "language_code": "ru"}


def html(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, data: dict, user=TRAINER):
    return client.post(path, data=data, headers={**auth(user), "HX-Request": "true"})


def known(client, *users: dict) -> None:
    for user in users:
        assert client.get("/api/bookings", headers=auth(user)).status_code == 200


def hidden_fields(sheet: str) -> dict:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', sheet))
    [text] = re.findall(r'<textarea name="text" hidden readonly>(.*?)</textarea>', sheet, re.S)
    return {name: unescape(value) for name, value in {**fields, "text": text}.items()}


def test_the_trainer_sees_the_count_before_sending_then_what_was_delivered(
    app, client, dispatcher, fake_telegram
):
    app.extensions["clients_told"] = True  # a bot wired: its worker sends the messages
    known(client, ANNA, BORIS)
    screen = client.get(SCREEN, headers=auth(TRAINER))
    assert screen.status_code == 200
    page = html(screen)
    assert 'data-admin-nav="messages" hx-get="/app/admin/messages" aria-current="page"' in page
    assert 'data-admin-form="broadcast"' in page and "New message" in page

    typed = {"text": "Hall closed <Friday>\nSee you Monday", "scope": "all", "date": TOMORROW}
    sheet = html(post(client, f"{SCREEN}/preview", typed))
    assert 'data-consequence="recipients" data-recipients="2"' in sheet
    assert "Will go to 2 clients" in sheet
    assert "Hall closed &lt;Friday&gt;" in sheet  # the text as they will read it, escaped
    form = hidden_fields(sheet)
    assert form == {"audience": "all", "text": "Hall closed <Friday>\nSee you Monday"}

    sent = post(client, SCREEN, form)
    assert sent.status_code == 200
    page = html(sent)
    assert "Sending to 2 clients." in page
    [card] = re.findall(r'<li class="card broadcast"[^>]*>', page)
    assert 'data-recipients="2" data-sent="0" data-failed="0"' in card
    assert 'hx-trigger="every 2s"' in card  # pending: it asks again

    assert dispatcher.flush()
    broadcast_id = re.search(r'data-broadcast-id="(\d+)"', card).group(1)
    again = html(client.get(f"{SCREEN}/{broadcast_id}", headers=auth(TRAINER)))
    assert 'data-sent="2" data-failed="0" data-pending="0"' in again
    assert "Delivered to 2 of 2" in again and "Wed 25 Nov, 09:00 · " in again
    assert "hx-trigger" not in again  # done: no more asking


def test_a_date_with_nobody_booked_cannot_be_sent(client):
    known(client, ANNA)
    typed = {"text": "Bring water", "scope": "date", "date": TOMORROW}
    sheet = html(post(client, f"{SCREEN}/preview", typed))
    assert 'data-recipients="0"' in sheet and "There is no client to send it to." in sheet
    assert re.search(r'<button class="primary" data-action="confirm" disabled>', sheet)


def test_the_screen_speaks_russian_and_says_why_it_refuses(client):
    known(client, BORIS)
    page = html(client.get(SCREEN, headers=auth(RU_TRAINER)))
    assert "Новое сообщение" in page and "Рассылка" in page
    typed = {"text": "Зал закрыт", "scope": "all", "date": TOMORROW}
    sheet = html(post(client, f"{SCREEN}/preview", typed, RU_TRAINER))
    assert "Получит 1 клиент" in sheet

    empty = post(client, f"{SCREEN}/preview", {"text": "  ", "scope": "all"}, RU_TRAINER)
    assert empty.status_code == 400 and "Сначала напишите сообщение." in html(empty)
    no_date = post(client, f"{SCREEN}/preview", {"text": "Hi", "scope": "date", "date": ""})
    assert no_date.status_code == 400 and "Choose the date." in html(no_date)


def test_clients_get_no_messages_screen(client):
    assert client.get(SCREEN, headers=auth(ANNA)).status_code == 403
    typed = {"text": "Hi", "audience": "all"}
    assert post(client, SCREEN, typed, ANNA).status_code == 403
    assert (
        post(client, f"{SCREEN}/preview", {"text": "Hi", "scope": "all"}, ANNA).status_code == 403
    )
