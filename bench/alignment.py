"""Clock-alignment accuracy of ``warroom analyze`` against a Jaeger-style baseline.

A simulated shop writes real-looking logs on four hosts whose clocks are wrong:

* ``edge``: nginx access log (custom ``log_format`` with milliseconds, ``$request_id`` and
  ``$request_time``), written when a request ends; a fifth of the requests are static files;
* ``api``: JSON lines (``request received`` / ``request completed``); cached reads stop here;
* ``orders``: a Java service (log4j layout ``%d %p [%t] %c: %m``), with an occasional stack trace;
* ``db``: PostgreSQL ``log_min_duration_statement`` lines with the request id in a comment.

Each host gets an offset in [-600 s, +600 s] and a drift in [-200, +200] ppm; the run lasts an
hour, so drift alone moves a clock by up to 0.72 s.  For every line we know the true time.

Errors are measured in the reference frame (``edge``'s clock): a corrected time is compared with
the true time as ``edge``'s clock would have shown it.  "Violations" counts the true causal
orders (caller's start before callee's start, callee's end before caller's end) broken by the
corrected times.  The baseline is what tracing UIs do (Jaeger's clock-skew adjuster): per
request, a child span that visibly sticks out of its parent is re-centred inside it assuming
symmetric latency; spans that do not stick out, and lines without a span, are left as logged.

Run: ``python bench/alignment.py [REQUESTS]`` (default 2000 per scenario; a few minutes).
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warroom.diagnosis.analyze import AnalyzeOptions, analyze
from warroom.engines.timestamps import NS

START = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC).timestamp()
HOSTS = ("edge", "api", "orders", "db")
CHAIN = {"edge": "api", "api": "orders", "orders": "db"}
HOP_LATENCY = (0.002, 0.012)  # one-way latency between hosts (mesh sidecars, TLS), seconds
RESOLUTION = 0.001  # every log writes milliseconds


@dataclass
class Clock:
    """A host clock: reading = true + offset + drift * (true - START)."""

    offset: float
    drift_ppm: float

    def read(self, t: float) -> float:
        return t + self.offset + self.drift_ppm * 1e-6 * (t - START)


@dataclass
class Line:
    true: float
    text: str
    request: str | None


@dataclass
class World:
    clocks: dict[str, Clock]
    lines: dict[str, list[Line]] = field(default_factory=lambda: defaultdict(list))
    spans: dict[str, dict[str, tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # request -> host -> true (start, end)


def _iso_ms(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _clf_ms(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%d/%b/%Y:%H:%M:%S.%f")[:-3] + " +0000"


def _log4j(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


def _pg(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _hop(rng: random.Random) -> float:
    return rng.uniform(*HOP_LATENCY)


def _db(world: World, rng: random.Random, rid: str, t: float) -> float:
    took = rng.uniform(0.0005, 0.02)
    end = t + took
    world.spans[rid]["db"] = (t, end)
    text = (f"[{rng.randint(1000, 9999)}] LOG:  duration: {took * 1000:.3f} ms  statement: "
            f"SELECT * FROM orders WHERE customer_id = {rng.randint(1, 9999)} "
            f"/* request_id={rid} */")  # fmt: skip
    world.lines["db"].append(Line(end, text, rid))
    return end


def _orders(world: World, rng: random.Random, rid: str, t: float) -> float:
    thread = f"http-nio-8080-exec-{rng.randint(1, 20)}"
    out = [
        Line(
            t, f"INFO [{thread}] com.shop.orders.OrderController: processing request_id={rid}", rid
        )
    ]  # noqa: E501
    now = t + rng.uniform(0.001, 0.005)
    for _ in range(rng.choice((1, 1, 2))):
        arrive = now + _hop(rng)
        now = _db(world, rng, rid, arrive) + _hop(rng)
    if rng.random() < 0.02:
        out.append(Line(now, f"WARN [{thread}] com.shop.orders.Retry: retrying request_id={rid}\n"
                             "java.net.SocketTimeoutException: Read timed out\n"
                             "\tat java.net.SocketInputStream.read(SocketInputStream.java:150)", rid))  # fmt: skip  # noqa: E501
    end = now + rng.uniform(0.001, 0.01)
    out.append(
        Line(
            end,
            f"INFO [{thread}] com.shop.orders.OrderController: completed request_id={rid} "
            "status=200",
            rid,
        )
    )  # noqa: E501
    world.lines["orders"] += out
    world.spans[rid]["orders"] = (t, end)
    return end


def _api(world: World, rng: random.Random, rid: str, t: float) -> float:
    path = rng.choice(("/api/orders", "/api/cart", "/api/products"))
    world.lines["api"].append(
        Line(
            t,
            json.dumps(
                {
                    "ts": _iso_ms(t),
                    "level": "info",
                    "logger": "api.http",
                    "msg": "request received",
                    "request_id": rid,
                    "path": path,
                }
            ),
            rid,
        )
    )  # noqa: E501
    now = t + rng.uniform(0.0005, 0.003)
    if path != "/api/products":  # products come from the api's cache
        now = _orders(world, rng, rid, now + _hop(rng)) + _hop(rng)
    end = now + rng.uniform(0.0005, 0.003)
    world.lines["api"].append(
        Line(
            end,
            json.dumps(
                {
                    "ts": _iso_ms(end),
                    "level": "info",
                    "logger": "api.http",
                    "msg": "request completed",
                    "request_id": rid,
                    "status": 200,
                    "duration_ms": round((end - t) * 1000, 3),
                }
            ),
            rid,
        )
    )  # noqa: E501
    world.spans[rid]["api"] = (t, end)
    return end


def _edge(world: World, rng: random.Random, index: int, t: float) -> None:
    rid = f"{rng.getrandbits(128):032x}"
    static = rng.random() < 0.2
    end = (
        t + rng.uniform(0.0002, 0.001)
        if static
        else _api(world, rng, rid, t + _hop(rng)) + _hop(rng)
    )  # noqa: E501
    path = "/static/app.js" if static else "/api/orders"
    client = f"203.0.113.{index % 250 + 1}"
    text = (f'{client} - - [CLF] "GET {path} HTTP/1.1" 200 {rng.randint(200, 9000)} "-" '
            f'"Mozilla/5.0" rt={end - t:.3f} request_id={rid}')  # fmt: skip
    world.lines["edge"].append(Line(end, text, rid))
    world.spans[rid]["edge"] = (t, end)


def _noise(world: World, rng: random.Random, t: float) -> None:
    world.lines["orders"].append(
        Line(t, "INFO [scheduler-1] com.shop.orders.Metrics: heap used 512 MB", None)
    )  # noqa: E501
    world.lines["db"].append(
        Line(t + 0.5, f"[{rng.randint(1000, 9999)}] LOG:  checkpoint starting: time", None)
    )  # noqa: E501


def build(seed: int, offsets: dict[str, float], drifts: dict[str, float], requests: int) -> World:
    rng = random.Random(seed)
    world = World({h: Clock(offsets[h], drifts[h]) for h in HOSTS})
    t = START
    for i in range(requests):
        t += rng.expovariate(requests / 3600)
        _edge(world, rng, i, t)
        if i % 100 == 0:
            _noise(world, rng, t)
    return world


def _render(host: str, line: Line, clock: Clock) -> str:
    seen = clock.read(line.true)
    if host == "edge":
        return line.text.replace("[CLF]", f"[{_clf_ms(seen)}]")
    if host == "api":
        data = json.loads(line.text)
        data["ts"] = _iso_ms(seen)
        return json.dumps(data)
    if host == "orders":
        return f"{_log4j(seen)} {line.text}"
    return f"{_pg(seen)} {line.text}"


def write(world: World, directory: Path) -> dict[str, list[Line]]:
    """Write one file per host in logged order; returns the lines per 1-based record number."""
    records: dict[str, list[Line]] = {}
    for host in HOSTS:
        lines = sorted(world.lines[host], key=lambda line: line.true)
        records[host] = lines
        text = "\n".join(_render(host, line, world.clocks[host]) for line in lines)
        (directory / f"{host}.log").write_text(text + "\n", encoding="utf-8")
    return records


def _line_numbers(records: list[Line]) -> dict[int, Line]:
    numbers, current = {}, 1
    for line in records:
        numbers[current] = line
        current += line.text.count("\n") + 1
    return numbers


@dataclass
class Score:
    median_ms: float
    worst_ms: float
    violations: int


def _score(errors: list[float], violations: int) -> Score:
    ms = sorted(abs(e) * 1000 for e in errors)
    return Score(statistics.median(ms), ms[-1], violations)


def _violations(world: World, corrected: dict[tuple[str, str], tuple[float, float]]) -> int:
    count = 0
    for rid, hosts in world.spans.items():
        for parent, child in CHAIN.items():
            if (
                parent in hosts
                and child in hosts
                and (parent, rid) in corrected
                and (child, rid) in corrected
            ):  # noqa: E501
                p, c = corrected[(parent, rid)], corrected[(child, rid)]
                # An inversion smaller than the logs' resolution is invisible in them.
                count += (c[0] < p[0] - RESOLUTION) + (c[1] > p[1] + RESOLUTION)
    return count


def ours(world: World, directory: Path) -> tuple[Score, dict[str, tuple[float, float]]]:
    records = write(world, directory)
    report = analyze(sorted(directory.glob("*.log")), options=AnalyzeOptions(reference="edge.log"))  # noqa: E501
    ref = world.clocks["edge"]
    numbers = {h: _line_numbers(records[h]) for h in HOSTS}
    errors: list[float] = []
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)
    for event in report.events:
        host = event.source.removesuffix(".log")
        line = numbers[host][event.line]
        if event.corrected_ns is None:
            continue
        fixed = event.corrected_ns / NS
        errors.append(fixed - ref.read(line.true))
        if line.request:
            spans[(host, line.request)].append(fixed)
    corrected = _spans_from_lines(world, spans)
    clocks = {
        s.name: (s.clock.offset_s or 0.0, s.clock.drift_ppm or 0.0)
        for s in report.sources
        if s.clock
    }  # noqa: E501
    return _score(errors, _violations(world, corrected)), clocks


def _spans_from_lines(
    world: World, spans: dict[tuple[str, str], list[float]]
) -> dict[tuple[str, str], tuple[float, float]]:  # noqa: E501
    out = {}
    for (host, rid), times in spans.items():
        if host == "edge":
            start, end = world.spans[rid]["edge"]
            out[(host, rid)] = (max(times) - (end - start), max(times))
        else:
            out[(host, rid)] = (min(times), max(times))
    return out


def _logged(clock: Clock, t: float) -> float:
    """The clock reading as written in a log (truncated to milliseconds)."""
    return int(clock.read(t) * 1000) / 1000


def baseline(world: World) -> Score:
    """Jaeger's adjuster: re-centre a child span only when it visibly leaves its parent."""
    shift: dict[tuple[str, str], float] = {}
    observed: dict[tuple[str, str], tuple[float, float]] = {}
    for rid, hosts in world.spans.items():
        for host, (start, end) in hosts.items():
            clock = world.clocks[host]
            observed[(host, rid)] = (_logged(clock, start), _logged(clock, end))
        shift[("edge", rid)] = 0.0
        for parent, child in CHAIN.items():
            if (child, rid) not in observed or (parent, rid) not in observed:
                continue
            p0, p1 = (v + shift[(parent, rid)] for v in observed[(parent, rid)])
            c0, c1 = observed[(child, rid)]
            delta = shift[(parent, rid)]  # children inherit their parent's adjustment
            if c0 + delta < p0 or c1 + delta > p1:
                latency = ((p1 - p0) - (c1 - c0)) / 2
                delta = p0 + latency - c0
            shift[(child, rid)] = delta
    ref = world.clocks["edge"]
    errors = []
    for host in HOSTS:
        clock = world.clocks[host]
        for line in world.lines[host]:
            adjust = shift.get((host, line.request), 0.0) if line.request else 0.0
            errors.append(_logged(clock, line.true) + adjust - ref.read(line.true))
    corrected = {
        key: (a + shift.get(key, 0.0), b + shift.get(key, 0.0)) for key, (a, b) in observed.items()
    }  # noqa: E501
    return _score(errors, _violations(world, corrected))


