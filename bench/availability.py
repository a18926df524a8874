"""Time one day's availability with 0, 10,000 and 1,000,000 historical bookings.

    python bench/availability.py              # SQLite files in a temporary folder
    python bench/availability.py --postgres   # also PostgreSQL (TEST_PG_ADMIN_URL or local)
    python bench/availability.py --explain    # print the query plan of the day's queries

Each case builds a database with that much history (years of past trainings, about one in
six cancelled), plus the same busy day under test and a week of future bookings, then times
`schedule.availability.day_availability` for that day. The cost must not grow with history:
targets are a ratio of largest to empty median <= 1.5 and one day under 5 ms on SQLite.

Then a studio of 5 trainers and 4 kinds (the default one, a personal hour for one, a long
group of six, a short pair): the same history of 10,000 bookings and a busy day of every
trainer giving every kind in turn; it times the day of each kind for any trainer (the grid a
client opens first), of one kind with one trainer, and the 8-day strip of a kind.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schedule import Booking, Settings, User  # noqa: E402
from schedule.availability import (  # noqa: E402
    day_availability,
    horizon_availability,
    horizon_days,
    snapshot_for_days,
    view_kind,
)
from schedule.db import create_schema, make_engine  # noqa: E402
from schedule.kinds import add_kind, add_trainer, load_catalog  # noqa: E402
from schedule.limits import holdings  # noqa: E402
from schedule.timegrid import wall_to_utc  # noqa: E402
from schedule.unit import Actor, Unit  # noqa: E402

SIZES = (0, 10_000, 1_000_000)
NOW = datetime(2026, 11, 25, 6, 0)  # Wednesday 09:00 in Moscow
DAY = date(2026, 11, 26)  # the day whose availability is timed
USERS = 2_000
CHUNK = 20_000
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def booking_rows(
    settings: Settings, day: date, count: int, rng: random.Random, *, cancelled_share: float = 0.0
):
    """`count` bookings on `day`, each at a start of the grid that fits the opening hours."""
    opens, closes = settings.opening_hours[day.weekday()][0]
    starts = range(opens, closes - settings.training_minutes + 1, settings.slot_minutes)
    training = timedelta(minutes=settings.training_minutes)
    for _ in range(count):
        starts_at = wall_to_utc(day, rng.choice(starts), settings)
        cancelled = rng.random() < cancelled_share
        yield {
            "user_id": rng.randint(1, USERS),
            "starts_at": starts_at,
            "ends_at": starts_at + training,
            "status": "cancelled" if cancelled else "active",
            "source": rng.choice(("miniapp", "bot")),
            "cancelled_at": starts_at - timedelta(hours=rng.randint(3, 72)) if cancelled else None,
            "cancelled_by": "client" if cancelled else None,
            "created_at": starts_at - timedelta(days=rng.randint(1, 7)),
            "updated_at": starts_at,
        }


def history_rows(settings: Settings, count: int, rng: random.Random):
    """`count` past bookings spread evenly over the years before NOW."""
    if not count:
        return
    days = max(1, min(count // 20, 365 * 12))  # ~20 a day, or denser for huge histories
    per_day, extra = divmod(count, days)
    first = NOW.date() - timedelta(days=days + 1)
    for n in range(days):
        yield from booking_rows(
            settings, first + timedelta(days=n), per_day + (n < extra), rng, cancelled_share=1 / 6
        )


def build(url: str, size: int, settings: Settings) -> None:
    engine = make_engine(url)
    create_schema(engine)
    rng = random.Random(size)
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "telegram_id": 10_000 + n,
                    "first_name": f"Client {n}",
                    "blocked_bot": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(USERS)
            ],
        )
    future = [
        row
        for n in range(8)
        for row in booking_rows(settings, NOW.date() + timedelta(days=n), 12, rng)
    ]
    rows = iter([*future, *history_rows(settings, size, rng)])
    while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
        with engine.begin() as conn:
            conn.execute(insert(Booking), chunk)
    engine.dispose()


def one_day(session: Session, settings: Settings) -> None:
    assert len(day_availability(session, settings, DAY, 1, NOW).slots) == 20


def whole_horizon(session: Session, settings: Settings) -> None:
    assert len(horizon_availability(session, settings, 1, NOW)) == 8


def time_cases(urls: dict[int, str], settings: Settings, repeats: int, read) -> dict[int, list]:
    """Time `read` on each case in turns, so that a busy machine hits all cases alike."""
    engines = {size: make_engine(url) for size, url in urls.items()}
    sessions = {size: Session(engine) for size, engine in engines.items()}
    timings: dict[int, list[float]] = {size: [] for size in urls}
    for n in range(repeats + 20):
        for size, session in sessions.items():
            started = time.perf_counter()
            read(session, settings)
            elapsed = (time.perf_counter() - started) * 1000
            session.rollback()  # no snapshot carried over between taps
            if n >= 20:  # the first taps warm the connection and caches
                timings[size].append(elapsed)
    for size, session in sessions.items():
        session.close()
        engines[size].dispose()
    return timings


def explain(url: str, settings: Settings) -> None:
    engine = make_engine(url)
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", record)
    with Session(engine) as session:
        day_availability(session, settings, DAY, 1, NOW)
    event.remove(engine, "before_cursor_execute", record)
    prefix = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
    with engine.connect() as conn:
        for statement, parameters in statements:
            print("   ", " ".join(statement.split())[:160])
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                print("      ->", row[-1])
    engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(label: str, make_url, settings: Settings, repeats: int, show_plan: bool) -> bool:
    print(f"{label}: one day's availability ({repeats} runs each)")
    urls, drops = {}, []
    try:
        for size in SIZES:
            urls[size], drop = make_url(size)
            drops.append(drop)
            started = time.perf_counter()
            build(urls[size], size, settings)
            print(
                f"  built {size:>9,} historical bookings in {time.perf_counter() - started:.1f} s"
            )
        if show_plan:
            explain(urls[SIZES[-1]], settings)
        timings = time_cases(urls, settings, repeats, one_day)
        horizon = time_cases(urls, settings, repeats // 4, whole_horizon)
    finally:
        for drop in drops:
            drop()
    medians = {size: statistics.median(values) for size, values in timings.items()}
    for size, values in timings.items():
        print(
            f"  {size:>9,} historical bookings: median {medians[size]:6.2f} ms, "
            f"p95 {percentile(values, 0.95):6.2f} ms"
        )
    print(
        "  (for reference, the 8-day horizon the date strip reads: "
        + ", ".join(f"{statistics.median(v):.2f}" for v in horizon.values())
        + " ms)"
    )
    ratio = medians[SIZES[-1]] / medians[SIZES[0]]
    worst = max(medians.values())
    print(f"  ratio largest/empty: {ratio:.2f} (target <= 1.5); slowest median {worst:.2f} ms")
    return ratio <= 1.5 and (not label.startswith("SQLite") or worst < 5)


KINDS = (("Personal", 60, 1), ("Long group", 120, 6), ("Pair", 30, 2))
TRAINERS = 5
KINDS_HISTORY = 10_000


def build_kinds(url: str, settings: Settings) -> None:
    """The history, then 5 trainers, 3 kinds besides the default one, and DAY busy: each
    trainer gives the kinds in turn, 2-hour blocks from 08:00, each block's training full or
    nearly so."""
    build(url, KINDS_HISTORY, settings)
    engine = make_engine(url)
    rng = random.Random(7)
    with Session(engine) as session:
        owner = Unit(session, settings, Actor.trainer())
        trainers = [add_trainer(owner, 900_000 + n, f"Trainer {n}").id for n in range(TRAINERS)]
        kinds = [(None, settings.training_minutes, settings.capacity)]
        for n, (name, minutes, capacity) in enumerate(KINDS):
            givers = trainers if n != 1 else trainers[:2]
            kinds.append((add_kind(owner, name, minutes, capacity, givers).id, minutes, capacity))
    rows = []
    for t, trainer in enumerate(trainers):
        for block, opens in enumerate(range(8 * 60, 18 * 60 - 120 + 1, 120)):
            kind_id, minutes, capacity = kinds[(t + block) % len(kinds)]
            if kind_id == kinds[2][0] and trainer not in trainers[:2]:
                kind_id, minutes, capacity = kinds[0]
            starts_at = wall_to_utc(DAY, opens, settings)
            for _ in range(rng.randint(max(capacity - 1, 1), capacity)):
                rows.append(
                    {
                        "user_id": rng.randint(1, USERS),
                        "kind_id": kind_id,
                        "trainer_id": trainer,
                        "starts_at": starts_at,
                        "ends_at": starts_at + timedelta(minutes=minutes),
                        "status": "active",
                        "source": "miniapp",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
    with engine.begin() as conn:
        conn.execute(insert(Booking), rows)
    engine.dispose()


def run_kinds(label: str, make_url, settings: Settings, repeats: int) -> None:
    url, drop = make_url(-1)
    try:
        started = time.perf_counter()
        build_kinds(url, settings)
        print(
            f"{label}: {TRAINERS} trainers, {len(KINDS) + 1} kinds, {KINDS_HISTORY:,} historical "
            f"bookings (built in {time.perf_counter() - started:.1f} s)"
        )
        engine = make_engine(url)
        with Session(engine) as session:
            catalog = load_catalog(session, settings)
        cases = {}
        for kind in catalog.kinds:
            cases[f"kind {kind.id} ({kind.minutes} min, {kind.capacity} at once), any trainer"] = (
                kind,
                None,
                False,
            )
        personal = catalog.kinds[1]
        cases[f"kind {personal.id}, one trainer"] = (personal, personal.trainer_ids[-1], False)
        cases[f"kind {personal.id}, any trainer, the 8-day strip"] = (personal, None, True)

        def read(kind, trainer, strip):
            def one(session: Session, settings: Settings) -> None:
                days = horizon_days(settings, NOW) if strip else [DAY]
                snap = snapshot_for_days(session, settings, days[0], days[-1])
                held = holdings(session, settings, 1, NOW)
                for day in days:
                    view = view_kind(snap, kind, trainer, day, 1, NOW, 0, held)
                    assert view.slots

            return one

        for name, (kind, trainer, strip) in cases.items():
            timings = time_cases({0: url}, settings, repeats, read(kind, trainer, strip))[0]
            print(
                f"  {name}: median {statistics.median(timings):6.2f} ms, "
                f"p95 {percentile(timings, 0.95):6.2f} ms"
            )
        engine.dispose()
    finally:
        drop()


def sqlite_urls(folder: Path):
    def make(size: int):
        path = folder / f"history_{size}.sqlite3"
        return f"sqlite:///{path}", lambda: [
            p.unlink(missing_ok=True) for p in folder.glob(f"{path.name}*")
        ]

    return make


def postgres_urls(admin_url: str):
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def make(size: int):
        name = f"booking_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        return admin_url.rsplit("/", 1)[0] + "/" + name, drop

    return make


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="also time PostgreSQL")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument(
        "--kinds-only", action="store_true", help="only the studio of 5 trainers and 4 kinds"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        if not args.kinds_only:
            ok &= run(
                "SQLite file", sqlite_urls(Path(folder)), settings, args.repeats, args.explain
            )
        run_kinds("SQLite file", sqlite_urls(Path(folder)), settings, args.repeats)
    if args.postgres:
        if not args.kinds_only:
            ok &= run(
                "PostgreSQL", postgres_urls(args.pg_admin_url), settings, args.repeats, args.explain
            )
        run_kinds("PostgreSQL", postgres_urls(args.pg_admin_url), settings, args.repeats)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
