"""Kinds of training and the trainers who give them (DESIGN.md, "Trainers and kinds").

The default kind is no row: id DEFAULT_KIND_ID (1), TRAINING_MINUTES long, CAPACITY visitors,
given by every trainer; a booking of it has `kind_id` None. Kinds the studio adds are rows with
ids from 2 up (given here under the schedule's write lock, so they never meet the default's).
A trainer is a row with a Telegram id, a name and opening hours written like OPENING_HOURS
(None: the studio's). A booking's `trainer_id` None is the studio itself: every booking made
before trainers existed, and every booking while none exists. Such a booking counts in every
trainer's picture (schedule.availability.Snapshot.picture): whoever gave it, no place it took is
sold twice.

"Any trainer" of a kind: the kind's trainers by id (the default kind's: every trainer, or the
studio alone while there is none). A booking for any trainer goes to the one who can take it
whose training there already holds the most visitors (fill a group before opening another,
keeping the others free), the lower id first among equals.

Who manages what: the Telegram ids in ADMIN_IDS are owners (every trainer's day); a trainer
row's Telegram id is that trainer (their own day). `staff` decides it, once, for every adapter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import is_row_id, write_transaction
from .errors import InvalidInput, ScheduleError
from .events import WaitlistEnded
from .i18n import N_, Nn_
from .models import ACTIVE, WAITING, Booking, Kind, KindTrainer, Trainer, WaitlistEntry
from .settings import (
    WEEKDAYS,
    ConfigError,
    Settings,
    WeekHours,
    check_week,
    format_intervals,
    parse_opening_hours,
)
from .timegrid import is_open
from .unit import Unit

DEFAULT_KIND_ID = 1

# The grid's word for the refusal this module adds (schedule.availability.REFUSALS).
N_("reason_trainer_busy")
MAX_NAME = 128
MAX_CAPACITY = 1000
MAX_MINUTES = 1440


@dataclass(frozen=True)
class KindInfo:
    """A kind of training as the rules see it; `row_id` None for the default kind."""

    id: int
    name: str
    minutes: int
    capacity: int
    trainer_ids: tuple[int, ...]  # who gives it, by id (the default kind: every trainer)

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_KIND_ID

    @property
    def booking_kind(self) -> int | None:
        """What a booking of this kind stores in `kind_id`."""
        return None if self.is_default else self.id

    def rules(self, settings: Settings) -> Settings:
        """The studio's rules with this kind's length and visitors at once."""
        if (self.minutes, self.capacity) == (settings.training_minutes, settings.capacity):
            return settings
        return replace(settings, training_minutes=self.minutes, capacity=self.capacity)


@dataclass(frozen=True)
class TrainerInfo:
    id: int
    telegram_id: int
    name: str
    hours: WeekHours | None  # None: the studio's


@dataclass(frozen=True)
class Catalog:
    """Every kind and trainer, read at once (beside a snapshot: schedule.availability)."""

    kinds: tuple[KindInfo, ...]  # the default kind first, then by id
    trainers: tuple[TrainerInfo, ...]  # by id

    @property
    def default(self) -> KindInfo:
        return self.kinds[0]

    def kind(self, kind_id: int | None) -> KindInfo | None:
        wanted = DEFAULT_KIND_ID if kind_id is None else kind_id
        return next((k for k in self.kinds if k.id == wanted), None)

    def trainer(self, trainer_id: int) -> TrainerInfo | None:
        return next((t for t in self.trainers if t.id == trainer_id), None)

    def resolve(self, kind_id: int | None, trainer_id: int | None) -> KindInfo:
        """The kind asked for (None: the default), checked with the trainer asked for (None:
        any): InvalidInput for an unknown kind or trainer, or one who does not give it."""
        kind = self.kind(kind_id)
        if kind is None:
            raise InvalidInput(N_("input_unknown_kind"), kind=kind_id)
        if trainer_id is not None:
            if self.trainer(trainer_id) is None:
                raise InvalidInput(N_("input_unknown_trainer"), trainer=trainer_id)
            if trainer_id not in self.candidates(kind):
                raise InvalidInput(N_("input_trainer_kind"), trainer=trainer_id, kind=kind.id)
        return kind

    def candidates(self, kind: KindInfo) -> tuple[int | None, ...]:
        """Who may give `kind`, in order: its trainers by id; the studio alone (None) for the
        default kind while no trainer exists."""
        if kind.is_default and not self.trainers:
            return (None,)
        return kind.trainer_ids

    @property
    def simple(self) -> bool:
        """Only the default kind, given by the studio or one trainer: no picker to show."""
        return len(self.kinds) == 1 and len(self.trainers) <= 1


def default_catalog(settings: Settings) -> Catalog:
    return Catalog((_default_kind(settings, ()),), ())


def _default_kind(settings: Settings, trainer_ids: tuple[int, ...]) -> KindInfo:
    return KindInfo(DEFAULT_KIND_ID, "", settings.training_minutes, settings.capacity, trainer_ids)


def load_catalog(session: Session, settings: Settings) -> Catalog:
    """Two queries: the trainers, the kinds with who gives them."""
    trainers = tuple(
        TrainerInfo(row.id, row.telegram_id, row.name, _hours_or_none(row.opening_hours))
        for row in session.execute(
            select(Trainer.id, Trainer.telegram_id, Trainer.name, Trainer.opening_hours)
            .where(Trainer.retired_at.is_(None))
            .order_by(Trainer.id)
        )
    )
    live = {t.id for t in trainers}
    rows = session.execute(
        select(Kind.id, Kind.name, Kind.minutes, Kind.capacity, KindTrainer.trainer_id)
        .outerjoin(KindTrainer, KindTrainer.kind_id == Kind.id)
        .where(Kind.retired_at.is_(None))
        .order_by(Kind.id, KindTrainer.trainer_id)
    ).all()
    kinds: dict[int, KindInfo] = {}
    for kind_id, name, minutes, capacity, trainer_id in rows:
        found = kinds.get(kind_id) or KindInfo(kind_id, name, minutes, capacity, ())
        if trainer_id in live:
            found = replace(found, trainer_ids=(*found.trainer_ids, trainer_id))
        kinds[kind_id] = found
    everyone = tuple(t.id for t in trainers)
    return Catalog((_default_kind(settings, everyone), *kinds.values()), trainers)


def _hours_or_none(written: str | None) -> WeekHours | None:
    if written is None:
        return None
    try:
        return parse_opening_hours(written)
    except ConfigError:  # stored checked; never refuse a day over an old row
        return None


def format_week(week: WeekHours) -> str:
    """Opening hours written like OPENING_HOURS: "08:00-18:00", or per weekday."""
    days = [week.get(day, ()) for day in range(7)]
    if all(day == days[0] for day in days) and days[0]:
        return format_intervals(days[0])
    return "; ".join(f"{WEEKDAYS[n]} {format_intervals(days[n])}" for n in range(7))


def read_hours(written: str, settings: Settings) -> WeekHours:
    """A trainer's hours as the API gives them; InvalidInput when unreadable, off the grid or
    closed all week."""
    try:
        week = parse_opening_hours(written if isinstance(written, str) else "")
        check_week(week, settings.slot_minutes)
    except ConfigError as error:
        raise InvalidInput(N_("input_trainer_hours"), problem=str(error)[:200]) from None
    if not any(week.values()):
        raise InvalidInput(N_("hours_all_closed"))
    return week


def _name(name: object) -> str:
    written = name.strip() if isinstance(name, str) else ""
    if not written or "\x00" in written:
        raise InvalidInput(N_("input_kind_name"))
    return written[:MAX_NAME]


# --- the owners change the studio -----------------------------------------------------------

# What `services.edit_trainer(opening_hours=STUDIO_HOURS)` sets: the studio's hours.
STUDIO_HOURS = ""


def require_owner(unit: Unit) -> None:
    """Only an owner changes the studio's trainers and kinds: a trainer whose Telegram id is in
    ADMIN_IDS (`unit.settings.admin_ids`), or a command run on the server (a trainer actor with
    no Telegram user). Anyone else: ScheduleError "forbidden" (403)."""
    actor = unit.actor
    if not actor.is_trainer:
        raise ScheduleError("forbidden")
    if actor.telegram_id is not None and actor.telegram_id not in unit.settings.admin_ids:
        raise ScheduleError("forbidden")


def _live_trainer(session: Session, trainer_id: object) -> Trainer:
    found = (
        session.get(Trainer, trainer_id, populate_existing=True) if is_row_id(trainer_id) else None
    )
    if found is None or found.retired_at is not None:
        raise ScheduleError("not_found", N_("trainer_not_found"))
    return found


def _live_kind(session: Session, kind_id: object) -> Kind:
    if kind_id == DEFAULT_KIND_ID:
        raise InvalidInput(N_("input_default_kind"))
    found = session.get(Kind, kind_id, populate_existing=True) if is_row_id(kind_id) else None
    if found is None or found.retired_at is not None:
        raise ScheduleError("not_found", N_("kind_not_found"))
    return found


def _upcoming(session: Session, now: datetime, *where: ColumnElement[bool]) -> list[Booking]:
    """Active bookings not yet ended that match `where`, soonest first."""
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.status == ACTIVE, Booking.ends_at > now, *where)
            .order_by(Booking.starts_at, Booking.id)
        )
    )


def _check_minutes(minutes: object, settings: Settings) -> int:
    if (
        not isinstance(minutes, int)
        or isinstance(minutes, bool)
        or not 0 < minutes <= MAX_MINUTES
        or minutes % settings.slot_minutes
    ):
        raise InvalidInput(N_("input_kind_minutes"), slot=settings.slot_minutes)
    return minutes


def _check_capacity(capacity: object) -> int:
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise InvalidInput(N_("input_kind_capacity"))
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(N_("input_kind_capacity"))
    return capacity


def _live_trainer_ids(session: Session, trainer_ids: Sequence[int]) -> tuple[int, ...]:
    """The trainers asked for, by id, each one that exists and is not retired."""
    wanted = tuple(sorted(set(trainer_ids)))
    if not wanted:
        raise InvalidInput(N_("input_kind_trainers"))
    bad = next((t for t in wanted if not is_row_id(t)), None)
    if bad is not None:
        raise InvalidInput(N_("input_unknown_trainer"), trainer=bad)
    known = set(
        session.scalars(
            select(Trainer.id).where(Trainer.id.in_(wanted), Trainer.retired_at.is_(None))
        )
    )
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise InvalidInput(N_("input_unknown_trainer"), trainer=unknown[0])
    return wanted


def add_trainer(
    unit: Unit, telegram_id: int, name: str, opening_hours: str | None = None
) -> Trainer:
    """A new trainer (an owner adds them); their hours None are the studio's. A retired
    trainer added again comes back with the name and hours given."""
    require_owner(unit)
    session, settings = unit.session, unit.settings
    hours = None if opening_hours is None else format_week(read_hours(opening_hours, settings))
    written = _name(name)
    try:
        with write_transaction(session):
            found = session.scalar(select(Trainer).where(Trainer.telegram_id == telegram_id))
            if found is not None and found.retired_at is None:
                raise InvalidInput(N_("input_trainer_exists"))
            if found is not None:  # back after being removed: their old bookings name them
                found.name, found.opening_hours, found.retired_at = written, hours, None
                trainer = found
            else:
                trainer = Trainer(
                    telegram_id=telegram_id, name=written, opening_hours=hours, created_at=unit.now
                )
                session.add(trainer)
            session.flush()
    except IntegrityError:  # the same trainer added twice at once
        raise InvalidInput(N_("input_trainer_exists")) from None
    return trainer


def edit_trainer_in(
    unit: Unit,
    trainer_id: int,
    *,
    name: str | None = None,
    opening_hours: str | None = None,
) -> tuple[Trainer, bool]:
    """Rename a trainer or change their hours (None: unchanged; STUDIO_HOURS: the studio's),
    inside the caller's write transaction (services.edit_trainer's, which gives the places new
    hours open to the clients waiting); the trainer, and whether their hours changed.

    New hours are saved as the studio's own are (services.set_opening_hours): a booking they no
    longer cover stays booked, and `bookings_outside` lists those for the owner to settle."""
    require_owner(unit)
    session, settings = unit.session, unit.settings
    written = None if name is None else _name(name)
    hours = None
    if opening_hours is not None and opening_hours != STUDIO_HOURS:
        hours = format_week(read_hours(opening_hours, settings))
    trainer = _live_trainer(session, trainer_id)
    if written is not None:
        trainer.name = written
    changed = opening_hours is not None and trainer.opening_hours != hours
    if changed:
        trainer.opening_hours = hours
    session.flush()
    return trainer, changed


def bookings_outside(
    session: Session, settings: Settings, trainer_id: int, week: WeekHours, now: datetime
) -> list[Booking]:
    """The trainer's upcoming active bookings that the hours `week` do not cover (a cell of the
    training outside them): the ones to settle after their hours change."""
    step = timedelta(minutes=settings.slot_minutes)

    def covered(booking: Booking) -> bool:
        cells = int((booking.ends_at - booking.starts_at) / step) or 1
        return all(is_open(booking.starts_at + step * k, week, settings) for k in range(cells))

    mine = _upcoming(session, now, Booking.trainer_id == trainer_id)
    return [booking for booking in mine if not covered(booking)]


def retire_trainer(unit: Unit, trainer_id: int) -> Trainer:
    """Take a trainer off the schedule: nobody books them again, their bookings so far keep
    naming them; the clients waiting for them are taken off those lines and told. Refused
    while they have bookings to come (`trainer_has_bookings`, with how many) or are the only
    trainer of a kind (`trainer_only_one`, naming it)."""
    require_owner(unit)
    session = unit.session
    with write_transaction(session):
        trainer = _live_trainer(session, trainer_id)
        upcoming = _upcoming(session, unit.now, Booking.trainer_id == trainer.id)
        if upcoming:
            raise ScheduleError(
                "trainer_has_bookings",
                Nn_("trainer_has_bookings"),
                count=len(upcoming),
                name=trainer.name,
            )
        for kind in _kinds_given_by(session, trainer.id):
            givers = session.scalars(
                select(KindTrainer.trainer_id)
                .join(Trainer, Trainer.id == KindTrainer.trainer_id)
                .where(KindTrainer.kind_id == kind.id, Trainer.retired_at.is_(None))
            ).all()
            if set(givers) <= {trainer.id}:
                raise ScheduleError(
                    "trainer_only_one", N_("trainer_only_one"), name=trainer.name, kind=kind.name
                )
        trainer.retired_at = unit.now
        session.flush()
        _end_waiting(unit, WaitlistEntry.trainer_id == trainer.id, "trainer_retired", trainer.name)
    return trainer


def _end_waiting(unit: Unit, which: ColumnElement[bool], reason: str, name: str) -> None:
    """Expire the waitlist entries `which` (nothing could promote them any more) in the
    retiring's transaction; each client waiting for a training to come hears why."""
    session, settings = unit.session, unit.settings
    entries = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.status == WAITING, which)
        .order_by(WaitlistEntry.starts_at, WaitlistEntry.id)
    ).all()
    if not entries:
        return
    catalog = load_catalog(session, settings)
    for entry in entries:
        entry.status = "expired"
        if entry.starts_at > unit.now:
            kind = catalog.kind(entry.kind_id)
            minutes = kind.minutes if kind is not None else _minutes_of(session, entry.kind_id)
            ends_at = entry.starts_at + timedelta(minutes=minutes)
            unit.emit(WaitlistEnded(entry, reason, name, ends_at, unit.now))
    session.flush()


