"""A database that stops answering: /healthz says 503 within the dependency deadline (5 s
deployed), requests in flight and new ones end 503 within it and free their threads, the
worker's sessions fail as fast, and all of them work again once the database is back; the 503
path itself never raises.

The apps and engines here run with DEPENDENCY_DEADLINE_SECONDS at DEADLINE_S, so that a test
waits a fraction of the deployed 5 s; each wait is the same share of it (schedule.db.Deadlines,
tests/schedule/test_db_deadlines.py holds the deployed values), and a deadline the app ignored
would wait 4-5 s and fail the bounds below.

PostgreSQL is frozen for real: a throwaway cluster this module starts itself (initdb and
pg_ctl under a temporary folder, on a free port; each test a database of its own in it) whose
postmaster and backends get SIGSTOP, so the kernel still acknowledges every packet and only a
deadline in the client can end a wait. The shared server on 127.0.0.1:5432 is never touched.
SQLite is "frozen" by another connection holding its write lock.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from schedule.db import create_schema, make_engine, make_session_factory
from tests.conftest import require
from tests.fixtures_web import ANNA, TOMORROW, auth, build_app, make_user, serve
from webapp.extensions import db

DEADLINE_S = 1.5  # DEPENDENCY_DEADLINE_SECONDS of the apps and engines below
SQLITE_DEADLINE_S = 1.0  # SQLite's writers wait all of it (the busy timeout)
SLACK_S = 0.5  # what a loaded machine adds to an answer past its deadline
IN_FLIGHT_WITHIN_S = DEADLINE_S + SLACK_S
FREEZE_BOUND_S = 12  # the freeze's length: without a client deadline a request waits it all


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run the cluster as the postgres user then."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        require("running as root without runuser to start a PostgreSQL cluster")
    return ["runuser", "-u", "postgres", "--"]


class Cluster:
    def __init__(self, bin_dir: Path, folder: Path, port: int, prefix: list[str]) -> None:
        self.bin_dir, self.folder, self.port, self.prefix = bin_dir, folder, port, prefix
        self.data = folder / "data"
        self.database = "postgres"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.prefix, str(self.bin_dir / tool), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def processes(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True
        ).stdout.split()
        return [postmaster, *map(int, children)]

    def signal_all(self, sig: int) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


@pytest.fixture(scope="module")
def throwaway_cluster() -> Iterator[Cluster]:
    """One throwaway cluster for this module's tests (on each xdist worker that runs them):
    initdb and a start cost seconds, a database in it next to nothing."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        require("PostgreSQL's initdb is not installed under /usr/lib/postgresql")
    prefix = _as_postgres_user()
    folder = Path(tempfile.mkdtemp(prefix="frozen-pg-"))
    if prefix:
        shutil.chown(folder, "postgres")
    cluster = Cluster(bin_dir, folder, _free_port(), prefix)
    cluster.run("initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    cluster.run(
        "pg_ctl",
        "-D",
        str(cluster.data),
        "-l",
        str(folder / "log"),
        "-w",
        "-o",
        f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )
    try:
        yield cluster
    finally:
        cluster.signal_all(signal.SIGCONT)
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cluster(throwaway_cluster) -> Iterator[Cluster]:
    """The module's cluster, thawed, with a new database of this test's own as its URL."""
    throwaway_cluster.signal_all(signal.SIGCONT)
    throwaway_cluster.database = "postgres"
    import psycopg

    name = f"frozen_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(throwaway_cluster.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    throwaway_cluster.database = name
    try:
        yield throwaway_cluster
    finally:
        throwaway_cluster.signal_all(signal.SIGCONT)  # whatever the test left frozen
        throwaway_cluster.database = "postgres"


def timed(call) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.postgres
def test_a_frozen_postgresql_gives_503_within_the_deadline(cluster, clock):
    engine = make_engine(cluster.url)
    create_schema(engine)
    engine.dispose()
    app = build_app(cluster.url, clock, DEPENDENCY_DEADLINE_SECONDS=DEADLINE_S)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).status_code == 200

    cluster.signal_all(signal.SIGSTOP)
    try:
        answers = [timed(lambda: client.get("/healthz")) for _ in range(3)]
        # A process that connects only now (no connection pooled yet) fails fast too.
        fresh = build_app(cluster.url, clock, DEPENDENCY_DEADLINE_SECONDS=DEADLINE_S)
        fresh = fresh.test_client()
        slots, slots_took = timed(
            lambda: fresh.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA))
        )
    finally:
        cluster.signal_all(signal.SIGCONT)

    for response, took in answers:
        assert response.status_code == 503 and took < IN_FLIGHT_WITHIN_S, took
        assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert slots.status_code == 503 and slots_took < IN_FLIGHT_WITHIN_S, slots_took
    assert slots.json["error"] == "unavailable" and slots.json["message"]
    # Thawed, the database answers again (the stuck check finishes, the next one runs).
    deadline = time.monotonic() + 10
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the thawed database never answered /healthz"
        time.sleep(0.2)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_write_lock_never_released_fails_writes_fast_and_reads_go_on(database_url, clock):
    app = build_app(database_url, clock, DEPENDENCY_DEADLINE_SECONDS=SQLITE_DEADLINE_S)
    client = app.test_client()
    assert client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).status_code == 200
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        write, took = timed(
            lambda: client.post(
                "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
            )
        )
        read = client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA))
        health = client.get("/healthz")
    finally:
        holder.rollback()
        holder.close()
    assert write.status_code == 503 and SQLITE_DEADLINE_S <= took < SQLITE_DEADLINE_S + SLACK_S, (
        took
    )
    assert (read.status_code, health.status_code) == (200, 200)
    assert client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    ).status_code == (201)


