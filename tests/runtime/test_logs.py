"""Logs: the JSON line format, files per service with rotation, request ids, the viewer."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import g

from runtime import logs
from runtime.logs import handlers
from runtime.logs.terminal import TerminalLines
from tests.conftest import as_from_a_terminal
from tests.runtime.test_cli import ENV, make_app
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_leftover_handlers():
    yield
    logs.reset()


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def web_app(tmp_path, clean_env):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", LOG_DIR=str(tmp_path / "logs"))

    @app.get("/whoami")
    def whoami():
        g.user = SimpleNamespace(telegram_id=42)
        return "ok"

    yield app
    with app.app_context():
        db.engine.dispose()


def test_records_are_json_lines_in_the_file_of_their_service(tmp_path):
    logs.configure(("web", "bot"), directory=tmp_path, terminal=False)

    logging.getLogger("webapp.bookings").info("booking.made", extra={"booking_id": 7})
    logging.getLogger("bot.handlers.booking").warning("callback.refused", extra={"user_id": 5})

    [web] = lines(tmp_path / "web.log")
    [bot] = lines(tmp_path / "bot.log")
    assert web["level"] == "INFO" and web["service"] == "web" and web["event"] == "booking.made"
    assert web["booking_id"] == 7
    assert {"time", "request_id", "user_id", "duration_ms"} <= set(web)
    assert bot["service"] == "bot" and bot["level"] == "WARNING" and bot["user_id"] == 5


@pytest.fixture
def kathmandu(monkeypatch):
    """This host's zone is UTC+05:45 for the test (TZ, as an operator would set it)."""
    monkeypatch.setenv("TZ", "Asia/Kathmandu")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_carry_the_hosts_zone_as_an_iso_offset(tmp_path, kathmandu):
    logs.configure(("web",), directory=tmp_path, terminal=False)
    before = datetime.now(UTC)

    logging.getLogger("webapp").info("zoned")

    [entry] = lines(tmp_path / "web.log")
    stamp = datetime.fromisoformat(entry["time"])
    assert stamp.utcoffset() == timedelta(hours=5, minutes=45)
    assert entry["time"].endswith("+05:45")
    assert abs(stamp - before) < timedelta(seconds=5)


def test_exceptions_are_kept_in_the_line(tmp_path):
    logs.configure(("web",), directory=tmp_path, terminal=False)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("webapp").exception("failed")

    [entry] = lines(tmp_path / "web.log")
    assert entry["level"] == "ERROR" and "RuntimeError: boom" in entry["exc"]


def test_files_rotate(tmp_path, monkeypatch):
    monkeypatch.setattr(handlers, "MAX_BYTES", 2000)
    logs.configure(("web",), directory=tmp_path, terminal=False)

    for n in range(100):
        logging.getLogger("webapp").info("filler", extra={"n": n})

    assert (tmp_path / "web.log.1").exists()
    assert (tmp_path / "web.log").stat().st_size <= 2000


def test_configure_twice_keeps_one_set_of_handlers(tmp_path):
    logs.configure(("web",), directory=tmp_path, terminal=False)
    logs.configure(("web",), directory=tmp_path, terminal=False)

    logging.getLogger("webapp").info("once")

    assert len(lines(tmp_path / "web.log")) == 1


def test_each_request_gets_an_id_and_one_line(web_app, tmp_path):
    client = web_app.test_client()

    given = client.get("/nowhere", headers={"X-Request-ID": "abc-123"})
    made = client.get("/nowhere", headers={"X-Request-ID": "not acceptable!"})
    client.get("/whoami")

    assert given.headers["X-Request-ID"] == "abc-123"
    assert len(made.headers["X-Request-ID"]) == 16 and made.headers["X-Request-ID"] != "abc-123"
    requests = [e for e in lines(tmp_path / "logs" / "web.log") if e["event"] == "request"]
    assert [e["request_id"] for e in requests[:2]] == ["abc-123", made.headers["X-Request-ID"]]
    first = requests[0]
    assert (first["method"], first["path"], first["status"]) == ("GET", "/nowhere", 404)
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert requests[2]["user_id"] == 42


def test_health_checks_are_not_logged_at_info(web_app, tmp_path):
    web_app.test_client().get("/healthz")

    path = tmp_path / "logs" / "web.log"
    assert not path.exists() or all(e["path"] != "/healthz" for e in lines(path))