def scenarios() -> list[tuple[str, int, dict[str, float], dict[str, float]]]:
    fixed = [
        ("db -600 s, +200 ppm", {"edge": 0.0, "api": 0.0, "orders": 0.0, "db": -600.0},
         {"edge": 0.0, "api": 0.0, "orders": 0.0, "db": 200.0}),
        ("api +600 s, -200 ppm", {"edge": 0.0, "api": 600.0, "orders": 0.0, "db": 0.0},
         {"edge": 0.0, "api": -200.0, "orders": 0.0, "db": 0.0}),
        ("callee 5 ms ahead", {"edge": 0.0, "api": 0.005, "orders": 0.005, "db": 0.005},
         {"edge": 0.0, "api": 0.0, "orders": 0.0, "db": 0.0}),
    ]  # fmt: skip
    out = [(name, 11, off, dr) for name, off, dr in fixed]
    for seed in range(1, 6):
        rng = random.Random(seed)
        offsets = {h: rng.uniform(-600, 600) for h in HOSTS}
        drifts = {h: rng.uniform(-200, 200) for h in HOSTS}
        out.append((f"random #{seed}", seed, offsets, drifts))
    return out


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


def main(requests: int = 2000) -> None:
    print(f"machine: {machine()}")
    print(
        f"{requests} requests over 1 h per scenario; "
        f"min one-way latency {HOP_LATENCY[0] * 1000:.1f} ms"
    )  # noqa: E501
    head = f"{'scenario':<22} | {'ours median':>11} {'worst':>9} {'viol':>5} | {'baseline median':>15} {'worst':>10} {'viol':>5}"  # noqa: E501
    print(head)
    print("-" * len(head))
    for name, seed, offsets, drifts in scenarios():
        world = build(seed, offsets, drifts, requests)
        with tempfile.TemporaryDirectory() as tmp:
            mine, _ = ours(world, Path(tmp))
        base = baseline(world)
        print(f"{name:<22} | {mine.median_ms:>8.2f} ms {mine.worst_ms:>6.2f} ms {mine.violations:>5} | "  # noqa: E501
              f"{base.median_ms:>12.2f} ms {base.worst_ms:>7.0f} ms "
              f"{base.violations:>5}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
