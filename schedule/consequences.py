"""What an act will do, said before the person confirms it: the one place that decides it.

Booking, moving, joining a waitlist, weekly bookings and cancelling each have consequences a
client should see before the tap that commits them: which pass pays and the visits it keeps, or
that none pays; until when a free cancel is possible, or that the start is already inside the
cancel window; that a cancel returns the visit (or, under a late-cancel policy, keeps it); how
the line works and the place in it. The Mini App's sheets and the bot's confirm messages render
these `Consequence`s (each a code and plain facts), so they never word a rule of their own.

The rules read here are the services' own: the pass a booking takes is `Standing.pass_for` (as
`passes.charge`), the cancel window is `services.change_deadline`, a waitlist place is counted
as `waitlist` counts it. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .availability import snapshot_for_days
from .errors import ScheduleError
from .limits import holdings
from .models import WAITING, Booking, Pass, User, WaitlistEntry
from .passes import PassHeld, Standing, remaining_after, standing
from .series import due_through
from .settings import Settings
from .timegrid import local_date, minute_of_day, start_instant

# The codes, in the order a sheet lists them (DESIGN.md, "Consequences").
CODES = ("pass", "unpaid", "late", "cancel_until", "refund", "forfeit", "waitlist")
FORFEIT = "forfeit"  # the late-cancel policy that accepts a late cancel and keeps the visit


@dataclass(frozen=True)
class Consequence:
    """One thing an act will do. `facts` are plain values: dates, naive-UTC datetimes, ints."""

    code: str
    facts: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown consequence {self.code!r}")


def late_cancel_policy(settings: Settings) -> str:
    """LATE_CANCEL: "refuse" (the default) or "forfeit" (schedule.payments.forfeits)."""
    return settings.late_cancel


def cancel_deadline(starts_at: datetime, settings: Settings) -> datetime:
    """The last moment a client may cancel or move a training at `starts_at` (inclusive)."""
    return starts_at - timedelta(minutes=settings.cancel_deadline_minutes)


def _window(starts_at: datetime, settings: Settings, now: datetime, paid: bool) -> list:
    """The cancel window's lines for a training at `starts_at`, booked (or moved) now."""
    until = cancel_deadline(starts_at, settings)
    if now > until:
        lines = [Consequence("late", {"until": until, "policy": late_cancel_policy(settings)})]
        if late_cancel_policy(settings) == FORFEIT and paid:
            lines.append(Consequence("forfeit", {"until": starts_at}))
        return lines
    lines = [Consequence("cancel_until", {"until": until})]
    if paid:
        lines.append(Consequence("refund", {"until": until}))
    return lines


def _pass_line(chosen: PassHeld, left_after: int) -> Consequence:
    if chosen.visits is None:  # a membership takes no visit (schedule.payments)
        return Consequence(
            "pass", {"pass_id": chosen.pass_id, "expires": chosen.expires_on, "membership": True}
        )
    return Consequence(
        "pass",
        {"pass_id": chosen.pass_id, "visits_left": left_after, "expires": chosen.expires_on},
    )


def _payment(held: Standing, day: date, moving: Booking | None) -> Consequence:
    """Which pass pays for a training on `day` and the visits it keeps after (passes.charge's
    rule: a booking moved keeps its pass when that pass covers the new date)."""
    if moving is not None and moving.pass_id is not None:
        current = next((p for p in held.passes if p.pass_id == moving.pass_id), None)
        if current is not None and current.covers(day):
            return _pass_line(current, current.left())
    ignore = moving.id if moving is not None else 0
    chosen = held.pass_for(day, ignore)
    if chosen is None:
        return Consequence("unpaid", {})
    return _pass_line(chosen, chosen.left(ignore) - 1)


def of_booking(
    session: Session,
    settings: Settings,
    user: User,
    starts_at: datetime,
    now: datetime,
    *,
    moving: Booking | None = None,
) -> list[Consequence]:
    """What booking `starts_at` (or moving `moving` there) will do for `user`: the pass that
    pays and the visits it keeps (or none pays), then until when it can be cancelled for free
    and that the cancel returns the visit, or that it is already inside the cancel window."""
    held = standing(session, settings, user.id, now)
    payment = _payment(held, local_date(starts_at, settings), moving)
    return [payment, *_window(starts_at, settings, now, payment.code == "pass")]


