"""Engines, sessions and the write lock, the same for SQLite and PostgreSQL.

A database that stops answering must not hold a request thread (or the worker's loop) for
long. SQLite: a writer waits SQLITE_BUSY_TIMEOUT_MS for the write lock (writers queue; a lock
never released ends as an error, not as every thread waiting). PostgreSQL: a new connection
gives up after PG_CONNECT_TIMEOUT_S and the server cancels a statement running
PG_STATEMENT_TIMEOUT_MS; but a server that does not answer at all (stopped, or a network that
drops packets while the kernel still acknowledges them) can enforce nothing, so the client has
its own deadline: a wait for the server's answer PG_DEADLINE_MARGIN_S longer than the
statement timeout (PG_PING_DEADLINE_S for the pool's check of an idle connection) closes the
connection and raises OperationalError, which the web app answers 503. TCP keepalives and
tcp_user_timeout (PG_TCP) find a partitioned peer of an idle or sending connection.

A read that opens a request (the snapshot cache's version check, `read_first`) costs one round
trip on PostgreSQL instead of four: it is its own pool pre-ping (on a dead or frozen pooled
connection it fails within PG_PING_DEADLINE_S, and runs once more on a new connection, as a
failed ping would) and runs outside a transaction (no BEGIN, nothing to ROLLBACK when the
request ends; the session's transaction begins with its next statement as usual).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, Executable, create_engine, event, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import Pool

from .models import Base, ScheduleLock
from .outbox import ensure_budget_row

SQLITE_BUSY_TIMEOUT_MS = 5_000
PG_CONNECT_TIMEOUT_S = 3
PG_STATEMENT_TIMEOUT_MS = 3_000
# The client calls the server dead this long past the statement timeout (a slow but living
# server cancels the statement first): 4 s, so a request in flight has its 503 within 5 s.
PG_DEADLINE_MARGIN_S = 1.0
PG_PING_DEADLINE_S = 1.0  # + PG_CONNECT_TIMEOUT_S for a new connection: a new request's 503
PG_TCP = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms that sent data may stay unacknowledged
}


def normalize_url(url: str) -> str:
    """Accept the plain `postgresql://` form and use the psycopg 3 driver for it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


INSTANCE_PATH = Path(__file__).resolve().parents[1] / "instance"


def default_sqlite_url() -> str:
    """The embedded default: a SQLite file in the project's instance/ folder."""
    return f"sqlite:///{INSTANCE_PATH / 'booking.sqlite3'}"


def database_url(environ: Mapping[str, str]) -> str:
    return normalize_url(environ.get("DATABASE_URL", "").strip() or default_sqlite_url())


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers run beside the writer; busy_timeout makes writers queue, not fail."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


@event.listens_for(Engine, "do_connect")
def _postgres_timeouts(dialect, _record, cargs, cparams):
    """Connect and statement timeouts and TCP keepalives on every PostgreSQL connection (unless
    the URL sets them), and psycopg's connection with the client-side deadline."""
    if dialect.name != "postgresql":
        return None
    cparams.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
    for name, value in PG_TCP.items():
        cparams.setdefault(name, value)
    options = cparams.get("options", "")
    if "statement_timeout" not in options:
        cparams["options"] = f"{options} -c statement_timeout={PG_STATEMENT_TIMEOUT_MS}".strip()
    if dialect.driver != "psycopg" or dialect.is_async:
        return None
    connection = _deadline_connection().connect(*cargs, **cparams)
    connection.in_use_deadline = deadline_for(cparams["options"])
    _let_first_read_ping(dialect)
    return connection


def deadline_for(options: str) -> float | None:
    """The client's deadline on a connection with these server options: PG_DEADLINE_MARGIN_S
    past its statement_timeout (none for 0). Maintenance that runs long, such as a migration or
    DROP DATABASE, sets `-c statement_timeout=...` in its connect args and gets a deadline to
    match."""
    found = re.search(r"statement_timeout\s*=\s*(\d+)\s*(ms|s|min)?\b", options)
    if found is None:
        return None  # a form this does not read: the caller's timeout decides alone
    amount, unit = int(found[1]), found[2] or "ms"
    if amount == 0:
        return None
    return amount * {"ms": 0.001, "s": 1, "min": 60}[unit] + PG_DEADLINE_MARGIN_S


@cache
def _deadline_connection():
    """psycopg's Connection whose every wait for the server has a deadline (psycopg is only
    imported when PostgreSQL is used: the embedded default needs none of it)."""
    import psycopg
    from psycopg.errors import _WaitTimeout  # what psycopg's wait raises at its timeout

    class DeadlineConnection(psycopg.Connection):
        in_use_deadline: float | None = None  # set when it connects (deadline_for)
        deadline: float | None = None  # the one in force; None: the in-use one
        ping_owed = False  # checked out without the pool's pre-ping: read_first pings

        def wait(self, gen, interval=0.1, timeout=None):
            limit = self.deadline or self.in_use_deadline if timeout is None else timeout
            try:
                return super().wait(gen, interval, limit)
            except _WaitTimeout:
                # The protocol stopped halfway: this connection cannot be used again.
                self.close()
                raise psycopg.OperationalError(
                    f"the database did not answer within {limit:g} s"
                ) from None

    return DeadlineConnection


