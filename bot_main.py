"""Run the bot with long polling: `python bot_main.py` (Ctrl-C or SIGTERM stops it cleanly).

Configuration comes from the environment or `.env` (BOT_TOKEN, TELEGRAM_API_URL, PUBLIC_URL,
ADMIN_IDS, DATABASE_URL and the studio's rules). Any webhook is removed first.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from dotenv import load_dotenv


def main() -> int:
    load_dotenv()

    from bootstrap import load_config, web_app
    from bot.runner import run_polling
    from schedule import ConfigError
    from schedule.db import default_sqlite_url
    from webapp import logs

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
        web_app(config=config)  # brings the embedded SQLite database to the current schema

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


if __name__ == "__main__":
    sys.exit(main())