def of_cancel(
    session: Session, settings: Settings, booking: Booking, now: datetime
) -> list[Consequence]:
    """What cancelling `booking` now will do: in time, the visit returns to its pass (if one
    paid); past the deadline it cannot be cancelled ("late"), or under the forfeit policy the
    cancel keeps the visit used."""
    until = cancel_deadline(booking.starts_at, settings)
    paid = booking.pass_id is not None
    if now > until:
        lines = [Consequence("late", {"until": until, "policy": late_cancel_policy(settings)})]
        if late_cancel_policy(settings) == FORFEIT and paid:
            lines.append(Consequence("forfeit", {"pass_id": booking.pass_id}))
        return lines
    if not paid:
        return [Consequence("unpaid", {})]
    left = remaining_after(session, booking.pass_id) + 1
    expires = session.scalar(select(Pass.expires_on).where(Pass.id == booking.pass_id))
    if session.scalar(select(Pass.visits).where(Pass.id == booking.pass_id)) is None:
        return [
            Consequence(
                "refund", {"pass_id": booking.pass_id, "expires": expires, "membership": True}
            )
        ]
    return [
        Consequence("refund", {"pass_id": booking.pass_id, "visits_left": left, "expires": expires})
    ]


def of_waitlist(
    session: Session, settings: Settings, user: User, starts_at: datetime, now: datetime
) -> list[Consequence]:
    """What joining the line of `starts_at` will do: the place in it (`ahead` wait before),
    that a freed place is booked for them at once until `cutoff`, and then what that booking
    would do (its payment and its cancel window)."""
    waiting = list(
        session.execute(
            select(WaitlistEntry.user_id)
            .where(WaitlistEntry.starts_at == starts_at, WaitlistEntry.status == WAITING)
            .order_by(WaitlistEntry.id)
        ).scalars()
    )
    ahead = waiting.index(user.id) if user.id in waiting else len(waiting)
    cutoff = cancel_deadline(starts_at, settings)
    line = Consequence(
        "waitlist",
        {"place": ahead + 1, "ahead": ahead, "cutoff": cutoff, "open": cutoff >= now},
    )
    held = standing(session, settings, user.id, now)
    payment = _payment(held, local_date(starts_at, settings), None)
    # A place is only handed over before the cutoff, so a booking from the line is always
    # one that can still be cancelled for free until then.
    lines = [line, payment, Consequence("cancel_until", {"until": cutoff})]
    if payment.code == "pass":
        lines.append(Consequence("refund", {"until": cutoff}))
    return lines


def of_series(
    session: Session,
    settings: Settings,
    user: User,
    starts_at: datetime,
    weeks: int | None,
    now: datetime,
) -> list[Consequence]:
    """What weekly bookings from `starts_at` will do: the pass paying its dates inside the
    horizon (visits left after them) or how many go unpaid, each date's cancel window, and
    that a full date puts them in its line."""
    first, minute = minute_of_day(starts_at, settings)
    days = []
    day = first
    while day <= due_through(settings, now) and (weeks is None or len(days) < weeks):
        days.append(day)
        day += timedelta(weeks=1)
    snapshot = snapshot_for_days(session, settings, first, days[-1] if days else first)
    held = holdings(session, settings, user.id, now)
    booked: list[date] = []
    full: list[date] = []
    for day in days:
        try:
            at = start_instant(day, minute, settings)
        except ScheduleError:  # no such wall time that day (a clock change): skipped
            continue
        refusal = snapshot.refusal(at, user.id, now, holdings=held)
        if refusal is None:
            booked.append(day)
        elif refusal == "full":
            full.append(day)
    lines = _series_payment(held.standing or standing(session, settings, user.id, now), booked)
    lines.extend(_window(starts_at, settings, now, any(c.code == "pass" for c in lines)))
    if full:
        lines.append(Consequence("waitlist", {"dates": tuple(full)}))
    return lines


def _series_payment(held: Standing, days: list[date]) -> list[Consequence]:
    """Which passes pay for the dates booked now, taking visits date by date as charge would."""
    used: dict[int, int] = {}
    paying: dict[int, PassHeld] = {}
    unpaid: list[date] = []
    for day in days:
        usable = [p for p in held.passes if p.covers(day) and p.left() - used.get(p.pass_id, 0) > 0]
        chosen = min(usable, key=lambda p: (p.expires_on, p.pass_id), default=None)
        if chosen is None:
            unpaid.append(day)
            continue
        used[chosen.pass_id] = used.get(chosen.pass_id, 0) + 1
        paying[chosen.pass_id] = chosen
    lines = [
        Consequence(
            "pass",
            {
                "pass_id": p.pass_id,
                "expires": p.expires_on,
                "visits": used[p.pass_id],
                **(
                    {"membership": True}
                    if p.visits is None
                    else {"visits_left": p.left() - used[p.pass_id]}
                ),
            },
        )
        for p in paying.values()
    ]
    if unpaid or not days:
        lines.append(Consequence("unpaid", {"dates": tuple(unpaid)}))
    return lines
