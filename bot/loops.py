"""The periodic duties' loop (reminders, standing bookings, pass notices and attendance): run a
step every few seconds until asked to stop; a failing step (the database away) is logged and
the next one tries again, so no outage ends a worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("bot")


def repeat(stop: threading.Event, interval: float, step: Callable[[], object], what: str) -> None:
    """Call `step` every `interval` seconds until `stop` is set; `what` names it in the log."""
    while not stop.is_set():
        try:
            step()
        except Exception:
            log.exception("%s failed; trying again in %ss", what, interval)
        stop.wait(interval)
    log.info("%s stopped", what)
