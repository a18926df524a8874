"""A fake Bot API server on loopback for the real pyTelegramBotAPI to talk HTTP to.

It answers the methods the bot uses the way Telegram does (including its refusals: bad HTML,
callback data over 64 bytes, editing a message into itself, answering a query twice), records
every call with its parameters, serves injected updates to getUpdates, and can be told to
answer 403 or 429 for a chat or to drop connections.
"""

from __future__ import annotations

import html.parser
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.initdata import TEST_BOT_TOKEN

JSON_PARAMS = {
    "reply_markup",
    "commands",
    "menu_button",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "entities",
    "reply_parameters",
}
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
BAD_LT = re.compile(r"<(?![a-zA-Z/])")
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
RECHECK_S = 0.05  # how often wait_for looks again though no call arrived


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200


class ApiError(Exception):
    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class _TagChecker(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problem = f'Unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problem = f'Unexpected end tag "{tag}"'

    def handle_entityref(self, name):
        if name not in ("lt", "gt", "amp", "quot"):
            self.problem = f'Unsupported HTML entity "&{name};"'


def check_html(text: str) -> None:
    """Refuse what Telegram refuses in parse_mode HTML."""
    if BAD_AMPERSAND.search(text) or BAD_LT.search(text):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped character")
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.problem or checker.open:
        raise ApiError(400, f"Bad Request: can't parse entities: {checker.problem or 'unclosed'}")


def plain_text(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def check_markup(markup: dict | None) -> None:
    if not markup or "inline_keyboard" not in markup:
        return
    for row in markup["inline_keyboard"]:
        for button in row:
            kinds = [k for k in ("callback_data", "url", "web_app") if k in button]
            if not button.get("text") or len(kinds) != 1:
                raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "web_app" in button and not button["web_app"].get("url", "").startswith("https://"):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


class FakeTelegram:
    def __init__(self, token: str = TEST_BOT_TOKEN) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Studio",
            "username": "studio_test_bot",
        }
        self.calls: list[Call] = []
        # Payments: invoices made (createInvoiceLink, sendInvoice) and checkout answers by id.
        self.invoices: list[dict] = []
        self.checkout_answers: dict[str, dict] = {}
        self.star_refunds: list[dict] = []
        self.arrived: list[Call] = []  # every call as it arrives, before it is answered
        self.messages: dict[tuple[int, int], dict] = {}
        self.webhook_url = ""
        self._changed = threading.Condition()
        self._updates: list[dict] = []
        self._confirmed = 0  # the highest getUpdates offset seen
        self._ids = {"update": 0, "message": 0, "query": 0}
        self._open_queries: set[str] = set()
        # Edits Telegram refused as "message is not modified": the bot sent an edit that
        # changed nothing (tests/fixtures_bot.py holds every bot test to none).
        self.not_modified: list[dict] = []
        self._failures: dict[int, list[ApiError]] = {}
        self._drops = 0
        self._hangs: dict[int, list[float]] = {}
        self._outages: list[tuple[int | None, int, float]] = []  # (chat or None, status, until)
        self.send_delay = 0.0  # seconds every sendMessage takes (a slow Telegram)
        self._closing = False
        self._polls_released = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        # serve_forever looks for shutdown() between polls: a short poll lets stop() return at
        # once (the default 0.5 s was waited out by every bot test's teardown).
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # -- what tests set up -----------------------------------------------------------------

    def _next(self, kind: str) -> int:
        with self._changed:
            self._ids[kind] += 1
            return self._ids[kind]

    def fail(self, chat_id: int, status: int, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls naming `chat_id` get a 403 (blocked) or 429 (flood)."""
        if status == 403:
            error = ApiError(403, "Forbidden: bot was blocked by the user")
        elif status == 429:
            error = ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        else:
            error = ApiError(status, "Bad Request")
        with self._changed:
            self._failures.setdefault(chat_id, []).extend([error] * times)

    def hang(self, chat_id: int, seconds: float, times: int = 1) -> None:
        """The next `times` calls naming `chat_id` answer only after `seconds` (a hang)."""
        with self._changed:
            self._hangs.setdefault(chat_id, []).extend([seconds] * times)

    def outage(self, status: int, seconds: float, chat_id: int | None = None) -> None:
        """For the next `seconds`, sendMessage (to `chat_id`, or to anyone) answers `status`."""
        with self._changed:
            self._outages.append((chat_id, status, time.monotonic() + seconds))

    def end_outages(self) -> None:
        with self._changed:
            self._outages.clear()

    def release_polls(self) -> None:
        """From now on getUpdates answers at once, also the calls waiting now (a bot being
        stopped need not wait out its long poll)."""
        with self._changed:
            self._polls_released = True
            self._changed.notify_all()

    def drop_connections(self, times: int) -> None:
        """The next `times` requests are cut off without an answer (a network failure)."""
        with self._changed:
            self._drops += times

    def message_update(self, user: dict, text: str) -> dict:
        message = self._user_message(user, text=text)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": self.next_update_id(), "message": message}

    def contact_update(self, user: dict, phone: str, contact_user_id: int | None = None) -> dict:
        contact = {
            "phone_number": phone,
            "first_name": user["first_name"],
            "user_id": user["id"] if contact_user_id is None else contact_user_id,
        }
        return {
            "update_id": self._next("update"),
            "message": self._user_message(user, contact=contact),
        }

    def membership_update(self, user: dict, status: str) -> dict:
        """The user blocked the bot ("kicked") or started it again ("member")."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        change = {
            "chat": chat,
            "from": user,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": self.bot_user},
            "new_chat_member": {"status": status, "user": self.bot_user, "until_date": 0},
        }
        return {"update_id": self._next("update"), "my_chat_member": change}

    def callback_update(self, user: dict, message: dict | None, data: str) -> dict:
        query_id = str(self._next("query"))
        with self._changed:
            self._open_queries.add(query_id)
        query = {"id": query_id, "from": user, "chat_instance": "1", "data": data}
        if message is not None:
            query["message"] = message
        return {"update_id": self._next("update"), "callback_query": query}

    def next_update_id(self) -> int:
        return self._next("update")

    def enqueue(self, update: dict) -> None:
        """Make `update` available to getUpdates. Like Telegram's, update ids only grow: an
        offset confirms every update below it, so one out of order would be lost or repeated."""
        with self._changed:
            if self._updates and update["update_id"] <= self._updates[-1]["update_id"]:
                raise ValueError(f"update {update['update_id']} is out of order")
            if update["update_id"] < self._confirmed:
                raise ValueError(f"update {update['update_id']} was confirmed already")
            self._updates.append(update)
            self._changed.notify_all()

    def _user_message(self, user: dict, **content: Any) -> dict:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {
            "message_id": self._next("message"),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }

    # -- what tests read -------------------------------------------------------------------

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        with self._changed:
            return [c for c in self.calls[since:] if c.method == method]

    def arrivals(self, method: str, chat_id: int) -> list[Call]:
        """Calls of `method` naming `chat_id` that reached the server, answered or not yet (a
        request the server got counts, whether or not its answer reached the caller)."""
        with self._changed:
            return [
                c
                for c in self.arrived
                if c.method == method and str(c.params.get("chat_id")) == str(chat_id)
            ]

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `condition()` is truthy: re-checked on every call the server gets, and
        every RECHECK_S besides (a condition may read what the server never sees, such as the
        outbox's rows: woken only by calls, it waited out its whole timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := condition()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {condition}")
                self._changed.wait(min(remaining, RECHECK_S))
        return result

    def last_message(self, chat_id: int) -> dict:
        """The bot's newest message in `chat_id` as it looks now (after any edits)."""
        with self._changed:
            mine = [m for (chat, _), m in self.messages.items() if chat == chat_id]
        if not mine:
            raise AssertionError(f"the bot sent nothing to {chat_id}")
        return max(mine, key=lambda m: m["message_id"])

    def unanswered_queries(self) -> set[str]:
        with self._changed:
            return set(self._open_queries)

    # -- the Bot API -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave as two writes; with Nagle's algorithm on, the body waits
            # for the client's delayed ACK of the headers: 40 ms per call on loopback, where
            # Telegram's own answer takes a fraction of that.
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                with fake._changed:
                    drop = fake._drops > 0
                    fake._drops -= drop
                if drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, body = fake._dispatch(self.path, self._params())
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _params(self) -> dict[str, Any]:
                params = dict(parse_qsl(urlsplit(self.path).query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type", "")
                if raw and kind.startswith("application/json"):
                    params.update(json.loads(raw))
                elif raw and kind.startswith("application/x-www-form-urlencoded"):
                    params.update(parse_qsl(raw.decode()))
                for name, value in params.items():
                    if value in ("True", "False", "true", "false"):
                        params[name] = value.lower() == "true"
                for name in JSON_PARAMS & params.keys():
                    if isinstance(params[name], str):
                        params[name] = json.loads(params[name])
                return params

        return Handler

    def _dispatch(self, path: str, params: dict[str, Any]) -> tuple[int, dict]:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", urlsplit(path).path)
        if not match or match[1] != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = match[2]
        with self._changed:
            self.arrived.append(Call(method, dict(params)))
            self._changed.notify_all()
        call = Call(method, params)
        try:
            result = self._answer(method, params)
        except ApiError as error:
            call.status = error.status
            status, body = error.status, error.body()
        else:
            status, body = 200, {"ok": True, "result": result}
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return status, body

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"]) if "chat_id" in params else None
        with self._changed:
            hangs = self._hangs.get(chat_id)
            hang = hangs.pop(0) if hangs else 0.0
            now = time.monotonic()
            outage = next(
                (
                    status
                    for chat, status, until in self._outages
                    if now < until and method == "sendMessage" and chat in (None, chat_id)
                ),
                None,
            )
        if hang or (method == "sendMessage" and self.send_delay):
            time.sleep(hang or self.send_delay)
        if outage is not None:
            raise ApiError(outage, "Internal Server Error" if outage >= 500 else "Refused")
        with self._changed:
            failures = self._failures.get(chat_id)
            if failures:
                raise failures.pop(0)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(params)

    def _api_getMe(self, params):
        return self.bot_user

    def _api_getUpdates(self, params):
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        timeout = min(float(params.get("timeout", 0)), 10.0)
        with self._changed:
            self._confirmed = max(self._confirmed, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._changed.wait_for(
                lambda: self._updates or self._closing or self._polls_released, timeout
            )
            return self._updates[:limit]

    def _api_sendMessage(self, params):
        text = str(params.get("text", ""))
        self._check_text(text, params)
        markup = params.get("reply_markup")
        check_markup(markup)
        chat_id = int(params["chat_id"])
        message = {
            "message_id": self._next("message"),
            "from": self.bot_user,
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": plain_text(text) if params.get("parse_mode") == "HTML" else text,
            "html": text,
        }
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        with self._changed:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    def _edit(self, params, text: str | None):
        key = (int(params["chat_id"]), int(params["message_id"]))
        markup = params.get("reply_markup")
        check_markup(markup)
        with self._changed:
            message = self.messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            new_html = message["html"] if text is None else text
            if new_html == message["html"] and markup == message.get("reply_markup"):
                self.not_modified.append(dict(params))
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new "
                    "message content and reply markup are exactly the same",
                )
            message["html"] = new_html
            message["text"] = plain_text(new_html)
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            return dict(message)

    def _api_editMessageText(self, params):
        text = str(params.get("text", ""))
        self._check_text(text, params)
        return self._edit(params, text)

    def _api_editMessageReplyMarkup(self, params):
        return self._edit(params, None)

    def _api_answerCallbackQuery(self, params):
        query_id = str(params.get("callback_query_id"))
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._changed:
            if query_id not in self._open_queries:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout "
                    "expired or query ID is invalid",
                )
            self._open_queries.discard(query_id)
        return True

    def _api_setMyCommands(self, params):
        return True

    def _api_setChatMenuButton(self, params):
        button = params.get("menu_button") or {}
        if button.get("type") == "web_app" and not button["web_app"]["url"].startswith("https://"):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return True

    def _api_setWebhook(self, params):
        self.webhook_url = params.get("url", "")
        return True

    def _api_deleteWebhook(self, params):
        self.webhook_url = ""
        return True

    def _api_getWebhookInfo(self, params):
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}

    # -- payments, checked like Telegram checks them -------------------------------------

    def pre_checkout_update(
        self, user: dict, payload: str, total_amount: int, currency: str = "RUB"
    ) -> dict:
        query = {
            "id": str(self._next("query")),
            "from": user,
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        return {"update_id": self._next("update"), "pre_checkout_query": query}

    def successful_payment_update(
        self,
        user: dict,
        payload: str,
        total_amount: int,
        charge_id: str,
        currency: str = "RUB",
        update_id: int | None = None,
    ) -> dict:
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "provider-" + charge_id,
        }
        message = self._user_message(user, successful_payment=payment)
        return {"update_id": update_id or self._next("update"), "message": message}

    def _invoice(self, params) -> dict:
        prices = params.get("prices")
        prices = json.loads(prices) if isinstance(prices, str) else prices
        currency = str(params.get("currency", ""))
        if not 1 <= len(str(params.get("title", ""))) <= 32:
            raise ApiError(400, "Bad Request: INVOICE_TITLE_INVALID")
        if not 1 <= len(str(params.get("description", ""))) <= 255:
            raise ApiError(400, "Bad Request: INVOICE_DESCRIPTION_INVALID")
        payload = str(params.get("payload", params.get("invoice_payload", "")))
        if not 1 <= len(payload.encode()) <= 128:
            raise ApiError(400, "Bad Request: INVOICE_PAYLOAD_INVALID")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ApiError(400, "Bad Request: CURRENCY_INVALID")
        if currency != "XTR" and not params.get("provider_token"):
            raise ApiError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
        if not prices or not all(
            isinstance(p.get("amount"), int) and p.get("label") for p in prices
        ):
            raise ApiError(400, "Bad Request: INVOICE_PRICES_INVALID")
        invoice = {**params, "payload": payload, "prices": prices}
        with self._changed:
            self.invoices.append(invoice)
        return invoice

    def _api_createInvoiceLink(self, params):
        self._invoice(params)
        return f"https://t.me/$fake{len(self.invoices)}"

    def _api_sendInvoice(self, params):
        invoice = self._invoice(params)
        chat_id = int(params["chat_id"])
        message = {
            "message_id": self._next("message"),
            "from": self.bot_user,
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "invoice": {
                "title": invoice["title"],
                "description": invoice["description"],
                "start_parameter": "",
                "currency": invoice["currency"],
                "total_amount": sum(p["amount"] for p in invoice["prices"]),
            },
        }
        with self._changed:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    def _api_answerPreCheckoutQuery(self, params):
        query_id = str(params.get("pre_checkout_query_id", ""))
        ok = params.get("ok")
        if not isinstance(ok, bool):
            raise ApiError(400, "Bad Request: ok must be a boolean")
        if not ok and not params.get("error_message"):
            raise ApiError(400, "Bad Request: ERROR_MESSAGE_EMPTY")
        with self._changed:
            if query_id in self.checkout_answers:
                raise ApiError(400, "Bad Request: QUERY_ID_INVALID")
            answer = {"ok": ok, "error_message": params.get("error_message")}
            self.checkout_answers[query_id] = answer
        return True

    def _api_refundStarPayment(self, params):
        if not params.get("user_id") or not params.get("telegram_payment_charge_id"):
            raise ApiError(400, "Bad Request: CHARGE_ID_INVALID")
        with self._changed:
            self.star_refunds.append(dict(params))
        return True

    def _check_text(self, text: str, params) -> None:
        if not text or len(plain_text(text)) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message text is empty or too long")
        if params.get("parse_mode") == "HTML":
            check_html(text)
