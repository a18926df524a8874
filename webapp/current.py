"""What a request works with, from the app it runs in: the studio's settings, its clock, the
snapshot cache, the hook the services hand their events to, and the caller's holdings. The
blueprints read them here (the runtime and webapp.build_app put them on the app)."""

from __future__ import annotations

from flask import current_app, g

from schedule import limits
from schedule.availability import Snapshot

from .extensions import db


def settings():
    return current_app.config["SCHEDULE"]


def now():
    return current_app.config["CLOCK"]()


def snapshots():
    return current_app.extensions["snapshots"]


def events():
    return current_app.extensions["booking_events"]


def holdings(snapshot: Snapshot) -> limits.Holdings:
    """What the caller holds (their fair-use limits weigh it), as of `snapshot`."""
    return snapshots().holdings(db.session(), settings(), snapshot, g.user.id, now())