def _minutes_of(session: Session, kind_id: int | None) -> int:
    """A kind's length, retired or not (the default kind's comes from the Catalog)."""
    found = session.get(Kind, kind_id) if kind_id is not None else None
    return found.minutes if found is not None else 0


def _kinds_given_by(session: Session, trainer_id: int) -> list[Kind]:
    return list(
        session.scalars(
            select(Kind)
            .join(KindTrainer, KindTrainer.kind_id == Kind.id)
            .where(KindTrainer.trainer_id == trainer_id, Kind.retired_at.is_(None))
            .order_by(Kind.id)
        )
    )


def add_kind(
    unit: Unit,
    name: str,
    minutes: int,
    capacity: int,
    trainer_ids: Sequence[int],
) -> KindInfo:
    """A new kind of training: its length a multiple of the grid, at least one visitor, given
    by trainers that exist."""
    require_owner(unit)
    session, settings = unit.session, unit.settings
    _check_minutes(minutes, settings)
    _check_capacity(capacity)
    written = _name(name)
    with write_transaction(session):
        wanted = _live_trainer_ids(session, trainer_ids)
        # Under the write lock: no other transaction picks the same id.
        highest = session.scalar(select(func.max(Kind.id))) or DEFAULT_KIND_ID
        kind = Kind(
            id=max(highest, DEFAULT_KIND_ID) + 1,
            name=written,
            minutes=minutes,
            capacity=capacity,
            created_at=unit.now,
        )
        session.add(kind)
        session.flush()
        session.add_all(KindTrainer(kind_id=kind.id, trainer_id=t) for t in wanted)
        session.flush()
    return KindInfo(kind.id, kind.name, kind.minutes, kind.capacity, wanted)