def test_probes_at_once_on_a_healthy_database_all_say_ok(sqlite_app):
    """Load balancers probe from several places at once: a probe arriving while another's
    check runs shares that check's answer instead of being told 503."""
    url, stop = serve(sqlite_app)
    try:

        def probe(_: int) -> int:
            with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
                return response.status

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(probe, range(200)))
    except urllib.error.HTTPError as error:
        answers = [error.code]
    finally:
        stop()
    assert set(answers) == {200}, answers


def _post(url: str, user: dict, start: str) -> tuple[int, float]:
    """POST a booking over HTTP; (status, when it was answered)."""
    request = urllib.request.Request(
        f"{url}/api/bookings",
        data=json.dumps({"date": TOMORROW, "start": start}).encode(),
        headers={**auth(user), "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic()


def _get(url: str, path: str) -> tuple[int, float]:
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic()


class HoldWrites:
    """Holds each booking write at its first statement (the schedule lock's UPDATE, inside its
    transaction, on a connection it holds) until `release`: requests truly in flight."""

    def __init__(self, engine) -> None:
        self.arrived = threading.Semaphore(0)
        self.released = threading.Event()
        event.listen(engine, "before_cursor_execute", self._hold)

    def _hold(self, _conn, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE schedule_lock") and not self.released.is_set():
            self.arrived.release()
            self.released.wait(FREEZE_BOUND_S)

    def wait_for(self, count: int) -> None:
        for _ in range(count):
            assert self.arrived.acquire(timeout=30), "a write never reached the database"

    def release(self) -> None:
        self.released.set()  # the listener stays, doing nothing (removing it mid-call breaks)


@pytest.mark.postgres
def test_writes_in_flight_when_postgresql_freezes_end_503_within_the_deadline(cluster, clock):
    engine = make_engine(cluster.url)
    create_schema(engine)
    engine.dispose()
    app = build_app(cluster.url, clock, DEPENDENCY_DEADLINE_SECONDS=DEADLINE_S)
    url, stop = serve(app, threads=8)
    users = [make_user(3000 + n) for n in range(5)]
    try:
        assert _post(url, users[4], "08:00")[0] == 201  # connections open and pooled
        with app.app_context():
            hold = HoldWrites(db.engine)
        with ThreadPoolExecutor(6) as pool:
            writes = [
                pool.submit(_post, url, user, start)
                for user, start in zip(users[:4], ("10:00", "12:00", "14:00", "16:00"), strict=True)
            ]
            hold.wait_for(len(writes))
            cluster.signal_all(signal.SIGSTOP)
            frozen_at = time.monotonic()
            try:
                hold.release()
                health = pool.submit(_get, url, "/healthz")
                fresh = pool.submit(_post, url, users[4], "12:00")
                done = [f.result(timeout=FREEZE_BOUND_S) for f in (*writes, health, fresh)]
            except TimeoutError:
                done = []
            finally:
                cluster.signal_all(signal.SIGCONT)
            done = done or [f.result() for f in (*writes, health, fresh)]
        took = [round(answered - frozen_at, 2) for _, answered in done]
        assert [status for status, _ in done] == [503] * 6, (done, took)
        assert max(took) < IN_FLIGHT_WITHIN_S, took

        # Thawed: the next writes go through (their pool reconnects).
        deadline = time.monotonic() + 10
        while (status := _post(url, users[0], "10:00")[0]) != 201:
            assert status == 503 and time.monotonic() < deadline, status
    finally:
        stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres
def test_the_workers_sessions_fail_within_the_deadline_and_go_on_after(cluster):
    """The bot opens its sessions with schedule.db's make_session_factory."""
    sessions = make_session_factory(cluster.url, DEADLINE_S)
    with sessions() as session:
        assert session.scalar(text("SELECT 1")) == 1
        cluster.signal_all(signal.SIGSTOP)
        try:
            with ThreadPoolExecutor(1) as pool:
                started = time.monotonic()
                waiting = pool.submit(session.execute, text("SELECT 2"))
                try:
                    waiting.result(timeout=FREEZE_BOUND_S)
                    outcome = "answered"
                except OperationalError:
                    outcome = "failed"
                except TimeoutError:
                    outcome = "still waiting"
                took = time.monotonic() - started
                cluster.signal_all(signal.SIGCONT)
        finally:
            cluster.signal_all(signal.SIGCONT)
        assert outcome == "failed" and took < IN_FLIGHT_WITHIN_S, (outcome, took)
        session.rollback()
        assert session.scalar(text("SELECT 3")) == 3  # the same factory, a new connection
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_rollback_that_fails_in_the_503_path_still_answers_503(database_url, clock, monkeypatch):
    """While a database shuts down, the rollback after its error can fail too."""
    app = build_app(database_url, clock, DEPENDENCY_DEADLINE_SECONDS=SQLITE_DEADLINE_S)
    client = app.test_client()
    assert client.get(f"/api/slots?date={TOMORROW}", headers=auth(ANNA)).status_code == 200

    def rollback(_session):
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(Session, "rollback", rollback)
    try:
        write = client.post(
            "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
        )
        refused = client.post(  # a refusal's rollback: still the refusal
            "/api/bookings", json={"date": TOMORROW, "start": "10:15"}, headers=auth(ANNA)
        )
    finally:
        monkeypatch.undo()
        holder.rollback()
        holder.close()
    assert write.status_code == 503 and write.json["error"] == "unavailable"
    assert refused.status_code == 400 and refused.json["message"]
    assert client.post(
        "/api/bookings", json={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
    ).status_code == (201)
