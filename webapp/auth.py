"""Who is asking: Telegram Mini App init data on every request, and the dev login.

Every request the Mini App makes carries ``Authorization: tma <initData>``. The init data
is checked as Telegram documents it: the fields except ``hash``, sorted and joined by
newlines, signed with HMAC-SHA256 under the key HMAC_SHA256("WebAppData", BOT_TOKEN).

Views use the two decorators:

    @bp.get("/something")
    @login_required          # 401 unless the init data is genuine and fresh
    def something():
        g.user   # schedule.models.User, created or refreshed from the init data (a read
                 # with init data already seen reuses the row stored then, without a query)
        g.lang   # "ru" or "en", from the user's language_code

    @admin_required          # as login_required, and 403 unless g.user is in ADMIN_IDS
    @staff_required          # as login_required, and 403 unless an owner or a trainer row;
                             # g.staff (schedule.kinds.Staff) says whose day they manage

A request with genuine init data also gets the viewer cookie: signed with SECRET_KEY, HttpOnly,
naming the Telegram user until the init data it came from expires (INIT_DATA_MAX_AGE). Only
``GET /`` reads it, to paint the viewer's own tab first (webapp/pages.py); it proves nothing
anywhere else, so every other route still needs the init data, and a forged or expired cookie
is no cookie. A write re-issues it, so that a copy of the page the phone keeps (``Vary:
Cookie``) never outlives the viewer's own last act.

With ``DEV_LOGIN=1`` (debug or testing only) ``/dev/login`` lets a plain browser pick a
test user: it signs init data for that user and opens the Mini App with it in the URL
fragment, exactly where Telegram puts it, so the rest of the app cannot tell the difference.
Without BOT_TOKEN that init data is signed with DEV_BOT_TOKEN, which is accepted only while
DEV_LOGIN is on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.exceptions import Forbidden, Unauthorized

from schedule import ScheduleError, User, services
from schedule.kinds import Staff, staff
from schedule.unit import Actor

from .extensions import db
from .i18n import language, t

bp = Blueprint("auth", __name__)

# Allowed skew for an auth_date set by a clock running ahead of ours.
FUTURE_TOLERANCE_SECONDS = 300
READ_METHODS = frozenset({"GET", "HEAD"})
CACHE_SIZE = 4096
DEV_BOT_TOKEN = "0:DEV_LOGIN-only-not-a-telegram-token"
VIEWER_COOKIE = "viewer"

View = TypeVar("View", bound=Callable)


class AuthError(Unauthorized):
    """Missing, forged or expired init data (a 401 whose description says which)."""


@dataclass
class InitData:
    user: dict
    auth_date: int
    # The user row as stored by this init data's first request (a detached copy, never
    # attached to a session): reads reuse it instead of looking the user up again.
    stored: User | None = None


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def signed_fields(raw: str, bot_token: str) -> dict[str, str]:
    """The fields of a query string Telegram signed (init data, a shared contact), hash
    checked in constant time; AuthError when the signature does not match."""
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    received = fields.pop("hash", "")
    check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    expected = hmac.new(_secret(bot_token), check_string.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), received.lower().encode()):
        raise AuthError("Init data signature is not valid.")
    return fields


def verify_init_data(raw: str, bot_token: str, max_age: int, now: float) -> InitData:
    """Parse and check init data as Telegram signs it; raise AuthError when it is not valid."""
    fields = signed_fields(raw, bot_token)
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
    except (KeyError, ValueError):
        raise AuthError("Init data has no user or auth date.") from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise AuthError("Init data has no user.")
    check_age(auth_date, max_age, now)
    return InitData(user=user, auth_date=auth_date)


def check_age(auth_date: int, max_age: int, now: float) -> None:
    if auth_date > now + FUTURE_TOLERANCE_SECONDS or now - auth_date > max_age:
        raise AuthError("Init data has expired; reopen the app.")


class InitDataCache:
    """Verified init-data strings (bounded LRU), so repeat requests skip HMAC and JSON."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], InitData] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, raw: str, bot_token: str, max_age: int, now: float) -> InitData:
        key = (bot_token, raw)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        if found is not None:
            check_age(found.auth_date, max_age, now)
            return found
        verified = verify_init_data(raw, bot_token, max_age, now)
        with self._lock:
            self._items[key] = verified
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return verified


