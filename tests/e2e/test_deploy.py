"""deploy/: the systemd units' waitress settings hold, and behave as documented behind a proxy."""

from __future__ import annotations

import re
import runpy
import shlex
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from waitress.adjustments import Adjustments

from tests.fixtures_web import serve
from tests.runtime.test_cli import ENV, make_app
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def exec_start(unit: str) -> list[str]:
    text = (DEPLOY / unit).read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def waitress_settings() -> tuple[dict, list[str]]:
    command = exec_start("booking-web.service")
    assert command[0].endswith("/waitress-serve")
    options, args = Adjustments.parse_args(command[1:])
    options = {k: v for k, v in options.items() if k not in ("help", "call")}
    return options, args


def test_the_web_unit_runs_wsgi_app_with_settings_waitress_accepts():
    options, args = waitress_settings()
    adjustments = Adjustments(**options)

    assert args == ["wsgi:app"]
    assert adjustments.threads == 8
    assert adjustments.trusted_proxy == "127.0.0.1"
    assert adjustments.trusted_proxy_headers == {
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
    }
    assert adjustments.clear_untrusted_proxy_headers is True
    assert adjustments.url_scheme == "https"
    assert options["listen"].strip() == "127.0.0.1:8000"


def test_nginx_proxies_to_the_port_waitress_listens_on_and_serves_the_static_folder():
    nginx = (DEPLOY / "nginx.conf").read_text()
    options, _ = waitress_settings()

    assert f"server {options['listen'].strip()};" in nginx
    [static] = re.findall(r"alias (\S+);", nginx)
    assert static.rstrip("/").endswith("webapp/static")
    assert (ROOT / "webapp" / "static").is_dir()
    assert nginx.count("{") == nginx.count("}")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header}" in nginx


def test_the_bot_unit_runs_bot_main():
    command = exec_start("booking-bot.service")

    assert command[-1] == "bot_main.py" and (ROOT / "bot_main.py").exists()


def test_wsgi_py_builds_the_app(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")

    app = runpy.run_path(str(ROOT / "wsgi.py"))["app"]

    assert app.name == "webapp"
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def behind_proxy(tmp_path, monkeypatch):
    """The app under waitress with the unit's proxy settings, on a free loopback port."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    options, _ = waitress_settings()
    url, stop = serve(app, **options)
    yield url
    stop()
    with app.app_context():
        db.engine.dispose()


def status(url: str, **headers: str) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_forwarded_client_addresses_are_believed_from_nginx(behind_proxy):
    # nginx on 127.0.0.1 forwards an outside client: /metrics must see that client, not nginx.
    assert status(f"{behind_proxy}/metrics") == 200
    assert status(f"{behind_proxy}/metrics", **{"X-Forwarded-For": "198.51.100.7"}) == 404
    assert status(f"{behind_proxy}/healthz", **{"X-Forwarded-Proto": "https"}) == 200


def test_nginx_holds_slow_clients_and_floods_off_waitress():
    nginx = (DEPLOY / "nginx.conf").read_text()
    zones = dict(re.findall(r"limit_(req|conn)_zone \$binary_remote_addr zone=(\w+):", nginx))
    assert set(zones) == {"req", "conn"}
    location = nginx[nginx.index("location / {") :]
    assert re.search(rf"limit_req zone={zones['req']} burst=\d+ nodelay;", location)
    assert re.search(rf"limit_conn {zones['conn']} \d+;", nginx)
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert re.search(rf"{directive} \d+s;", nginx), directive
    assert "limit_req_status 429;" in nginx and "limit_conn_status 429;" in nginx
    assert "nginx must stay in front of waitress" in (DEPLOY / "README.md").read_text()


def test_the_worker_unit_runs_the_worker_command():
    command = exec_start("booking-worker.service")

    assert command[0].endswith("/flask") and command[1:] == ["--app", "webapp", "worker"]


def test_every_command_the_readme_gives_runs_from_the_clone():
    """One form throughout: each command is .venv/bin/<tool>, which the first command makes."""
    readme = (ROOT / "README.md").read_text()
    for tool in ("flask --app", "python bot_main.py", "python bench/", "waitress-serve"):
        bare = re.findall(rf"`{re.escape(tool)}", readme)
        assert bare == [], f"`{tool}` without .venv/bin/ in README.md"
    for script in re.findall(r"\.venv/bin/python ((?:bench/)?\w+\.py)", readme):
        assert (ROOT / script).exists(), script
