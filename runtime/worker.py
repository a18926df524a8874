"""`flask --app webapp worker`: the bot's background duties beside waitress.

Webhook deployments run it as a service of its own (deploy/booking-worker.service): it sends
the outbox, queues reminders and handles the webhook updates the web processes recorded
(bot.worker). `python bot_main.py` does the same for polling deployments, so run one or the
other. Any number of workers may run; each piece of work is claimed in the database.
"""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import sessionmaker

from bot.reminders import REMINDER_INTERVAL_SECONDS
from bot.worker import start_background
from webapp.extensions import db

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@click.command("worker")
@click.option(
    "--reminder-interval",
    type=click.FloatRange(min=0.1),
    default=REMINDER_INTERVAL_SECONDS,
    show_default=True,
    envvar="REMINDER_INTERVAL_SECONDS",
    help="Seconds between looks for due reminders.",
)
@click.option("--no-updates", is_flag=True, help="Leave webhook updates to other workers.")
@with_appcontext
def worker(reminder_interval: float, no_updates: bool) -> None:
    """Send the outbox, queue reminders and handle webhook updates until Ctrl-C or SIGTERM
    (what is being sent then is finished first)."""
    app = current_app._get_current_object()
    telegram = app.extensions.get("telegram")
    if telegram is None:
        raise click.ClickException("BOT_TOKEN is not set")
    session_factory = sessionmaker(db.engine, expire_on_commit=False)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    click.echo("Worker running: outbox, reminders, webhook updates; Ctrl-C or SIGTERM stops")
    try:
        threads = start_background(
            telegram.config,
            session_factory,
            stop,
            clock=lambda: app.config["CLOCK"](),
            bot=None if no_updates else telegram.bot,
            reminder_interval=reminder_interval,
        )
        while not stop.wait(0.5):
            pass
        for thread in threads:
            thread.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Worker stopped")


def outbox_gauges() -> dict[str, tuple[str, float]]:
    """The outbox and the webhook inbox on /metrics (the same in every process: read from the
    database at scrape time)."""
    from bot.models import inbox_stats
    from schedule import outbox

    session = db.session()
    now = current_app.config["CLOCK"]()
    stats = outbox.stats(session, now)
    updates, oldest_update = inbox_stats(session)
    return {
        "outbox_pending": ("Messages waiting to be sent.", stats.pending),
        "outbox_oldest_pending_age_seconds": (
            "Age of the oldest message waiting to be sent (0 when none).",
            stats.oldest_pending_seconds,
        ),
        "outbox_failed": ("Messages Telegram refused for good (400, 403).", stats.failed),
        "outbox_expired": ("Messages not delivered before they stopped mattering.", stats.expired),
        "outbox_unconfirmed": (
            "Messages sent whose answer never came (Telegram may have delivered them; "
            "not sent again).",
            stats.unconfirmed,
        ),
        "webhook_updates_pending": ("Webhook updates the worker has not handled yet.", updates),
        "webhook_updates_oldest_pending_age_seconds": (
            "Age of the oldest webhook update not handled yet (0 when none).",
            max((now - oldest_update).total_seconds(), 0.0) if oldest_update else 0.0,
        ),
    }
