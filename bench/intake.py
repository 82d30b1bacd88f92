"""Alert intake throughput, latency and memory, end to end over HTTP, against its ceiling.

For each target, one uvicorn worker runs in a subprocess on loopback and a load generator
(raw HTTP/1.1 keep-alive connections on asyncio, so the client costs little next to the
server) sends Alertmanager webhook notifications, one alert each. Where the machine has two
cores or more, the server runs on the first and the load generator on the second, for every
target alike (`--no-pin` lets the scheduler place them): the load generator then never takes
the server's core, and the server's threads share one core as a GIL-bound process's should.
Each target runs `--rounds` times, interleaved with the others, and the best round of each is
compared (every round's rate is printed too): this machine's speed drifts between runs.
Each server gets a warm-up of 500 alerts, after which its database is analysed (`ANALYZE`),
as autovacuum would have done on a database in use: the figures are the steady state.

* **ceiling**: a bare FastAPI endpoint that only parses the JSON and answers;
* **warroom/sqlite** and **warroom/postgresql**: the real intake endpoint, committed before
  the 200, with grouping, incidents and timeline entries.

The alert mix is what Alertmanager sends: 500 distinct alerts on 20 services re-notified in
rounds, and every tenth round resolves them all (the next round starts them afresh). The
figure is warroom's alerts/s as a share of the ceiling under the same load (target >= 50 %,
p99 < 50 ms), at each number of concurrent senders in `--concurrency` (8 and 16 by default):
the ceiling is bound by the server's CPU at both, while warroom's intake commits the
deliveries that arrive together in one transaction, so its throughput grows with the number
of senders, as in an alert storm, where many notifications arrive at once. The
server's CPU time per alert is printed too, with the same ratio: on a shared machine other
load skews alerts/s but hardly CPU time. It is split between the event loop (HTTP) and the
intake writers, and PostgreSQL's own CPU time per alert is printed beside it, since the
database shares the machine's cores. The server's RSS is sampled through the run to show
memory stays flat.

Usage: python bench/intake.py [--alerts 20000] [--concurrency 8,16] [--max-seconds 120]
       [--resolve-every 10]   # 0: repeats only after the first round (the steady state)
       [--rounds 2] [--no-pin]
       [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from warroom.actors import Actor
from warroom.config import Settings
from warroom.db.engine import open_database
from warroom.db.migrate import upgrade
from warroom.db.uow import UnitOfWork
from warroom.intake import service
from warroom.intake.schemas import IntegrationCreate, IntegrationKind

BENCH_DIR = Path(__file__).resolve().parent
PATH = "/api/v1/intake/alertmanager"
DISTINCT_ALERTS = 500
SERVICES = 20
SECRET = "bench-secret-key-" + "0123456789abcdef" * 2


@dataclass
class Result:
    target: str
    sent: int = 0
    ok: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu_seconds: float = 0.0
    loop_cpu_seconds: float = 0.0  # the server's main thread: HTTP and the event loop
    database_cpu_seconds: float = 0.0  # PostgreSQL's own processes (0: none, or in-process)

    @property
    def cpu_per_alert_us(self) -> float:
        return self.per_alert_us(self.cpu_seconds)

    def per_alert_us(self, seconds: float) -> float:
        return seconds / self.ok * 1e6 if self.ok else 0.0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0


def notification(key: int, resolved: bool) -> bytes:
    status = "resolved" if resolved else "firing"
    service_name = f"svc-{key % SERVICES}"
    alert = {
        "status": status,
        "labels": {
            "alertname": f"Alert{key}",
            "service": service_name,
            "severity": "critical" if key % 7 == 0 else "warning",
            "instance": f"{service_name}-{key % 3}:9100",
        },
        "annotations": {"summary": f"Alert {key} on {service_name}"},
        "startsAt": "2026-11-26T22:00:00Z",
        "endsAt": "2026-11-26T22:30:00Z" if resolved else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": f"{key:016x}",
    }
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{service="{service_name}"}}',
        "status": status,
        "receiver": "warroom",
        "groupLabels": {"service": service_name},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example",
        "alerts": [alert],
    }
    return json.dumps(body).encode()


def requests(count: int, credential: str, resolve_every: int = 10) -> Iterator[bytes]:
    bodies = {
        (key, resolved): notification(key, resolved)
        for key in range(DISTINCT_ALERTS)
        for resolved in (False, True)
    }
    for index in range(count):
        key, round_ = index % DISTINCT_ALERTS, index // DISTINCT_ALERTS
        resolving = resolve_every > 0 and round_ % resolve_every == resolve_every - 1
        body = bodies[(key, resolving)]
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {credential}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        yield head.encode() + body


async def _read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def _worker(port: int, work: Iterator[bytes], result: Result, deadline: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for raw in work:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            status = await _read_status(reader)
            result.latencies.append(time.perf_counter() - started)
            result.sent += 1
            result.ok += 200 <= status < 300
    finally:
        writer.close()


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of a process (or one of its threads) so far.

    Figures that other load hardly skews, unlike alerts/s.
    """
    stat = Path(f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat")
    return _cpu_of_stat(stat.read_text())


def _cpu_of_stat(stat: str) -> float:
    """User + system seconds from the text of a /proc stat file."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time so far of every PostgreSQL server process on this machine (0 where none).

    Why: the database's work for each alert runs on the same cores as the server and the
    load generator; without it, the PostgreSQL target's cost would look smaller than it is.
    """
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text_ = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        if text_.partition(" (")[2].startswith("postgres)"):
            total += _cpu_of_stat(text_)
    return total


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _sample_rss(pid: int, result: Result) -> None:
    while True:
        result.rss_kib.append(rss_kib(pid))
        await asyncio.sleep(1.0)


async def _load(
    port: int,
    pid: int,
    result: Result,
    args: argparse.Namespace,
    cred: str,
    *,
    measure_database: bool = False,
) -> None:
    work = requests(args.alerts, cred, args.resolve_every)
    deadline = time.perf_counter() + args.max_seconds
    sampler = asyncio.create_task(_sample_rss(pid, result))
    cpu_before, loop_before = cpu_seconds(pid), cpu_seconds(pid, pid)
    database_before = postgres_cpu_seconds() if measure_database else 0.0
    started = time.perf_counter()
    await asyncio.gather(*(_worker(port, work, result, deadline) for _ in range(args.concurrency)))
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = cpu_seconds(pid) - cpu_before
    result.loop_cpu_seconds = cpu_seconds(pid, pid) - loop_before
    if measure_database:
        result.database_cpu_seconds = postgres_cpu_seconds() - database_before
    sampler.cancel()
    result.rss_kib.append(rss_kib(pid))


SERVER_CPU, LOAD_CPU = 0, 1
PINNED = False  # set by main()


def _pin(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(app: str, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *extra,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(
        command, env={**os.environ, **env}, preexec_fn=_pin(SERVER_CPU) if PINNED else None
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{app} did not start")


def run_target(
    name: str,
    app: str,
    env: dict[str, str],
    args: argparse.Namespace,
    cred: str,
    *extra: str,
    after_warm_up: Callable[[], None] = lambda: None,
    measure_database: bool = False,
) -> Result:
    process, port = _start(app, env, *extra)
    result = Result(name)
    try:
        warm = argparse.Namespace(**{**vars(args), "alerts": min(500, args.alerts)})
        asyncio.run(_load(port, process.pid, Result("warm-up"), warm, cred))
        after_warm_up()
        asyncio.run(_load(port, process.pid, result, args, cred, measure_database=measure_database))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return result


def prepare(url: str, data_dir: Path) -> str:
    """Migrate a fresh database and create the integration; returns its credential."""
    settings = Settings(data_dir=data_dir, database_url=url, secret_key=SECRET)
    db = open_database(settings)
    upgrade(db.writer)
    data = IntegrationCreate(kind=IntegrationKind.ALERTMANAGER, name="bench")
    created = service.create_integration(UnitOfWork(db), Actor.system("bench"), data=data)
    db.dispose()
    return created.credential


def _postgres(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def analyze(url: str) -> None:
    """Give the planner statistics on the warmed-up tables, as a running database has them.

    Why: PostgreSQL's autovacuum analyses a table once 50 rows have changed, but only on its
    next pass (every minute), and a benchmark database is minutes old; without statistics
    the planner reads the whole alerts table for each batch's lookup of open keys. SQLite gets
    the same step, so both targets are measured in the steady state.
    """
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def bench_warroom(dialect: str, args: argparse.Namespace, workdir: Path, run: str) -> Result:
    data_dir = workdir / f"{dialect}-{run}"
    if dialect == "sqlite":
        url = f"sqlite:///{data_dir / 'warroom.db'}"
    else:
        name = f"warroom_bench_{os.getpid()}"
        _postgres(args.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres(args.postgres_url, f'CREATE DATABASE "{name}"')
        url = make_url(args.postgres_url).set(database=name).render_as_string(False)
    try:
        credential = prepare(url, data_dir)
        env = {
            "WARROOM_DATABASE_URL": url,
            "WARROOM_DATA_DIR": str(data_dir),
            "WARROOM_SECRET_KEY": SECRET,
        }
        return run_target(
            f"warroom/{dialect}",
            "warroom.serve:build",
            env,
            args,
            credential,
            "--factory",
            after_warm_up=lambda: analyze(url),
            measure_database=dialect == "postgresql",
        )
    finally:
        if dialect == "postgresql":
            _postgres(args.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores, {model}; Python {platform.python_version()}; "
        f"{platform.system()} {platform.release()}"
    )


def print_table(by_level: dict[int, list[Result]], args: argparse.Namespace) -> None:
    print(f"Machine: {machine()}; load average before the run {args.load_before}")
    placement = (
        f"server on CPU {SERVER_CPU}, load generator on CPU {LOAD_CPU}"
        if PINNED
        else "placed by the scheduler"
    )
    print(
        f"Load: {args.alerts} alerts per target ({DISTINCT_ALERTS} distinct, resolved every "
        f"{args.resolve_every or 'no'} round(s)), "
        f"{' or '.join(map(str, args.concurrency))} keep-alive connections (conns), "
        "500 warm-up alerts then ANALYZE, "
        f"loopback, one uvicorn worker, {placement}; best of {args.rounds} interleaved round(s)"
    )
    header = (
        f"{'target':<20}{'conns':>6}{'alerts':>8}{'s':>8}{'alerts/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'of ceiling':>12}{'CPU µs/alert':>14}{'of ceiling':>12}{'loop µs':>9}"
        f"{'DB µs':>7}{'RSS start→end MiB':>22}"
    )
    print(header)
    print("-" * len(header))
    for level, results in by_level.items():
        _print_rows(level, results)
    print(
        "CPU µs/alert: the server process's CPU time per accepted alert (all its threads); "
        "loop µs: its main thread's share (HTTP and the event loop; the rest is the intake "
        "writers); DB µs: PostgreSQL's own processes on this machine, which share its cores. "
        "Each 'of ceiling' compares with the ceiling under the same number of connections."
    )


def _print_rows(level: int, results: list[Result]) -> None:
    ceiling = results[0].rate or 1.0
    ceiling_cpu = results[0].cpu_per_alert_us or 1.0
    for result in results:
        rss = result.rss_kib[len(result.rss_kib) // 10 :] or [0]
        print(
            f"{result.target:<20}{level:>6}{result.ok:>8}{result.seconds:>8.1f}{result.rate:>10.0f}"
            f"{result.percentile(0.50):>9.1f}{result.percentile(0.99):>9.1f}"
            f"{100 * result.rate / ceiling:>11.0f}%"
            f"{result.cpu_per_alert_us:>14.0f}"
            f"{100 * ceiling_cpu / (result.cpu_per_alert_us or 1.0):>11.0f}%"
            f"{result.per_alert_us(result.loop_cpu_seconds):>9.0f}"
            f"{result.per_alert_us(result.database_cpu_seconds):>7.0f}"
            f"{f'{rss[0] / 1024:.0f} → {rss[-1] / 1024:.0f} (max {max(rss) / 1024:.0f})':>22}"
        )
        if result.ok != result.sent:
            print(f"  {result.sent - result.ok} requests failed")


def best_rounds(rounds: list[list[Result]]) -> list[Result]:
    """Per target, the round with the highest rate; every round's rate is printed."""
    best = []
    for same_target in zip(*rounds, strict=True):
        rates = ", ".join(f"{r.rate:.0f}" for r in same_target)
        print(f"{same_target[0].target}: alerts/s by round {rates}")
        best.append(max(same_target, key=lambda r: r.rate))
    return best


def main() -> None:
    global PINNED
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(level) for level in text.split(",")],
        default=[8, 16],
        help="numbers of concurrent senders, comma-separated",
    )
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument(
        "--resolve-every", type=int, default=10, help="resolve every Nth round (0: never)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "WARROOM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place processes")
    args = parser.parse_args()
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    PINNED = not args.no_pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1
    if PINNED:
        _pin(LOAD_CPU)()
    levels: list[int] = args.concurrency
    by_level: dict[int, list[list[Result]]] = {level: [] for level in levels}
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as workdir:
        for round_ in range(args.rounds):
            for level in levels:
                load = argparse.Namespace(**{**vars(args), "concurrency": level})
                run = f"{round_}-{level}"
                results = [
                    run_target(
                        "ceiling (bare)",
                        "intake_ceiling:app",
                        {},
                        load,
                        "none",
                        "--app-dir",
                        str(BENCH_DIR),
                    ),
                    bench_warroom("sqlite", load, Path(workdir), run),
                ]
                if not args.no_postgres:
                    results.append(bench_warroom("postgresql", load, Path(workdir), run))
                by_level[level].append(results)
    best = {}
    for level, rounds in by_level.items():
        print(f"{level} connections:")
        best[level] = best_rounds(rounds)
    print_table(best, args)


if __name__ == "__main__":
    main()
