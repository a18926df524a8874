"""A user's flood of button taps throttled as the web throttles requests (RATE_LIMIT_*).

Each callback query counts against its user's RATE_LIMIT_READS, and one that changes something
(book, cancel, join or leave a waitlist, make or stop a standing booking, the trainer's cancel)
against RATE_LIMIT_WRITES too; past either, the query is answered with an alert saying when to
try again and nothing is done.
Counted with the `limits` library (Flask-Limiter's own) in RATE_LIMIT_STORAGE, so several bot
processes on one Redis share the counts. Storage trouble never stops the bot: taps go through.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from schedule import Settings

from . import callbacks as cb

log = logging.getLogger("bot")

WRITES = frozenset(
    {
        cb.BOOK,
        cb.KIND_BOOK,
        cb.TRAINER_BOOK,
        cb.CANCEL,
        cb.WAIT,
        cb.TRAINER_WAIT,
        cb.LEAVE,
        cb.MOVE,
        cb.REPEAT,
        cb.SERIES_STOP,
    }
)


class CallbackThrottle:
    def __init__(self, settings: Settings, prefix: str = "bot") -> None:
        self.prefix = prefix
        self.reads = _rates(settings.rate_limit_reads)
        self.writes = _rates(settings.rate_limit_writes)
        self._limiter = (
            MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
            if self.reads or self.writes
            else None
        )

    def wait_seconds(self, telegram_id: int, action: str | None) -> int:
        """Count this tap; 0 when it may go on, else the seconds until one may."""
        if self._limiter is None:
            return 0
        rates = [("reads", rate) for rate in self.reads]
        if action in WRITES:
            rates += [("writes", rate) for rate in self.writes]
        try:
            for scope, rate in rates:
                key = (self.prefix, scope, str(telegram_id))
                if not self._limiter.hit(rate, *key):
                    reset_at = self._limiter.get_window_stats(rate, *key).reset_time
                    return max(1, math.ceil(reset_at - time.time()))
        except Exception:  # noqa: BLE001 - a throttle that cannot count lets taps through
            log.warning("callback throttle storage failed", exc_info=True)
        return 0


def _rates(raw: str) -> list[RateLimitItem]:
    return parse_many(raw) if raw else []
