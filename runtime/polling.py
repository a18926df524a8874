"""The polling process (`python bot_main.py`): the bot by long polling and its background work
(outbox, reminders, standing bookings) in one process; Ctrl-C or SIGTERM stops it cleanly."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from bot.runner import run_polling
from schedule import ConfigError
from schedule.db import default_sqlite_url

from . import logs
from .config import load_config


def main() -> int:
    try:
        config = load_config()
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    # JSON lines in logs/bot.log (LOG_DIR), readable ones on stderr
    logs.configure(("bot",), directory=config.log_dir, no_color=config.no_color)
    if not config.bot.token:
        print("BOT_TOKEN is not set (in the environment or .env)", file=sys.stderr)
        return 2
    if config.database_url == default_sqlite_url():
        # The web app (imported only here: ~0.4 CPU-s a start that no other database needs)
        # brings the embedded SQLite database to the current schema.
        from .wiring import wired_app

        wired_app(config=config)

    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        if stop.is_set():
            raise SystemExit(1)  # asked twice: stop waiting for the long poll in flight
        logging.getLogger("bot").info(
            "%s received: stopping after the current long poll (again to quit now)",
            signal.Signals(signum).name,
        )
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    run_polling(config.bot, stop)
    return 0
