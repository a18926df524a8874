"""A no-show keeps its visit whoever cancels the booking afterwards (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from schedule import ScheduleError, Settings, attendance, passes, services
from schedule.unit import Actor, Unit

DAY = date(2026, 11, 26)  # the day after the `now` fixture
TEN = 10 * 60


def remaining(session, settings, user, now) -> list[int]:
    return [view.remaining for view in passes.client_passes(session, settings, user, now)]


def test_the_trainer_cancelling_a_past_no_show_does_not_give_the_visit_back(
    session, settings, make_user, now
):
    strict = replace(settings, pass_required=True)
    anna = make_user("Anna")
    paid = passes.record(
        Unit(session, strict, Actor.trainer(), now=now), anna, visits=1, valid_days=30
    )
    booking = services.book(Unit(session, strict, Actor.client(anna), now=now), anna, DAY, TEN)
    during = now + timedelta(days=1, hours=1, minutes=10)
    attendance.mark(Unit(session, Settings(), Actor.trainer(), now=during), booking.id, "no_show")

    services.cancel(
        Unit(session, strict, Actor.trainer(), now=during), booking.id, reason="tidying up"
    )

    assert booking.status == "cancelled" and booking.pass_id == paid.id
    assert remaining(session, strict, anna, during) == [0]
    assert passes.remaining_after(session, paid.id) == 0
    with pytest.raises(ScheduleError) as refused:
        services.book(
            Unit(session, strict, Actor.client(anna), now=during),
            anna,
            DAY + timedelta(days=2),
            TEN,
        )
    assert refused.value.code == "no_pass"


def test_a_cancel_before_the_start_still_gives_the_visit_back(session, settings, make_user, now):
    anna = make_user("Anna")
    passes.record(Unit(session, settings, Actor.trainer(), now=now), anna, visits=1, valid_days=30)
    booking = services.book(Unit(session, settings, Actor.client(anna), now=now), anna, DAY, TEN)
    services.cancel(Unit(session, settings, Actor.trainer(), now=now), booking.id, reason="ill")
    assert booking.pass_id is None
    assert remaining(session, settings, anna, now) == [1]
