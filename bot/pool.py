"""A few threads for per-chat work (sends of the outbox, webhook updates): at most one item of
a chat in flight, so each chat's items keep their order and a chat that hangs holds one
thread, not the others. The loops that claim the work (bot.dispatcher, bot.worker.Inbox) own
one each."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

log = logging.getLogger("bot")


class ChatPool:
    def __init__(self, threads: int, name: str) -> None:
        self.threads = threads
        self.name = name
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._in_flight: dict[Future, int] = {}  # future -> chat id

    @property
    def busy_chats(self) -> set[int]:
        return set(self._in_flight.values())

    @property
    def idle(self) -> bool:
        return not self._in_flight

    def room(self) -> int:
        """Threads free now (finished work is collected first)."""
        self._reap()
        return self.threads - len(self._in_flight)

    def submit(self, chat_id: int, work: Callable[[], object]) -> None:
        self._in_flight[self._executor.submit(work)] = chat_id

    def wait(self, timeout: float) -> None:
        """Until some work finishes, or `timeout` seconds when none is running."""
        if self._in_flight:
            wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            self._reap()
        else:
            threading.Event().wait(timeout)

    def close(self) -> None:
        """Let the work in flight finish."""
        self._executor.shutdown(wait=True)

    def _reap(self) -> None:
        for future in [f for f in self._in_flight if f.done()]:
            del self._in_flight[future]
            if future.exception() is not None:
                log.error("%s: work failed: %s", self.name, future.exception())

    def run(self, stop: threading.Event, step: Callable[[], int], poll_interval: float) -> None:
        """Call `step` (it claims and submits work, returning how much) until `stop` is set;
        between steps that found nothing, wait for a thread or `poll_interval`. A failing step
        (the database away) is logged and tried again. The work in flight finishes at the end."""
        try:
            while not stop.is_set():
                try:
                    started = step()
                except Exception:
                    log.exception("%s: a pass failed; trying again", self.name)
                    started = 0
                if not started:
                    self.wait(poll_interval)
        finally:
            self.close()
