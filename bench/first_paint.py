"""First paint of the Mini App on an emulated phone link, cold and warm (issue 14).

    python bench/first_paint.py [--runs 5] [--database-url URL]

Why: a client opens the app to pick a start. What counts is how soon a bookable start is on
the screen, not when the shell is; this prints both, on the link the issue was measured on.

Serves the app with waitress on loopback (bench/web.py's server: a fresh SQLite file and a
realistic day of other clients' bookings) and opens it in Debian's Chromium (/usr/bin/chromium,
driven by Playwright) as Telegram opens it: init data and theme in the URL fragment. Each run
gets a fresh page under CDP emulation: 150 ms latency, 1.6 Mbit/s down, 0.75 Mbit/s up, CPU
throttled ×4, a 390×844 viewport. Cold runs use a new browser context each (empty HTTP cache,
new connections); warm runs open the app again in a context that has opened it once: the phone
keeps the page until the clock next changes its picture (webapp/pages.py, at most
SLOT_MINUTES), so nothing crosses the link before the grid; "304" runs open it again after
that time: the page is revalidated, static files come from the cache (the bench serves that
page with max-age=0, as every open after the page's lifetime sees it).

telegram.org cannot be reached here, so its script is served by a local HTTPS stub that
Chromium reaches by a host-resolver rule (the HTTP cache stays on, which Playwright's request
routing would turn off, and the emulated link applies to it as to everything else). The stub
has the size of the real script on the wire (about 24 KB: the ~110 KB telegram-web-app.js of
Bot API 8+ gzipped, estimated) and is cacheable for an hour; it defines a minimal
Telegram.WebApp whose ready() sends web_app_ready through the page's TelegramWebviewProxy, as
the real script does on Telegram's mobile apps; the bench's proxy notes the first one, which
is when Telegram would lift its loading placeholder.

Figures, median (and range) of the runs, in ms from navigation start:
  bookable start  the first frame in which a start the page marks bookable is in the viewport
                  (a frame's paint follows its animation frame, so never before the FCP)
  FCP             first contentful paint
  own tab         the viewer's own picture on screen: painted first (a kept viewer cookie) or
                  swapped in (init data sent, answer rendered)
  ready           the app's first web_app_ready (Telegram lifts its placeholder)
  requests/bytes  answered before the bookable start was visible, document included, and their
                  bytes on the wire (Resource Timing transferSize: headers and body as received)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import multiprocessing
import os
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from web import BENCH_TOKEN, USER, _serve

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 390, "height": 844}
LINK = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6e6 / 8,
    "uploadThroughput": 0.75e6 / 8,
}
CPU_SLOWDOWN = 4
TELEGRAM_BYTES = 24_000
THEME = '{"bg_color":"#ffffff","text_color":"#000000","button_color":"#2481cc"}'

TELEGRAM_STUB = """window.Telegram = {WebApp: (() => {
  const launch = new URLSearchParams(location.hash.slice(1));
  const button = {setText() { return button; }, show() { return button; },
    hide() { return button; }, onClick() { return button; }};
  return {initData: launch.get("tgWebAppData") || "", MainButton: button, BackButton: button,
    ready() { TelegramWebviewProxy.postEvent("web_app_ready", "{}"); }, expand() {},
    HapticFeedback: {notificationOccurred() {}}, isVersionAtLeast: () => true};
})()};
"""

# Runs in every document before its own scripts: notes the paint and the grid's moments, and
# stands in for the bridge Telegram's mobile apps put in the page (TelegramWebviewProxy): the
# first web_app_ready is when Telegram would lift its loading placeholder.
MEASURE = """(() => {
  window.TelegramWebviewProxy = {postEvent(type) {
    const first = type === "web_app_ready" && window.__tgReady === undefined;
    if (first) window.__tgReady = performance.now();
  }};
  const m = window.__firstPaint = {fcp: null, start: null, own: null};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === "first-contentful-paint") m.fcp = e.startTime;
  }).observe({type: "paint", buffered: true});
  const inView = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top < innerHeight && r.bottom > 0 &&
      getComputedStyle(el).visibility !== "hidden";
  };
  const frame = () => {
    const now = performance.now();
    if (m.start === null) {
      const start = document.querySelector("[data-slot-start][data-can-start=true]");
      if (start && inView(start)) m.start = now;
    }
    if (m.own === null && document.querySelector("section.view:not([data-anonymous])")) m.own = now;
    if (m.start === null || m.own === null) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();"""

COLLECT = """(start) => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  const before = entries.filter((e) => e.responseEnd <= start);
  return {requests: before.length, bytes: before.reduce((n, e) => n + e.transferSize, 0)};
}"""


class TelegramStub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = (TELEGRAM_STUB + "/*" + "x" * TELEGRAM_BYTES)[: TELEGRAM_BYTES - 2].encode() + b"*/"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.send_response(200)
        self.send_header("Content-Type", "application/javascript")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Cache-Control", "public, max-age=3600")
        self.send_header("Timing-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


def start_telegram_stub(folder: str) -> tuple[int, str]:
    """An HTTPS server on loopback answering for telegram.org (a self-signed certificate)."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", key, "-out", cert, "-subj", "/CN=telegram.org"]
        + ["-addext", "subjectAltName=DNS:telegram.org"],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TelegramStub)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], spki_hash(cert)


