"""Benchmark of the web app under waitress on loopback.

    python bench/web.py [--seconds 5] [--clients 8] [--database-url URL] [--no-cookies]

Serves the app from a child process (so the load generator does not share its GIL) over a
fresh SQLite file (or the given database, whose tables are created), and measures, in one
run: requests per second of the slot grid (the htmx fragment and the JSON API) and of the
cheapest route (/healthz), the ratio of each grid route to the cheapest, the p50/p99 latency,
and the first-load bytes of the Mini App on the wire with gzip (page + CSS + JS + first
fragment). Each client keeps the cookies it is given, as the Mini App's web view does
(--no-cookies: never, and every grid answer signs a new viewer cookie). The machine's load
average is printed beside the figures: on a shared machine the ratios move with it (between
0.4 and 0.9 for the same code at load averages from 2 to 10), so compare runs taken at a like
load, best interleaved.

Where a repeated grid's time goes (bench/profile_web.py: cProfile in waitress's worker, one
request after another, PostgreSQL, December 2026). The rules' answers are remembered on the
cached snapshot, the fragment's HTML and the JSON API's body (and its gzip) per state, so
what is left of GET /api/slots is: schedule_lock's version read, about a quarter (SQLAlchemy's
session and connection about half of it, the wait for the server the rest); the picture of
the day for the viewer (view_kind), a sixth; Flask's response hooks (the viewer cookie's
check, headers, metrics, logs) a sixth; the init-data check, the session's teardown, the
request context and the kept body's lookup, under a tenth each. Before, PostgreSQL took four
round trips per grid, the same as /healthz's check: the pool's pre-ping, BEGIN, the version
read and ROLLBACK; the JSON was built, encoded and gzipped every time. Now (schedule.db
.read_first) the version read is the pool's check of the connection and runs without a
transaction: one round trip, and requests that come while one is under way share the next
(webapp.snapshots.SharedReads: about half of them under 8 clients). Three runs each, before
and after, interleaved at a load average of 2 to 3.5: PostgreSQL's ratios went from 0.35-0.37
(fragment) and 0.32-0.35 (JSON) to 0.49-0.54 and 0.56-0.58 (0.50-0.53 and 0.54-0.59 with
--no-cookies); SQLite's from 0.52-0.57 and 0.50-0.53 to 0.57-0.62 and 0.63-0.65. With no
database left at all in a repeated grid (an experiment, not a correct app) the JSON would be
near 0.75. The fragment's gzip, then made anew per request, is now kept per body too
(webapp.responses.repeated): three runs at a load average near 2 gave PostgreSQL 0.54-0.59
(fragment) and 0.53-0.58 (JSON), SQLite 0.63 and 0.62.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import multiprocessing
import os
import re
import tempfile
import threading
import time
from datetime import date, datetime, timedelta

from schedule.unit import Actor, Unit

BENCH_TOKEN = "123456:BENCH-token-not-for-telegram-0123456789"
USER = {"id": 4242, "first_name": "Bench", "language_code": "en"}


def _serve(database_url: str, threads: int, port_pipe, middleware=None) -> None:
    import logging
    from dataclasses import replace

    import waitress

    from runtime.config import load_config
    from schedule.db import create_schema, make_engine
    from webapp import create_app

    logging.disable(logging.WARNING)
    engine = make_engine(database_url)
    create_schema(engine)
    engine.dispose()
    # Request rates off: this measures the app, not the limiter.
    unlimited = replace(
        load_config().settings, rate_limit_writes="", rate_limit_reads="", rate_limit_anonymous=""
    )
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BOT_TOKEN": BENCH_TOKEN,
            "DEV_LOGIN": False,
            "SCHEDULE": unlimited,
        }
    )
    _seed(app)
    if middleware is not None:
        app.wsgi_app = middleware(app.wsgi_app)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    port_pipe.send(server.effective_port)
    server.run()


def _seed(app) -> None:
    """A realistic day: a dozen bookings by other clients on the benchmarked date."""
    from schedule import services
    from webapp.extensions import db

    with app.app_context():
        session = db.session()
        settings = app.config["SCHEDULE"]
        day = bench_day()
        starts = "09:00 09:00 10:30 12:00 12:00 12:00 13:30 15:00 15:00 16:00 16:30 08:00"
        for n, start in enumerate(starts.split()):
            user = services.upsert_user(session, {"id": 9000 + n, "first_name": f"C{n}"})
            try:
                services.book(
                    Unit(session, settings, Actor.client(user)),
                    user,
                    day,
                    int(start[:2]) * 60 + int(start[3:]),
                )
            except Exception:  # noqa: BLE001 - a seed refused by the rules is simply skipped
                session.rollback()


def bench_day() -> date:
    return (datetime.now() + timedelta(days=2)).date()


def _auth() -> dict[str, str]:
    from webapp.auth import sign_init_data

    return {"Authorization": "tma " + sign_init_data(USER, BENCH_TOKEN, int(time.time()))}


def load(
    port: int, path: str, headers: dict, seconds: float, clients: int, cookies: bool = True
) -> dict:
    """`clients` keep-alive connections requesting `path` for `seconds`: latencies, time.
    Each client keeps the cookies it is given and sends them back, as the Mini App's web view
    does (`cookies` False: never; the server then signs a new viewer cookie every time)."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        jar: dict[str, str] = {}
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            sent = {**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
            connection.request("GET", path, headers=sent if jar else headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                errors.append(response.status)
            for given in response.msg.get_all("Set-Cookie") or () if cookies else ():
                name, _, value = given.split(";", 1)[0].partition("=")
                jar[name.strip()] = value.strip()
        connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{path}: {len(errors)} non-200 answers, e.g. {errors[0]}")
    return {"latencies": latencies, "elapsed": elapsed}


def in_turns(
    port: int, routes: dict, seconds: float, clients: int, turns: int = 5, cookies: bool = True
) -> dict:
    """Each route measured in `turns` slices, taken in turns, so that load from anything
    else on the machine falls on every route alike."""
    runs: dict[str, list[dict]] = {name: [] for name in routes}
    for _ in range(turns):
        for name, (path, headers) in routes.items():
            runs[name].append(load(port, path, headers, seconds / turns, clients, cookies))
    results = {}
    for name, parts in runs.items():
        latencies = sorted(x for part in parts for x in part["latencies"])
        elapsed = sum(part["elapsed"] for part in parts)
        results[name] = {
            "rps": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "count": len(latencies),
        }
    return results


def fetch(port: int, path: str, headers: dict) -> tuple[int, bytes, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Accept-Encoding": "gzip", **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, dict(response.getheaders())


def first_load(port: int, headers: dict) -> dict[str, int]:
    """Bytes on the wire (gzip) for the page, its CSS and JS, and the first fragment."""
    sizes: dict[str, int] = {}
    status, page, _ = fetch(port, "/", {})
    sizes["/ (page)"] = len(page)
    html = gzip.decompress(page).decode()
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        status, body, response_headers = fetch(port, url, {})
        assert status == 200 and response_headers.get("Content-Encoding") == "gzip", url
        sizes[url.split("?")[0]] = len(body)
    status, fragment, _ = fetch(port, "/app/book", headers)
    assert status == 200
    sizes["/app/book (first fragment)"] = len(fragment)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--no-cookies",
        action="store_true",
        help="clients never send cookies back (each grid answer then signs a viewer cookie)",
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    folder = tempfile.mkdtemp(prefix="bench-web-")
    database_url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(database_url, args.threads, send), daemon=True
    )
    server.start()
    port = receive.recv()
    try:
        headers = {**_auth(), "Accept-Encoding": "gzip"}
        day = bench_day().isoformat()
        routes = {
            "cheapest: GET /healthz": ("/healthz", {"Accept-Encoding": "gzip"}),
            "grid fragment: GET /app/grid": (f"/app/grid?date={day}", headers),
            "grid JSON: GET /api/slots": (f"/api/slots?date={day}", headers),
        }
        cookies = not args.no_cookies
        for path, route_headers in routes.values():  # warm up: connections, caches
            load(port, path, route_headers, 0.5, args.clients, cookies)
        results = in_turns(port, routes, args.seconds, args.clients, cookies=cookies)
        sizes = first_load(port, _auth())
    finally:
        server.terminate()
        server.join()

    backend = database_url.split(":", 1)[0]
    print(
        f"waitress {args.threads} threads, {args.clients} keep-alive clients, "
        f"{args.seconds:g} s per route in 5 turns, {backend}, {os.cpu_count()} CPUs, "
        f"request log lines off, cookies {'never sent back' if args.no_cookies else 'kept'}, "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    for name, result in results.items():
        print(
            f"  {name:32s} {result['rps']:8.0f} req/s   p50 {result['p50_ms']:6.1f} ms"
            f"   p99 {result['p99_ms']:6.1f} ms   ({result['count']} requests)"
        )
    cheapest = results["cheapest: GET /healthz"]["rps"]
    for name in ("grid fragment: GET /app/grid", "grid JSON: GET /api/slots"):
        ratio = results[name]["rps"] / cheapest
        print(f"  ratio {name.split(':')[0]:14s} / cheapest = {ratio:.2f}")
    print("first load, gzip bytes on the wire:")
    for name, size in sizes.items():
        print(f"  {name:34s} {size:7d}")
    print(f"  {'total':34s} {sum(sizes.values()):7d}  ({sum(sizes.values()) / 1024:.1f} KB)")


if __name__ == "__main__":
    main()