def edit_kind(
    unit: Unit,
    kind_id: int,
    *,
    name: str | None = None,
    minutes: int | None = None,
    capacity: int | None = None,
    trainer_ids: Sequence[int] | None = None,
) -> KindInfo:
    """Change a kind (None: unchanged). What would change a booking already made is refused
    while the kind has bookings to come (`kind_has_bookings`, with how many): a new length,
    fewer visitors at once, or a trainer taken off it who gives it then. A new name and more
    visitors always go through; the default kind (no row) is changed in the settings, not
    here."""
    require_owner(unit)
    session, settings = unit.session, unit.settings
    written = None if name is None else _name(name)
    if minutes is not None:
        _check_minutes(minutes, settings)
    if capacity is not None:
        _check_capacity(capacity)
    with write_transaction(session):
        kind = _live_kind(session, kind_id)
        wanted = None if trainer_ids is None else _live_trainer_ids(session, trainer_ids)
        current = tuple(
            session.scalars(
                select(KindTrainer.trainer_id)
                .where(KindTrainer.kind_id == kind.id)
                .order_by(KindTrainer.trainer_id)
            )
        )
        of_kind = Booking.kind_id == kind.id
        if (minutes is not None and minutes != kind.minutes) or (
            capacity is not None and capacity < kind.capacity
        ):
            upcoming = _upcoming(session, unit.now, of_kind)
            if upcoming:
                raise ScheduleError(
                    "kind_has_bookings", Nn_("kind_has_bookings"), count=len(upcoming)
                )
        if wanted is not None:
            dropped = [t for t in current if t not in wanted]
            if dropped:
                upcoming = _upcoming(session, unit.now, of_kind, Booking.trainer_id.in_(dropped))
                if upcoming:
                    raise ScheduleError(
                        "kind_has_bookings", Nn_("kind_trainer_has_bookings"), count=len(upcoming)
                    )
            session.execute(KindTrainer.__table__.delete().where(KindTrainer.kind_id == kind.id))
            session.add_all(KindTrainer(kind_id=kind.id, trainer_id=t) for t in wanted)
        for field, value in (("name", written), ("minutes", minutes), ("capacity", capacity)):
            if value is not None:
                setattr(kind, field, value)
        session.flush()
        givers = wanted if wanted is not None else current
    return KindInfo(kind.id, kind.name, kind.minutes, kind.capacity, tuple(givers))


