"""The grid's fast path (counts per instant, memos on the snapshot, one pass per day) answers
exactly what a plain reading of the rules answers, cell by cell, on random studios."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from schedule import Settings
from schedule.availability import Snapshot, Span, view_day
from schedule.settings import parse_opening_hours
from schedule.timegrid import is_open, local_date, occupied_instants, today, training_end

NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
STUDIOS = [
    Settings(capacity=2, opening_hours=parse_opening_hours("08:00-10:00,10:30-13:00")),
    Settings(capacity=1, training_minutes=60, opening_hours=parse_opening_hours("00:00-24:00")),
    Settings(capacity=3, timezone="Europe/Berlin", booking_horizon_days=1),
]
USERS = 3


def plain_refusal(snapshot: Snapshot, starts_at, user_id, now, ignore_booking=0) -> str | None:
    """The rules read literally, every instant checked against every booking."""
    settings = snapshot.settings
    if starts_at < now + timedelta(minutes=settings.min_notice_minutes):
        return "too_soon"
    horizon = today(now, settings) + timedelta(days=settings.booking_horizon_days)
    if local_date(starts_at, settings) > horizon:
        return "too_far"
    instants = occupied_instants(starts_at, settings)
    ends_at = training_end(starts_at, settings)
    if any(c.overlaps(starts_at, ends_at) for c in snapshot.closures):
        return "closed"
    if not all(is_open(t, snapshot.hours, settings) for t in instants):
        return "after_hours"
    others = [
        b
        for b in snapshot.bookings
        if b.overlaps(starts_at, ends_at) and b.booking_id != ignore_booking
    ]
    if user_id is not None and any(b.user_id == user_id for b in others):
        return "overlapping"
    if any(sum(1 for b in others if b.covers(t)) >= settings.capacity for t in instants):
        return "full"
    return None


_minute = st.integers(0, 3 * 24 * 2).map(
    lambda n: datetime(2026, 11, 24, 21) + n * timedelta(minutes=30)
)
_booking = st.builds(
    lambda start, cells, user: Span(start, start + timedelta(minutes=30 * cells), user),
    _minute,
    st.integers(1, 4),
    st.integers(0, USERS - 1),
)
_closure = st.builds(
    lambda start, minutes: Span(start, start + timedelta(minutes=minutes)),
    _minute.map(lambda t: t + timedelta(minutes=7)),
    st.integers(1, 300),
)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    studio=st.sampled_from(STUDIOS),
    bookings=st.lists(_booking, max_size=25),
    closures=st.lists(_closure, max_size=2),
    viewer=st.none() | st.integers(0, USERS - 1),
    ignore=st.integers(0, 8),
    minutes_later=st.integers(0, 30 * 60),
)
def test_the_grid_says_what_the_plain_rules_say(
    studio, bookings, closures, viewer, ignore, minutes_later
):
    bookings = [replace(b, booking_id=n) for n, b in enumerate(bookings, start=1)]
    snapshot = Snapshot(studio, studio.opening_hours, tuple(closures), tuple(bookings))
    now = NOW + timedelta(minutes=minutes_later)
    for day in (NOW.date(), NOW.date() + timedelta(days=1), NOW.date() + timedelta(days=2)):
        view = view_day(snapshot, day, viewer, now, ignore)
        for slot in view.slots:
            t = slot.cell.starts_at
            expected = plain_refusal(snapshot, t, viewer, now, ignore)
            assert slot.refusal == expected, (slot.start, day)
            assert slot.can_start is (expected is None)
            assert snapshot.refusal(t, viewer, now, ignore) == expected
            covering = [b for b in bookings if b.covers(t)]
            assert slot.booked == sum(1 for b in covering if b.booking_id != ignore)
            assert slot.free == max(studio.capacity - slot.booked, 0)
            assert slot.mine is (viewer is not None and any(b.user_id == viewer for b in covering))


def test_the_grid_fragment_is_rendered_once_per_state(sqlite_app, page_client):
    from flask import template_rendered

    from tests.fixtures_web import ANNA, BORIS, TOMORROW, auth

    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    url = f"/app/grid?date={TOMORROW}"
    anna_again = {**ANNA, "id": 1003}  # another client who reads English and sees the same
    with template_rendered.connected_to(record, sqlite_app):
        first = page_client.get(url, headers=auth(ANNA)).get_data(as_text=True)
        assert page_client.get(url, headers=auth(anna_again)).get_data(as_text=True) == first
        assert rendered == ["bookings/_grid.html"]
        russian = page_client.get(url, headers=auth(BORIS)).get_data(as_text=True)
        assert "свободно 4" in russian and len(rendered) == 2
        rendered.clear()
        booked = page_client.post(
            "/app/bookings", data={"date": TOMORROW, "start": "10:00"}, headers=auth(ANNA)
        )
        assert booked.status_code == 200
        assert rendered.count("bookings/_grid.html") == 1  # the new state, in the booking tab
        mine = page_client.get(url, headers=auth(ANNA)).get_data(as_text=True)
        assert rendered.count("bookings/_grid.html") == 1 and mine != first
        assert 'class="slot mine own"' in mine
        theirs = page_client.get(url, headers=auth(anna_again)).get_data(as_text=True)
        assert 'class="slot mine"' not in theirs and 'data-free="3"' in theirs
