"""Init data on every request: genuine and fresh passes, anything else is a 401; admins only on
admin routes; verified strings cached; the dev login."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pytest

from schedule import User
from tests.fixtures_web import ANNA, BORIS, TRAINER, auth, build_app
from tests.initdata import TEST_BOT_TOKEN, sign_init_data
from webapp import auth as auth_module
from webapp.extensions import db


def assert_401(response) -> None:
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.json["message"]


def test_genuine_init_data_is_accepted_and_the_user_stored(app, client):
    response = client.get("/api/bookings", headers=auth(ANNA))
    assert response.status_code == 200
    with app.app_context():
        user = db.session.query(User).filter_by(telegram_id=ANNA["id"]).one()
    assert (user.first_name, user.username, user.language_code) == ("Anna", "anna", "en")


def test_a_changed_name_is_stored_on_the_next_request(app, client):
    client.get("/api/bookings", headers=auth(ANNA))
    client.get("/api/bookings", headers=auth({**ANNA, "first_name": "Anya"}))
    with app.app_context():
        assert db.session.query(User).filter_by(telegram_id=ANNA["id"]).one().first_name == "Anya"


@pytest.mark.parametrize(
    "header", [None, "", "tma ", "Bearer abc", "tma garbage", "tma hash=00", "tma hash=%C3%A9"]
)
def test_missing_or_malformed_init_data_is_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    assert_401(client.get("/api/bookings", headers=headers))


def test_forged_user_is_401(client):
    genuine = dict(parse_qsl(sign_init_data(ANNA)))
    genuine["user"] = json.dumps({**ANNA, "id": TRAINER["id"]})
    assert_401(client.get("/api/bookings", headers={"Authorization": "tma " + urlencode(genuine)}))


def test_another_bots_init_data_is_401(client):
    other = "987654321:BBanother-bot-token-0123456789abcdefgh"
    assert_401(client.get("/api/bookings", headers=auth(ANNA, bot_token=other)))


def test_expired_init_data_is_401(app, client):
    max_age = app.config["INIT_DATA_MAX_AGE"]
    stale = auth(ANNA, auth_date=int(time.time()) - max_age - 60)
    assert_401(client.get("/api/bookings", headers=stale))
    fresh_enough = auth(ANNA, auth_date=int(time.time()) - max_age + 60)
    assert client.get("/api/bookings", headers=fresh_enough).status_code == 200


def test_init_data_from_more_than_five_minutes_ahead_is_401(client):
    ahead = auth(ANNA, auth_date=int(time.time()) + 6 * 60)
    assert_401(client.get("/api/bookings", headers=ahead))
    slightly_ahead = auth(ANNA, auth_date=int(time.time()) + 4 * 60)
    assert client.get("/api/bookings", headers=slightly_ahead).status_code == 200


@pytest.mark.parametrize("user", ["not json", json.dumps({"first_name": "No id"}), json.dumps([1])])
def test_signed_init_data_without_a_valid_user_is_401(client, user):
    fields = dict(parse_qsl(sign_init_data(ANNA)))
    fields.pop("hash")
    fields["user"] = user
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = auth_module._secret(TEST_BOT_TOKEN)
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert_401(client.get("/api/bookings", headers={"Authorization": "tma " + urlencode(fields)}))


def test_no_bot_token_configured_refuses_everyone(database_url, clock):
    app = build_app(database_url, clock, BOT_TOKEN="")
    assert_401(app.test_client().get("/api/bookings", headers=auth(ANNA)))


def test_a_repeated_init_data_string_is_verified_once(client, monkeypatch):
    calls = []
    real = auth_module.verify_init_data
    monkeypatch.setattr(auth_module, "verify_init_data", lambda *a: calls.append(a) or real(*a))
    headers = auth(ANNA)
    for _ in range(3):
        assert client.get("/api/bookings", headers=headers).status_code == 200
    assert len(calls) == 1


def test_a_cached_init_data_string_still_expires(app, client, monkeypatch):
    headers = auth(ANNA)
    assert client.get("/api/bookings", headers=headers).status_code == 200
    later = time.time() + app.config["INIT_DATA_MAX_AGE"] + 60
    monkeypatch.setattr(auth_module.time, "time", lambda: later)
    assert_401(client.get("/api/bookings", headers=headers))


def test_the_cache_is_bounded_and_forgets_the_least_recent():
    cache = auth_module.InitDataCache(size=2)
    now = time.time()
    token = TEST_BOT_TOKEN
    first, second, third = (sign_init_data({**ANNA, "id": n}) for n in (1, 2, 3))
    for raw in (first, second, first, third):
        cache.verify(raw, token, 86400, now)
    assert set(raw for _, raw in cache._items) == {first, third}


def test_admin_routes_are_403_for_clients_and_open_to_admins(client):
    forbidden = client.get("/api/admin/bookings?date=2026-11-26", headers=auth(ANNA))
    assert forbidden.status_code == 403
    assert forbidden.json["error"] == "forbidden"
    allowed = client.get("/api/admin/bookings?date=2026-11-26", headers=auth(TRAINER))
    assert allowed.status_code == 200
    assert client.get("/app/admin", headers=auth(ANNA)).status_code == 403
    assert client.get("/app/admin", headers=auth(TRAINER)).status_code == 200


def test_admin_routes_without_init_data_are_401_not_403(client):
    assert_401(client.get("/api/admin/bookings?date=2026-11-26"))


def test_the_language_follows_the_users_language_code(client):
    english = client.get("/api/slots?date=bad", headers=auth(ANNA))
    russian = client.get("/api/slots?date=bad", headers=auth(BORIS))
    assert english.status_code == russian.status_code == 400
    assert "date" in english.json["message"]
    assert russian.json["message"] == "Дату пишут так: 2026-01-31."  # the catalog's Russian


# --- the dev login -----------------------------------------------------------------------


def dev_app(database_url, clock, **config):
    return build_app(database_url, clock, DEV_LOGIN=True, BOT_TOKEN="", **config)


def test_dev_login_lists_test_users_and_admins(database_url, clock):
    client = dev_app(database_url, clock).test_client()
    page = client.get("/dev/login").get_data(as_text=True)
    assert "/dev/login?user=1001" in page
    assert f"/dev/login?user={TRAINER['id']}" in page


def test_dev_login_opens_the_app_with_init_data_that_authenticates(database_url, clock):
    client = dev_app(database_url, clock).test_client()
    response = client.get("/dev/login?user=1002")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/"
    init_data = dict(parse_qsl(location.fragment))["tgWebAppData"]
    user = json.loads(dict(parse_qsl(init_data))["user"])
    assert user["id"] == 1002 and user["language_code"] == "ru"
    api = client.get("/api/bookings", headers={"Authorization": "tma " + init_data})
    assert api.status_code == 200


def test_dev_login_accepts_any_numeric_id(database_url, clock):
    client = dev_app(database_url, clock).test_client()
    fragment = urlsplit(client.get("/dev/login?user=4242&lang=ru").headers["Location"]).fragment
    init_data = unquote(fragment.split("=", 1)[1])
    assert json.loads(dict(parse_qsl(init_data))["user"])["id"] == 4242
    assert client.get("/dev/login?user=abc").status_code == 404


def test_without_dev_login_there_is_no_dev_route_and_dev_signatures_fail(app, client):
    assert client.get("/dev/login?user=1001").status_code == 404
    forged = sign_init_data(ANNA, bot_token=auth_module.DEV_BOT_TOKEN)
    assert_401(client.get("/api/bookings", headers={"Authorization": "tma " + forged}))


def test_dev_login_is_off_outside_debug_and_testing_but_breaks_nothing(database_url, clock):
    app = build_app(database_url, clock, DEV_LOGIN=True, TESTING=False)  # no exception
    client = app.test_client()

    assert app.config["DEV_LOGIN"] is False
    assert client.get("/dev/login").status_code == 404
    forged = sign_init_data(ANNA, bot_token=auth_module.DEV_BOT_TOKEN)
    assert_401(client.get("/api/bookings", headers={"Authorization": "tma " + forged}))
    assert auth_module.DEV_TRAINER_ID not in app.config["ADMIN_IDS"]


def test_a_env_with_dev_login_breaks_no_cli_command_and_wsgi_refuses_to_serve(tmp_path):
    env = {
        **os.environ,
        "DEV_LOGIN": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_DIR": str(tmp_path),
    }
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "flask", "--app", "webapp", "db", "upgrade"]

    def run(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)

    # Each process spends seconds importing the app: the two start side by side.
    with ThreadPoolExecutor(2) as pool:
        upgrading = pool.submit(run, command)
        serving = pool.submit(run, [sys.executable, "-c", "import wsgi"])
        upgrade, serve = upgrading.result(), serving.result()
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Traceback" not in upgrade.stderr

    assert serve.returncode == 1
    assert "DEV_LOGIN=1" in serve.stderr and "Traceback" not in serve.stderr


def test_dev_login_offers_a_trainer_without_admin_ids(database_url, clock):
    app = dev_app(database_url, clock, ADMIN_IDS=frozenset())
    page = app.test_client().get("/dev/login").get_data(as_text=True)

    assert f"/dev/login?user={auth_module.DEV_TRAINER_ID}" in page
    assert "Trainer (dev)" in page and "ADMIN_IDS" in page
    init_data = dev_init_data(app, auth_module.DEV_TRAINER_ID)
    trainer = app.test_client().get("/api/admin/bookings?date=2026-11-26", headers=init_data)
    assert trainer.status_code == 200


def dev_init_data(app, user_id: int) -> dict[str, str]:
    location = app.test_client().get(f"/dev/login?user={user_id}").headers["Location"]
    init_data = dict(parse_qsl(urlsplit(location).fragment))["tgWebAppData"]
    return {"Authorization": "tma " + init_data}


def test_under_dev_login_a_401_fragment_points_to_the_dev_login(database_url, clock):
    client = dev_app(database_url, clock).test_client()
    response = client.get("/app/book")
    assert response.status_code == 401
    assert 'href="/dev/login"' in response.get_data(as_text=True)
