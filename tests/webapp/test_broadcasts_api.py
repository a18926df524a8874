"""DESIGN.md's broadcasts through the JSON API, on SQLite and PostgreSQL: the trainer writes,
the outbox dispatcher sends through the fake Bot API, and the counts say what became of it."""

from __future__ import annotations

import pytest

from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, auth, make_user

VERA = make_user(1003)
PATH = "/api/admin/broadcasts"


def known(client, *users: dict) -> None:
    """Each user opens the Mini App once (the app knows them from then on)."""
    for user in users:
        assert client.get("/api/bookings", headers=auth(user)).status_code == 200


def broadcast(client, text: str = "Hall closed on Friday", audience: str = "all", user=TRAINER):
    return client.post(PATH, json={"text": text, "audience": audience}, headers=auth(user))


def delivered(fake_telegram, telegram_id: int) -> list[str]:
    """The plain texts that reached `telegram_id`."""
    return [
        fake_telegram.messages[key]["text"]
        for key in sorted(fake_telegram.messages)
        if key[0] == telegram_id
    ]


def test_the_trainer_writes_to_all_and_sees_delivered_and_failed(client, dispatcher, fake_telegram):
    known(client, ANNA, BORIS, VERA, TRAINER)
    fake_telegram.fail(VERA["id"], 403)  # Vera blocked the bot

    made = broadcast(client, "Hall closed on Friday <b>really</b> & for good")
    assert made.status_code == 202, made.json
    assert made.json == {"id": made.json["id"], "recipients": 3, "sent": 0}
    path = f"{PATH}/{made.json['id']}"
    before = client.get(path, headers=auth(TRAINER))
    assert before.json == {"id": made.json["id"], "recipients": 3, "sent": 0, "failed": 0}

    assert dispatcher.flush()
    after = client.get(path, headers=auth(TRAINER))
    assert after.status_code == 200
    assert after.json == {"id": made.json["id"], "recipients": 3, "sent": 2, "failed": 1}

    [anna_reads] = delivered(fake_telegram, ANNA["id"])
    assert "Hall closed on Friday <b>really</b> & for good" in anna_reads  # plain text, as typed
    assert anna_reads.startswith("📣 From your trainer")
    assert "/stop" in anna_reads
    [boris_reads] = delivered(fake_telegram, BORIS["id"])
    assert boris_reads.startswith("📣 Сообщение от тренера")  # in the reader's language
    assert delivered(fake_telegram, VERA["id"]) == []
    assert delivered(fake_telegram, TRAINER["id"]) == []  # trainers are not recipients


def test_a_date_reaches_only_those_booked_that_day(client, clock, dispatcher, fake_telegram):
    known(client, BORIS)
    booked = client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    )
    assert booked.status_code == 201

    made = broadcast(client, "Bring water", f"date:{TOMORROW}")
    assert made.status_code == 202 and made.json["recipients"] == 1
    nobody = broadcast(client, "Bring water", "date:2026-11-27")
    assert nobody.status_code == 202 and nobody.json["recipients"] == 0
    clock.advance(minutes=2)  # the trainer's news of Anna's booking is due too
    assert dispatcher.flush()
    assert [t for t in delivered(fake_telegram, ANNA["id"]) if "Bring water" in t]
    assert delivered(fake_telegram, BORIS["id"]) == []
    progress = client.get(f"{PATH}/{nobody.json['id']}", headers=auth(TRAINER)).json
    assert (progress["recipients"], progress["sent"], progress["failed"]) == (0, 0, 0)


def test_a_text_of_telegrams_whole_length_still_goes_as_one_message(
    client, dispatcher, fake_telegram
):
    known(client, ANNA)
    text = "a" * 4000 + "\n" + "<" * 95  # escaped, 4,096 characters as Telegram counts
    made = broadcast(client, text)
    assert made.status_code == 202
    assert dispatcher.flush()
    assert client.get(f"{PATH}/{made.json['id']}", headers=auth(TRAINER)).json["sent"] == 1
    assert delivered(fake_telegram, ANNA["id"]) == [text]  # no room for the header: the text


@pytest.mark.parametrize(
    "body",
    [
        {"text": "", "audience": "all"},
        {"text": "   \n", "audience": "all"},
        {"text": "x" * 4097, "audience": "all"},
        {"text": "🙂" * 2049, "audience": "all"},
        {"text": 5, "audience": "all"},
        {"audience": "all"},
        {"text": "Hi"},
        {"text": "Hi", "audience": "everyone"},
        {"text": "Hi", "audience": "date:2026-02-30"},
        {"text": "Hi", "audience": "kind:2"},
        {"text": "Hi", "audience": ["all"]},
        [],
    ],
)
def test_bad_input_is_400_and_writes_nothing(client, body):
    known(client, ANNA)
    response = client.post(PATH, json=body, headers=auth(TRAINER))
    assert response.status_code == 400, response.json
    assert set(response.json) == {"error", "message"} and response.json["error"] == "invalid"
    assert client.get(f"{PATH}/1", headers=auth(TRAINER)).status_code == 404


def test_the_empty_and_the_too_long_say_so(client):
    empty = broadcast(client, " ")
    assert empty.json["message"] == "Write the message first."
    long = broadcast(client, "x" * 4097)
    assert long.json["message"] == "A message holds at most 4096 characters."
    kind = broadcast(client, "Hi", "kind:7")
    assert kind.json["message"] == "There is no kind of training 7."


def test_the_default_kind_is_accepted(client):
    known(client, ANNA)
    client.post("/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA))
    made = broadcast(client, "Hi", "kind:1")
    assert made.status_code == 202 and made.json["recipients"] == 1


def test_clients_may_not_broadcast_nor_read_counts(client):
    known(client, ANNA)
    made = broadcast(client)
    assert broadcast(client, user=ANNA).status_code == 403
    assert client.get(f"{PATH}/{made.json['id']}", headers=auth(ANNA)).status_code == 403
    assert client.get(f"{PATH}/{made.json['id']}", headers=auth(TRAINER)).status_code == 200


def test_an_unknown_broadcast_is_404(client):
    for missing in (1, 0, 2**40):
        response = client.get(f"{PATH}/{missing}", headers=auth(TRAINER))
        assert response.status_code == 404
        assert response.json["error"] == "not_found"
