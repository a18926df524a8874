"""The composition root: the one place that wires the parts into the app that runs.

Every entry point starts here: `flask --app webapp …` and the tests (through
webapp.create_app), `waitress-serve wsgi:app`, `python bot_main.py` (runtime.polling) and the
worker (a `flask` command). runtime.config reads the configuration; runtime.wiring builds the
web app from it and wires the bot in; this module adds the `flask --app webapp …` commands.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from flask import Flask

from . import commands
from .config import Config, load_config
from .wiring import wired_app

DEV_LOGIN_REFUSED = (
    "DEV_LOGIN=1 lets anyone act as any user: it is refused outside `flask run --debug`"
)


def web_app(test_config: Mapping | None = None, *, config: Config | None = None) -> Flask:
    """The web app as it runs: wired (runtime.wiring), with the commands."""
    app = wired_app(test_config, config=config)
    commands.init_app(app)
    return app


def production_app() -> Flask:
    """`waitress-serve wsgi:app`: refuses DEV_LOGIN, which only `flask run --debug` allows."""
    config = load_config()
    if config.dev_login:
        sys.exit(DEV_LOGIN_REFUSED)
    return web_app(config=config)
