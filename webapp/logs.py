"""Logs: JSON lines in logs/<service>.log (rotated), readable colored lines on the terminal.

Every record carries a service ("web" or "bot", from the logger's name unless given) and an
event (the message). Web requests add request_id, user_id and duration_ms; any other
`extra={...}` fields are kept as they are:

    log.info("booking.made", extra={"booking_id": 7})

The web app gets a request id per request (the caller's X-Request-ID when it is sane, else a
new one), returned in the X-Request-ID header and logged with one "request" line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from flask import Flask, g, has_request_context, request

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("web", "bot")
BOT_LOGGERS = ("bot", "TeleBot")
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
QUIET_PATHS = ("/static/", "/healthz", "/metrics")

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_MARK = "_booking_handler"
COLORS = {"web": "\033[36m", "bot": "\033[35m"}
LEVEL_COLORS = {"WARNING": "\033[33m", "ERROR": "\033[31m", "CRITICAL": "\033[1;31m"}
RESET = "\033[0m"

log = logging.getLogger("webapp.request")


def log_dir(app: Flask | None = None) -> Path:
    """LOG_DIR (app config, then environment), default logs/ in the project root."""
    configured = (app.config.get("LOG_DIR") if app is not None else None) or os.environ.get(
        "LOG_DIR", ""
    )
    return Path(configured) if configured else PROJECT_ROOT / "logs"


def service_of(record: logging.LogRecord, default: str = "web") -> str:
    given = getattr(record, "service", None)
    if given:
        return str(given)
    root = record.name.split(".", 1)[0]
    return "bot" if root in BOT_LOGGERS else default


class ContextFilter(logging.Filter):
    """Fill service, request_id and user_id on every record (from the Flask request if any)."""

    def __init__(self, default_service: str = "web") -> None:
        super().__init__()
        self.default_service = default_service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = service_of(record, self.default_service)
        if has_request_context():
            if getattr(record, "request_id", None) is None:
                record.request_id = g.get("request_id")
            if getattr(record, "user_id", None) is None:
                user = g.get("user")
                record.user_id = getattr(user, "telegram_id", None)
        return True


class ServiceFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "service", None) == self.service


def record_entry(record: logging.LogRecord, formatter: logging.Formatter) -> dict:
    """A record's fields: time, level, service, event, request_id, user_id, duration_ms, extras."""
    entry = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "service": getattr(record, "service", None) or service_of(record),
        "event": record.getMessage(),
        "request_id": getattr(record, "request_id", None),
        "user_id": getattr(record, "user_id", None),
        "duration_ms": getattr(record, "duration_ms", None),
        "logger": record.name,
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and key not in entry:
            entry[key] = value
    if record.exc_info:
        entry["exc"] = formatter.formatException(record.exc_info)
    return entry


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_entry(record, self), ensure_ascii=False, default=str)


def format_line(entry: dict, color: bool) -> str:
    """A log entry (a JSON line's fields) as one readable terminal line."""
    stamp = str(entry.get("time", ""))[11:23]
    service = f"{entry.get('service', '?'):<4}"
    level = f"{entry.get('level', ''):<7}"
    extras = " ".join(
        f"{k}={v}"
        for k, v in entry.items()
        if k not in ("time", "level", "service", "event", "logger", "exc") and v is not None
    )
    if color:
        service = COLORS.get(service.strip(), "") + service + RESET
        level = LEVEL_COLORS.get(level.strip(), "") + level + RESET
    text = f"{stamp} {service} {level} {entry.get('event', '')}"
    if extras:
        text += f"  {extras}"
    if entry.get("exc"):
        text += "\n" + str(entry["exc"])
    return text


class TerminalFormatter(logging.Formatter):
    def __init__(self, color: bool) -> None:
        super().__init__()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        return format_line(record_entry(record, self), self.color)


