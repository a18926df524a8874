"""What a request works with, from the app it runs in: the studio's settings, its clock (read
once per request), the snapshot cache, the hook the services hand their events to, the caller's
holdings, and the request's one unit of work (schedule.unit), whose actor the view's guard named:
`login_required` a client acting on their own, `admin_required` the trainer. The blueprints read
them here (the runtime and webapp.build_app put them on the app)."""

from __future__ import annotations

from flask import current_app, g

from schedule import limits
from schedule.availability import Snapshot
from schedule.unit import Unit

from .extensions import db


def settings():
    return current_app.config["SCHEDULE"]


def now():
    """The request's one reading of the studio's clock."""
    if "now" not in g:
        g.now = current_app.config["CLOCK"]()
    return g.now


def snapshots():
    return current_app.extensions["snapshots"]


def events():
    return current_app.extensions["booking_events"]


def holdings(snapshot: Snapshot) -> limits.Holdings:
    """What the caller holds (their fair-use limits weigh it), as of `snapshot`."""
    return snapshots().holdings(db.session(), settings(), snapshot, g.user.id, now())


def unit() -> Unit:
    """The request's unit of work, opened once: the session, the rules, the clock's reading, the
    actor the view's guard named (`g.actor`), the metrics' observer."""
    if "unit" not in g:
        g.unit = Unit(db.session(), settings(), g.actor, now(), events())
    return g.unit
