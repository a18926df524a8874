"""`flask --app webapp dev`: web + bot together, the ngrok tunnel faked at pyngrok's edge."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pyngrok import ngrok
from pyngrok.exception import PyngrokNgrokError

from runtime.commands import dev
from tests.conftest import as_from_a_terminal
from tests.runtime.test_cli import ENV, FakeTelegram, make_app
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
TUNNEL_URL = "https://5f2a-203-0-113-9.ngrok-free.app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.fixture(autouse=True)
def quick_stop(monkeypatch):
    """The served app stops within 10 ms of shutdown(), not the deployed 0.5 s poll."""
    monkeypatch.setattr(dev, "SERVE_POLL_SECONDS", 0.01)


@pytest.fixture
def env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def app(env, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def visits(monkeypatch, port):
    """Replace Ctrl+C: while dev runs, visit the served app, then return (as Ctrl+C would)."""
    seen: dict[str, tuple[int, dict]] = {}

    def visit_then_stop(_stop) -> None:
        seen["health"] = get(f"http://127.0.0.1:{port}/healthz", Origin=TUNNEL_URL)

    monkeypatch.setattr(dev, "wait_for_interrupt", visit_then_stop)
    return seen


@pytest.fixture
def fake_bot(monkeypatch):
    """The bot's polling loop replaced by one that records its configuration."""
    started: list = []

    def run_polling(config, stop_event=None):
        started.append(config)
        stop_event.wait(5)

    monkeypatch.setitem(sys.modules, "bot.runner", types.SimpleNamespace(run_polling=run_polling))
    return started


@pytest.fixture
def fake_ngrok(monkeypatch):
    """pyngrok's edge: connect / disconnect / kill, recorded instead of starting ngrok."""
    calls: dict[str, list] = {"connect": [], "disconnect": [], "kill": []}

    def connect(addr=None, proto=None, name=None, pyngrok_config=None, **options):
        calls["connect"].append(
            {"addr": addr, "proto": proto, "name": name, "config": pyngrok_config}
        )
        return types.SimpleNamespace(public_url=TUNNEL_URL)

    monkeypatch.setattr(ngrok, "connect", connect)
    monkeypatch.setattr(ngrok, "disconnect", lambda url, **kw: calls["disconnect"].append(url))
    monkeypatch.setattr(ngrok, "kill", lambda **kw: calls["kill"].append(True))
    return calls


