"""LATE_CANCEL: refuse keeps the deadline; forfeit frees the place and keeps the visit used,
until the trainer forgives it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from schedule import (
    ScheduleError,
    Settings,
    User,
    consequences,
    passes,
    payments,
    services,
    waitlist,
)
from schedule.models import ACTIVE, Pass
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)
TEN = 10 * 60  # 07:00 UTC on DAY


@pytest.fixture
def forfeit(settings):
    return replace(settings, late_cancel="forfeit", capacity=1)


def late(booking):
    """An hour before the start: past the 120-minute deadline."""
    return booking.starts_at - timedelta(minutes=60)


def test_refuse_keeps_the_deadline(session, settings, make_user, now):
    anna = make_user("Anna")
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    with pytest.raises(ScheduleError) as refused:
        services.cancel(Unit(session, settings, Actor.client(anna), now=late(booking)), booking.id)
    assert refused.value.code == "deadline_passed"
    assert booking.status == ACTIVE


def test_forfeit_frees_the_place_for_the_line_and_keeps_the_visit(session, forfeit, make_user, now):
    anna, boris = make_user("Anna"), make_user("Boris")
    sold = passes.record(
        Unit(session, forfeit, Actor.trainer(), now=now), anna, visits=3, valid_days=30
    )
    booking = services.book(Unit(session, forfeit, Actor.client(anna), now=now), anna, DAY, TEN)
    waitlist.join(Unit(session, forfeit, Actor.client(boris), now=now), boris, DAY, TEN)
    when = late(booking)
    lines = consequences.of_cancel(session, forfeit, booking, when)
    assert [line.code for line in lines] == ["late", "forfeit"]

    services.cancel(Unit(session, forfeit, Actor.client(anna), now=when), booking.id)

    assert (booking.status, booking.forfeited, booking.pass_id) == ("cancelled", True, sold.id)
    assert passes.remaining_after(session, sold.id) == 2  # the visit stays used
    [promoted] = services.upcoming_bookings(session, boris, when)
    assert promoted.starts_at == booking.starts_at


def test_forfeit_ends_at_the_start_and_keeps_the_deadline_before_it(
    session, forfeit, make_user, now
):
    anna = make_user("Anna")
    booking = services.book(Unit(session, forfeit, Actor.client(anna), now=now), anna, DAY, TEN)
    with pytest.raises(ScheduleError) as refused:
        services.cancel(
            Unit(session, forfeit, Actor.client(anna), now=booking.starts_at), booking.id
        )
    assert refused.value.code == "deadline_passed"
    services.cancel(
        Unit(session, forfeit, Actor.client(anna), now=now), booking.id
    )  # in time: nothing forfeited
    assert booking.forfeited is False


def test_the_trainer_forgives_a_late_cancel_and_the_visit_returns(session, forfeit, make_user, now):
    anna = make_user("Anna")
    sold = passes.record(
        Unit(session, forfeit, Actor.trainer(), now=now), anna, visits=1, valid_days=30
    )
    booking = services.book(Unit(session, forfeit, Actor.client(anna), now=now), anna, DAY, TEN)
    services.cancel(Unit(session, forfeit, Actor.client(anna), now=late(booking)), booking.id)
    assert passes.remaining_after(session, sold.id) == 0

    forgiven = payments.forgive(
        Unit(session, Settings(), Actor.trainer(User(telegram_id=9001)), now=late(booking)),
        booking.id,
    )

    assert (forgiven.forfeited, forgiven.forgiven_by, forgiven.pass_id) == (False, 9001, None)
    assert passes.remaining_after(session, sold.id) == 1
    assert session.get(Pass, sold.id).history[-1].kind == "forgiven"
    with pytest.raises(ScheduleError) as again:
        payments.forgive(Unit(session, Settings(), Actor.trainer(), now=late(booking)), booking.id)
    assert again.value.code == "not_forfeited" and again.value.http_status == 409
    with pytest.raises(ScheduleError) as missing:
        payments.forgive(Unit(session, Settings(), Actor.trainer(), now=now), 999)
    assert missing.value.http_status == 404


def test_the_trainers_cancel_is_never_a_forfeit(session, forfeit, make_user, now):
    anna = make_user("Anna")
    passes.record(Unit(session, forfeit, Actor.trainer(), now=now), anna, visits=1, valid_days=30)
    booking = services.book(Unit(session, forfeit, Actor.client(anna), now=now), anna, DAY, TEN)
    services.cancel(
        Unit(session, forfeit, Actor.trainer(), now=late(booking)), booking.id, reason="ill"
    )
    assert (booking.forfeited, booking.pass_id) == (False, None)