def retire_kind(unit: Unit, kind_id: int) -> Kind:
    """Take a kind off the schedule: nobody books it again, its bookings so far keep naming it;
    the clients waiting for it are taken off those lines and told. Refused while it has
    bookings to come (`kind_has_bookings`, with how many)."""
    require_owner(unit)
    session = unit.session
    with write_transaction(session):
        kind = _live_kind(session, kind_id)
        upcoming = _upcoming(session, unit.now, Booking.kind_id == kind.id)
        if upcoming:
            raise ScheduleError("kind_has_bookings", Nn_("kind_has_bookings"), count=len(upcoming))
        kind.retired_at = unit.now
        session.flush()
        _end_waiting(unit, WaitlistEntry.kind_id == kind.id, "kind_retired", kind.name)
    return kind


def kind_json(kind: KindInfo, default_name: str) -> dict:
    return {
        "id": kind.id,
        "name": kind.name or default_name,
        "minutes": kind.minutes,
        "capacity": kind.capacity,
        "trainer_ids": list(kind.trainer_ids),
    }


def trainer_json(trainer: Trainer, studio_hours: WeekHours) -> dict:
    return {
        "id": trainer.id,
        "telegram_id": trainer.telegram_id,
        "name": trainer.name,
        "opening_hours": trainer.opening_hours or format_week(studio_hours),
    }


