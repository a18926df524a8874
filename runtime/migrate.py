"""Schema migrations: Alembic scripts in runtime/migrations/, run by Flask-Migrate
(`flask --app webapp db upgrade`). The embedded SQLite default is upgraded by itself."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_migrate import Migrate, upgrade

MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")


def init_app(app: Flask, db) -> None:
    """`flask db …` on the app, over its database."""
    Migrate(app, db, directory=MIGRATIONS)


def upgrade_to_head(app: Flask) -> None:
    with app.app_context():
        upgrade(directory=MIGRATIONS)
