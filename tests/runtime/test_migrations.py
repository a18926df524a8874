"""`flask db upgrade` builds the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from schedule.db import make_engine
from schedule.models import Base, ScheduleLock


@pytest.fixture
def app(empty_database_url):
    from webapp import create_app

    app = create_app(test_config={"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    yield app
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()


def migrate(app, command: str, revision: str = "head") -> None:
    import flask_migrate

    from runtime.migrate import MIGRATIONS

    with app.app_context():
        getattr(flask_migrate, command)(directory=MIGRATIONS, revision=revision)


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_exactly_the_models_schema(app, empty_database_url):
    migrate(app, "upgrade")

    assert schema_differences(empty_database_url) == []
    assert set(Base.metadata.tables) <= tables(empty_database_url)


def test_upgrade_creates_the_lock_row_booking_writes_need(app, empty_database_url):
    migrate(app, "upgrade")

    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        assert conn.execute(select(ScheduleLock.id)).scalars().all() == [1]
    engine.dispose()


def test_downgrade_removes_everything_and_upgrade_runs_again(app, empty_database_url):
    migrate(app, "upgrade")

    migrate(app, "downgrade", "base")
    assert tables(empty_database_url) <= {"alembic_version"}

    migrate(app, "upgrade")
    assert schema_differences(empty_database_url) == []


def test_upgrade_on_a_current_database_changes_nothing(app, empty_database_url):
    migrate(app, "upgrade")
    before = tables(empty_database_url)

    migrate(app, "upgrade")

    assert tables(empty_database_url) == before


def test_the_flask_db_upgrade_command_brings_an_empty_file_to_the_current_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url}

    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "db", "upgrade"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert schema_differences(url) == []