@event.listens_for(Pool, "checkin")
def _short_deadline_while_idle(dbapi_connection, _record) -> None:
    """The pool's pre-ping of an idle connection gets a short deadline, so that a request
    after a freeze still has time to try a new connection before its 5 s are up."""
    if dbapi_connection is not None and hasattr(dbapi_connection, "deadline"):
        dbapi_connection.deadline = PG_PING_DEADLINE_S
        dbapi_connection.ping_owed = False  # its next checkout pings (or defers) again


@event.listens_for(Pool, "checkout")
def _full_deadline_in_use(dbapi_connection, _record, _proxy) -> None:
    if hasattr(dbapi_connection, "deadline"):
        dbapi_connection.deadline = None


# Set while read_first checks a connection out: the pool's pre-ping is left to its read.
_ping_deferred: ContextVar[bool] = ContextVar("ping_deferred", default=False)


def _let_first_read_ping(dialect) -> None:
    """Make the pool's pre-ping of `dialect`'s connections (pool_pre_ping) skippable by
    read_first, once per dialect: a checkout inside it marks the connection `ping_owed`."""
    if getattr(dialect, "_first_read_pings", False):
        return
    ping = dialect.do_ping

    def do_ping(dbapi_connection) -> bool:
        if _ping_deferred.get():
            dbapi_connection.ping_owed = True
            return True
        return ping(dbapi_connection)

    dialect.do_ping = do_ping
    dialect._first_read_pings = True


def read_first(session: Session, statement: Executable):
    """The scalar of `statement`, a read the request may open with (the snapshot cache's
    version check), run on the session's connection.

    On PostgreSQL (psycopg) a connection the session checks out for it skips the pool's
    pre-ping: the read is the ping, with the ping's deadline (PG_PING_DEADLINE_S); when it
    finds the connection dead (closed by a restart, or frozen past that deadline), the pool is
    invalidated as a failed ping would and the read runs once more on a new connection (a read
    repeats safely; it only does so while the session has nothing of its own, pending or on the
    connection). And a connection with no transaction open runs the read in autocommit, without
    BEGIN: nothing is left to roll back if the request reads nothing more, and the session's
    next statement begins its transaction as usual. Under PostgreSQL's READ COMMITTED every
    statement sees what was committed before it began, inside a transaction or not, so the read
    answers the same; its writes (there are none) would not be in the session's transaction.
    Anywhere else (SQLite, a session that holds a connection already) it is just the read."""
    untouched = not (session.new or session.dirty or session.deleted)
    token = _ping_deferred.set(untouched)
    try:
        connection = session.connection()
    finally:
        _ping_deferred.reset(token)
    raw = connection.connection.dbapi_connection
    if not hasattr(raw, "ping_owed") or raw.info.transaction_status != 0:  # 0: IDLE
        return connection.scalar(statement)
    owed, raw.ping_owed = raw.ping_owed, False
    raw.autocommit = True
    if owed:
        raw.deadline = PG_PING_DEADLINE_S
    try:
        return connection.scalar(statement)
    except DBAPIError as error:
        if not (owed and error.connection_invalidated):
            raise
        session.rollback()  # gives the dead connection back; the next checkout pings
    finally:
        if not raw.closed:
            raw.autocommit = False
            raw.deadline = None
    return session.connection().scalar(statement)


def is_row_id(value: object) -> bool:
    """Whether `value` could be a row id here (a bigger one would fail PostgreSQL's query)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def make_engine(url: str, **kwargs) -> Engine:
    return create_engine(normalize_url(url), **kwargs)


def make_session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(make_engine(url), expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """Create every table, the lock row and the outbox's budget row (tests and the embedded
    default)."""
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        ensure_lock_row(session)
        ensure_budget_row(session)
        session.commit()


def ensure_lock_row(session: Session) -> None:
    if session.scalar(select(ScheduleLock.id).where(ScheduleLock.id == 1)) is None:
        session.execute(insert(ScheduleLock).values(id=1, version=0))


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run a booking write in its own transaction, serialized by the lock row.

    The lock row's UPDATE must be the first statement of the transaction: on SQLite a
    transaction that read first could not wait for the write lock. Whatever the session held
    before is committed first, so each service call is one unit of work.
    """
    if session.in_transaction():
        session.commit()
    try:
        locked = session.execute(
            update(ScheduleLock)
            .where(ScheduleLock.id == 1)
            .values(version=ScheduleLock.version + 1)
        )
        if locked.rowcount == 0:
            raise RuntimeError("schedule_lock row missing: run `flask --app webapp db upgrade`")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
