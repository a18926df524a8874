"""`flask db upgrade` builds the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
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


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(app, empty_database_url):
    """One database through the whole cycle (each full upgrade costs 0.3-1.5 s): upgrade builds
    exactly the models' schema with the lock row booking writes need, upgrading a current
    database changes nothing, downgrade removes everything, and upgrade runs again."""
    migrate(app, "upgrade")

    assert schema_differences(empty_database_url) == []
    assert set(Base.metadata.tables) <= tables(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(ScheduleLock.id)).scalars().all() == [1]
    finally:
        engine.dispose()
    before = tables(empty_database_url)

    migrate(app, "upgrade")  # on a current database

    assert tables(empty_database_url) == before

    migrate(app, "downgrade", "base")
    assert tables(empty_database_url) <= {"alembic_version"}

    migrate(app, "upgrade")
    assert schema_differences(empty_database_url) == []


def test_flask_db_upgrade_brings_an_empty_file_to_the_current_schema_saying_only_what_it_runs(
    tmp_path, caplog
):
    """The documented command in a process of its own, on an empty file: it builds the current
    schema and says which migrations it runs, without Alembic's preamble ("Context impl",
    "Will assume"). Run again on the now current file (through the CLI runner: a second process
    cost ~1.4 CPU-s), Alembic says nothing: no upgrade, and its preamble filtered out."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DEV_LOGIN", None)

    first = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "db", "upgrade"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert first.returncode == 0, first.stderr
    assert schema_differences(url) == []
    output = first.stderr + first.stdout
    assert "Running upgrade  -> 0001" in output
    assert "Context impl" not in output and "Will assume" not in output

    from webapp import create_app
    from webapp.extensions import db

    app = create_app(test_config={"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    try:
        with caplog.at_level(logging.INFO, logger="alembic"):
            again = app.test_cli_runner().invoke(args=["db", "upgrade"])
    finally:
        with app.app_context():
            db.engine.dispose()

    assert again.exit_code == 0, again.output
    said = [r.getMessage() for r in caplog.records if r.name.startswith("alembic")]
    assert not [m for m in said if m.startswith(("Running upgrade", "Context impl", "Will assume"))]
