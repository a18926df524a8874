"""schedule_lock's version read shared by requests that come together (webapp.snapshots.
SharedReads): a request never takes the answer of a read that started before it came, a read
serves every request that came while the one before it was under way, a failed read fails
only its own members, and a session with a transaction of its own reads there."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from schedule.db import make_engine, write_transaction
from schedule.models import ScheduleLock
from webapp import snapshots

HOLD_BOUND_S = 10  # a held read that nobody releases fails its test after this long


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url, pool_size=12, max_overflow=4)
    yield engine
    engine.dispose()


class SlowReads:
    """read_first as webapp.snapshots calls it, counted. While `holding`, each read that starts
    keeps its answer, once the database gave it (the reply on its way back), until the test
    calls `release()`: a read is under way exactly as long as the test needs, not for a guessed
    number of seconds."""

    def __init__(self, monkeypatch, holding: bool = True) -> None:
        self.holding = holding
        self.count = 0
        self.counted = threading.Condition()
        self.answered = threading.Event()  # the first read has its answer from the database
        self.released = threading.Event()
        self.fail_next = False
        real = snapshots.read_first

        def read(session, statement):
            with self.counted:
                self.count += 1
                self.counted.notify_all()
            held = self.holding
            if self.fail_next:
                self.fail_next = False
                self._hold(held)
                raise OperationalError("SELECT version", {}, Exception("server gone"))
            value = real(session, statement)
            self.answered.set()
            self._hold(held)
            return value

        monkeypatch.setattr(snapshots, "read_first", read)

    def _hold(self, held: bool) -> None:
        if held:
            assert self.released.wait(HOLD_BOUND_S), "the test never released a held read"

    def started(self, count: int) -> None:
        """Wait until `count` reads have started."""
        with self.counted:
            assert self.counted.wait_for(lambda: self.count >= count, HOLD_BOUND_S), self.count

    def release(self) -> None:
        self.released.set()


def bump(engine) -> None:
    with Session(engine) as session, write_transaction(session):
        pass


def version_in(reads: snapshots.SharedReads, engine) -> int:
    with Session(engine) as session:
        return reads.version(session)


def test_a_request_never_takes_a_read_that_started_before_it_came(engine, monkeypatch):
    slow = SlowReads(monkeypatch, holding=False)
    reads = snapshots.SharedReads()
    before = version_in(snapshots.SharedReads(), engine)
    slow.answered.clear()
    slow.holding = True
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(version_in, reads, engine)
        assert slow.answered.wait(5)  # the read under way has its answer: the old version
        bump(engine)  # committed now, while that answer is on its way back
        later = [pool.submit(version_in, reads, engine) for _ in range(6)]
        slow.started(3)  # the six's read (its first member waited SHARED_READ_WAIT_S)
        slow.release()
        assert first.result() == before
        assert [f.result() for f in later] == [before + 1] * 6
    # The six shared one read (started once the first ended), not one each.
    assert slow.count == 1 + 1 + 1  # `before`'s, the first's, the six's


def test_a_lone_request_reads_at_once(engine, monkeypatch):
    slow = SlowReads(monkeypatch, holding=False)
    reads = snapshots.SharedReads()
    for expected in range(3):
        assert version_in(reads, engine) >= 0
        assert slow.count == expected + 1


def test_a_read_held_up_does_not_hold_the_next_one_past_the_wait(engine, monkeypatch):
    slow = SlowReads(monkeypatch)  # held until the next one has its answer
    reads = snapshots.SharedReads()
    with ThreadPoolExecutor(2) as pool:
        stuck = pool.submit(version_in, reads, engine)
        try:
            assert slow.answered.wait(5)
            slow.holding = False
            started = time.monotonic()
            assert version_in(reads, engine) >= 0
            took = time.monotonic() - started
        finally:
            slow.release()
        assert snapshots.SHARED_READ_WAIT_S <= took < 1.0, took
        stuck.result()


def test_a_failed_read_fails_its_members_only(engine, monkeypatch):
    slow = SlowReads(monkeypatch)
    reads = snapshots.SharedReads()
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(version_in, reads, engine)
        assert slow.answered.wait(5)
        slow.fail_next = True  # the next read, the one the requests below share, fails
        failing = [pool.submit(version_in, reads, engine) for _ in range(4)]
        slow.started(2)  # the four's read (its first member waited SHARED_READ_WAIT_S)
        slow.release()
        assert first.result() >= 0
        for future in failing:
            with pytest.raises(OperationalError):
                future.result()
    assert slow.count == 2
    slow.holding = False
    assert version_in(reads, engine) >= 0  # the next request reads anew, and it answers
    assert slow.count == 3


def test_a_session_with_a_transaction_of_its_own_reads_there(engine, monkeypatch):
    slow = SlowReads(monkeypatch, holding=False)
    reads = snapshots.SharedReads()
    before = version_in(snapshots.SharedReads(), engine)
    slow.answered.clear()
    slow.holding = True
    with ThreadPoolExecutor(1) as pool:
        under_way = pool.submit(version_in, reads, engine)
        try:
            assert slow.answered.wait(5)
            slow.holding = False
            with Session(engine) as session:
                session.execute(update(ScheduleLock).values(version=ScheduleLock.version + 1))
                started = time.monotonic()
                assert reads.version(session) == before + 1  # its own write, not yet committed
                assert time.monotonic() - started < 0.5  # it waited for no shared read
                session.rollback()
        finally:
            slow.release()
        assert under_way.result() == before
    assert version_in(reads, engine) == before
