"""A rate-limit Redis that freezes or dies: requests go on within the dependency deadline,
each after the Redis client's share of it (0.5 s of the deployed 5 s), uncounted (fail open),
counted in a metric and logged once, and counting resumes when Redis is back. The app runs
with DEPENDENCY_DEADLINE_SECONDS at DEADLINE_S: a request waits 0.15 s on the frozen Redis.

Redis is frozen for real: a throwaway redis-server this test starts itself (its own port, no
persistence) gets SIGSTOP, so its connections stay open and nothing answers, as with a stalled
host or a partition. The shared server on 127.0.0.1:6379 is never touched.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from schedule import Settings
from tests.conftest import UNLIMITED, require
from tests.fixtures_web import ANNA, BORIS, auth, build_app
from webapp import ratelimit
from webapp.extensions import db

FREEZE_BOUND_S = 20  # a request still waiting then waits for the whole freeze: the bug
DEADLINE_S = 1.5  # the app's DEPENDENCY_DEADLINE_SECONDS
ANSWER_WITHIN_S = DEADLINE_S


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        require("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in process.stdout:  # its log, until it listens
            if "Ready to accept connections" in line:
                break
        else:
            pytest.fail(f"redis-server exited with {process.wait()}")
        yield RedisServer(process, port)
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)


class Monotonic:
    """The limiter's clock for its retry pause and its log's once a minute, moved by tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def redis_app(redis_server, sqlite_url, clock, monotonic):
    from schedule.db import create_schema, make_engine

    engine = make_engine(sqlite_url)
    create_schema(engine)
    engine.dispose()
    settings = Settings(
        **{**UNLIMITED, "rate_limit_reads": "3/minute", "rate_limit_storage": redis_server.url}
    )
    app = build_app(
        sqlite_url,
        clock,
        SCHEDULE=settings,
        RATE_LIMIT_KEY_PREFIX=f"frozen-{uuid.uuid4().hex[:8]}",
        RATE_LIMIT_CLOCK=monotonic,
        DEPENDENCY_DEADLINE_SECONDS=DEADLINE_S,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def uncounted(app) -> float:
    with app.app_context():  # the scrape reads the outbox's gauges too
        registry = app.extensions["metrics"].registry
        return registry.get_sample_value("rate_limit_storage_failures_total") or 0.0


def timed_all(calls: list[Callable]) -> list[tuple[int, float]]:
    answers = []
    for call in calls:
        started = time.monotonic()
        answers.append((call().status_code, time.monotonic() - started))
    return answers


def while_stopped(server: RedisServer, calls: list[Callable]) -> list[tuple[int, float]]:
    """Run `calls` in another thread while the server is stopped; thaw it after at most
    FREEZE_BOUND_S whatever happened (a request stuck on Redis then ends too)."""
    server.signal(signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(timed_all, calls)
            try:
                return running.result(timeout=FREEZE_BOUND_S)
            finally:
                server.signal(signal.SIGCONT)
    finally:
        server.signal(signal.SIGCONT)


def test_the_redis_client_waits_its_share_of_the_deadline(redis_app):
    storage = redis_app.extensions["rate_limiter"].storage
    connection = storage.storage.connection_pool.connection_kwargs
    share = ratelimit.storage_timeout(DEADLINE_S)
    assert share == pytest.approx(0.15)
    assert (connection["socket_timeout"], connection["socket_connect_timeout"]) == (share, share)
    assert ratelimit.storage_timeout(5) == 0.5  # deployed


def test_a_frozen_redis_lets_requests_through_within_the_deadline_and_counting_resumes(
    redis_app, redis_server, monotonic, caplog
):
    client = redis_app.test_client()
    read = lambda user=ANNA: client.get("/api/bookings", headers=auth(user))  # noqa: E731
    assert [read().status_code for _ in range(4)] == [200, 200, 200, 429]  # counted in Redis

    def asking_redis():  # past the pause after a failure: this request asks Redis again
        monotonic.advance(ratelimit.RETRY_SECONDS)
        return read()

    caplog.set_level(logging.INFO, logger=ratelimit.__name__)
    answers = while_stopped(
        redis_server,
        [read, asking_redis, asking_redis, read, read, lambda: client.get("/healthz")],
    )

    assert [status for status, _ in answers] == [200] * 6, answers  # fail open, past the limit
    assert max(took for _, took in answers) < ANSWER_WITHIN_S, answers
    assert uncounted(redis_app) == 5  # /healthz is never counted
    warnings = [r for r in caplog.records if r.name == ratelimit.__name__]
    assert len(warnings) == 1 and "not answering" in warnings[0].getMessage(), warnings

    monotonic.advance(ratelimit.RETRY_SECONDS)
    assert read().status_code == 429  # Redis answers again: Anna's count held meanwhile
    assert [read(BORIS).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert uncounted(redis_app) == 5
    said = [r.getMessage() for r in caplog.records if r.name == ratelimit.__name__]
    assert len(said) == 2 and "answers again" in said[1], said


def test_a_flood_while_redis_is_frozen_logs_once_a_minute(
    redis_app, redis_server, monotonic, caplog
):
    client = redis_app.test_client()
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)

    def asking_redis():
        monotonic.advance(ratelimit.RETRY_SECONDS)
        return client.get("/api/bookings", headers=auth(ANNA))

    # 13 requests each asking the frozen Redis, 5 s of the limiter's clock apart: one minute.
    answers = while_stopped(redis_server, [asking_redis] * 13)

    assert [status for status, _ in answers] == [200] * 13
    assert max(took for _, took in answers) < ANSWER_WITHIN_S, answers
    assert uncounted(redis_app) == 13
    warnings = [r.getMessage() for r in caplog.records if r.name == ratelimit.__name__]
    assert len(warnings) == 2, warnings  # at the first failure, and a minute later
    assert "12 request(s)" in warnings[1], warnings


def test_a_redis_that_is_gone_lets_requests_through_at_once(redis_app, redis_server, monotonic):
    client = redis_app.test_client()
    assert client.get("/api/bookings", headers=auth(ANNA)).status_code == 200
    redis_server.process.kill()
    redis_server.process.wait(timeout=10)

    answers = []
    for _ in range(3):
        monotonic.advance(ratelimit.RETRY_SECONDS)
        answers += timed_all([lambda: client.get("/api/bookings", headers=auth(ANNA))])

    assert [status for status, _ in answers] == [200] * 3
    assert max(took for _, took in answers) < ANSWER_WITHIN_S, answers
    assert uncounted(redis_app) == 3
