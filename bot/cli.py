"""`flask --app webapp bot set-webhook | delete-webhook | webhook-info | reminders`."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from .reminders import REMINDER_INTERVAL_SECONDS, run_reminders

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

bot_cli = AppGroup("bot", help="The Telegram bot's webhook and reminders.")


def _telegram():
    telegram = current_app.extensions.get("telegram")
    if telegram is None:
        raise click.ClickException("BOT_TOKEN is not set")
    return telegram


def _masked(url: str) -> str:
    """The webhook URL without its secret last segment, for printing."""
    return url.rsplit("/", 1)[0] + "/…" if url else "(none)"


@bot_cli.command("set-webhook")
@click.option("--url", "base_url", help="The public HTTPS base URL (default: PUBLIC_URL).")
@click.option("--drop-pending-updates", is_flag=True, help="Forget updates not yet delivered.")
def set_webhook(base_url: str | None, drop_pending_updates: bool) -> None:
    """Have Telegram POST updates to this app; also sets the commands and the menu button."""
    from bot.runner import configure_commands
    from webapp.webhook import webhook_url

    telegram = _telegram()
    url = webhook_url(telegram.config, base_url)
    if not url.startswith("https://"):
        raise click.ClickException("Telegram needs an https URL: set PUBLIC_URL or pass --url")
    telegram.bot.set_webhook(
        url=url,
        secret_token=telegram.config.webhook_secret_token,
        allowed_updates=["message", "callback_query", "my_chat_member"],
        drop_pending_updates=drop_pending_updates or None,
    )
    configure_commands(telegram.bot, telegram.config)
    click.echo(f"Webhook set: {_masked(url)}")


@bot_cli.command("delete-webhook")
@click.option("--drop-pending-updates", is_flag=True, help="Forget updates not yet delivered.")
def delete_webhook(drop_pending_updates: bool) -> None:
    """Stop webhook delivery (python bot_main.py does this itself before polling)."""
    _telegram().bot.delete_webhook(drop_pending_updates=drop_pending_updates or None)
    click.echo("Webhook deleted")


@bot_cli.command("webhook-info")
def webhook_info() -> None:
    """What Telegram knows about the webhook: URL, pending updates, last error."""
    info = _telegram().bot.get_webhook_info()
    click.echo(f"url: {_masked(info.url)}")
    click.echo(f"pending updates: {info.pending_update_count}")
    if info.last_error_message:
        click.echo(f"last error: {info.last_error_message}")


@bot_cli.command("reminders")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=REMINDER_INTERVAL_SECONDS,
    show_default=True,
    envvar="REMINDER_INTERVAL_SECONDS",
    help="Seconds between looks for due reminders.",
)
def reminders(interval: float) -> None:
    """Send the reminders before trainings until stopped (Ctrl-C or SIGTERM).

    For webhook deployments: `python bot_main.py` (polling) sends them itself. Any number of
    these may run beside each other; each reminder is sent once."""
    config = _telegram().config
    if not config.settings.reminder_minutes:
        click.echo("Reminders are off (REMINDER_MINUTES is empty)")
        return
    app = current_app._get_current_object()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    click.echo(f"Sending reminders, looking every {interval:g}s; Ctrl-C or SIGTERM stops")
    try:
        run_reminders(config, stop, clock=lambda: app.config["CLOCK"](), interval=interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Reminders stopped")
