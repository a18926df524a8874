"""The configuration (runtime.config): a bad value stops start-up with a message naming the
variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.config import read_bot_config
from schedule import ConfigError


@pytest.mark.parametrize("url", ["nonsense://x", "postgresql://u:p@host:port/db", "not a url"])
def test_a_database_url_sqlalchemy_cannot_read_is_a_config_error(url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        read_bot_config({"DATABASE_URL": url})


def test_database_urls_as_written_are_accepted():
    config = read_bot_config({"DATABASE_URL": "postgresql://user:pass@db.example/booking"})
    assert config.database_url == "postgresql+psycopg://user:pass@db.example/booking"
    assert read_bot_config({}).database_url.startswith("sqlite:///")


def test_bot_main_names_a_bad_database_url(tmp_path):
    env = {
        **os.environ,
        "BOT_TOKEN": "123456:" + "a" * 35,
        "DATABASE_URL": "nonsense://x",
        "LOG_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "bot_main.py"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "Configuration error: DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_workers_lease_is_ten_seconds_unless_set_within_one_to_thirty():
    assert read_bot_config({}).lease.total_seconds() == 10
    assert read_bot_config({"WORKER_LEASE_SECONDS": "2.5"}).lease.total_seconds() == 2.5
    for bad in ("0", "0.5", "31", "soon", "-3"):
        with pytest.raises(ConfigError, match="WORKER_LEASE_SECONDS"):
            read_bot_config({"WORKER_LEASE_SECONDS": bad})
