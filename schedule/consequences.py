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

from . import i18n
from .availability import snapshot_for_days
from .errors import ScheduleError
from .i18n import translate, translate_plural
from .kinds import DEFAULT_KIND_ID
from .limits import holdings
from .models import WAITING, Booking, Pass, User, WaitlistEntry
from .passes import PassHeld, Standing, remaining_after, standing
from .series import due_through
from .settings import Settings
from .timegrid import local_date, minute_of_day, start_instant, to_local
from .waitlist import same_line

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
    session: Session,
    settings: Settings,
    user: User,
    starts_at: datetime,
    now: datetime,
    *,
    kind: int | None = None,
    trainer: int | None = None,
) -> list[Consequence]:
    """What joining the line of `starts_at` will do: the place in it (`ahead` wait before, in
    the line of `kind`, a kind's id or None for the default, with `trainer`, None: any;
    schedule.waitlist.same_line), that a freed place is booked for them at once until
    `cutoff`, and then what that booking would do (its payment and its cancel window)."""
    kind_id = None if kind in (None, DEFAULT_KIND_ID) else kind
    waiting = list(
        session.execute(
            select(WaitlistEntry.user_id)
            .where(
                WaitlistEntry.starts_at == starts_at,
                WaitlistEntry.status == WAITING,
                same_line(kind_id, trainer),
            )
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


# --- the words -------------------------------------------------------------------------------


def describe(line: Consequence, act: str, settings: Settings, lang: str) -> str:
    """What one consequence says before the confirm, the same in the Mini App's sheet and the
    bot's message: `act` is "book" (booking or moving), "wait", "series" or "cancel"."""
    facts, code = line.facts, line.code
    hours = _duration(settings.cancel_deadline_minutes, lang)
    if code == "refund" and facts.get("membership"):  # no visit returned
        return translate(
            lang, "csq_membership_refund", until=i18n.day_label(facts["expires"], lang)
        )
    if code == "pass" and facts.get("membership"):  # no visit taken
        return translate(lang, "csq_membership", until=i18n.day_label(facts["expires"], lang))
    if code == "pass" and act == "series":
        until = i18n.day_label(facts["expires"], lang)
        return translate_plural(
            lang, "csq_series_pass", facts["visits"], left=facts["visits_left"], until=until
        )
    if code == "pass":
        until = i18n.day_label(facts["expires"], lang)
        return translate_plural(lang, "csq_pass", facts["visits_left"], until=until)
    if code == "unpaid" and act == "series" and facts.get("dates"):
        return translate_plural(lang, "csq_series_unpaid", len(facts["dates"]))
    if code == "unpaid" and act == "cancel":
        return translate(lang, "csq_unpaid_cancel")
    if code == "unpaid":
        return translate(lang, "csq_unpaid")
    forfeits = facts.get("policy") == FORFEIT
    if code == "late" and act == "cancel" and forfeits:
        return translate(lang, "csq_late_cancel_forfeit", hours=hours)
    if code == "late" and act == "cancel":
        return translate(lang, "csq_late_cancel", hours=hours)
    if code == "late" and forfeits:
        return translate(lang, "csq_late_forfeit", hours=hours)
    if code == "late":
        return translate(lang, "csq_late", hours=hours)
    if code == "forfeit":
        return translate(lang, "csq_forfeit")
    if code == "cancel_until" and act == "series":
        return translate(lang, "csq_series_cancel_until", hours=hours)
    if code == "cancel_until" and act == "wait":
        return translate(
            lang, "csq_wait_cancel_until", when=_moment(facts["until"], settings, lang)
        )
    if code == "cancel_until":
        return translate(lang, "csq_cancel_until", when=_moment(facts["until"], settings, lang))
    if code == "refund" and act == "cancel":
        return translate_plural(lang, "csq_refund_now", facts["visits_left"])
    if code == "refund":
        return translate(lang, "csq_refund")
    if act == "series":  # the line, for dates that are full
        dates = ", ".join(i18n.day_label(day, lang) for day in facts["dates"])
        return translate(lang, "csq_series_waitlist", dates=dates)
    cutoff = _moment(facts["cutoff"], settings, lang)
    if not facts["ahead"]:
        return translate(lang, "csq_waitlist_first", when=cutoff)
    return translate_plural(lang, "csq_waitlist", facts["ahead"], place=facts["place"], when=cutoff)


def _moment(instant: datetime, settings: Settings, lang: str) -> str:
    """'Thu 26 Nov, 08:00' in the studio's time."""
    local = to_local(instant, settings)
    return f"{i18n.day_label(local.date(), lang)}, {i18n.time_label(local.time(), lang)}"


def _duration(minutes: int, lang: str) -> str:
    if minutes % 60 == 0:
        return translate_plural(lang, "hours", minutes // 60)
    return translate_plural(lang, "minutes", minutes)