def accepted_tokens() -> list[str]:
    """Bot tokens whose signatures are accepted: BOT_TOKEN, and the dev token under DEV_LOGIN."""
    tokens = [current_app.config["BOT_TOKEN"]] if current_app.config["BOT_TOKEN"] else []
    if current_app.config["DEV_LOGIN"]:
        tokens.append(DEV_BOT_TOKEN)
    return tokens


def current_init_data() -> InitData:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "tma" or not raw.strip():
        raise AuthError("Open the app from Telegram (no init data was sent).")
    tokens = accepted_tokens()
    if not tokens:
        raise AuthError("BOT_TOKEN is not configured.")
    cache: InitDataCache = current_app.extensions["init_data_cache"]
    now = time.time()
    max_age = current_app.config["INIT_DATA_MAX_AGE"]
    error: AuthError | None = None
    for token in tokens:
        try:
            return cache.verify(raw.strip(), token, max_age, now)
        except AuthError as refused:
            error = error or refused
    raise error  # type: ignore[misc]


def authenticate() -> None:
    """Set g.user and g.lang from the request's init data, or raise a 401."""
    if "user" in g:
        return
    init_data = current_init_data()
    if init_data.stored is not None and request.method in READ_METHODS:
        # The same init data was stored already, and a read changes nothing that upsert
        # would look at: the row as it was then serves (with no query).
        g.user = db.session().merge(init_data.stored, load=False)
    else:
        try:
            g.user = services.upsert_user(db.session(), init_data.user)
        except ScheduleError:
            raise AuthError("Init data has no valid user.") from None
        init_data.stored = detached_copy(g.user)
    g.init_data = init_data
    g.lang = language(g.user.language_code)


# --- the viewer cookie: who to paint GET / for, never a proof of identity --------------------


def _viewer_signer() -> URLSafeSerializer | None:
    key = current_app.config.get("SECRET_KEY")
    return URLSafeSerializer(key, salt="viewer") if key else None


def _cookie_fields() -> tuple[int, int, int] | None:
    """The cookie's (telegram_id, expires, stamp) when its signature holds, else None."""
    signer, raw = _viewer_signer(), request.cookies.get(VIEWER_COOKIE)
    if signer is None or not raw:
        return None
    try:
        fields = signer.loads(raw)
    except BadSignature:
        return None
    if not (isinstance(fields, list) and len(fields) == 3):
        return None
    if not all(isinstance(field, int) and not isinstance(field, bool) for field in fields):
        return None
    return fields[0], fields[1], fields[2]


def cookie_viewer() -> int | None:
    """The Telegram id the viewer cookie names while it is genuine and unexpired, else None."""
    fields = _cookie_fields()
    now = time.time()
    if fields is None or not now < fields[1] <= now + current_app.config["INIT_DATA_MAX_AGE"]:
        return None
    return fields[0]


@bp.after_app_request
def issue_viewer_cookie(response: Response) -> Response:
    """After a request the init data proved: name its user in the viewer cookie, until that
    init data expires. Telegram signs new init data at every open, but the cookie is renewed
    only when it names someone else or has run half its time, and after each accepted write (a
    fresh stamp): a page kept by the phone (`Vary: Cookie`) serves the next open until then."""
    init_data: InitData | None = g.get("init_data")
    signer = _viewer_signer()
    if init_data is None or signer is None:
        return response
    now, max_age = int(time.time()), current_app.config["INIT_DATA_MAX_AGE"]
    expires, telegram_id = min(init_data.auth_date, now) + max_age, init_data.user["id"]
    wrote = request.method not in READ_METHODS and response.status_code < 400
    held = _cookie_fields()
    fresh = held is not None and held[0] == telegram_id and held[1] - now > max_age / 2
    if expires <= now or (fresh and not wrote):
        return response
    response.set_cookie(
        VIEWER_COOKIE,
        signer.dumps([telegram_id, expires, time.time_ns() if wrote else 0]),
        max_age=expires - now,
        secure=request.is_secure,
        httponly=True,
        # Telegram's web clients open the app in a frame of another site; browsers take
        # SameSite=None only with Secure, so plain http (development) gets Lax.
        samesite="None" if request.is_secure else "Lax",
    )
    return response


def detached_copy(user: User) -> User:
    copy = User(**{column.key: getattr(user, column.key) for column in User.__table__.columns})
    make_transient_to_detached(copy)
    return copy


def is_admin(user) -> bool:
    """An owner: a Telegram id in ADMIN_IDS."""
    return user.telegram_id in current_app.config["ADMIN_IDS"]


