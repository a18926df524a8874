"""One unit of work: what a use case runs with, opened once per request, callback or worker step.

A unit carries the session (one transaction per change), the studio's rules, the clock's one
reading for the whole request, who acts, and the observer the adapter hands events to. The
services take it instead of five loose arguments, and "who acts" is said, never implied by a
missing user: `Actor.client(user)` acts on their own bookings under the fair-use limits and the
cancel deadline; `Actor.trainer(user)` acts on anyone's, at any time; `Actor.system()` is the
worker booking a client's standing dates, with the client's rules.

Every change records what happened through `emit`, inside its transaction: a log line, the
notices it causes written to the outbox (schedule.notices), the event kept in `events` and
handed to the observer. A handler that raises rolls the change back, so observers only record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from . import notices
from .errors import ScheduleError
from .events import BookingCancelled, BookingMade, BookingMoved, Event, EventHandler
from .models import User, utcnow
from .settings import Settings

log = logging.getLogger("schedule")

Role = Literal["client", "trainer", "system"]


@dataclass(frozen=True)
class Actor:
    """Who acts: a client (on their own bookings), a trainer (on anyone's), or the worker."""

    role: Role
    user: User | None = None

    @classmethod
    def client(cls, user: User) -> Actor:
        if user is None:
            raise ValueError("a client is a user")
        return cls("client", user)

    @classmethod
    def trainer(cls, user: User | None = None) -> Actor:
        """A trainer; `user` when the trainer is a Telegram user (not a CLI command)."""
        return cls("trainer", user)

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @property
    def is_trainer(self) -> bool:
        return self.role == "trainer"

    @property
    def telegram_id(self) -> int | None:
        """Whose act a history line names (None: a command, the worker)."""
        return self.user.telegram_id if self.user is not None else None

    @property
    def owner(self) -> User | None:
        """The user whose rows this actor may touch: the client, or None for anyone's."""
        return self.user if self.role == "client" else None


@dataclass(frozen=True)
class Unit:
    session: Session
    settings: Settings
    actor: Actor
    now: datetime = field(default_factory=utcnow)
    observe: EventHandler | None = None
    # What this unit recorded, in order (a change rolled back keeps its events here; the
    # outbox rows went with the transaction).
    events: list[Event] = field(default_factory=list, compare=False)

    def emit(self, *events: Event) -> None:
        """Inside the transaction of the change that made them: log each booking event, write
        the notices each causes to the outbox, keep it, and hand it to the observer."""
        for event in events:
            _log_event(event)
            notices.record(self.session, self.settings, event)
            self.events.append(event)
            if self.observe is not None:
                self.observe(event)

    def require_trainer(self) -> None:
        """Acts only a trainer may do (opening hours, closures) refuse anyone else."""
        if not self.actor.is_trainer:
            raise ScheduleError("forbidden")

    def with_rules(self, settings: Settings) -> Unit:
        return replace(self, settings=settings)

    def observed_by(self, observe: EventHandler | None) -> Unit:
        return replace(self, observe=observe)


def _log_event(event: Event) -> None:
    if not isinstance(event, BookingMade | BookingCancelled | BookingMoved):
        return
    booking = event.booking
    facts = {
        "booking_id": booking.id,
        "client": booking.user.telegram_id,
        "starts_at": booking.starts_at.isoformat() + "Z",
        "source": booking.source,
    }
    if isinstance(event, BookingMade):
        log.info("booking made", extra={**facts, "from_waitlist": event.from_waitlist})
    elif isinstance(event, BookingCancelled):
        by = "admin" if event.by_admin else "client"
        log.info("booking cancelled", extra={**facts, "by": by})
    else:
        moved_from = event.previous_starts_at.isoformat() + "Z"
        log.info("booking moved", extra={**facts, "moved_from": moved_from})