def kind_bookings(session: Session, kind_id: int) -> ColumnElement[bool] | None:
    """Which bookings are of kind `kind_id`, as a condition on Booking; None: no such kind.
    The default kind is every booking without another."""
    if kind_id == DEFAULT_KIND_ID:
        return Booking.kind_id.is_(None)
    if not 0 < kind_id < 2**31 or session.get(Kind, kind_id) is None:
        return None
    return Booking.kind_id == kind_id


# --- who manages what ----------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """A member of staff: an owner (ADMIN_IDS: every trainer's day) or a trainer (their own,
    `trainer_id`). An owner who is also a trainer row keeps both."""

    owner: bool
    trainer_id: int | None = None

    def may_manage(self, trainer_id: int | None) -> bool:
        """Whether they manage that trainer's day (None: the whole studio's)."""
        return self.owner or (trainer_id is not None and trainer_id == self.trainer_id)

    def day_filter(self, wanted: int | None) -> int | None:
        """The trainer whose day they see when asking for `wanted` (None: everyone's)."""
        if self.owner:
            return wanted
        return self.trainer_id


def staff(session: Session, owners: Collection[int], telegram_id: int) -> Staff | None:
    """Whether `telegram_id` is staff, and which (`owners`: ADMIN_IDS, the rules'
    `admin_ids`): the one place that decides it."""
    owner = telegram_id in owners
    trainer_id = session.scalar(
        select(Trainer.id).where(Trainer.telegram_id == telegram_id, Trainer.retired_at.is_(None))
    )
    if not owner and trainer_id is None:
        return None
    return Staff(owner, trainer_id)


def check_booking(session: Session, who: Staff, booking_id: int) -> None:
    """Refuse (403 `forbidden`) a trainer's act on a booking that is not theirs: an owner
    touches every booking, a trainer only those they give (not another trainer's, nor the
    studio's own from before trainers, which are the owners'). An unknown id passes: the act
    itself answers not found."""
    if who.owner or not is_row_id(booking_id):
        return
    found = session.execute(
        select(Booking.trainer_id).where(Booking.id == booking_id)
    ).one_or_none()
    if found is not None and not who.may_manage(found.trainer_id):
        raise ScheduleError("forbidden")
