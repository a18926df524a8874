"""Engines, sessions and the write lock, the same for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from .models import Base, ScheduleLock
from .outbox import ensure_budget_row

# A database that stops answering must not hold every request thread for long. SQLite: a
# writer waits this long for the write lock (writers queue; a lock never released ends as an
# error, not as every thread waiting). PostgreSQL: a new connection gives up after
# PG_CONNECT_TIMEOUT_S, and the server cancels any statement running PG_STATEMENT_TIMEOUT_MS.
SQLITE_BUSY_TIMEOUT_MS = 5_000
PG_CONNECT_TIMEOUT_S = 3
PG_STATEMENT_TIMEOUT_MS = 10_000


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
def _postgres_timeouts(dialect, _record, _cargs, cparams) -> None:
    """Connect and statement timeouts on every PostgreSQL connection (unless the URL sets them)."""
    if dialect.name == "postgresql":
        cparams.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
        options = cparams.get("options", "")
        if "statement_timeout" not in options:
            cparams["options"] = f"{options} -c statement_timeout={PG_STATEMENT_TIMEOUT_MS}".strip()


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
