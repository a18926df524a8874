"""Where one route's time goes in the server process: cProfile and round trips per request.

    python bench/profile_web.py [--path /api/slots] [--requests 2000] [--database-url URL]

Serves the app as bench/web.py does (waitress, one thread, so that the profile is that of one
request after another), warms the route up, then profiles `--requests` requests of it in the
server's worker thread and counts, per request: pool checkouts, the pool's pings, statements
SQLAlchemy sent, and (PostgreSQL, libpq's trace) round trips after the checkout: BEGIN and
ROLLBACK included, the pings not (they come before; add `pings` for every round trip).
Prints the counts and the profile's top functions by their own and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import sys
import tempfile
import threading
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.web import _auth, _serve, bench_day  # noqa: E402

WARM_UP = 50  # requests of the route before the profile starts


def _counting(path: str, requests: int, out: str):
    """WSGI middleware: profile and count `requests` requests of `path`, then write the
    report to `out`."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    counts: Counter = Counter()
    local = threading.local()

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(*_args) -> None:
        if getattr(local, "on", False):
            counts["statements"] += 1

    @event.listens_for(Pool, "checkout")
    def _checkout(*_args) -> None:
        if getattr(local, "on", False):
            counts["checkouts"] += 1

    from sqlalchemy.engine.default import DefaultDialect

    ping = DefaultDialect.do_ping

    def counted_ping(self, dbapi_connection):
        if getattr(local, "on", False):
            counts["pings"] += 1
        return ping(self, dbapi_connection)

    DefaultDialect.do_ping = counted_ping
    for cls in DefaultDialect.__subclasses__():
        for sub in [cls, *cls.__subclasses__()]:
            if "do_ping" in vars(sub):
                original = vars(sub)["do_ping"]

                def wrapped(self, dbapi_connection, _original=original):
                    if getattr(local, "on", False):
                        counts["pings"] += 1
                    return _original(self, dbapi_connection)

                sub.do_ping = wrapped

    @event.listens_for(Pool, "checkout")
    def _trace(dbapi_connection, *_args) -> None:
        """PostgreSQL: libpq's trace of what the connection sends while checked out (the
        pool's pre-ping comes before this event: `pings` counts it)."""
        if getattr(local, "on", False) and hasattr(dbapi_connection, "pgconn"):
            local.trace = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed at checkin
            dbapi_connection.pgconn.trace(local.trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(1)  # psycopg.pq.Trace.SUPPRESS_TIMESTAMPS

    @event.listens_for(Pool, "checkin")
    def _untrace(dbapi_connection, *_args) -> None:
        trace = getattr(local, "trace", None)
        if trace is None or dbapi_connection is None:
            return
        local.trace = None
        dbapi_connection.pgconn.untrace()
        trace.seek(0)
        for line in trace.read().splitlines():
            fields = line.split("\t")
            # A round trip ends with a simple Query or with the Sync after an extended one.
            if len(fields) > 2 and fields[0] == "F" and fields[2] in ("Query", "Sync"):
                counts["round trips after checkout"] += 1
        trace.close()

    profiler = cProfile.Profile()

    def middleware(app):
        done = [0]
        seen = [0]

        def wrapped(environ, start_response):
            if environ.get("PATH_INFO") == path:
                seen[0] += 1
            measured = environ.get("PATH_INFO") == path and seen[0] > WARM_UP
            if not measured or done[0] >= requests:
                return app(environ, start_response)
            local.on = True
            profiler.enable()
            try:
                return list(app(environ, start_response))
            finally:
                profiler.disable()
                local.on = False
                done[0] += 1
                counts["requests"] += 1
                if done[0] == requests:
                    report = io.StringIO()
                    n = counts["requests"]
                    per = {k: round(v / n, 2) for k, v in counts.items() if k != "requests"}
                    print(f"{path}: {n} requests; per request: {per}", file=report)
                    stats = pstats.Stats(profiler, stream=report)
                    print(
                        f"profiled time per request: {stats.total_tt / n * 1000:.3f} ms",
                        file=report,
                    )
                    stats.sort_stats("tottime").print_stats(25)
                    stats.sort_stats("cumulative").print_stats(45)
                    with open(out, "w") as file:
                        file.write(report.getvalue())

        return wrapped

    return middleware


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default="/api/slots")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-profile-")
    out = os.path.join(folder, "report.txt")
    database_url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
    receive, send = multiprocessing.Pipe(duplex=False)
    middleware = _counting(args.path, args.requests, out)
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(database_url, 1, send, middleware), daemon=True
    )
    server.start()
    port = receive.recv()
    try:
        headers = {**_auth(), "Accept-Encoding": "gzip"}
        query = f"?date={bench_day().isoformat()}" if args.path != "/healthz" else ""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        jar: dict[str, str] = {}  # cookies kept, as bench/web.py's clients (and web views) do
        for _ in range(args.requests + WARM_UP + 50):
            cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
            connection.request("GET", args.path + query, headers={**headers, **cookie})
            response = connection.getresponse()
            response.read()
            for given in response.msg.get_all("Set-Cookie") or ():
                name, _, value = given.split(";", 1)[0].partition("=")
                jar[name.strip()] = value.strip()
            assert response.status == 200, response.status
            if os.path.exists(out) and os.path.getsize(out) > 0:
                break
        connection.close()
    finally:
        import time

        for _ in range(50):
            if os.path.exists(out) and os.path.getsize(out) > 0:
                break
            time.sleep(0.1)
        server.terminate()
        server.join()
    with open(out) as file:
        print(file.read())


if __name__ == "__main__":
    main()
