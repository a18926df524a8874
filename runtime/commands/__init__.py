"""Commands of `flask --app webapp …`, one module per concern: dev (web + bot + tunnel),
diagnose (is this deployment fit to run?), logs (read the JSON logs), data (purge,
delete-user, demo-data), the worker (runtime/worker.py) and `bot` (the webhook,
runtime/bot_commands.py). Thin adapters: storage chores live in schedule.maintenance, the log
format in runtime.logs, the bot in bot/.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..bot_commands import bot_cli
    from ..worker import worker
    from .data import delete_user, demo_data, purge
    from .dev import dev
    from .diagnose import diagnose
    from .logs import logs_command

    for command in (dev, diagnose, logs_command, purge, delete_user, demo_data, worker, bot_cli):
        app.cli.add_command(command)
