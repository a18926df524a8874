"""The deadlines schedule.db puts on every connection: TCP keepalives and tcp_user_timeout on
PostgreSQL's socket (what finds a partitioned server), the client's deadline matching the
statement timeout, and SQLite's writers waiting SQLITE_BUSY_TIMEOUT_MS for the write lock.

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
from schedule.db import deadline_for, make_engine


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
    assert timeout == f"{db.PG_STATEMENT_TIMEOUT_MS // 1000}s"


def test_the_clients_deadline_follows_the_statement_timeout():
    assert deadline_for(f"-c statement_timeout={db.PG_STATEMENT_TIMEOUT_MS}") == 4.0
    assert deadline_for("-c statement_timeout=60s") == 61  # a migration that asked for more
    assert deadline_for("-c statement_timeout=2min -c lock_timeout=1000") == 121
    assert deadline_for("-c statement_timeout=0") is None  # asked for no timeout at all
    assert deadline_for("-c statement_timeout='1h'") is None  # not read: the server's alone


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_writer_waits_the_busy_timeout_for_the_lock_then_fails(database_url):
    engine = make_engine(database_url)
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
    busy = db.SQLITE_BUSY_TIMEOUT_MS / 1000
    assert busy - 0.1 < waited < busy + 1, waited
