"""Clock-alignment accuracy of ``warroom analyze`` against a Jaeger-style baseline.

A simulated shop writes real-looking logs on four hosts whose clocks are wrong:

* ``edge``: nginx access log (custom ``log_format`` with milliseconds, ``$request_id`` and
  ``$request_time``), written when a request ends; a fifth of the requests are static files;
* ``api``: JSON lines (``request received`` / ``request completed``); cached reads stop here;
* ``orders``: a Java service (log4j layout ``%d %p [%t] %c: %m``), with an occasional stack trace;
* ``db``: PostgreSQL ``log_min_duration_statement`` lines with the request id in a comment.

Each host gets an offset in [-600 s, +600 s] and a drift in [-200, +200] ppm; the run lasts an
hour, so drift alone moves a clock by up to 0.72 s.  For every line we know the true time.
One-way latency between hosts is 2-12 ms, or 20-45 ms in the cross-region scenarios (the
table prints the minimum per scenario: the target is a worst error within it).  In the
"3-hop" scenarios each call carries its own id, logged by caller and callee only (the api's
http client logs the id it sends to orders, orders logs the transaction id of each query), so
db is linked to orders only: three hops from the reference.

Errors are measured in the reference frame (``edge``'s clock): a corrected time is compared with
the true time as ``edge``'s clock would have shown it.  "Violations" counts the true causal
orders (caller's start before callee's start, callee's end before caller's end) broken by the
corrected times.  The baseline is what tracing UIs do (Jaeger's clock-skew adjuster): per
request, a child span that visibly sticks out of its parent is re-centred inside it assuming
symmetric latency; spans that do not stick out, and lines without a span, are left as logged.

Columns: "ours" is ``warroom analyze`` (the joint estimate); "path" is the same run with the
previous estimator (pairwise estimates chained along the narrowest path, ``method="path"``);
"clock" is the error of the estimated clocks alone, at the exact (untruncated) readings: the
corrected times' error adds the logs' own millisecond truncation (up to 1 ms, even on the
reference).

Run: ``python bench/alignment.py [REQUESTS]`` (default 2000 per scenario; about 15 s).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from warroom.diagnosis import analyze as analyze_module
from warroom.diagnosis.analyze import AnalyzeOptions, analyze
from warroom.engines.timestamps import NS

START = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC).timestamp()
HOSTS = ("edge", "api", "orders", "db")
CHAIN = {"edge": "api", "api": "orders", "orders": "db"}
HOP_LATENCY = (0.002, 0.012)  # one-way latency between hosts (mesh sidecars, TLS), seconds
CROSS_REGION = (0.020, 0.045)  # one-way latency between regions, seconds
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
    latency: tuple[float, float] = HOP_LATENCY
    per_hop_ids: bool = False  # each call carries its own id, logged by caller and callee only
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


def _hop(world: World, rng: random.Random) -> float:
    return rng.uniform(*world.latency)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _db(world: World, rng: random.Random, rid: str, link: str, t: float) -> float:
    took = rng.uniform(0.0005, 0.02)
    end = t + took
    world.spans[rid]["db"] = (t, end)
    key = "txn_id" if world.per_hop_ids else "request_id"
    text = (f"[{rng.randint(1000, 9999)}] LOG:  duration: {took * 1000:.3f} ms  statement: "
            f"SELECT * FROM orders WHERE customer_id = {rng.randint(1, 9999)} "
            f"/* {key}={link} */")  # fmt: skip
    world.lines["db"].append(Line(end, text, rid))
    return end


def _orders(world: World, rng: random.Random, rid: str, link: str, t: float) -> float:
    thread = f"http-nio-8080-exec-{rng.randint(1, 20)}"
    logger = "com.shop.orders.OrderController"
    out = [Line(t, f"INFO [{thread}] {logger}: processing request_id={link}", rid)]
    now = t + rng.uniform(0.001, 0.005)
    for _ in range(rng.choice((1, 1, 2))):
        query = link
        if world.per_hop_ids:  # the client side of the query logs its transaction id
            query = _uuid(rng)
            out.append(Line(now, f"DEBUG [{thread}] com.shop.orders.Db: begin txn_id={query}", rid))
        arrive = now + _hop(world, rng)
        now = _db(world, rng, rid, query, arrive) + _hop(world, rng)
        if world.per_hop_ids:
            out.append(
                Line(now, f"DEBUG [{thread}] com.shop.orders.Db: commit txn_id={query}", rid)
            )
            now += rng.uniform(0.0002, 0.001)
    if rng.random() < 0.02:
        out.append(Line(now, f"WARN [{thread}] com.shop.orders.Retry: retrying request_id={link}\n"
                             "java.net.SocketTimeoutException: Read timed out\n"
                             "\tat java.net.SocketInputStream.read(SocketInputStream.java:150)", rid))  # fmt: skip  # noqa: E501
    end = now + rng.uniform(0.001, 0.01)
    out.append(Line(end, f"INFO [{thread}] {logger}: completed request_id={link} status=200", rid))
    world.lines["orders"] += out
    world.spans[rid]["orders"] = (t, end)
    return end


def _json(t: float, **fields: object) -> str:
    return json.dumps({"ts": _iso_ms(t), "level": "info", "logger": "api.http", **fields})


def _api(world: World, rng: random.Random, rid: str, t: float) -> float:
    path = rng.choice(("/api/orders", "/api/cart", "/api/products"))
    lines = [Line(t, _json(t, msg="request received", request_id=rid, path=path), rid)]
    now = t + rng.uniform(0.0005, 0.003)
    if path != "/api/products":  # products come from the api's cache
        link = rid
        if world.per_hop_ids:  # the http client logs the id it sends to orders
            link = _uuid(rng)
            lines.append(Line(now, _json(now, msg="calling orders", call=link), rid))
        now = _orders(world, rng, rid, link, now + _hop(world, rng)) + _hop(world, rng)
        if world.per_hop_ids:
            lines.append(Line(now, _json(now, msg="orders replied", call=link), rid))
            now += rng.uniform(0.0002, 0.001)
    end = now + rng.uniform(0.0005, 0.003)
    took = round((end - t) * 1000, 3)
    lines.append(Line(end, _json(end, msg="request completed", request_id=rid, status=200,
                                 duration_ms=took), rid))  # fmt: skip
    world.lines["api"] += lines
    world.spans[rid]["api"] = (t, end)
    return end


def _edge(world: World, rng: random.Random, index: int, t: float) -> None:
    rid = f"{rng.getrandbits(128):032x}"
    static = rng.random() < 0.2
    if static:
        end = t + rng.uniform(0.0002, 0.001)
    else:
        end = _api(world, rng, rid, t + _hop(world, rng)) + _hop(world, rng)
    path = "/static/app.js" if static else "/api/orders"
    client = f"203.0.113.{index % 250 + 1}"
    text = (f'{client} - - [CLF] "GET {path} HTTP/1.1" 200 {rng.randint(200, 9000)} "-" '
            f'"Mozilla/5.0" rt={end - t:.3f} request_id={rid}')  # fmt: skip
    world.lines["edge"].append(Line(end, text, rid))
    world.spans[rid]["edge"] = (t, end)


def _noise(world: World, rng: random.Random, t: float) -> None:
    heap = "INFO [scheduler-1] com.shop.orders.Metrics: heap used 512 MB"
    world.lines["orders"].append(Line(t, heap, None))
    checkpoint = f"[{rng.randint(1000, 9999)}] LOG:  checkpoint starting: time"
    world.lines["db"].append(Line(t + 0.5, checkpoint, None))


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    offsets: dict[str, float]
    drifts: dict[str, float]
    latency: tuple[float, float] = HOP_LATENCY
    per_hop_ids: bool = False


def build(scenario: Scenario, requests: int) -> World:
    rng = random.Random(scenario.seed)
    clocks = {h: Clock(scenario.offsets[h], scenario.drifts[h]) for h in HOSTS}
    world = World(clocks, scenario.latency, scenario.per_hop_ids)
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


@dataclass
class Ours:
    score: Score
    clock_worst_ms: float  # the estimated clocks alone, at exact readings (no log resolution)
    clocks: dict[str, tuple[float, float]]


def ours(world: World, directory: Path, method: str = "joint") -> Ours:
    """``warroom analyze`` on the written logs; ``method="path"`` is the pairwise chaining the
    joint estimate replaced (the engine keeps it as its fallback), for comparison."""
    records = write(world, directory)
    chosen = functools.partial(analyze_module.align, method=method)
    with mock.patch.object(analyze_module, "align", chosen):
        report = analyze(
            sorted(directory.glob("*.log")), options=AnalyzeOptions(reference="edge.log")
        )
    ref = world.clocks["edge"]
    epoch = report.alignment.epoch_ns / NS
    numbers = {h: _line_numbers(records[h]) for h in HOSTS}
    estimates = {s.name.removesuffix(".log"): s.clock for s in report.sources}
    errors: list[float] = []
    clock_errors: list[float] = [0.0]
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)
    for event in report.events:
        host = event.source.removesuffix(".log")
        line = numbers[host][event.line]
        if event.corrected_ns is None:
            continue
        fixed = event.corrected_ns / NS
        errors.append(fixed - ref.read(line.true))
        estimate = estimates[host]
        if estimate is not None:
            exact = world.clocks[host].read(line.true) - epoch
            clock_errors.append(
                epoch + estimate.scale * exact + estimate.shift_s - ref.read(line.true)
            )  # noqa: E501
        if line.request:
            spans[(host, line.request)].append(fixed)
    corrected = _spans_from_lines(world, spans)
    clocks = {
        s.name: (s.clock.offset_s or 0.0, s.clock.drift_ppm or 0.0)
        for s in report.sources
        if s.clock
    }  # noqa: E501
    worst = max(abs(e) for e in clock_errors) * 1000
    return Ours(_score(errors, _violations(world, corrected)), worst, clocks)


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


def scenarios() -> list[Scenario]:
    zero = dict.fromkeys(HOSTS, 0.0)
    out = [
        Scenario("db -600 s, +200 ppm", 11, {**zero, "db": -600.0}, {**zero, "db": 200.0}),
        Scenario("api +600 s, -200 ppm", 11, {**zero, "api": 600.0}, {**zero, "api": -200.0}),
        Scenario("callee 5 ms ahead", 11, {**zero, "api": 0.005, "orders": 0.005, "db": 0.005},
                 zero),
    ]  # fmt: skip
    for seed in range(1, 6):
        rng = random.Random(seed)
        offsets = {h: rng.uniform(-600, 600) for h in HOSTS}
        drifts = {h: rng.uniform(-200, 200) for h in HOSTS}
        out.append(Scenario(f"random #{seed}", seed, offsets, drifts))
    # Harder cases on the offsets and drifts of random #1 (not tuned):
    # every hop between regions (20-45 ms one way);
    first = out[3]
    out.append(Scenario("cross-region", 1, first.offsets, first.drifts, CROSS_REGION))
    # each call carries its own id, so db is linked to orders only, orders to api only, api to
    # edge only: a chain of three hops from the reference to db.
    out.append(Scenario("3-hop id chain", 1, first.offsets, first.drifts, per_hop_ids=True))
    out.append(Scenario("3-hop, cross-region", 2, out[4].offsets, out[4].drifts, CROSS_REGION,
                        per_hop_ids=True))  # fmt: skip
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
    print(f"{requests} requests over 1 h per scenario; timestamps in milliseconds (truncated)")
    print("ours = joint estimate (all sources at once); path = pairwise estimates chained along "
          "the narrowest path (the previous estimator); clock = error of the estimated clocks "
          "alone, at exact readings")  # fmt: skip
    head = (f"{'scenario':<20} | {'min lat':>7} | {'ours median':>11} {'worst':>8} {'clock':>8} "
            f"{'viol':>4} | {'path worst':>10} {'clock':>8} {'viol':>4} | {'baseline median':>15} "
            f"{'worst':>10} {'viol':>4}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for scenario in scenarios():
        world = build(scenario, requests)
        with tempfile.TemporaryDirectory() as tmp:
            mine = ours(world, Path(tmp))
        with tempfile.TemporaryDirectory() as tmp:
            path = ours(world, Path(tmp), method="path")
        base = baseline(world)
        m, q = mine.score, path.score
        print(f"{scenario.name:<20} | {scenario.latency[0] * 1000:>4.0f} ms | "
              f"{m.median_ms:>8.2f} ms {m.worst_ms:>5.2f} ms {mine.clock_worst_ms:>5.2f} ms "
              f"{m.violations:>4} | {q.worst_ms:>7.2f} ms {path.clock_worst_ms:>5.2f} ms "
              f"{q.violations:>4} | {base.median_ms:>12.2f} ms {base.worst_ms:>7.0f} ms "
              f"{base.violations:>4}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
