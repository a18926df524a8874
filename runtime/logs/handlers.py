"""Where log records go and which fields they carry.

One rotated JSON file per service under LOG_DIR (python-json-logger writes the lines) and, on
the terminal, the same fields as a readable line. Times are ISO 8601 in this host's zone with
its offset (2026-11-25T09:00:01.250+03:00; TZ chooses the zone), so a line says when it
happened without knowing where it was written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

from flask import Flask, g, has_request_context

from .lines import JsonLines
from .terminal import TerminalLines, wants_color

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("web", "bot")
BOT_LOGGERS = ("bot", "TeleBot")
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
_MARK = "_booking_handler"


def log_dir(app: Flask | None = None) -> Path:
    """LOG_DIR: the app's own (instance or test configuration), else the environment's (the
    project's configuration, runtime.config.Config), else logs/ in the project root."""
    if app is None:
        return PROJECT_ROOT / "logs"
    project = app.config.get("CONFIG")
    configured = app.config.get("LOG_DIR") or (project.log_dir if project is not None else "")
    return Path(configured) if configured else PROJECT_ROOT / "logs"


def configure_web(app: Flask, config) -> None:
    """The web process's logs: files (and the terminal) unless testing, or asked for there."""
    if not app.testing or app.config.get("LOG_DIR"):
        configure(
            ("web",), directory=log_dir(app), terminal=not app.testing, no_color=config.no_color
        )


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
                record.user_id = loaded(g.get("user"), "telegram_id")
        return True


def loaded(obj: object, name: str) -> object:
    """`obj.name` if it is already in memory, else None: a log line never loads anything from
    the database (a user expired by a failed transaction would, on a database that is down)."""
    return vars(obj).get(name) if hasattr(obj, "__dict__") else None


class ServiceFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "service", None) == self.service


def configure(
    services: Iterable[str] = ("web",),
    *,
    directory: Path | None = None,
    files: bool = True,
    terminal: bool = True,
    level: int | str = logging.INFO,
    stream=None,
    no_color: bool = False,
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
        handler.setFormatter(TerminalLines(color=wants_color(stream, no_color)))
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
        handler.setFormatter(JsonLines())
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
