"""/api/slots kept as bytes per state (webapp.api.SlotsAnswers) and its PostgreSQL read opened
with one round trip (schedule.db.read_first): the kept answer is always the one a fresh
rendering would give (another process's booking, the clock, the viewer, the kind), and a
pooled connection that died or froze is replaced within the request, as the pool's pre-ping
did."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import psycopg
import pytest
from sqlalchemy import text, update

from schedule.db import read_first
from schedule.models import ScheduleLock
from tests.fixtures_web import ANNA, BORIS, TOMORROW, auth
from tests.webapp.test_frozen_database import (  # noqa: F401
    DEADLINE_S,
    IN_FLIGHT_WITHIN_S,
    cluster,
    throwaway_cluster,
)
from webapp import api, snapshots
from webapp.extensions import db

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BOOK_ELSEWHERE = textwrap.dedent(
    """
    import sys
    from datetime import date, datetime
    from schedule import Settings, services
    from schedule.db import make_session_factory
    from schedule.unit import Actor, Unit
    from tests.conftest import UNLIMITED

    url, telegram_id, day, minute, now = sys.argv[1:]
    with make_session_factory(url)() as session:
        user = services.upsert_user(session, {"id": int(telegram_id), "first_name": "Elsewhere"})
        unit = Unit(session, Settings(**UNLIMITED), Actor.client(user), datetime.fromisoformat(now))
        services.book(unit, user, date.fromisoformat(day), int(minute))
        session.get_bind().dispose()
    """
)


def book_in_another_process(url: str, telegram_id: int, day: str, minute: int, now) -> None:
    """A booking by another process (the bot, another web worker): its own engine, no caches
    shared with the app under test."""
    subprocess.run(
        [sys.executable, "-c", BOOK_ELSEWHERE, url, str(telegram_id), day, str(minute)]
        + [now.isoformat()],
        cwd=ROOT,
        check=True,
        timeout=60,
    )


def kept_and_fresh(app, client, url: str, headers: dict) -> tuple[bytes, bytes]:
    """The answer as served (kept bytes where the state was seen before) and as rendered anew
    (every kept answer forgotten first)."""
    kept = client.get(url, headers=headers)
    assert kept.status_code == 200, kept.data
    app.extensions.pop("slots_answers", None)
    fresh = client.get(url, headers=headers)
    assert fresh.status_code == 200
    return kept.data, fresh.data


def test_the_kept_answer_is_always_the_fresh_one(app, client, clock, database_url, monkeypatch):
    rendered = []
    render = api.answer_body
    monkeypatch.setattr(api, "answer_body", lambda *a: rendered.append(1) or render(*a))
    url = f"/api/slots?date={TOMORROW}"
    anna, boris = auth(ANNA), auth(BORIS)
    before, fresh = kept_and_fresh(app, client, url, anna)
    assert before == fresh
    for _ in range(3):  # the same state again: the kept bytes, nothing rendered
        count = len(rendered)
        assert client.get(url, headers=anna).data == before
        assert len(rendered) == count

    # Boris books 10:00 from another process: Anna's next answer shows it, as does his.
    book_in_another_process(database_url, BORIS["id"], TOMORROW, 600, clock())
    after, fresh = kept_and_fresh(app, client, url, anna)
    assert after == fresh and after != before
    by_start = {slot["start"]: slot for slot in client.get(url, headers=anna).json["slots"]}
    assert by_start["10:00"]["booked"] == 1 and not by_start["10:00"]["mine"]
    his, fresh = kept_and_fresh(app, client, url, boris)  # another viewer of the same day
    assert his == fresh and his != after
    by_start = {slot["start"]: slot for slot in client.get(url, headers=boris).json["slots"]}
    assert by_start["10:00"]["mine"]

    # The clock alone: today's starts pass and come within the minimum notice.
    today = f"/api/slots?date={clock().date().isoformat()}"
    morning, _ = kept_and_fresh(app, client, today, anna)
    for minutes in (1, 29, 30, 60, 90, 240):
        clock.advance(minutes=minutes)
        later, fresh = kept_and_fresh(app, client, today, anna)
        assert later == fresh
    assert later != morning


def test_each_kind_and_trainer_has_its_own_answer(app, client):
    owner = {"id": 900, "first_name": "Trainer", "language_code": "en"}
    made = client.post(
        "/api/admin/trainers", json={"telegram_id": 5001, "name": "Anna"}, headers=auth(owner)
    )
    assert made.status_code == 201, made.json
    trainer = made.json["id"]
    kind = client.post(
        "/api/admin/kinds",
        json={"name": "Personal", "minutes": 60, "capacity": 1, "trainer_ids": [trainer]},
        headers=auth(owner),
    )
    assert kind.status_code == 201, kind.json
    answers = {}
    for query in ("", f"&kind={kind.json['id']}", f"&trainer={trainer}"):
        url = f"/api/slots?date={TOMORROW}{query}"
        for user in (ANNA, BORIS):
            kept, fresh = kept_and_fresh(app, client, url, auth(user))
            assert kept == fresh
            answers[query, user["id"]] = kept
    assert answers["", ANNA["id"]] != answers[f"&kind={kind.json['id']}", ANNA["id"]]


def test_the_kept_gzip_is_the_kept_body(client):
    url = f"/api/slots?date={TOMORROW}"
    plain = client.get(url, headers=auth(ANNA))
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    for _ in range(2):
        packed = client.get(url, headers={**auth(ANNA), "Accept-Encoding": "gzip, br"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert packed.headers["Cache-Control"] == "private, no-store"
        assert packed.mimetype == "application/json"
        assert gzip.decompress(packed.data) == plain.data


# --- PostgreSQL: one round trip, and a dead or frozen pooled connection replaced -------------


def pooled_connection(app):
    """The one connection the app's pool holds (a test client's requests run one at a time)."""
    with app.app_context():
        pool = db.engine.pool
        assert pool.checkedin() == 1
        with db.engine.connect() as connection:
            return connection.connection.dbapi_connection


def round_trips(raw, call) -> tuple[object, list[str]]:
    """`call()`'s result and the messages that ended a round trip on the raw connection `raw`
    (libpq's trace): a simple Query, or the Sync after an extended query."""
    from psycopg import pq

    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            result = call()
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    ended = [line.split("\t", 3) for line in lines if line.startswith("F\t")]
    return result, [" ".join(fields[2:]) for fields in ended if fields[2] in ("Query", "Sync")]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_kept_grid_costs_postgresql_one_round_trip(app, client, database_url):
    url = f"/api/slots?date={TOMORROW}"
    headers = auth(ANNA)
    assert client.get(url, headers=headers).status_code == 200
    raw = pooled_connection(app)
    answer, sent = round_trips(raw, lambda: client.get(url, headers=headers))
    assert answer.status_code == 200
    assert len(sent) == 1 and "BEGIN" not in sent[0] and "ROLLBACK" not in sent[0], sent
    # A write still runs in its transaction, from its lock row's UPDATE on.
    booked, sent = round_trips(
        raw,
        lambda: client.post(
            "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=headers
        ),
    )
    assert booked.status_code == 201, booked.json
    assert any("BEGIN" in line for line in sent) and any("COMMIT" in line for line in sent), sent
    by_start = {slot["start"]: slot for slot in client.get(url, headers=headers).json["slots"]}
    assert by_start["10:00"]["mine"] and by_start["10:00"]["booked"] == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_pooled_connection_the_server_killed_is_replaced_within_the_request(app, client):
    url = f"/api/slots?date={TOMORROW}"
    headers = auth(ANNA)
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    for _ in range(2):  # once, and once more on the connection that replaced it
        raw = pooled_connection(app)
        killed = raw.info.backend_pid
        with psycopg.connect(raw.info.dsn, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (killed,)).fetchone()[0]
            deadline = time.monotonic() + 5
            while admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (killed,)
            ).fetchone()[0]:
                assert time.monotonic() < deadline
                time.sleep(0.02)
        again = client.get(url, headers=headers)
        assert again.status_code == 200, again.data
        assert again.data == first.data
        assert pooled_connection(app).info.backend_pid != killed


