"""Reading the JSON log files back for `flask --app webapp logs`: the last lines of each
service, merged in time order, then (with --follow) what is appended, across rotation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

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


def instant(entry: dict) -> float:
    """When an entry was written, comparable across time zones (0 when unreadable)."""
    try:
        return datetime.fromisoformat(str(entry.get("time", ""))).timestamp()
    except ValueError:
        return 0.0


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
