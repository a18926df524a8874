"""Migration 0002 builds bot.models.ProcessedUpdate exactly, and goes away on downgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.models import ProcessedUpdate
from schedule.db import make_engine
from schedule.models import Base

TABLE = ProcessedUpdate.__tablename__


def migrate(url: str, command: str, revision: str) -> None:
    import flask_migrate

    from runtime.migrate import MIGRATIONS
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        getattr(flask_migrate, command)(directory=MIGRATIONS, revision=revision)
        db.engine.dispose()


def differences_in_bot_table(url: str) -> list:
    """Autogenerate's differences between the database and the models, for the bot's table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    return [diff for diff in diffs if TABLE in repr(diff)]


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_0002_matches_the_bot_model(empty_database_url):
    migrate(empty_database_url, "upgrade", "0002")

    assert TABLE in table_names(empty_database_url)
    assert differences_in_bot_table(empty_database_url) == []


def test_downgrade_to_0001_drops_the_table(empty_database_url):
    migrate(empty_database_url, "upgrade", "0002")

    migrate(empty_database_url, "downgrade", "0001")

    assert TABLE not in table_names(empty_database_url)
    assert "bookings" in table_names(empty_database_url)