def test_without_a_token_the_web_app_runs_alone(app, port, visits, fake_bot):
    result = app.test_cli_runner().invoke(args=["dev", "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert visits["health"][0] == 200
    assert f"the Mini App at http://127.0.0.1:{port}" in result.output
    assert "BOT_TOKEN is not set, running the web app alone" in result.output
    assert fake_bot == []
    assert "Stopped." in result.output


def test_the_bot_runs_beside_the_web_app(app_with_token, port, visits, fake_bot):
    result = app_with_token.test_cli_runner().invoke(args=["dev", "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert visits["health"][0] == 200
    [config] = fake_bot
    assert config.token == app_with_token.config["BOT_TOKEN"]


@pytest.fixture
def ngrok_token(env):
    """NGROK_AUTHTOKEN in the environment; ask for it before the app, which reads it once."""
    env.setenv("NGROK_AUTHTOKEN", "ngrok-test-token")


@pytest.fixture
def telegram(env):
    with FakeTelegram() as fake:
        env.setenv("BOT_TOKEN", fake.token)
        env.setenv("TELEGRAM_API_URL", fake.url)
        yield fake


@pytest.fixture
def app_with_token(telegram, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_tunnel_without_ngrok_token_says_what_is_missing_and_runs_locally(
    app, port, visits, fake_ngrok
):
    result = app.test_cli_runner().invoke(args=["dev", "--tunnel", "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert "NGROK_AUTHTOKEN is not set" in result.output
    assert "dashboard.ngrok.com" in result.output and "Running locally only" in result.output
    assert fake_ngrok["connect"] == []
    assert visits["health"][0] == 200


def test_tunnel_becomes_the_public_url_for_the_run(
    ngrok_token, app_with_token, telegram, port, visits, fake_ngrok, fake_bot, env
):
    ngrok_yml = (ROOT / "ngrok.yml").read_bytes()

    result = app_with_token.test_cli_runner().invoke(args=["dev", "--tunnel", "--port", str(port)])

    assert result.exit_code == 0, result.output
    [connect] = fake_ngrok["connect"]
    assert connect["addr"] == str(port) and connect["name"] == "webapp"
    assert connect["config"].config_path == str(ROOT / "ngrok.yml")
    assert connect["config"].auth_token == "ngrok-test-token"
    assert f"Give BotFather this URL: /newapp (or /setmenubutton) → {TUNNEL_URL}" in result.output
    assert "✓ menu button" in result.output
    [menu] = [payload for method, payload in telegram.calls if method == "setChatMenuButton"]
    assert menu["menu_button"]["type"] == "web_app"
    assert menu["menu_button"]["web_app"] == {"url": TUNNEL_URL}
    status, headers = visits["health"]
    assert status == 200
    assert headers.get("Access-Control-Allow-Origin") == TUNNEL_URL  # CORS allows the tunnel
    [bot_config] = fake_bot
    assert bot_config.public_url == TUNNEL_URL
    assert fake_ngrok["disconnect"] == [TUNNEL_URL] and fake_ngrok["kill"]
    # Nothing is rewritten: the app's own configuration and ngrok.yml stay as they were.
    assert app_with_token.config["PUBLIC_URL"] == ""
    assert (ROOT / "ngrok.yml").read_bytes() == ngrok_yml
    assert not (ROOT / ".env").exists() or "ngrok-free" not in (ROOT / ".env").read_text()


def test_without_the_tunnel_cors_stays_closed(app, port, visits):
    app.test_cli_runner().invoke(args=["dev", "--port", str(port)])

    assert "Access-Control-Allow-Origin" not in visits["health"][1]


def test_a_tunnel_that_fails_is_explained_and_the_app_runs_locally(
    ngrok_token, app, port, visits, fake_ngrok, monkeypatch, env
):

    def refuse(*_args, **_kwargs):
        raise PyngrokNgrokError("The ngrok process errored on start: authentication failed")

    monkeypatch.setattr(ngrok, "connect", refuse)

    result = app.test_cli_runner().invoke(args=["dev", "--tunnel", "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert "✗ tunnel: ngrok could not open a tunnel (PyngrokNgrokError" in result.output
    assert "authentication failed" in result.output
    assert visits["health"][0] == 200


def test_a_busy_port_is_an_error(app):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = app.test_cli_runner().invoke(args=["dev", "--port", str(port)])

    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert f"Port {port} is in use" in result.output


def test_dev_in_a_terminal_serves_logs_and_stops_on_ctrl_c(tmp_path, env):
    """The real command in a process: it serves, writes JSON logs, and Ctrl+C ends it cleanly."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in ENV}
    child_env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", LOG_DIR=str(tmp_path / "logs")
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "dev", "--port", str(port)],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=as_from_a_terminal,
    )
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        status, deadline = None, time.monotonic() + 45  # start-up on a busy machine
        while status is None and time.monotonic() < deadline:
            try:
                status = get(f"http://127.0.0.1:{port}/nowhere")[0]
            except OSError:
                time.sleep(0.02)
        assert status == 404
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        watchdog.cancel()
    assert process.returncode == 0, output
    assert "BOT_TOKEN is not set" in output and "Stopped." in output
    assert "web  INFO    request" in output
    assert '"path": "/nowhere"' in (tmp_path / "logs" / "web.log").read_text()


def test_the_tunnel_is_closed_when_start_up_fails_after_it_opened(
    ngrok_token, app, port, fake_ngrok, monkeypatch, env
):

    def broken(*_args):
        raise RuntimeError("the app would not build")

    monkeypatch.setattr(dev, "app_for_public_url", broken)

    result = app.test_cli_runner().invoke(args=["dev", "--tunnel", "--port", str(port)])

    assert isinstance(result.exception, RuntimeError)
    assert fake_ngrok["disconnect"] == [TUNNEL_URL]
    with socket.socket() as again:  # the port was released
        again.bind(("127.0.0.1", port))
