"""The fields of a log line and its JSON form, shared by the files and the terminal."""

from __future__ import annotations

import logging
from datetime import datetime

from pythonjsonlogger.json import JsonFormatter

# Always present in a line (null when unknown), in this order; extras follow.
FIELDS = ("asctime", "levelname", "service", "message", "request_id", "user_id", "duration_ms")
RENAMED = {
    "asctime": "time",
    "levelname": "level",
    "message": "event",
    "name": "logger",
    "exc_info": "exc",
}


class JsonLines(JsonFormatter):
    """A record as one JSON object: time, level, service, event, request_id, user_id,
    duration_ms, logger, the `extra` fields, and exc when there is a traceback."""

    def __init__(self) -> None:
        super().__init__(
            ",".join((*FIELDS, "name")),
            style=",",
            rename_fields=RENAMED,
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        local = datetime.fromtimestamp(record.created).astimezone()
        return local.isoformat(timespec="milliseconds")