def configure(
    services: Iterable[str] = ("web",),
    *,
    directory: Path | None = None,
    files: bool = True,
    terminal: bool = True,
    level: int | str = logging.INFO,
    stream=None,
) -> None:
    """Set up this process's logging (idempotent: earlier handlers of ours are replaced).

    One rotated JSON file per service in `directory`; records go to the file of their service
    (bot loggers to bot, the rest to the first service named).
    """
    services = tuple(services)
    reset()
    root = logging.getLogger()
    context = ContextFilter(default_service=services[0])
    handlers: list[logging.Handler] = []
    if files:
        directory = directory or log_dir()
        try:
            handlers += _file_handlers(directory, services, context)
        except OSError as error:  # the app still runs; the terminal says why files are missing
            print(f"logs: cannot write to {directory} ({error}); terminal only", file=sys.stderr)
    if terminal:
        stream = stream or sys.stderr
        _drop_console_handlers(root)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(TerminalFormatter(color=_wants_color(stream)))
        handler.addFilter(context)
        handlers.append(handler)
    for handler in handlers:
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(level)


def _file_handlers(
    directory: Path, services: tuple[str, ...], context: logging.Filter
) -> list[logging.Handler]:
    directory.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = []
    for service in services:
        handler = RotatingFileHandler(
            directory / f"{service}.log",
            maxBytes=MAX_BYTES,
            backupCount=BACKUP_COUNT,
            encoding="utf-8",
        )
        handler.setFormatter(JsonFormatter())
        handler.addFilter(context)  # sets the service the next filter looks at
        handler.addFilter(ServiceFilter(service))
        handlers.append(handler)
    return handlers


def reset() -> None:
    """Remove (and close) the handlers `configure` installed."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()


def _drop_console_handlers(root: logging.Logger) -> None:
    """Ours replaces plain console handlers (basicConfig's, Alembic's fileConfig's)."""
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler.stream in (sys.stderr, sys.stdout):
            root.removeHandler(handler)


def _wants_color(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")


def init_app(app: Flask) -> None:
    """Request ids and one log line per request; log files unless testing (or asked for)."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if not app.testing or app.config.get("LOG_DIR"):
        configure(("web",), directory=log_dir(app), terminal=not app.testing)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]


def _finish_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    level = logging.DEBUG if request.path.startswith(QUIET_PATHS) else logging.INFO
    if response.status_code >= 500:
        level = logging.ERROR
    if log.isEnabledFor(level):
        log.log(
            level,
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
    return response


# The viewer -----------------------------------------------------------------------------

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_line(line: str) -> dict | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def at_least(entry: dict, level: str) -> bool:
    name = str(entry.get("level", "INFO")).upper()
    rank = LEVELS.index(name) if name in LEVELS else 1
    return rank >= LEVELS.index(level.upper())


def sizes(paths: list[Path]) -> dict[Path, int]:
    """Where each file ends now: the viewer shows the tail up to here and follows from here."""
    return {path: path.stat().st_size if path.exists() else 0 for path in paths}


def read_entries(path: Path, tail: int | None, level: str, end: int | None = None) -> list[dict]:
    """The last `tail` entries (all when None) before byte `end`, at `level` or above."""
    if not path.exists():
        return []
    with path.open("rb") as file:
        data = file.read(end) if end is not None else file.read()
    parsed = map(parse_line, data.decode("utf-8", errors="replace").splitlines())
    entries = [e for e in parsed if e is not None and at_least(e, level)]
    return entries if tail is None else entries[-tail:] if tail else []


def follow(
    paths: list[Path],
    level: str,
    poll: float = 0.5,
    stop: Callable[[], bool] | None = None,
    positions: dict[Path, int] | None = None,
) -> Iterator[dict]:
    """Entries appended after `positions` (default: the ends now); survives rotation.

    Runs until `stop()` is true, or for ever.
    """
    positions = dict(positions) if positions is not None else sizes(paths)
    inodes = {path: path.stat().st_ino if path.exists() else None for path in paths}
    while stop is None or not stop():
        for path in paths:
            if not path.exists():
                continue
            stat = path.stat()
            size = stat.st_size
            if stat.st_ino != inodes[path] or size < positions[path]:
                positions[path], inodes[path] = 0, stat.st_ino  # rotated: a new file
            if size == positions[path]:
                continue
            with path.open("rb") as file:
                file.seek(positions[path])
                chunk = file.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a half-written line waits
            positions[path] += len(complete)
            for line in complete.decode("utf-8", errors="replace").splitlines():
                entry = parse_line(line)
                if entry is not None and at_least(entry, level):
                    yield entry
        time.sleep(poll)
