"""The deadlines schedule.db puts on every connection: TCP keepalives and tcp_user_timeout on
PostgreSQL's socket (what finds a partitioned server), the client's deadline matching the
statement timeout, a connection that never answers given up at the connect timeout, and
SQLite's writers waiting the busy timeout for the write lock. Each is a share of the engine's
dependency deadline (schedule.db.Deadlines): today's values at the default 5 s, and the tests
that wait run at 1 s (a deadline ignored would wait five times as long and fail them).

The frozen-server cases (a SIGSTOPped PostgreSQL) are in tests/webapp/test_frozen_database.py.
"""

from __future__ import annotations

import socket
import sqlite3
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from schedule import db
from schedule.db import DEFAULT_DEADLINES, Deadlines, deadline_for, make_engine

DEADLINE_S = 1.0  # the engines' deadline in the tests that wait it out


@pytest.mark.postgres
def test_postgresql_sockets_have_keepalives_and_a_user_timeout(postgres_server_url):
    engine = make_engine(postgres_server_url)
    try:
        with engine.connect() as connection:
            fileno = connection.connection.dbapi_connection.fileno()
            with socket.fromfd(fileno, socket.AF_INET, socket.SOCK_STREAM) as sock:
                options = {
                    "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                    "idle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                    "interval": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                    "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                    "user_timeout_ms": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
                }
            timeout = connection.scalar(text("SHOW statement_timeout"))
    finally:
        engine.dispose()
    assert options == {
        "keepalive": 1,
        "idle": db.PG_TCP["keepalives_idle"],
        "interval": db.PG_TCP["keepalives_interval"],
        "count": db.PG_TCP["keepalives_count"],
        "user_timeout_ms": db.PG_TCP["tcp_user_timeout"],
    }
    assert timeout == "3s"  # the default deadline's share


def test_the_default_deadline_keeps_the_deployed_timeouts():
    """DESIGN.md "Running": 5 s, shared as before the deadline was a setting."""
    assert db.DEFAULT_DEADLINE_S == 5 and Deadlines(5) == DEFAULT_DEADLINES
    assert DEFAULT_DEADLINES.sqlite_busy_timeout_ms == 5000
    assert DEFAULT_DEADLINES.pg_connect_timeout_s == 3
    assert DEFAULT_DEADLINES.pg_statement_timeout_ms == 3000
    assert DEFAULT_DEADLINES.pg_deadline_margin_s == 1
    assert DEFAULT_DEADLINES.pg_ping_deadline_s == 1


@pytest.mark.parametrize("seconds", [1, 1.5, 5, 30])
def test_what_a_request_can_wait_stays_within_the_deadline(seconds):
    deadlines = Deadlines(seconds)
    in_flight = deadlines.pg_statement_timeout_ms / 1000 + deadlines.pg_deadline_margin_s
    after_a_freeze = deadlines.pg_ping_deadline_s + deadlines.pg_connect_timeout_s
    assert in_flight == pytest.approx(0.8 * seconds)
    assert after_a_freeze == pytest.approx(0.8 * seconds)
    assert deadlines.sqlite_busy_timeout_ms == 1000 * seconds


@pytest.mark.postgres
def test_an_engines_deadline_sets_its_connections_waits(postgres_server_url):
    engine = make_engine(postgres_server_url, 1.5)
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            timeout = connection.scalar(text("SHOW statement_timeout"))
            waits = (raw.in_use_deadline, raw.ping_deadline)
    finally:
        engine.dispose()
    assert timeout == "900ms"
    assert waits == pytest.approx((1.2, 0.3))


def test_a_server_that_never_answers_a_new_connection_is_given_up_at_the_connect_timeout():
    """A listening socket that never answers (a frozen server's kernel still completes the
    handshake): psycopg's own connect_timeout counts whole seconds, 2 at least; the engine
    gives up at its share of the deadline."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/never"
        engine = make_engine(url, DEADLINE_S)
        started = time.monotonic()
        try:
            with pytest.raises(OperationalError, match="timeout"):
                engine.connect()
        finally:
            waited = time.monotonic() - started
            engine.dispose()
    connect_s = Deadlines(DEADLINE_S).pg_connect_timeout_s
    assert connect_s <= waited < connect_s + 0.5, waited


def test_the_clients_deadline_follows_the_statement_timeout():
    assert deadline_for(f"-c statement_timeout={DEFAULT_DEADLINES.pg_statement_timeout_ms}") == 4
    assert deadline_for("-c statement_timeout=600", margin=0.2) == pytest.approx(0.8)
    assert deadline_for("-c statement_timeout=60s") == 61  # a migration that asked for more
    assert deadline_for("-c statement_timeout=2min -c lock_timeout=1000") == 121
    assert deadline_for("-c statement_timeout=0") is None  # asked for no timeout at all
    assert deadline_for("-c statement_timeout='1h'") is None  # not read: the server's alone


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_writer_waits_the_busy_timeout_for_the_lock_then_fails(database_url):
    engine = make_engine(database_url, DEADLINE_S)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as connection:
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                connection.execute(text("UPDATE schedule_lock SET version = version + 1"))
            waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    busy = Deadlines(DEADLINE_S).sqlite_busy_timeout_ms / 1000
    assert busy - 0.1 < waited < busy + 0.5, waited