def test_testing_apps_write_no_files_unless_asked(tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    app.test_client().get("/nowhere")

    assert not (tmp_path / "logs").exists()


def test_terminal_lines_are_readable_and_colored_on_a_tty():
    entry = {
        "time": "2026-11-25T06:00:01.250+00:00",
        "level": "WARNING",
        "service": "bot",
        "event": "request",
        "status": 404,
        "request_id": None,
    }

    plain = logs.format_line(entry, color=False)
    colored = logs.format_line(entry, color=True)

    assert plain == "06:00:01.250 bot  WARNING request  status=404"
    assert "\033[35m" in colored and "\033[33m" in colored and "request  status=404" in colored


# Log injection ------------------------------------------------------------------------------

FORGED = "06:00:00.000 web  ERROR   forged"


def test_a_request_path_cannot_drive_the_terminal_or_forge_a_line(web_app, tmp_path):
    buffer = io.StringIO()
    logs.configure(("web",), directory=tmp_path / "logs", stream=buffer)

    web_app.test_client().get(f"/x%1b[2J%1b]0;owned%07%0a{FORGED.replace(' ', '%20')}")

    [line] = buffer.getvalue().splitlines()
    assert "\033" not in line and "\a" not in line
    assert "path=/x\\x1b[2J\\x1b]0;owned\\x07\\n06:00:00.000" in line
    [entry] = [e for e in lines(tmp_path / "logs" / "web.log") if e["event"] == "request"]
    assert entry["path"] == f"/x\033[2J\033]0;owned\a\n{FORGED}"  # the file keeps it exact


def test_user_strings_in_events_extras_and_tracebacks_stay_on_their_line(tmp_path):
    buffer = io.StringIO()
    logs.configure(("web", "bot"), directory=tmp_path, stream=buffer)
    name = f"Eve\r\n{FORGED}\u202e"

    logging.getLogger("bot.handlers").warning(f"hello {name}", extra={"first_name": name})
    try:
        raise ValueError(f"bad name {name}")
    except ValueError:
        logging.getLogger("webapp").exception("failed")

    output = buffer.getvalue().splitlines()
    assert not any(line.startswith(FORGED) for line in output)
    assert output[0].endswith(f"first_name=Eve\\r\\n{FORGED}\\u202e")
    assert output[0].count("\\n") == 2 and "\u202e" not in output[0]
    # The traceback follows its line, indented: every line at the margin is a record.
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} web  ERROR   failed$", output[1])
    assert all(line.startswith("    ") for line in output[2:])
    assert "    ValueError: bad name Eve" in output
    assert f"    {FORGED}\\u202e" in output


def test_werkzeugs_own_escaped_and_coloured_request_lines_are_kept():
    plain = {"time": "2026-11-25T06:00:01.250+00:00", "level": "INFO", "service": "web"}
    styled = "GET /x\\x1b HTTP/1.1 \033[33m404\033[0m"
    terminal = TerminalLines(color=False)
    record = logging.makeLogRecord({"name": "werkzeug", "msg": styled, "levelname": "INFO"})
    record.service = "web"

    assert terminal.format(record).endswith(styled)
    assert "\\x1b" in logs.format_line({**plain, "event": "\033"}, color=False)


# The viewer ---------------------------------------------------------------------------------


