"""Schedule snapshots reused between requests for as long as nothing was written.

Every write of bookings, closures or opening hours runs in `schedule.db.write_transaction`,
whose first statement bumps the `schedule_lock` row's version (all `schedule` services do so;
a new write path must too). A request reads that version with one small query and reuses the
snapshot loaded at that version, so a slot grid costs one query instead of three, in every
process, whoever wrote. That query opens the request (schedule.db.read_first): on PostgreSQL
it is also the pool's check of the connection and runs without BEGIN, one round trip in all.
Requests that come while one such read is under way share the next one (SharedReads): it
starts after every one of them came, so each still sees every write committed before it came.
The version is read *before* a snapshot is loaded: a write that lands in between makes the
next request load again, never the reverse. Writes themselves never use this cache: the
services re-read inside their own transaction.

A client's holdings (schedule.limits: their bookings and waitlist entries, which the fair-use
limits weigh) change only by such writes too, so they are kept beside the snapshot they were
read after, per user, and read again with the next snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedule import Settings
from schedule.availability import DayView, Snapshot, horizon_days, snapshot_for_days, view_kind
from schedule.db import read_first
from schedule.limits import Holdings, holdings
from schedule.models import ScheduleLock

CACHE_SIZE = 64
HOLDINGS_CACHE_SIZE = 4096
# How long a shared read waits for the one under way before it starts anyway: far longer than
# a read takes, far shorter than the 5 s in which a request must end on a frozen database.
SHARED_READ_WAIT_S = 0.1

# Built once and run on the session's connection: a Core select of the table's columns skips
# the ORM's statement handling, which cost several times the query itself on every request.
_LOCK = ScheduleLock.__table__
VERSION = select(_LOCK.c.version).where(_LOCK.c.id == 1)


class _Read:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: int | None = None
        self.error: BaseException | None = None


def holds_connection(session: Session) -> bool:
    """Whether the session has a connection in its transaction (whatever it reads there may
    be its own, uncommitted: never to be shared); unsure, it does."""
    transaction = session.get_transaction()
    return transaction is not None and bool(getattr(transaction, "_connections", True))


class SharedReads:
    """schedule_lock's version, read once for the requests that come together.

    A request that finds no read under way reads at once. One that comes while a read is under
    way joins the next read, which its first member starts once the read under way ends (or
    after SHARED_READ_WAIT_S), so a shared read always starts after each of its members came:
    it sees every write committed before any of them asked. Under load one round trip serves
    many grids; a lone request waits for nothing. A failed read fails each of its members
    (the database is not answering: a 503 each, as their own reads would have been), and the
    next request reads anew. A session that holds a connection reads there, on its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: _Read | None = None  # the read under way, if any
        self._next: _Read | None = None  # the read that requests coming now join

    def version(self, session: Session) -> int:
        if holds_connection(session):
            return read_first(session, VERSION)
        before: _Read | None = None
        with self._lock:
            if self._running is None:  # none under way: read at once
                mine = self._running = _Read()
                leads = True
            elif self._next is None:  # start the next read once this one ends
                mine, before = _Read(), self._running
                self._next = mine
                leads = True
            else:  # join the next read
                mine, leads = self._next, False
        if not leads:
            mine.done.wait()
            if mine.error is not None:
                raise mine.error
            return mine.value  # type: ignore[return-value]
        if before is not None:
            before.done.wait(SHARED_READ_WAIT_S)
            with self._lock:  # no one joins it from now on
                self._next = None
                self._running = mine
        try:
            mine.value = read_first(session, VERSION)
        except BaseException as error:
            mine.error = error
            raise
        finally:
            with self._lock:
                if self._running is mine:
                    self._running = None
            mine.done.set()
        return mine.value


class SnapshotCache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.reads = SharedReads()
        self._version: int | None = None
        self._items: OrderedDict[tuple[date, date], Snapshot] = OrderedDict()
        # (id of a snapshot, user id) -> (that snapshot, so its id stays unique; the holdings)
        self._holdings: OrderedDict[tuple[int, int], tuple[Snapshot, Holdings]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, session: Session, settings: Settings, first_day: date, last_day: date
    ) -> Snapshot:
        version = self.reads.version(session)
        key = (first_day, last_day)
        with self._lock:
            if self._version is None or version > self._version:
                self._items.clear()
                self._version = version
            found = self._items.get(key) if version == self._version else None
            if found is not None:
                self._items.move_to_end(key)
                return found
        snapshot = snapshot_for_days(session, settings, first_day, last_day)
        with self._lock:
            if self._version == version:
                self._items[key] = snapshot
                if len(self._items) > self.size:
                    self._items.popitem(last=False)
        return snapshot

    def holdings(
        self, session: Session, settings: Settings, snapshot: Snapshot, user_id: int, now: datetime
    ) -> Holdings:
        """`user_id`'s holdings, never older than `snapshot` (one that `get` returned)."""
        key = (id(snapshot), user_id)
        with self._lock:
            found = self._holdings.get(key)
            if found is not None and found[0] is snapshot:
                self._holdings.move_to_end(key)
                return found[1]
        held = holdings(session, settings, user_id, now)
        with self._lock:
            self._holdings[key] = (snapshot, held)
            if len(self._holdings) > HOLDINGS_CACHE_SIZE:
                self._holdings.popitem(last=False)
        return held

    def day(
        self,
        session: Session,
        settings: Settings,
        day: date,
        user_id: int,
        now: datetime,
        ignore_booking: int = 0,
    ) -> DayView:
        """As schedule.availability.day_availability, from the cached snapshot."""
        snapshot = self.get(session, settings, day, day)
        return view_kind(snapshot, None, None, day, user_id, now, ignore_booking)

    def horizon(
        self,
        session: Session,
        settings: Settings,
        user_id: int,
        now: datetime,
        ignore_booking: int = 0,
    ) -> list[DayView]:
        """As schedule.availability.horizon_availability, from the cached snapshot."""
        days = horizon_days(settings, now)
        snapshot = self.get(session, settings, days[0], days[-1])
        return [view_kind(snapshot, None, None, day, user_id, now, ignore_booking) for day in days]