def staff_of(user) -> Staff | None:
    """An owner (ADMIN_IDS) or a trainer added through the API (schedule.kinds.staff decides)."""
    return staff(db.session(), current_app.config["ADMIN_IDS"], user.telegram_id)


def viewer_staff() -> Staff | None:
    """The viewer's staff standing (read once a request), None for a client or nobody."""
    if "user" not in g:
        return None
    if "staff" not in g:
        g.staff = staff_of(g.user)
    return g.staff


@bp.app_template_global()
def is_staff() -> bool:
    """Whether the viewer has the trainer's tab: an owner, or a trainer added through the API."""
    return viewer_staff() is not None


@bp.app_template_global()
def is_owner() -> bool:
    """Whether the viewer manages the whole studio (ADMIN_IDS): a trainer sees their own Day."""
    return "user" in g and is_admin(g.user)


def login_required(view: View) -> View:
    @wraps(view)
    def wrapped(*args, **kwargs):
        authenticate()
        g.actor = Actor.client(g.user)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def staff_required(view: View) -> View:
    """As admin_required, for an owner or any trainer: `g.staff` says whose day they manage."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        authenticate()
        found = staff_of(g.user)
        if found is None:
            raise Forbidden(t("error_403"))
        g.staff = found
        g.actor = Actor.trainer(g.user)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: View) -> View:
    @wraps(view)
    def wrapped(*args, **kwargs):
        authenticate()
        if not is_admin(g.user):
            raise Forbidden(t("error_403"))
        g.actor = Actor.trainer(g.user)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# --- development login -----------------------------------------------------------------

DEV_USERS = (
    {
        "id": 1001,
        "first_name": "Anna",
        "last_name": "Test",
        "username": "anna_test",
        "language_code": "en",
    },
    {
        "id": 1002,
        "first_name": "Борис",
        "last_name": "Тестов",
        "username": "boris_test",
        "language_code": "ru",
    },
)


# Under DEV_LOGIN this id is a trainer too, so a first run can try the trainer's tab without
# knowing a Telegram id; ADMIN_IDS adds real ones.
DEV_TRAINER_ID = 1000


def configure_dev_login(app) -> None:
    """DEV_LOGIN works in debug (`flask run --debug`) and testing only; elsewhere it is off,
    so a `.env` left with DEV_LOGIN=1 never breaks a CLI command (wsgi.py refuses to serve)."""
    if not app.config["DEV_LOGIN"]:
        return
    if not (app.debug or app.testing):
        app.config["DEV_LOGIN"] = False
        app.logger.warning("DEV_LOGIN=1 is ignored outside debug mode (flask run --debug)")
        return
    app.config["ADMIN_IDS"] = frozenset(app.config["ADMIN_IDS"]) | {DEV_TRAINER_ID}


def dev_users() -> list[dict]:
    admins = [
        {
            "id": admin_id,
            "first_name": "Trainer (dev)" if admin_id == DEV_TRAINER_ID else "Trainer",
            "username": f"trainer{admin_id}",
            "language_code": "en",
        }
        for admin_id in sorted(current_app.config["ADMIN_IDS"])
    ]
    return [*DEV_USERS, *admins]


def sign_init_data(user: dict, bot_token: str, auth_date: int) -> str:
    fields = {
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(auth_date),
    }
    check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    fields["hash"] = hmac.new(_secret(bot_token), check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@bp.get("/dev/login")
def dev_login():
    """DEV_LOGIN only: /dev/login lists test users; /dev/login?user=ID opens the app as one."""
    if not current_app.config["DEV_LOGIN"]:
        abort(404)
    users = dev_users()
    chosen = request.args.get("user", "")
    if not chosen:
        return render_template("auth/dev_login.html", users=users, dev_trainer_id=DEV_TRAINER_ID)
    user = next((u for u in users if str(u["id"]) == chosen), None)
    if user is None:
        if not chosen.isdigit() or len(chosen) > 15:
            abort(404)
        user = {
            "id": int(chosen),
            "first_name": f"User {chosen}",
            "language_code": request.args.get("lang", "en")[:8],
        }
    token = current_app.config["BOT_TOKEN"] or DEV_BOT_TOKEN
    init_data = sign_init_data(user, token, int(time.time()))
    return redirect(url_for("pages.index") + "#" + urlencode({"tgWebAppData": init_data}))
