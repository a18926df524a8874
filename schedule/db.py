"""Engines, sessions and the write lock, the same for SQLite and PostgreSQL.

A database that stops answering must not hold a request thread (or the worker's loop) for
long: every engine has one dependency deadline (DEPENDENCY_DEADLINE_SECONDS, 5 s unless
configured; `make_engine(url, deadline)`, or `engine_options(deadline)` for an engine made
elsewhere) and each of its waits is a fixed share of it (`Deadlines`). SQLite: a writer waits
the busy timeout for the write lock (writers queue; a lock never released ends as an error,
not as every thread waiting). PostgreSQL: a new connection gives up after the connect timeout
and the server cancels a statement running the statement timeout; but a server that does not
answer at all (stopped, or a network that drops packets while the kernel still acknowledges
them) can enforce nothing, so the client has its own deadline: a wait for the server's answer
the deadline margin longer than the statement timeout (the ping deadline for the pool's check
of an idle connection) closes the connection and raises OperationalError, which the web app
answers 503. TCP keepalives and tcp_user_timeout (PG_TCP) find a partitioned peer of an idle
or sending connection.

A read that opens a request (the snapshot cache's version check, `read_first`) costs one round
trip on PostgreSQL instead of four: it is its own pool pre-ping (on a dead or frozen pooled
connection it fails within the ping deadline, and runs once more on a new connection, as a
failed ping would) and runs outside a transaction (no BEGIN, nothing to ROLLBACK when the
request ends; the session's transaction begins with its next statement as usual).
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, Executable, create_engine, event, insert, select, update
from sqlalchemy.dialects import plugins
from sqlalchemy.engine import CreateEnginePlugin
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import Pool

from .models import Base, ScheduleLock
from .outbox import ensure_budget_row

# DESIGN.md "Running": a request never waits longer than this on a dependency
# (DEPENDENCY_DEADLINE_SECONDS, read by runtime.config).
DEFAULT_DEADLINE_S = 5.0


@dataclass(frozen=True)
class Deadlines:
    """Each wait on the database as a fixed share of one dependency deadline (in brackets: at
    the default 5 s). The longest a request can wait stays within the deadline: a statement
    in flight the statement timeout plus the margin (0.8 of it), a new request after a freeze
    the ping deadline plus the connect timeout (0.8), a SQLite writer the busy timeout (all
    of it, as before the deadline was a setting)."""

    seconds: float = DEFAULT_DEADLINE_S

    @property
    def sqlite_busy_timeout_ms(self) -> int:
        return round(self.seconds * 1000)  # [5000]

    @property
    def pg_connect_timeout_s(self) -> float:
        return self.seconds * 0.6  # [3]

    @property
    def pg_statement_timeout_ms(self) -> int:
        return round(self.seconds * 600)  # [3000]

    @property
    def pg_deadline_margin_s(self) -> float:
        """How long past the statement timeout the client calls the server dead (a slow but
        living server cancels the statement first)."""
        return self.seconds * 0.2  # [1]

    @property
    def pg_ping_deadline_s(self) -> float:
        """The pool's check of an idle connection (and read_first's, which is that check)."""
        return self.seconds * 0.2  # [1]


DEFAULT_DEADLINES = Deadlines()

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


class DeadlinePlugin(CreateEnginePlugin):
    """`create_engine(url, **engine_options(seconds))`: the engine's dialect carries its
    Deadlines, which the listeners below give each of its connections."""

    def __init__(self, url, kwargs) -> None:
        super().__init__(url, kwargs)
        self.deadlines = Deadlines(float(kwargs.pop("dependency_deadline", DEFAULT_DEADLINE_S)))

    def update_url(self, url):
        return url  # it reads nothing of the URL

    def engine_created(self, engine: Engine) -> None:
        engine.dialect.dependency_deadlines = self.deadlines


plugins.register("dependency_deadline", __name__, "DeadlinePlugin")


def engine_options(deadline: float = DEFAULT_DEADLINE_S) -> dict[str, object]:
    """create_engine's keyword arguments for an engine whose waits fit within `deadline`
    seconds (Flask-SQLAlchemy's SQLALCHEMY_ENGINE_OPTIONS take them as they are)."""
    return {"plugins": ["dependency_deadline"], "dependency_deadline": float(deadline)}


def deadlines_of(dialect) -> Deadlines:
    """The Deadlines of an engine's dialect (the default's for an engine made without them)."""
    return getattr(dialect, "dependency_deadlines", DEFAULT_DEADLINES)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers run beside the writer; the busy timeout (sqlite3's `timeout`, set in
    _connect_with_deadlines) makes writers queue, not fail."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


@event.listens_for(Engine, "do_connect")
def _connect_with_deadlines(dialect, _record, cargs, cparams):
    """The engine's Deadlines on every new connection (unless the URL sets them): SQLite's busy
    timeout; PostgreSQL's connect and statement timeouts and TCP keepalives, and psycopg's
    connection with the client-side deadline."""
    deadlines = deadlines_of(dialect)
    if dialect.name == "sqlite":
        cparams.setdefault("timeout", deadlines.sqlite_busy_timeout_ms / 1000)
        return None
    if dialect.name != "postgresql":
        return None
    params = dict(cparams)  # this connection's: a URL's connect_timeout tells from ours
    connect_s = float(params.get("connect_timeout", deadlines.pg_connect_timeout_s))
    # libpq reads whole seconds (and psycopg waits 2 at least): psycopg's connection below
    # keeps the fraction itself.
    params.setdefault("connect_timeout", max(1, math.ceil(connect_s)))
    for name, value in PG_TCP.items():
        params.setdefault(name, value)
    options = params.get("options", "")
    if "statement_timeout" not in options:
        timeout = deadlines.pg_statement_timeout_ms
        params["options"] = f"{options} -c statement_timeout={timeout}".strip()
    if dialect.driver != "psycopg" or dialect.is_async:
        cparams.update(params)
        return None
    connection = _deadline_connection(connect_s).connect(*cargs, **params)
    connection.in_use_deadline = deadline_for(params["options"], deadlines.pg_deadline_margin_s)
    connection.ping_deadline = deadlines.pg_ping_deadline_s
    _let_first_read_ping(dialect)
    return connection


def deadline_for(
    options: str, margin: float = DEFAULT_DEADLINES.pg_deadline_margin_s
) -> float | None:
    """The client's deadline on a connection with these server options: `margin` seconds past
    its statement_timeout (none for 0). Maintenance that runs long, such as a migration or
    DROP DATABASE, sets `-c statement_timeout=...` in its connect args and gets a deadline to
    match."""
    found = re.search(r"statement_timeout\s*=\s*(\d+)\s*(ms|s|min)?\b", options)
    if found is None:
        return None  # a form this does not read: the caller's timeout decides alone
    amount, unit = int(found[1]), found[2] or "ms"
    if amount == 0:
        return None
    return amount * {"ms": 0.001, "s": 1, "min": 60}[unit] + margin


@cache
def _deadline_connection(connect_s: float):
    """psycopg's Connection that connects within `connect_s` seconds and whose every wait for
    the server has a deadline (psycopg is only imported when PostgreSQL is used: the embedded
    default needs none of it). One class per connect deadline, made once."""
    import psycopg
    from psycopg.errors import _WaitTimeout  # what psycopg's wait raises at its timeout

    class DeadlineConnection(psycopg.Connection):
        in_use_deadline: float | None = None  # set when it connects (deadline_for)
        ping_deadline: float = DEFAULT_DEADLINES.pg_ping_deadline_s  # set when it connects
        deadline: float | None = None  # the one in force; None: the in-use one
        ping_owed = False  # checked out without the pool's pre-ping: read_first pings

        @classmethod
        def _connect_gen(cls, conninfo: str = ""):
            """psycopg's connection steps, given up at `connect_s` (its own connect_timeout
            counts whole seconds, 2 at least); psycopg resumes them at least every 0.1 s."""
            steps = super()._connect_gen(conninfo)
            limit = time.monotonic() + connect_s
            try:
                wanted = next(steps)
                while True:
                    if time.monotonic() >= limit:
                        raise _WaitTimeout("connection timeout expired")
                    wanted = steps.send((yield wanted))
            except StopIteration as done:
                return done.value
            finally:
                steps.close()

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
    after a freeze still has time to try a new connection within its deadline."""
    if dbapi_connection is not None and hasattr(dbapi_connection, "deadline"):
        dbapi_connection.deadline = dbapi_connection.ping_deadline
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
    pre-ping: the read is the ping, with the ping's deadline (Deadlines); when it
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
        raw.deadline = raw.ping_deadline
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


def make_engine(url: str, deadline: float = DEFAULT_DEADLINE_S, **kwargs) -> Engine:
    """An engine whose every wait on the database fits within `deadline` seconds."""
    return create_engine(normalize_url(url), **engine_options(deadline), **kwargs)


def make_session_factory(url: str, deadline: float = DEFAULT_DEADLINE_S) -> sessionmaker[Session]:
    return sessionmaker(make_engine(url, deadline), expire_on_commit=False)


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
