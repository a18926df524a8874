"""Shared fixtures: real databases (a SQLite file, the PostgreSQL server) and a clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from schedule import Settings
from schedule.db import create_schema, make_engine

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


def new_postgres_database(prefix: str) -> Iterator[str]:
    """Create an empty database on the local PostgreSQL server, yield its URL, drop it after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        require(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error.__class__.__name__}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server for this test session, dropped after."""
    yield from new_postgres_database("booking_test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A database with nothing in it (for migrations): a new SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        yield from new_postgres_database("booking_empty")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'booking.sqlite3'}"


def _fresh_engine(url: str) -> Engine:
    engine = make_engine(url)
    from schedule.models import Base

    Base.metadata.drop_all(engine)
    create_schema(engine)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A URL of an empty, current database: a SQLite file, then the PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'booking.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server_url")
    _fresh_engine(url).dispose()
    return url


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
