"""Production entry point: `waitress-serve wsgi:app`."""

import os
import sys

from dotenv import load_dotenv

load_dotenv()

if os.environ.get("DEV_LOGIN", "").strip().lower() in ("1", "true", "yes", "on"):
    sys.exit("DEV_LOGIN=1 lets anyone act as any user: it is refused outside `flask run --debug`")

from webapp import create_app  # noqa: E402

app = create_app()