def spki_hash(cert: str) -> str:
    """The certificate's public key hash, for --ignore-certificate-errors-spki-list: Chromium
    then trusts it as it would telegram.org's (ignoring errors instead would stop caching)."""
    key = subprocess.run(
        ["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True, capture_output=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=key, check=True, capture_output=True
    ).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Expired:
    """WSGI middleware: the page at /?expired comes with max-age=0, so every open revalidates
    it, as an open after the page's lifetime does."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("QUERY_STRING") != "expired":
            return self.app(environ, start_response)

        def start(status, headers, exc_info=None):
            kept = [(name, value) for name, value in headers if name.lower() != "cache-control"]
            return start_response(
                status, kept + [("Cache-Control", "private, max-age=0")], exc_info
            )

        return self.app(environ, start)


def app_url(port: int, query: str = "") -> str:
    from webapp.auth import sign_init_data

    init_data = sign_init_data(USER, BENCH_TOKEN, int(time.time()))
    fragment = f"tgWebAppData={quote(init_data, safe='')}&tgWebAppThemeParams={quote(THEME)}"
    return f"http://127.0.0.1:{port}/{query}#{fragment}"


def measure(context, url: str) -> dict:
    """Open `url` in a new page of `context` on the emulated link; the figures of that load."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", LINK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.goto(url)
    page.wait_for_function(
        "() => window.__firstPaint.start !== null && window.__firstPaint.own !== null"
        " && window.__firstPaint.fcp !== null && window.__tgReady !== undefined",
        timeout=30_000,
    )
    marks = page.evaluate("window.__firstPaint")
    start = max(marks["start"], marks["fcp"])
    figures = {
        "start": start,
        "fcp": marks["fcp"],
        "own": marks["own"],
        "ready": page.evaluate("window.__tgReady"),
        **page.evaluate(COLLECT, start),
    }
    page.close()
    return figures


def run(port: int, telegram: tuple[int, str], runs: int, scale: float) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {"cold": [], "warm": [], "304": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                f"--host-resolver-rules=MAP telegram.org 127.0.0.1:{telegram[0]}",
                f"--ignore-certificate-errors-spki-list={telegram[1]}",
            ],
        )

        def new_context():
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=scale)
            context.add_init_script(MEASURE)
            return context

        for _ in range(runs):
            context = new_context()
            results["cold"].append(measure(context, app_url(port)))
            context.close()
        context = new_context()
        measure(context, app_url(port))  # the visit that warms the cache
        for _ in range(runs):
            results["warm"].append(measure(context, app_url(port)))
        measure(context, app_url(port, "?expired"))  # that page in the cache too
        for _ in range(runs):
            results["304"].append(measure(context, app_url(port, "?expired")))
        context.close()
        browser.close()
    return results


def report(results: dict[str, list[dict]], runs: int) -> None:
    print(
        f"Chromium {CHROMIUM}, {VIEWPORT['width']}×{VIEWPORT['height']}, "
        f"{LINK['latency']} ms latency, 1.6/0.75 Mbit/s, CPU ×{CPU_SLOWDOWN}, "
        f"median (range) of {runs}, ms from navigation start"
    )
    columns = ("start", "fcp", "own", "ready")
    header = ("bookable start", "FCP", "own tab", "ready")
    titles = "".join(f"{name:>20s}" for name in header)
    print(f"  {'':5s}{titles}   start/FCP  requests   bytes")
    for kind, figures in results.items():
        cells = []
        for column in columns:
            values = [one[column] for one in figures]
            cells.append(
                f"{statistics.median(values):6.0f} ({min(values):4.0f}–{max(values):4.0f})"
            )
        ratio = statistics.median(one["start"] / one["fcp"] for one in figures)
        requests = statistics.median(one["requests"] for one in figures)
        size = statistics.median(one["bytes"] for one in figures)
        print(
            f"  {kind:5s}"
            + "".join(f"{cell:>20s}" for cell in cells)
            + f"   {ratio:9.2f}  {requests:8.0f}  {size:6.0f}"
        )
    print("  requests/bytes: answered before the bookable start was visible, document included")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium is not installed at {CHROMIUM}")

    folder = tempfile.mkdtemp(prefix="bench-first-paint-")
    database_url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(database_url, 8, send, Expired), daemon=True
    )
    server.start()
    port = receive.recv()
    try:
        results = run(port, start_telegram_stub(folder), args.runs, args.scale)
    finally:
        server.terminate()
        server.join()
    report(results, args.runs)


if __name__ == "__main__":
    main()
