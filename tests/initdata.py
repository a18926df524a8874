"""Signing Telegram Mini App init data the way Telegram does, for tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

TEST_BOT_TOKEN = "123456789:AAtest-token-for-the-suite-0123456789abcdef"


def sign_init_data(
    user: dict,
    bot_token: str = TEST_BOT_TOKEN,
    auth_date: int | None = None,
    **extra: str,
) -> str:
    """Init data as Telegram puts it in `Telegram.WebApp.initData` (a query string)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        **extra,
    }
    check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
