"""Logs of the web app and the bot: JSON lines in logs/<service>.log, readable lines on the
terminal, a request id per web request, and `flask --app webapp logs` to read them back.

One package so that every process (waitress, the bot, `flask … dev`) logs the same way:

- handlers: where records go (a rotated JSON file per service, the terminal) and their fields;
- terminal: one readable, coloured line per record, control characters escaped;
- middleware: the request id and one "request" line per web request;
- viewer: reading and following the files for the `logs` command.

Every record carries a service ("web" or "bot", from the logger's name unless given) and an
event (the message); `extra={...}` fields are kept as they are:

    log.info("booking.made", extra={"booking_id": 7})
"""

from __future__ import annotations

from .handlers import SERVICES, configure, log_dir, reset
from .middleware import init_app
from .terminal import format_line
from .viewer import LEVELS, follow, instant, read_entries, sizes

__all__ = [
    "LEVELS",
    "SERVICES",
    "configure",
    "follow",
    "format_line",
    "init_app",
    "instant",
    "log_dir",
    "read_entries",
    "reset",
    "sizes",
]
