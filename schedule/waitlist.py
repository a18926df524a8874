"""The waitlist: a full start can be queued for, and a freed place goes to the first in line.

A freed place is booked for the first waiting client who can take it, inside the same
transaction that freed it (a hold would leave the place empty while the client makes up their
mind, and needs a timer of its own). Entries are only promoted while the start is at least
CANCEL_DEADLINE_MINUTES away, so nobody is handed a booking they could no longer cancel; past
that point an entry expires.

Each entry waits for one kind of training (`kind_id` None: the default kind, as a booking
stores it) with one trainer (`trainer_id` None: any trainer of that kind), and a client waits
once per start (one line at a time there). Joining follows that kind's picture (only a start
full for it, with that trainer or every trainer of the kind, may be waited for); a freed place
goes to the first entry whose kind and trainer can take it now (schedule.availability.pick
chooses the trainer, as a booking for any trainer does); a place in line counts the entries of
the same start and kind that may take the same places (with a trainer named: those for that
trainer or for any).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from . import passes
from .availability import Snapshot, Waiting, pick, snapshot_for_start, wait_refusal
from .db import is_row_id, write_transaction
from .errors import ScheduleError
from .events import BookingMade
from .i18n import N_
from .kinds import Catalog, KindInfo, load_catalog
from .limits import Holdings, holdings, promotion_cutoff, refused
from .models import ACTIVE, WAITING, Booking, User, WaitlistEntry, utcnow
from .settings import Settings
from .timegrid import local_midnight_utc, start_instant, training_end
from .unit import Unit


@dataclass(frozen=True)
class Position:
    entry: WaitlistEntry
    position: int  # 1 = next in line


def join(
    unit: Unit,
    client: User,
    day: date,
    minute: int,
    *,
    kind: int | None = None,
    trainer: int | None = None,
) -> Position:
    """Queue `client` for a start full for `kind` (a kind's id; None: the default kind) with
    `trainer` (a trainer's id; None: any trainer of the kind); joining twice is the same as
    joining once. An unknown kind or trainer is InvalidInput; waiting there already for
    another kind or trainer is refused ("overlapping": one line per start). Their own act, or
    the worker's for their standing booking: the fair-use limits apply."""
    session, settings, now = unit.session, unit.settings, unit.now
    starts_at = start_instant(day, minute, settings)
    with write_transaction(session):
        held = holdings(session, settings, client.id, now)
        snapshot = snapshot_for_start(session, settings, starts_at)
        wanted = snapshot.kinds.resolve(kind, trainer)
        entry = session.scalar(
            select(WaitlistEntry).where(
                WaitlistEntry.user_id == client.id,
                WaitlistEntry.starts_at == starts_at,
                WaitlistEntry.status == WAITING,
            )
        )
        if entry is not None and (entry.kind_id, entry.trainer_id) != (
            wanted.booking_kind,
            trainer,
        ):
            raise ScheduleError("overlapping", N_("waiting_other_kind"))
        refusal = join_refusal(
            snapshot, starts_at, client.id, now, held, kind=kind, trainer=trainer
        )
        if refusal is not None:
            raise refused(refusal, held, starts_at, now)
        if entry is None:
            entry = WaitlistEntry(
                user_id=client.id,
                starts_at=starts_at,
                kind_id=wanted.booking_kind,
                trainer_id=trainer,
                status=WAITING,
                created_at=now,
            )
            session.add(entry)
            session.flush()
        position = _position(session, entry)
    return Position(entry, position)


def join_refusal(
    snapshot: Snapshot,
    starts_at: datetime,
    user_id: int,
    now: datetime,
    held: Holdings | None = None,
    *,
    kind: int | None = None,
    trainer: int | None = None,
) -> str | None:
    """Why `user_id` may not join the waitlist of `kind` (None: the default) with `trainer`
    (None: any of the kind's) at `starts_at` now ("not_full" when they can book it instead),
    or None if they may: availability.wait_refusal, the rule the grid offers joining by, over
    that kind's verdict (availability.pick: with any trainer, full only when no trainer of the
    kind can take it). With the client's `held` holdings the fair-use limits apply (one who
    could not take the place is refused "limit_reached" as a booking). An unknown kind or
    trainer is InvalidInput."""
    wanted = snapshot.kinds.resolve(kind, trainer)
    _, verdict = pick(snapshot, wanted, trainer, starts_at, user_id, now, 0, held)
    waiting_here = held is not None and starts_at in held.waiting
    return wait_refusal(verdict.refusal, starts_at, snapshot.settings, now, held, waiting_here)


def leave(session: Session, entry_id: int, user: User) -> WaitlistEntry:
    with write_transaction(session):
        # Read afresh under the lock: the session may hold the entry from before a promotion.
        entry = (
            session.get(WaitlistEntry, entry_id, populate_existing=True)
            if is_row_id(entry_id)
            else None
        )
        if entry is None or entry.user_id != user.id or entry.status != WAITING:
            raise ScheduleError("not_found", N_("not_waiting"))
        entry.status = "left"
    return entry


def same_line(kind_id: int | None, trainer_id: int | None) -> ColumnElement[bool]:
    """The entries that wait in one line with an entry for `kind_id` (as a booking stores it)
    with `trainer_id` (None: any): the same kind, and with a trainer named, those for that
    trainer or for any (who may take that trainer's places first)."""
    kind = WaitlistEntry.kind_id.is_(None) if kind_id is None else WaitlistEntry.kind_id == kind_id
    if trainer_id is None:
        return kind
    return and_(
        kind, or_(WaitlistEntry.trainer_id.is_(None), WaitlistEntry.trainer_id == trainer_id)
    )


def in_one_line(entry: tuple, ahead: tuple) -> bool:
    """same_line in memory: whether `ahead` (a kind and trainer id) waits in `entry`'s line."""
    kind_id, trainer_id = entry
    return ahead[0] == kind_id and (trainer_id is None or ahead[1] in (None, trainer_id))


def _position(session: Session, entry: WaitlistEntry) -> int:
    ahead = session.scalar(
        select(func.count()).where(
            WaitlistEntry.starts_at == entry.starts_at,
            WaitlistEntry.status == WAITING,
            WaitlistEntry.id < entry.id,
            same_line(entry.kind_id, entry.trainer_id),
        )
    )
    return (ahead or 0) + 1


def places_of(rows) -> dict[int, dict[datetime, Waiting]]:
    """Each waiting user's places in line by start, from (user id, start, kind id, trainer id)
    rows of waiting entries in the order they joined (first come, first served, as promote)."""
    seen: dict[datetime, list[tuple]] = {}
    places: dict[int, dict[datetime, Waiting]] = {}
    for user_id, starts_at, kind_id, trainer_id in rows:
        earlier = seen.setdefault(starts_at, [])
        mine = (kind_id, trainer_id)
        place = 1 + sum(in_one_line(mine, other) for other in earlier)
        earlier.append(mine)
        places.setdefault(user_id, {})[starts_at] = Waiting(place, kind_id, trainer_id)
    return places


def kind_of(catalog: Catalog, entry: WaitlistEntry) -> KindInfo:
    """The kind `entry` waits for (the default kind for one the studio no longer has)."""
    return catalog.kind(entry.kind_id) or catalog.default


def entry_end(catalog: Catalog, entry: WaitlistEntry, settings: Settings) -> datetime:
    """When the training `entry` waits for would end (its kind's length)."""
    return training_end(entry.starts_at, kind_of(catalog, entry).rules(settings))


def user_entries(
    session: Session,
    user: User,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> list[Position]:
    """The user's waiting entries for future starts with their places in line; given the
    settings, only those that can still be promoted (see promotion_cutoff)."""
    now = now or utcnow()
    to_come = (
        WaitlistEntry.starts_at >= promotion_cutoff(settings, now)
        if settings
        else WaitlistEntry.starts_at > now
    )
    entries = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id, WaitlistEntry.status == WAITING, to_come)
        .order_by(WaitlistEntry.starts_at)
    )
    return [Position(entry, _position(session, entry)) for entry in entries]


@dataclass(frozen=True)
class Waiter:
    """One client in a start's line on the trainer's Day: who, and what they wait for."""

    user: User
    kind: KindInfo
    trainer_id: int | None  # None: any trainer of the kind
    what: str = ""  # the kind (and trainer) waited for, when the studio has several

    @property
    def name(self) -> str:
        """Their name, with what they wait for when the studio has several kinds."""
        return f"{self.user.name} ({self.what})" if self.what else self.user.name


def day_lines(
    session: Session,
    settings: Settings,
    day: date,
    *,
    trainer: int | None = None,
    default_name: str = "",
) -> dict[datetime, list[Waiter]]:
    """Who waits for each start of `day`, first in line first (the trainer's Day view), each
    with the kind (named, the default one `default_name`, when the studio has several kinds)
    and the trainer named; with `trainer`, only the lines that trainer may take (their kinds,
    for them or for any trainer)."""
    catalog = load_catalog(session, settings)
    rows = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WAITING,
            WaitlistEntry.starts_at >= local_midnight_utc(day, settings),
            WaitlistEntry.starts_at < local_midnight_utc(day + timedelta(days=1), settings),
        )
        .order_by(WaitlistEntry.id)
    ).all()
    lines: dict[datetime, list[Waiter]] = {}
    for entry in rows:
        kind = kind_of(catalog, entry)
        if trainer is not None and (
            entry.trainer_id not in (None, trainer) or trainer not in catalog.candidates(kind)
        ):
            continue
        parts = [kind.name or default_name] if len(catalog.kinds) > 1 else []
        named = catalog.trainer(entry.trainer_id) if entry.trainer_id is not None else None
        if named is not None:
            parts.append(named.name)
        what = ", ".join(part for part in parts if part)
        lines.setdefault(entry.starts_at, []).append(
            Waiter(entry.user, kind, entry.trainer_id, what)
        )
    return lines


