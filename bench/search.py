"""Knowledge-base search latency on 10,000 documents: SQLite FTS5 and PostgreSQL tsvector.

Builds a fresh, migrated database per backend, indexes synthetic incident and postmortem
write-ups through the same `put_document` path the services use, then times
`warroom.learning.knowledge.search` (ranking, facet filters and facet counts included) for a
fixed set of queries, and prints p50 and p99 per backend and query shape in one table.

PostgreSQL runs when WARROOM_BENCH_POSTGRES_URL (or WARROOM_TEST_POSTGRES_URL) names a server;
a scratch database `wr_bench_search` is created and dropped there.

    python bench/search.py [--docs 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from warroom.actors import Actor
from warroom.config import Settings
from warroom.db.engine import Database, open_database
from warroom.db.migrate import upgrade
from warroom.db.uow import UnitOfWork
from warroom.learning.documents import Document, put_document
from warroom.learning.knowledge import search
from warroom.learning.schemas import DocKind, SearchFilters

ACTOR = Actor.system("bench")
SERVICES = [f"svc-{i:02d}" for i in range(40)]
TEAMS = {s: f"team-{i % 8}" for i, s in enumerate(SERVICES)}
FACTORS = ["change", "capacity", "dependency", "hardware", "time", "data", "process", "detection"]
SUBJECTS = [
    "TLS certificate",
    "connection pool",
    "disk volume",
    "DNS resolver",
    "load balancer",
    "session cache",
    "queue consumer",
    "database primary",
    "feature flag",
    "deploy pipeline",
    "NTP daemon",
    "BGP session",
    "kernel upgrade",
    "memory limit",
    "rate limiter",
    "replication link",
    "index rebuild",
    "object store",
    "service mesh",
    "CDN edge",
    "Kafka broker",
    "Redis cluster",
    "Postgres vacuum",
    "cron scheduler",
    "API gateway",
    "OAuth provider",
    "payment processor",
    "fraud model",
    "search shard",
    "image resizer",
    "config server",
    "secrets vault",
    "container runtime",
    "autoscaler",
    "backup job",
    "email relay",
    "SMS provider",
    "log shipper",
    "metrics pipeline",
    "alert router",
    "firewall rule",
    "VPN tunnel",
    "storage controller",
    "power supply",
    "network switch",
    "schema migration",
    "cache invalidation",
    "retry storm",
    "thread pool",
    "GC pause",
]
EVENTS = [
    "expired",
    "was exhausted",
    "filled up",
    "timed out",
    "crashed",
    "was misconfigured",
    "drifted",
    "leaked",
    "stalled",
    "was rolled back",
    "flapped",
    "ran out of memory",
    "lost quorum",
    "corrupted data",
    "was throttled",
    "saturated",
]
EFFECTS = [
    "checkout failed",
    "sign-in was slow",
    "search returned stale results",
    "payments were declined",
    "pages returned 503",
    "emails were delayed",
    "the API rejected requests",
    "orders were duplicated",
    "reports were late",
    "mobile sync stalled",
    "refunds were stuck",
    "dashboards went blank",
]
QUERIES = ["certificate expired", "connection pool", "disk filled", "dns resolver",
           "rollback deploy", '"load balancer"', "clock drift", "cache -redis",
           "kafka or replication", "kernel crashed", "rate limiter misconfigured",
           "payments declined", "stale search", "vacuum", "quorum", "retry storm", "GC pause",
           "secrets vault expired", "autoscaler", "outage"]  # fmt: skip


def synthetic(rng: random.Random, number: int, start: datetime) -> Document:
    subject, event, effect = rng.choice(SUBJECTS), rng.choice(EVENTS), rng.choice(EFFECTS)
    services = tuple(rng.sample(SERVICES, rng.randint(1, 3)))
    body = " ".join(
        f"The {rng.choice(SUBJECTS)} {rng.choice(EVENTS)} and {rng.choice(EFFECTS)}."
        for _ in range(rng.randint(2, 6))
    )
    return Document(
        kind=DocKind.POSTMORTEM if number % 3 else DocKind.INCIDENT,
        ref_id=number,
        title=f"{subject.capitalize()} {event}: {effect}",
        body=f"The {subject} {event}, so {effect} for {rng.randint(5, 180)} minutes. {body}",
        services=services,
        factors=tuple(rng.sample(FACTORS, rng.randint(1, 3))),
        severity=rng.choice(["SEV1", "SEV2", "SEV3", "SEV4"]),
        occurred_at=start + timedelta(hours=number),
    )


def fill(db: Database, count: int) -> float:
    rng = random.Random(7)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for first in range(0, count, 1000):
        with UnitOfWork(db) as uow:
            for number in range(first, min(first + 1000, count)):
                put_document(uow.session, synthetic(rng, number, start), teams=TEAMS, now=start)
            uow.commit()
    if db.dialect == "postgresql":
        with db.writer.connect() as connection:
            connection.execute(text("ANALYZE learning_search_documents"))
            connection.commit()
    return time.perf_counter() - began


def timings(
    db: Database, runs: int, filters: Callable[[int], SearchFilters]
) -> tuple[list[float], float]:
    """Milliseconds per search, and the mean number of matching documents."""
    samples, matches = [], []
    for i in range(runs):
        query = QUERIES[i % len(QUERIES)]
        began = time.perf_counter()
        result = search(db, ACTOR, query=query, filters=filters(i), limit=20)
        samples.append((time.perf_counter() - began) * 1000)
        matches.append(result.total)
    return samples, statistics.mean(matches)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[Database]:
    settings = Settings(
        data_dir=tmp, database_url=f"sqlite:///{tmp / 'bench.db'}", secret_key="b" * 48
    )
    db = open_database(settings)
    upgrade(db.writer)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def postgres_database(admin_url: str, tmp: Path) -> Iterator[Database]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "wr_bench_search" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "wr_bench_search"'))
    url = make_url(admin_url).set(database="wr_bench_search").render_as_string(hide_password=False)
    db = open_database(Settings(data_dir=tmp, database_url=url, secret_key="b" * 48))
    upgrade(db.writer)
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "wr_bench_search" WITH (FORCE)'))
        admin.dispose()


SHAPES: tuple[tuple[str, Callable[[int], SearchFilters]], ...] = (
    ("ranked text", lambda _i: SearchFilters()),
    ("text + service facet", lambda i: SearchFilters(service=SERVICES[i % len(SERVICES)])),
    ("text + factor + since", lambda i: SearchFilters(
        factor=FACTORS[i % len(FACTORS)], since=datetime(2023, 6, 1, tzinfo=UTC).date())),
)  # fmt: skip


def bench(name: str, db: Database, docs: int, runs: int) -> list[list[str]]:
    seconds = fill(db, docs)
    timings(db, 20, SHAPES[0][1])  # warm caches
    rows = []
    for shape, filters in SHAPES:
        samples, matches = timings(db, runs, filters)
        rows.append(
            [
                name,
                f"{docs:,}",
                shape,
                str(runs),
                f"{matches:,.0f}",
                f"{statistics.median(samples):.1f}",
                f"{percentile(samples, 0.99):.1f}",
                f"{seconds:.0f} s",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp, sqlite_database(Path(tmp)) as db:
        rows += bench("SQLite FTS5", db, args.docs, args.queries)
    pg = os.environ.get("WARROOM_BENCH_POSTGRES_URL") or os.environ.get("WARROOM_TEST_POSTGRES_URL")
    if pg:
        with tempfile.TemporaryDirectory() as tmp, postgres_database(pg, Path(tmp)) as db:
            rows += bench("PostgreSQL tsvector", db, args.docs, args.queries)
    header = [
        "backend",
        "documents",
        "query",
        "runs",
        "mean matches",
        "p50 ms",
        "p99 ms",
        "indexing",
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")  # noqa: T201
    if not pg:
        print("(PostgreSQL skipped: set WARROOM_BENCH_POSTGRES_URL)")  # noqa: T201


if __name__ == "__main__":
    main()
