"""The configuration (runtime.config): a bad value stops start-up with a message naming the
variable."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from unittest import mock

import pytest

from runtime.config import read_bot_config
from schedule import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("url", ["nonsense://x", "postgresql://u:p@host:port/db", "not a url"])
def test_a_database_url_sqlalchemy_cannot_read_is_a_config_error(url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        read_bot_config({"DATABASE_URL": url})


def test_database_urls_as_written_are_accepted():
    config = read_bot_config({"DATABASE_URL": "postgresql://user:pass@db.example/booking"})
    assert config.database_url == "postgresql+psycopg://user:pass@db.example/booking"
    assert read_bot_config({}).database_url.startswith("sqlite:///")


def test_bot_main_names_a_bad_database_url(tmp_path, capsys):
    """`python bot_main.py`'s own code, run in this process (the bot tests start the real
    process, and its configuration error without a token): exit 2, the message, no traceback."""
    environ = {
        "BOT_TOKEN": "123456:" + "a" * 35,
        "DATABASE_URL": "nonsense://x",
        "LOG_DIR": str(tmp_path),
    }
    # patch.dict restores the whole environment: bot_main.py loads a .env there may be too
    with mock.patch.dict(os.environ, environ), pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "bot_main.py"), run_name="__main__")

    stderr = capsys.readouterr().err
    assert done.value.code == 2
    assert "Configuration error: DATABASE_URL" in stderr
    assert "Traceback" not in stderr


def test_the_workers_lease_is_ten_seconds_unless_set_within_one_to_thirty():
    assert read_bot_config({}).lease.total_seconds() == 10
    assert read_bot_config({"WORKER_LEASE_SECONDS": "2.5"}).lease.total_seconds() == 2.5
    for bad in ("0", "0.5", "31", "soon", "-3"):
        with pytest.raises(ConfigError, match="WORKER_LEASE_SECONDS"):
            read_bot_config({"WORKER_LEASE_SECONDS": bad})


def test_the_dependency_deadline_is_five_seconds_unless_set_within_one_to_thirty():
    assert read_bot_config({}).dependency_deadline == 5
    assert read_bot_config({"DEPENDENCY_DEADLINE_SECONDS": "1.5"}).dependency_deadline == 1.5
    for bad in ("0", "0.5", "31", "soon", "-3"):
        with pytest.raises(ConfigError, match="DEPENDENCY_DEADLINE_SECONDS"):
            read_bot_config({"DEPENDENCY_DEADLINE_SECONDS": bad})


@pytest.mark.parametrize(
    ("environ", "busy_ms", "healthz_s", "redis_s"),
    [({}, 5000, 4.0, 0.5), ({"DEPENDENCY_DEADLINE_SECONDS": "2"}, 2000, 1.6, 0.2)],
    ids=["default", "set"],
)
def test_the_dependency_deadline_reaches_each_dependencys_waits(
    tmp_path, environ, busy_ms, healthz_s, redis_s
):
    """From the environment to the web app's engine, /healthz's check and the Redis client:
    the deployed 5 s as before the deadline was a setting, or the one set."""
    from sqlalchemy import text

    from runtime.config import read_config
    from schedule.db import Deadlines, create_schema, make_engine
    from webapp import create_app, health, ratelimit
    from webapp.extensions import db

    url = f"sqlite:///{tmp_path / 'booking.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    config = read_config({"DATABASE_URL": url, "LOG_DIR": str(tmp_path), **environ})
    app = create_app({"TESTING": True, "SECRET_KEY": "test"}, config=config)
    deadline = app.config["DEPENDENCY_DEADLINE_SECONDS"]
    with app.app_context():
        try:
            assert db.engine.dialect.dependency_deadlines == Deadlines(deadline)
            assert db.session.scalar(text("PRAGMA busy_timeout")) == busy_ms
        finally:
            db.session.remove()
            db.engine.dispose()
    assert health.check_seconds(deadline) == pytest.approx(healthz_s)
    redis = ratelimit.storage_options("redis://127.0.0.1:6379", deadline)
    assert redis["socket_timeout"] == redis["socket_connect_timeout"] == pytest.approx(redis_s)