@pytest.mark.postgres
def test_a_frozen_pooled_connection_is_replaced_within_the_request(cluster, clock):  # noqa: F811
    """Only the pooled connection's server process stops (a connection cut off while new ones
    get through): the read that opens the request gives it up within the ping deadline and
    runs on a new connection, as the pool's pre-ping did (the app's dependency deadline at
    DEADLINE_S: the same shares of it as of the deployed 5 s)."""
    from schedule.db import Deadlines, create_schema, make_engine
    from tests.fixtures_web import build_app

    engine = make_engine(cluster.url)
    create_schema(engine)
    engine.dispose()
    app = build_app(cluster.url, clock, DEPENDENCY_DEADLINE_SECONDS=DEADLINE_S)
    ping_s, connect_s = (
        Deadlines(DEADLINE_S).pg_ping_deadline_s,
        Deadlines(DEADLINE_S).pg_connect_timeout_s,
    )
    client = app.test_client()
    url = f"/api/slots?date={TOMORROW}"
    headers = auth(ANNA)
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    frozen = pooled_connection(app).info.backend_pid
    os.kill(frozen, signal.SIGSTOP)
    try:
        started = time.monotonic()
        again = client.get(url, headers=headers)
        took = time.monotonic() - started
    finally:
        os.kill(frozen, signal.SIGCONT)
    assert again.status_code == 200 and again.data == first.data
    assert ping_s <= took < ping_s + connect_s, took
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != frozen
        db.session.remove()
        db.engine.dispose()


def test_a_read_inside_a_transaction_stays_in_it(app):
    """Where the session has begun its transaction (a write not yet committed), the version
    read runs inside it and sees that write; the write is rolled back with it."""
    with app.app_context():
        session = db.session()
        before = read_first(session, snapshots.VERSION)
        session.commit()
        session.execute(update(ScheduleLock).values(version=ScheduleLock.version + 1))
        assert read_first(session, snapshots.VERSION) == before + 1
        session.rollback()
        assert read_first(session, snapshots.VERSION) == before
        session.rollback()
        db.session.remove()


@pytest.mark.postgres
def test_a_frozen_server_still_answers_a_warm_grid_503_within_the_deadline(cluster, clock):  # noqa: F811
    """The whole server stops: the read that opens the request gives its connection up within
    the ping deadline, a new connection cannot be made either, and the answer is a 503 within
    the dependency deadline (DEADLINE_S here, 5 s deployed); thawed, the next request answers
    again."""
    from schedule.db import create_schema, make_engine
    from tests.fixtures_web import build_app

    engine = make_engine(cluster.url)
    create_schema(engine)
    engine.dispose()
    app = build_app(cluster.url, clock, DEPENDENCY_DEADLINE_SECONDS=DEADLINE_S)
    client = app.test_client()
    url = f"/api/slots?date={TOMORROW}"
    headers = auth(ANNA)
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    cluster.signal_all(signal.SIGSTOP)
    try:
        started = time.monotonic()
        frozen = client.get(url, headers=headers)
        took = time.monotonic() - started
    finally:
        cluster.signal_all(signal.SIGCONT)
    assert frozen.status_code == 503 and took < IN_FLIGHT_WITHIN_S, (frozen.status_code, took)
    assert frozen.json["error"] == "unavailable"
    thawed = client.get(url, headers=headers)
    assert thawed.status_code == 200 and thawed.data == first.data
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
