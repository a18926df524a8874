"""The waitlist as the Mini App reads it: who waits where (and their places in line, which
schedule.availability.view_day puts in the day's picture), and entries as the API's JSON.

Every waitlist change (joining, leaving, a promotion, an expiry) runs in
`schedule.db.write_transaction`, which bumps `schedule_lock`'s version, after which the snapshot
cache (webapp/snapshots.py) hands out a new snapshot object. So the waiting entries of a
snapshot's days are read once per snapshot, with one query, after the version that snapshot
belongs to was read: they are never older than it, and a repeated grid still costs one query.
Entries whose start has come within the promotion cutoff stay "waiting" in the database until
the next promotion pass expires them; they are left out here, by the clock, without a query.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from schedule import Settings, waitlist
from schedule.availability import Snapshot, Waiting
from schedule.kinds import DEFAULT_KIND_ID, Catalog
from schedule.models import WAITING, WaitlistEntry
from schedule.timegrid import local_midnight_utc, training_end

from .present import clock, local_day

CACHE_SIZE = 64

# user id -> {start (naive UTC): place in line, 1 = next, with the kind and trainer waited for}
Places = dict[int, dict[datetime, Waiting]]


class LoadedPlaces:
    """The waiting places of one snapshot's days, as read, and what is left of them from a
    promotion cutoff on (remembered per first start kept: starts lie on the grid)."""

    def __init__(self, snapshot: Snapshot, places: Places) -> None:
        self.snapshot = snapshot  # held so that its id stays unique while cached
        self.starts = sorted({start for starts in places.values() for start in starts})
        self._kept: dict[int, Places] = {0: places}  # index of the first start kept -> places

    def since(self, cutoff: datetime) -> Places:
        first = bisect_left(self.starts, cutoff)
        kept = self._kept.get(first)
        if kept is None:
            gone = set(self.starts[:first])
            kept = {
                user_id: mine
                for user_id, starts in self._kept[0].items()
                if (mine := {s: n for s, n in starts.items() if s not in gone})
            }
            self._kept[first] = kept
        return kept


class WaitingCache:
    """The waiting entries of cached snapshots' days, keyed by the snapshot object."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[int, LoadedPlaces] = OrderedDict()
        self._lock = threading.Lock()

    def places(
        self,
        session: Session,
        settings: Settings,
        snapshot: Snapshot,
        first_day: date,
        last_day: date,
        now: datetime | None = None,
    ) -> Places:
        """Who waits where on those days, for starts that can still be promoted at `now`
        (the app's clock by default)."""
        cutoff = waitlist.promotion_cutoff(settings, now or current_app.config["CLOCK"]())
        key = id(snapshot)
        with self._lock:
            found = self._items.get(key)
            if found is not None and found.snapshot is snapshot:
                self._items.move_to_end(key)
                return found.since(cutoff)
        rows = session.execute(
            select(
                WaitlistEntry.user_id,
                WaitlistEntry.starts_at,
                WaitlistEntry.kind_id,
                WaitlistEntry.trainer_id,
            )
            .where(
                WaitlistEntry.status == WAITING,
                WaitlistEntry.starts_at >= local_midnight_utc(first_day, settings),
                WaitlistEntry.starts_at
                < local_midnight_utc(last_day + timedelta(days=1), settings),
            )
            .order_by(WaitlistEntry.id)
        ).all()
        # First come, first served within each kind's line, as waitlist.promote.
        loaded = LoadedPlaces(snapshot, waitlist.places_of(rows))
        with self._lock:
            self._items[key] = loaded
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return loaded.since(cutoff)


def cache() -> WaitingCache:
    return current_app.extensions.setdefault("waiting_places", WaitingCache())


def entry_json(
    entry: WaitlistEntry,
    settings: Settings,
    position: int | None = None,
    catalog: Catalog | None = None,
    named: bool = False,
) -> dict:
    """An entry as the API answers it; its end by its kind's length (`catalog`, the studio's
    kinds). With a kind or trainer (or `named`: the request named one) it says which, as a
    booking does: "kind" (1: the default kind) and "trainer" (null: any)."""
    ends_at = (
        waitlist.entry_end(catalog, entry, settings)
        if catalog is not None
        else training_end(entry.starts_at, settings)
    )
    body = {
        "id": entry.id,
        "date": local_day(entry.starts_at, settings).isoformat(),
        "start": clock(entry.starts_at, settings),
        "end": clock(ends_at, settings),
    }
    if position is not None:
        body["position"] = position
    if named or entry.kind_id is not None or entry.trainer_id is not None:
        body["kind"] = entry.kind_id or DEFAULT_KIND_ID
        body["trainer"] = entry.trainer_id
    return body
