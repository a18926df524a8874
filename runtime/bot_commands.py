"""`flask --app webapp bot set-webhook | delete-webhook | webhook-info`.

Flask commands that drive the bot live in the runtime: `bot` never imports Flask, so the
bot's own code runs in `python bot_main.py` without the web app's framework around it.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from bot.runner import configure_commands
from webapp.webhook import webhook_url

bot_cli = AppGroup("bot", help="The Telegram bot's webhook.")


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
    telegram = _telegram()
    config = telegram.config
    url = webhook_url(base_url or config.public_url, config.webhook_path)
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
