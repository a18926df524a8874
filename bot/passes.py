"""What a client hears about their pass: the words of "one visit left" and "expires soon",
and the worker's loop of pass duties.

Both notices are decided and written by schedule (schedule.notices): "one visit left" in the
transaction of the booking that took the second-to-last visit, so it commits with it or not at
all; "expires in 3 days" by schedule.passes.claim_expiring (a claim column set under the
schedule lock, with the notice in the same transaction), which `run_pass_duties` runs: any
number of workers may run the loop and each pass is told of once. The same loop settles
attendance at the end of each day (schedule.attendance.settle_past_days, itself exactly once).

The words are chosen when the dispatcher sends the row, in the client's language.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from schedule import attendance, passes
from schedule.i18n import N_, Nn_
from schedule.models import utcnow
from schedule.notices import PASS_EXPIRING, PASS_LOW

from .config import BotConfig
from .loops import repeat
from .texts import day_label, ntext, text

log = logging.getLogger("bot")

__all__ = ["PASS_EXPIRING", "PASS_LOW", "pass_duties_once", "render_pass_notice"]
PASS_DUTIES_INTERVAL_SECONDS = 60.0


def render_pass_notice(kind: str, facts: dict, lang: str, config: BotConfig):
    until = day_label(date.fromisoformat(facts["expires"]), lang)
    if kind == PASS_LOW:
        return text(lang, N_("pass_low"), until=until), None
    return ntext(lang, Nn_("pass_expiring"), facts.get("remaining", 0), until=until), None


def pass_duties_once(
    config: BotConfig, session_factory: sessionmaker[Session], now: datetime
) -> tuple[int, int]:
    """(expiry notices written, visits settled) in one pass of the loop."""
    with session_factory() as session:
        told = passes.claim_expiring(session, config.settings, now)
    with session_factory() as session:
        settled = attendance.settle_past_days(session, config.settings, now)
    return len(told), settled


def run_pass_duties(
    config: BotConfig,
    session_factory: sessionmaker[Session],
    stop_event: threading.Event,
    *,
    clock: Callable[[], datetime] = utcnow,
    interval: float = PASS_DUTIES_INTERVAL_SECONDS,
) -> None:
    """Expiry notices and the end-of-day attendance every `interval` seconds until stopped;
    a failing pass (the database away) is logged and the next one tries again."""
    log.info("pass notices and attendance settling every %ss", interval)

    def step() -> None:
        told, settled = pass_duties_once(config, session_factory, clock())
        if told or settled:
            log.info("%s pass expiry notice(s), %s visit(s) settled", told, settled)

    repeat(stop_event, interval, step, "pass duties")
