"""`flask --app webapp dev [--tunnel]`: the web app and the bot (long polling) in one process
for development, with an HTTPS ngrok tunnel as PUBLIC_URL for the run (config in ngrok.yml,
token NGROK_AUTHTOKEN) and the bot's menu button pointed at it. No config file is rewritten."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot.config import BotConfig

from .. import logs
from .telegram_api import TOKEN_HINT, TelegramUnreachable, point_menu_button

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NGROK_CONFIG = PROJECT_ROOT / "ngrok.yml"
NGROK_TOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"
# How often the server's loop looks for shutdown(): stopping waits up to this long.
SERVE_POLL_SECONDS = 0.5


class Delegate:
    """A WSGI app whose target is set once the tunnel (if any) has given the public URL."""

    def __init__(self) -> None:
        self.target: Flask | None = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


def open_tunnel(
    port: int, token: str, say: Callable[[str], None]
) -> tuple[str, Callable[[], None]] | None:
    """An HTTPS ngrok tunnel to `port` (settings in ngrok.yml, NGROK_AUTHTOKEN `token`), or
    None with the reason said."""
    if not token:
        say(
            "✗ tunnel: NGROK_AUTHTOKEN is not set. Copy your token from "
            f"{NGROK_TOKEN_URL} into .env as NGROK_AUTHTOKEN=<token>. Running locally only."
        )
        return None
    from pyngrok import conf, ngrok

    config = conf.PyngrokConfig(
        config_path=str(NGROK_CONFIG) if NGROK_CONFIG.exists() else None, auth_token=token
    )
    try:
        tunnel = ngrok.connect(str(port), "http", name="webapp", pyngrok_config=config)
    except Exception as error:  # noqa: BLE001 - pyngrok, download and network errors alike
        say(
            f"✗ tunnel: ngrok could not open a tunnel ({error.__class__.__name__}: {error}). "
            "Check the network and NGROK_AUTHTOKEN; running locally only."
        )
        return None
    url = tunnel.public_url or ""
    if url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    return url, lambda: _close_tunnel(ngrok, tunnel, config)


def _close_tunnel(ngrok, tunnel, config) -> None:
    try:
        ngrok.disconnect(tunnel.public_url, pyngrok_config=config)
        ngrok.kill(pyngrok_config=config)
    except Exception:  # noqa: BLE001 - shutting down anyway
        pass


def app_for_public_url(app: Flask, public_url: str) -> Flask:
    """A twin of `app` for this run: PUBLIC_URL and a CORS origin set to the tunnel."""
    from ..wiring import wired_app

    origins = [o for o in app.config["CORS_ORIGINS"] if o != public_url] + [public_url]
    overrides = {
        "PUBLIC_URL": public_url,
        "CORS_ORIGINS": origins,
    }
    return wired_app({**app.config, **overrides}, config=app.config["CONFIG"])


def _start_bot(config: BotConfig, stop: threading.Event, say) -> threading.Thread | None:
    if not config.token:
        say(f"• bot: BOT_TOKEN is not set, running the web app alone ({TOKEN_HINT}).")
        return None
    try:
        from bot.runner import run_polling
    except ImportError as error:
        say(f"✗ bot: cannot start it ({error}); running the web app alone.")
        return None

    def run() -> None:
        try:
            run_polling(config, stop_event=stop)
        except Exception:  # noqa: BLE001 - the web app keeps running
            logging.getLogger("bot.dev").exception("the bot stopped")

    thread = threading.Thread(target=run, name="bot", daemon=True)
    thread.start()
    return thread


def wait_for_interrupt(stop: threading.Event) -> None:
    """Block until Ctrl+C (a KeyboardInterrupt) or `stop` is set."""
    while not stop.wait(0.5):
        pass


@click.command("dev")
@click.option("--tunnel", is_flag=True, help="Open an HTTPS ngrok tunnel and use it as PUBLIC_URL.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@with_appcontext
def dev(tunnel: bool, port: int, host: str) -> None:
    """Run the web app and the bot (long polling) together; Ctrl+C stops both."""
    from werkzeug.serving import make_server

    app: Flask = current_app._get_current_object()
    say = click.echo
    delegate = Delegate()
    try:
        server = make_server(host, port, delegate, threaded=True)
    except (OSError, SystemExit) as error:  # werkzeug exits by itself on a busy port
        reason = getattr(error, "strerror", None) or "the port is taken or not allowed"
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    local_url = f"http://{host}:{server.server_port}"
    stop = threading.Event()
    close_tunnel = bot = None
    serving = False
    try:
        public_url = app.config["PUBLIC_URL"]
        token = app.config["CONFIG"].ngrok_authtoken
        if tunnel and (opened := open_tunnel(server.server_port, token, say)):
            public_url, close_tunnel = opened
        delegate.target = app_for_public_url(app, public_url) if close_tunnel else app
        # Configured last: creating an app may run migrations, which reset logging.
        write_files = not app.testing or bool(app.config.get("LOG_DIR"))
        logs.configure(
            ("web", "bot"),
            directory=logs.log_dir(app),
            files=write_files,
            no_color=app.config["CONFIG"].no_color,
        )
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": SERVE_POLL_SECONDS},
            name="web",
            daemon=True,
        ).start()
        serving = True
        say(f"• web: the Mini App at {local_url}")
        bot_config = dataclasses.replace(app.config["CONFIG"].bot, public_url=public_url)
        if close_tunnel:
            say(f"• tunnel: {public_url} → {local_url}")
            say(f"  Give BotFather this URL: /newapp (or /setmenubutton) → {public_url}")
            _point_menu(bot_config, public_url, say)
        bot = _start_bot(bot_config, stop, say)
        say("Press Ctrl+C to stop.")
        wait_for_interrupt(stop)
    except KeyboardInterrupt:
        pass
    finally:
        say("Stopping…")
        stop.set()
        if serving:
            server.shutdown()
        server.server_close()
        if bot is not None:
            bot.join(timeout=10)
        if close_tunnel:
            close_tunnel()
        say("Stopped.")
        logs.reset()


def _point_menu(config: BotConfig, url: str, say) -> None:
    if not config.token:
        return
    try:
        answer = point_menu_button(config, url)
    except TelegramUnreachable as error:
        say(f"✗ menu button: Telegram is unreachable ({error}); set it later with /setmenubutton.")
        return
    if answer.get("ok"):
        say(f"✓ menu button: the bot's menu opens {url}")
    else:
        say(f"✗ menu button: Telegram refused it: {answer.get('description')}")
