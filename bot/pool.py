"""A few threads for per-chat work (sends of the outbox, webhook updates): at most one item of
a chat in flight, so each chat's items keep their order and a chat that hangs holds one
thread, not the others. The loops that claim the work (bot.dispatcher, bot.worker.Inbox) own
one each.

Work is leased in the database (schedule.outbox.claim_heads) for a short while; while it runs,
a heartbeat thread renews the leases of every claim in flight (`renew`), so a slow send or
handler keeps its rows however long it takes, and a process that dies frees them as soon as
its last lease runs out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

log = logging.getLogger("bot")


class ChatPool:
    def __init__(
        self,
        threads: int,
        name: str,
        *,
        renew: Callable[[set[str]], object] | None = None,
        renew_every: float = 3.0,
    ) -> None:
        self.threads = threads
        self.name = name
        self.renew = renew
        self.renew_every = renew_every
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._in_flight: dict[Future, tuple[int, str | None]] = {}  # -> (chat id, claim)
        self._lock = threading.Lock()  # the heartbeat reads what the loop changes

    @property
    def busy_chats(self) -> set[int]:
        with self._lock:
            return {chat for chat, _ in self._in_flight.values()}

    @property
    def claims(self) -> set[str]:
        """The claims (schedule.outbox.claimer_id) of the work in flight."""
        with self._lock:
            return {claim for _, claim in self._in_flight.values() if claim is not None}

    @property
    def idle(self) -> bool:
        return not self._in_flight

    def room(self) -> int:
        """Threads free now (finished work is collected first)."""
        self._reap()
        return self.threads - len(self._in_flight)

    def submit(self, chat_id: int, work: Callable[[], object], claim: str | None = None) -> None:
        """Run `work` for `chat_id`; its `claim`'s leases are renewed until it ends."""
        future = self._executor.submit(work)
        with self._lock:
            self._in_flight[future] = (chat_id, claim)

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
        with self._lock:
            done = [f for f in self._in_flight if f.done()]
            for future in done:
                del self._in_flight[future]
        for future in done:
            if future.exception() is not None:
                log.error("%s: work failed: %s", self.name, future.exception())

    def heartbeat(self) -> None:
        """Renew the leases of the claims in flight once (a failure is logged: the next beat
        tries again, well before the leases run out)."""
        claims = self.claims
        if claims and self.renew is not None:
            try:
                self.renew(claims)
            except Exception:
                log.exception("%s: leases not renewed; trying again", self.name)

    def _beat(self, done: threading.Event) -> None:
        while not done.wait(self.renew_every):
            self.heartbeat()

    def run(self, stop: threading.Event, step: Callable[[], int], poll_interval: float) -> None:
        """Call `step` (it claims and submits work, returning how much) until `stop` is set;
        between steps that found nothing, wait for a thread or `poll_interval`. A failing step
        (the database away) is logged and tried again. The work in flight finishes at the end,
        its leases renewed until then."""
        done = threading.Event()
        beat = threading.Thread(target=self._beat, args=(done,), name=f"{self.name}-heartbeat")
        beat.start()
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
            done.set()
            beat.join()
