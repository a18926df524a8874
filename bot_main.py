"""Run the bot with long polling: `python bot_main.py` (Ctrl-C or SIGTERM stops it cleanly).

Configuration comes from the environment or `.env` (BOT_TOKEN, TELEGRAM_API_URL, PUBLIC_URL,
ADMIN_IDS, DATABASE_URL and the studio's rules). Any webhook is removed first. The process
itself is runtime.polling.
"""

from __future__ import annotations

import sys

from dotenv import load_dotenv

if __name__ == "__main__":
    load_dotenv()
    from runtime.polling import main

    sys.exit(main())