def places_in_line(
    session: Session, settings: Settings, user_id: int, day: date, now: datetime
) -> dict[datetime, Waiting]:
    """The starts of `day` the user waits for, with their places in line (1 = next) and the
    kind and trainer they wait for, while they can still be promoted: what
    availability.view_kind takes as `in_line` (each kind's picture shows its own)."""
    rows = session.execute(
        select(
            WaitlistEntry.user_id,
            WaitlistEntry.starts_at,
            WaitlistEntry.kind_id,
            WaitlistEntry.trainer_id,
        )
        .where(
            WaitlistEntry.status == WAITING,
            WaitlistEntry.starts_at
            >= max(local_midnight_utc(day, settings), promotion_cutoff(settings, now)),
            WaitlistEntry.starts_at < local_midnight_utc(day + timedelta(days=1), settings),
        )
        .order_by(WaitlistEntry.id)
    ).all()
    return places_of(rows).get(user_id, {})


def promote(
    session: Session, settings: Settings, freed_from: datetime, freed_to: datetime, now: datetime
) -> list[BookingMade]:
    """Book waiting clients into places freed in [freed_from, freed_to), first come first served
    among the entries whose kind and trainer can take a place now: an entry for a kind whose
    places are still taken keeps waiting while a later one for another kind is booked.

    Runs inside the caller's write transaction, so a place is never given twice.
    """
    catalog = load_catalog(session, settings)
    margin = timedelta(minutes=max(k.minutes for k in catalog.kinds))
    entries = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WAITING,
            WaitlistEntry.starts_at > freed_from - margin,
            WaitlistEntry.starts_at < freed_to,
        )
        .order_by(WaitlistEntry.id)
    ).all()
    made = []
    for entry in entries:
        if entry.starts_at < promotion_cutoff(settings, now):
            entry.status = "expired"
            continue
        kind = catalog.kind(entry.kind_id)
        if kind is None:  # a kind the studio no longer offers: nothing to book
            continue
        snapshot = snapshot_for_start(session, settings, entry.starts_at)
        held = holdings(session, settings, entry.user_id, now)
        given_by, verdict = pick(
            snapshot, kind, entry.trainer_id, entry.starts_at, entry.user_id, now, 0, held
        )
        if verdict.refusal is not None:
            # Still full for them (that kind, that trainer), or they hold an overlapping
            # booking, or they are at a fair-use limit: keep waiting (a cancel may lift it).
            continue
        booking = Booking(
            user_id=entry.user_id,
            kind_id=kind.booking_kind,
            trainer_id=given_by,
            starts_at=entry.starts_at,
            ends_at=training_end(entry.starts_at, kind.rules(settings)),
            status=ACTIVE,
            source="waitlist",
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        session.flush()
        charged = passes.charge(session, settings, booking, now)
        paid_by = passes.view(session, settings, charged, now) if charged else None
        entry.status = "promoted"
        entry.booking_id = booking.id
        made.append(BookingMade(booking, from_waitlist=True, pass_view=paid_by))
    return made
