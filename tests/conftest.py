"""Shared fixtures: real databases (a SQLite file, the PostgreSQL server) and a clock."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from schedule import Settings
from schedule.db import create_schema, ensure_lock_row, make_engine
from schedule.outbox import ensure_budget_row

# Fixture modules of each area (tests/fixtures_<area>.py) are listed here.
pytest_plugins: list[str] = ["tests.fixtures_web", "tests.fixtures_bot", "tests.fixtures_browser"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def require(reason: str) -> None:
    """Skip on a laptop without the piece; in CI a missing piece is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def as_from_a_terminal() -> None:
    """A child process's Ctrl-C as a shell in a terminal starts it (Popen's preexec_fn): SIGINT
    interrupts. A suite started in the background (`pytest … &`) runs with SIGINT ignored, and a
    child inherits that: Python then never raises KeyboardInterrupt in it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# The test modules whose functions run in processes of their own (forked from one fork server,
# which imports these once per test process; see forked()).
FORKSERVER_PRELOAD = ["tests.bot.test_bot_reminders", "tests.schedule.test_concurrency"]


def forked() -> multiprocessing.context.ForkServerContext:
    """Processes that are forks of one fork server that imported the test modules running in
    them (and with them the project, SQLAlchemy and the drivers) once: each is ready at once,
    where a spawned one imports everything anew (~1.2 CPU-s each). The server starts without
    this process's threads, so a fork of it is safe. One preload list for the whole session:
    it is read only when the server starts, by whichever test needs it first."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(FORKSERVER_PRELOAD)
    return context


def _admin(statement: str) -> None:
    """Run `statement` on the server's maintenance database, with no timeout of the app's:
    under load CREATE and DROP DATABASE wait for a checkpoint longer than schedule/db.py
    allows its own statements."""
    import psycopg

    conninfo = make_url(PG_ADMIN_URL).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(statement)


def new_postgres_database(prefix: str) -> Iterator[str]:
    """Create an empty database on the local PostgreSQL server, yield its URL, drop it after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        require(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error.__class__.__name__}")
    # A test database need not outlive a crash of the server: its commits do not wait for the
    # WAL to reach the disk (under a shared load that wait was most of each commit, ~9 ms
    # against ~1.5 ms). What other connections see, and when, is unchanged.
    _admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server for this test session, dropped after."""
    yield from new_postgres_database("booking_test")


@pytest.fixture(scope="session")
def postgres_empty_server_url() -> Iterator[str]:
    """A second database of this session, for the tests that need one with nothing in it."""
    yield from new_postgres_database("booking_empty")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path) -> str:
    """A database with nothing in it (for migrations): a new SQLite file or PostgreSQL database
    (the session's second one, its schema dropped and made anew: cheaper than a new database,
    whose CREATE and DROP each wait for a checkpoint)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    url = request.getfixturevalue("postgres_empty_server_url")
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'booking.sqlite3'}"


# The schema is built once per session (per xdist worker) and each test starts from a copy of
# it: a SQLite file copied from a built one, and on PostgreSQL the session's database emptied
# (each table's rows deleted, sequences restarted, the lock and budget rows put back). Rebuilding
# it for every test (drop_all + create_all) took 0.2 s on SQLite and 0.6 s on PostgreSQL.


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file with the current schema, built once; tests get copies of it."""
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()  # the last connection's close checkpoints the WAL into the file
    return path


def sqlite_with_schema(template: Path, path: Path) -> str:
    """The URL of `path`, a new SQLite file with the current schema (a copy of `template`)."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _schema_shape(conn) -> str:
    """What the tables and columns of the database look like (a test that changed the schema
    gets it rebuilt before the next test)."""
    return conn.execute(
        text(
            "SELECT md5(coalesce(string_agg(c.relname || '.' || a.attname || ':'"
            " || a.atttypid::text || ':' || a.attnotnull::text, ',' ORDER BY c.relname, a.attnum),"
            " '')) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0"
            " AND NOT a.attisdropped"
        )
    ).scalar_one()


class PostgresSchema:
    """The session's PostgreSQL database, with the schema built once and emptied per test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shape = ""
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """One engine for the session's emptying (a new connection per test cost a connect)."""
        if self._engine is None:
            self._engine = make_engine(self.url, pool_size=1, pool_pre_ping=True)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def rebuild(self, engine: Engine) -> None:
        from schedule.models import Base

        Base.metadata.drop_all(engine)
        create_schema(engine)
        with engine.connect() as conn:
            self.shape = _schema_shape(conn)

    def empty(self) -> None:
        from schedule.models import Base

        engine = self.engine
        with Session(engine) as session:
            if not self.shape or _schema_shape(session.connection()) != self.shape:
                session.rollback()
                self.rebuild(engine)
                return
            tables = reversed(Base.metadata.sorted_tables)  # children before parents
            session.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in tables)))
            session.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                )
            )
            ensure_lock_row(session)
            ensure_budget_row(session)
            session.commit()


@pytest.fixture(scope="session")
def postgres_schema(postgres_server_url) -> Iterator[PostgresSchema]:
    schema = PostgresSchema(postgres_server_url)
    yield schema
    schema.close()  # before the database is dropped


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A URL of an empty, current database: a SQLite file, then the PostgreSQL server."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        return sqlite_with_schema(template, tmp_path / "booking.sqlite3")
    schema = request.getfixturevalue("postgres_schema")
    schema.empty()
    return schema.url


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    with session_factory() as session:
        yield session


# Fair use turned off: the limits per client (schedule/limits.py) and the request rates.
# Tests of other things book and tap freely; tests of the limits turn them on.
UNLIMITED = {
    "max_bookings_per_day": 0,
    "max_active_bookings": 0,
    "max_waitlist_entries": 0,
    "rate_limit_writes": "",
    "rate_limit_reads": "",
    "rate_limit_anonymous": "",
}


@pytest.fixture
def settings() -> Settings:
    return Settings(**UNLIMITED)


@pytest.fixture
def now() -> datetime:
    """Wednesday 2026-11-25 09:00 in Moscow (06:00 UTC): a fixed clock for rule tests."""
    return datetime(2026, 11, 25, 6, 0)


@pytest.fixture
def make_user(session):
    """Create a user as Telegram would describe them: make_user("Anna") -> User."""
    from schedule.services import upsert_user

    ids = iter(range(100_001, 200_000))

    def make(first_name: str = "Client", **fields):
        return upsert_user(session, {"id": next(ids), "first_name": first_name, **fields})

    return make