def write_log(path: Path, *entries: tuple[str, str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        for stamp, level, event in entries:
            service = path.stem
            file.write(
                json.dumps({"time": stamp, "level": level, "service": service, "event": event})
                + "\n"
            )


@pytest.fixture
def viewer(tmp_path, clean_env):
    directory = tmp_path / "logs"
    write_log(
        directory / "web.log",
        ("2026-11-25T06:00:00.000+00:00", "INFO", "web-one"),
        ("2026-11-25T06:00:02.000+00:00", "ERROR", "web-two"),
    )
    write_log(
        directory / "bot.log",
        ("2026-11-25T06:00:01.000+00:00", "WARNING", "bot-one"),
        ("2026-11-25T06:00:03.000+00:00", "DEBUG", "bot-two"),
    )
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", LOG_DIR=str(directory))
    return app.test_cli_runner()


def events(output: str) -> list[str]:
    return [line.split()[3] for line in output.splitlines() if line.strip()]


def test_the_viewer_merges_services_in_time_order(viewer):
    result = viewer.invoke(args=["logs"])

    assert result.exit_code == 0, result.output
    assert events(result.output) == ["web-one", "bot-one", "web-two", "bot-two"]


def test_the_viewer_filters_by_service_level_and_tail(viewer):
    assert events(viewer.invoke(args=["logs", "--service", "bot"]).output) == ["bot-one", "bot-two"]
    assert events(viewer.invoke(args=["logs", "--level", "warning"]).output) == [
        "bot-one",
        "web-two",
    ]
    assert events(viewer.invoke(args=["logs", "--tail", "1"]).output) == ["bot-two"]


def test_the_viewer_refuses_bad_options(viewer):
    result = viewer.invoke(args=["logs", "--level", "LOUD"])

    assert result.exit_code == 2
    assert "'LOUD' is not one of" in result.output


def test_the_viewer_says_where_it_looked_when_there_are_no_logs(tmp_path, clean_env):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", LOG_DIR=str(tmp_path / "empty"))

    result = app.test_cli_runner().invoke(args=["logs"])

    assert result.exit_code == 1
    assert f"no logs in {tmp_path / 'empty'}" in result.output


def test_follow_yields_new_lines_across_rotation(tmp_path):
    path = tmp_path / "web.log"
    write_log(path, ("2026-11-25T06:00:00.000+00:00", "INFO", "old"))
    seen: list[str] = []
    following = threading.Event()  # follow asks stop() first once it holds the file's end
    deadline = time.monotonic() + 30  # a follow that misses a line fails instead of hanging

    def stop() -> bool:
        following.set()
        return len(seen) >= 3 or time.monotonic() > deadline

    followed = logs.follow([path], "DEBUG", poll=0.01, stop=stop)

    def seen_count(count: int) -> None:
        """Wait until follow has yielded `count` entries: each step starts once it has."""
        while len(seen) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def writer() -> None:
        following.wait(30)
        write_log(path, ("2026-11-25T06:00:01.000+00:00", "INFO", "new"))
        seen_count(1)
        path.rename(tmp_path / "web.log.1")  # rotation: a fresh, shorter file
        write_log(path, ("2026-11-25T06:00:02.000+00:00", "INFO", "x"))
        seen_count(2)
        write_log(path, ("2026-11-25T06:00:03.000+00:00", "DEBUG", "after"))

    thread = threading.Thread(target=writer)
    thread.start()
    for entry in followed:
        seen.append(entry["event"])
    thread.join()
    assert seen == ["new", "x", "after"]


def test_logs_follow_prints_new_lines_until_ctrl_c(tmp_path, clean_env):
    """The real command in a process: it prints what is appended and ends cleanly on Ctrl+C."""
    directory = tmp_path / "logs"
    write_log(directory / "web.log", ("2026-11-25T06:00:00.000+00:00", "INFO", "before"))
    env = dict(os.environ, LOG_DIR=str(directory), DATABASE_URL=f"sqlite:///{tmp_path / 'db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "logs", "--follow", "--tail", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=as_from_a_terminal,
    )
    watchdog = threading.Timer(90, process.kill)  # a hung viewer fails the test, not the run
    watchdog.start()
    try:
        first = process.stdout.readline()
        assert "before" in first
        write_log(directory / "web.log", ("2026-11-25T06:00:05.000+00:00", "ERROR", "appended"))
        second = process.stdout.readline()
        assert "appended" in second and "ERROR" in second
    finally:
        process.send_signal(signal.SIGINT)
        # Seconds on a quiet machine; the interpreter's exit alone took 6 s on a loaded one.
        output, _ = process.communicate(timeout=60)
        watchdog.cancel()
    assert process.returncode == 0, output


def test_our_terminal_lines_replace_a_plain_console_handler(tmp_path):
    console = logging.StreamHandler(sys.stderr)  # what basicConfig or Alembic's ini installs
    logging.getLogger().addHandler(console)
    try:
        logs.configure(("web",), directory=tmp_path, files=False)
        assert console not in logging.getLogger().handlers
    finally:
        logging.getLogger().removeHandler(console)


def test_an_unwritable_log_directory_leaves_the_terminal(tmp_path, capsys):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    logs.configure(("web",), directory=blocker / "logs", terminal=False)
    logging.getLogger("webapp").warning("still running")

    assert f"logs: cannot write to {blocker / 'logs'}" in capsys.readouterr().err


def test_a_line_about_a_user_the_database_expired_loads_nothing(sqlite_url):
    """A failed transaction expires the request's user; a log line written then (the 503
    handler's, on a database that is down) must not try to load them again."""
    from sqlalchemy.orm import sessionmaker

    from schedule.db import create_schema, make_engine
    from schedule.models import User

    engine = make_engine(sqlite_url)
    create_schema(engine)
    with sessionmaker(engine)() as session:  # expire_on_commit: its attributes are gone
        user = User(telegram_id=42, first_name="Anna")
        session.add(user)
        session.commit()
    engine.dispose()  # and nothing could load them again: detached
    record = logging.LogRecord("webapp", logging.WARNING, __file__, 1, "database down", (), None)
    web = make_app(sqlite_url)

    with web.test_request_context("/api/bookings"):
        g.user = user
        assert handlers.ContextFilter().filter(record)

    assert record.user_id is None
