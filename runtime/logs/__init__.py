"""Logs of the web app and the bot: JSON lines in logs/<service>.log, readable lines on the
terminal, and `flask --app webapp logs` to read them back (the request id and the one line per
web request are the web app's own: webapp/request_log.py).

One package so that every process (waitress, the bot, `flask … dev`) logs the same way:

- handlers: where records go (a rotated JSON file per service, the terminal) and their fields;
- terminal: one readable, coloured line per record, control characters escaped;
- lines: the fields of a line and its JSON form;
- viewer: reading and following the files for the `logs` command.

Every record carries a service ("web" or "bot", from the logger's name unless given) and an
event (the message); `extra={...}` fields are kept as they are:

    log.info("booking.made", extra={"booking_id": 7})
"""

from __future__ import annotations

from .handlers import SERVICES, configure, configure_web, log_dir, reset
from .terminal import format_line
from .viewer import LEVELS, follow, instant, read_entries, sizes

__all__ = [
    "LEVELS",
    "SERVICES",
    "configure",
    "configure_web",
    "follow",
    "format_line",
    "instant",
    "log_dir",
    "read_entries",
    "reset",
    "sizes",
]
