"""Where one route's time goes in the server process: cProfile and round trips per request.

    python bench/profile_web.py [--path /api/slots] [--requests 2000] [--database-url URL]

Serves the app as bench/web.py does (waitress, one thread, so that the profile is that of one
request after another), warms the route up, then profiles `--requests` requests of it in the
server's worker thread and counts, per request: pool checkouts, the pool's pings, statements
SQLAlchemy sent, and (PostgreSQL) waits for the server's answer, i.e. round trips (BEGIN and
ROLLBACK included). Prints the counts and the profile's top functions by their own and by
cumulative time.
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
    try:
        from schedule.db import _deadline_connection

        connection_class = _deadline_connection()
        wait = connection_class.wait

        def counted_wait(self, *args, **kwargs):
            if getattr(local, "on", False):
                counts["round trips"] += 1
            return wait(self, *args, **kwargs)

        connection_class.wait = counted_wait
    except ImportError:  # no psycopg
        pass

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
        for _ in range(args.requests + WARM_UP + 50):
            connection.request("GET", args.path + query, headers=headers)
            response = connection.getresponse()
            response.read()
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
