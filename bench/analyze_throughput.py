"""End-to-end throughput of ``warroom analyze`` on one million lines of mixed formats.

Generates, in a temporary directory, five sources that share request ids (so alignment, linking,
templates, onsets and the JSON writer all do real work): an nginx access log, JSON service logs,
a Java log4j log with stack traces, a PostgreSQL log (gzip-compressed, to include
decompression) and an RFC 3164 syslog.  The command runs in a child process
(``analyze DIR --format json -o FILE``), so the figures include start-up, reading, writing the
report and the child's peak resident memory (``getrusage`` ``ru_maxrss``).

Run: ``python bench/analyze_throughput.py [LINES]`` (default 1,000,000; a few minutes).
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

START = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC).timestamp()
COMMAND = "from warroom.diagnosis.cli import app; app()"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _clf(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%d/%b/%Y:%H:%M:%S.%f")[:-3] + " +0000"


def _java(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


def _syslog(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%b %d %H:%M:%S")


def _request(rng: random.Random, t: float, i: int) -> dict[str, list[str]]:
    rid = f"{rng.getrandbits(64):016x}{i:016x}"
    user = rng.randint(1, 50_000)
    slow = rng.random() < 0.01
    out = {
        "edge.log": [f'198.51.100.{i % 250} - - [{_clf(t + 0.05)}] '
                     f'"GET /api/items/{user} HTTP/1.1" '
                     f'{503 if slow else 200} {rng.randint(100, 9000)} "-" "Mozilla/5.0" '
                     f"rt=0.050 request_id={rid}"],
        "api.log": [json.dumps({"ts": _iso(t + 0.002), "level": "info", "msg": "request received",
                                "request_id": rid, "user": user}),
                    json.dumps({"ts": _iso(t + 0.045), "level": "warn" if slow else "info",
                                "msg": "request completed", "request_id": rid,
                                "duration_ms": rng.randint(5, 40)})],
        "items.log": [f"{_java(t + 0.005)} INFO [exec-{i % 16}] com.shop.Items: load item {user} "
                      f"request_id={rid}",
                      f"{_java(t + 0.03)} INFO [exec-{i % 16}] com.shop.Items: loaded {rng.randint(1, 90)} rows "  # noqa: E501
                      f"request_id={rid}"],
        "db.log": [f"{_iso(t + 0.01)[:-1].replace('T', ' ')} UTC [{rng.randint(100, 999)}] LOG:  "
                   f"duration: {rng.uniform(0.1, 9):.3f} ms  statement: SELECT * FROM items "
                   f"WHERE id = {user} /* request_id={rid} */"],
        "host.log": [],
    }  # fmt: skip
    if slow:
        out["items.log"].append(f"{_java(t + 0.04)} ERROR [exec-{i % 16}] com.shop.Items: timeout "
                                f"request_id={rid}\njava.util.concurrent.TimeoutException: 30 s\n"
                                "\tat com.shop.Items.load(Items.java:42)")  # fmt: skip
    if i % 20 == 0:
        out["host.log"].append(f"{_syslog(t)} web-1 kernel: [{i}.0] TCP: request_sock_TCP: "
                               "Possible SYN flooding on port "
                               f"{rng.choice((80, 443))}.")  # fmt: skip
    return out


def generate(directory: Path, lines: int) -> int:
    rng = random.Random(1)
    names = ("edge.log", "api.log", "items.log", "db.log", "host.log")
    files: dict[str, list[str]] = {name: [] for name in names}
    total, i, t = 0, 0, START
    while total < lines:
        t += rng.expovariate(40.0)
        for name, new in _request(rng, t, i).items():
            files[name] += new
            total += sum(line.count("\n") + 1 for line in new)
        i += 1
    for name, content in files.items():
        data = ("\n".join(content) + "\n").encode()
        if name == "db.log":
            (directory / "db.log.gz").write_bytes(gzip.compress(data, compresslevel=3))
        else:
            (directory / name).write_bytes(data)
    return total


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"


def main(lines: int) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "logs"
        data.mkdir()
        written = generate(data, lines)
        size = sum(p.stat().st_size for p in data.iterdir())
        out = Path(tmp) / "report.json"
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                COMMAND,
                "analyze",
                str(data),
                "--format",
                "json",
                "-o",
                str(out),
            ],
            check=True,
        )
        elapsed = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = usage.ru_maxrss / 1024
        cpu = usage.ru_utime + usage.ru_stime
        report = json.loads(out.read_text())
    # Wall time depends on what else the machine runs; CPU time is what this process used.
    head = (f"{'lines':>10} | {'input MB':>8} | {'wall s':>7} | {'lines/s wall':>12} | "
            f"{'CPU s':>7} | {'lines/CPU-s':>11} | {'peak RSS MB':>11} | "
            f"{'events out':>10}")  # fmt: skip
    print(head)
    print("-" * len(head))
    print(f"{written:>10,} | {size / 1e6:>8.1f} | {elapsed:>7.1f} | {written / elapsed:>12,.0f} | "
          f"{cpu:>7.1f} | {written / cpu:>11,.0f} | {peak_mb:>11.0f} | "
          f"{report['events_included']:>10,}")  # fmt: skip
    # Two cores are often shared: a load above the core count stretches wall time, not CPU time.
    print(f"load average (1 min) before / after the run: {load_before:.1f} / "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    aligned = {s["name"]: (s["offset_s"], s["links"]) for s in report["sources"]}
    print(f"sources: {aligned}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
