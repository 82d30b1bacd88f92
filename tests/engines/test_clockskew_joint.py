"""The joint estimate: all sources at once, honest intervals, no causal link broken."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warroom.engines.clockskew import NS, Alignment, Occurrence, SharedId, align

T0 = 1_700_000_000 * NS
MS = 1_000_000


@dataclass
class Span:
    """One call on one source: true start and end (ns)."""

    source: str
    start: int
    end: int


@dataclass
class System:
    """Sources calling each other down a chain, on skewed clocks that log with a tick."""

    truth: dict[str, tuple[float, float]]  # source -> (offset s, drift as a fraction)
    tick: int = MS

    def read(self, source: str, t: int) -> int:
        offset, drift = self.truth[source]
        seen = int(t + offset * NS + drift * (t - T0))
        return seen - seen % self.tick  # loggers truncate to their resolution

    def true_offset(self, source: str, reference: str) -> float:
        """The model's offset of ``source`` at the epoch (its reading T0), in seconds."""
        o_s, d_s = self.truth[source]
        o_r, d_r = self.truth[reference]
        return o_s * (1 + d_r) / (1 + d_s) - o_r

    def in_reference(self, reference: str, t: int) -> float:
        o_r, d_r = self.truth[reference]
        return (t + o_r * NS + d_r * (t - T0)) / NS


def calls(
    system: System,
    chain: list[str],
    *,
    n: int = 150,
    latency_ms: tuple[float, float] = (2.0, 12.0),
    span_s: float = 3600.0,
    per_hop_ids: bool = False,
    seed: int = 1,
) -> tuple[list[SharedId], list[list[Span]]]:
    """Requests down ``chain``, each hop nested in its caller; the ids shared by every source
    (or, with ``per_hop_ids``, one id per hop shared by caller and callee only)."""
    rng = random.Random(seed)

    def hop() -> int:
        return int(rng.uniform(*latency_ms) * MS)

    shared: list[SharedId] = []
    requests: list[list[Span]] = []
    for i in range(n):
        t = T0 + int(i * span_s / n * NS) + int(rng.uniform(0, 1) * NS)
        starts = [t]
        for _ in chain[1:]:
            starts.append(starts[-1] + int(rng.uniform(0.5, 3) * MS) + hop())
        ends = [starts[-1] + int(rng.uniform(1, 20) * MS)]
        for _ in chain[1:]:
            ends.insert(0, ends[0] + hop() + int(rng.uniform(0.5, 3) * MS))
        spans = [Span(s, a, b) for s, a, b in zip(chain, starts, ends, strict=True)]
        requests.append(spans)
        seen = {
            s.source: Occurrence(system.read(s.source, s.start), system.read(s.source, s.end), 2)
            for s in spans
        }
        if per_hop_ids:
            for k in range(len(chain) - 1):
                pair = {c: seen[c] for c in chain[k : k + 2]}
                shared.append(SharedId(f"r{i}-{k}", "request-id", pair))
        else:
            shared.append(SharedId(f"r{i}", "request-id", seen))
    return shared, requests


def worst_error(system: System, result: Alignment, requests: list[list[Span]]) -> float:
    """Worst error (s) of the corrected start and end times against the truth."""
    worst = 0.0
    reference = str(result.reference)
    for spans in requests:
        for span in spans:
            for t in (span.start, span.end):
                fixed = result.correct(span.source, system.read(span.source, t))
                assert fixed is not None
                worst = max(worst, abs(fixed / NS - system.in_reference(reference, t)))
    return worst


def violations(system: System, result: Alignment, requests: list[list[Span]]) -> int:
    """Caller/callee orders broken by the corrected times by more than a tick."""
    count = 0
    for spans in requests:
        for caller, callee in zip(spans, spans[1:], strict=False):
            fixed = {
                (s.source, which): result.correct(s.source, system.read(s.source, t))
                for s in (caller, callee)
                for which, t in (("start", s.start), ("end", s.end))
            }
            c0, c1 = fixed[(caller.source, "start")], fixed[(caller.source, "end")]
            e0, e1 = fixed[(callee.source, "start")], fixed[(callee.source, "end")]
            assert None not in (c0, c1, e0, e1)
            count += (e0 < c0 - system.tick) + (e1 > c1 + system.tick)  # type: ignore[operator]
    return count


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    offsets=st.lists(st.floats(-600, 600), min_size=4, max_size=4),
    drifts=st.lists(st.floats(-200e-6, 200e-6), min_size=4, max_size=4),
    min_latency_ms=st.floats(0.5, 30),
    per_hop_ids=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_the_truth_lies_in_every_interval_and_no_causal_order_is_broken(
    offsets: list[float],
    drifts: list[float],
    min_latency_ms: float,
    per_hop_ids: bool,
    seed: int,
) -> None:
    chain = ["edge", "api", "orders", "db"]
    system = System(dict(zip(chain, zip(offsets, drifts, strict=True), strict=True)))
    latency = (min_latency_ms, min_latency_ms * 3)
    shared, requests = calls(system, chain, latency_ms=latency, per_hop_ids=per_hop_ids, seed=seed)
    result = align(chain, shared, reference="edge", epoch_ns=T0)
    for source in chain[1:]:
        clock = result.clocks[source]
        lo, hi = clock.interval_s
        assert clock.status == "estimated" and lo is not None and hi is not None
        assert lo - 1e-5 <= system.true_offset(source, "edge") <= hi + 1e-5
        assert clock.error_bound_s is not None
    assert violations(system, result, requests) == 0
    # Every clock consistent with the links is within the bound, the true one included.
    bound = max(result.clocks[s].error_bound_s or 0.0 for s in chain[1:])
    assert worst_error(system, result, requests) <= bound + 2 * system.tick / NS


def test_a_three_hop_chain_linked_hop_by_hop_is_aligned_end_to_end() -> None:
    chain = ["a", "b", "c", "d"]
    system = System({"a": (0, 0), "b": (120, 150e-6), "c": (-300, -180e-6), "d": (45, 90e-6)})
    shared, requests = calls(system, chain, n=300, per_hop_ids=True)
    result = align(chain, shared, reference="a", epoch_ns=T0)
    assert result.clocks["d"].via == ("a", "b", "c", "d")
    assert result.clocks["d"].offset_s == pytest.approx(system.true_offset("d", "a"), abs=0.01)
    assert result.clocks["d"].drift_ppm == pytest.approx(90, abs=2)
    assert violations(system, result, requests) == 0
    # Three hops of at least 2 ms each way: the error stays within the sum of the latencies.
    assert worst_error(system, result, requests) < 0.006


def test_two_routes_to_a_source_are_averaged_where_chaining_errors_add_up() -> None:
    # c is reached from the reference a through b and, in other requests, through d: each
    # route adds two pairs' errors; chaining follows one route, the joint estimate uses both.
    truth = {"a": (0.0, 0.0), "b": (300.0, 120e-6), "c": (-250.0, -150e-6), "d": (500.0, 200e-6)}
    totals = {"joint": 0.0, "path": 0.0}
    for seed in range(1, 7):
        system = System(truth)
        one, first = calls(system, ["a", "b", "c"], n=300, per_hop_ids=True, seed=seed)
        two, second = calls(system, ["a", "d", "c"], n=300, per_hop_ids=True, seed=seed + 100)
        for method in ("joint", "path"):
            result = align(list(truth), one + two, reference="a", epoch_ns=T0, method=method)  # type: ignore[arg-type]
            assert violations(system, result, first + second) == 0
            totals[method] += worst_error(system, result, first + second)
    assert totals["joint"] < totals["path"]


def test_the_joint_interval_is_no_wider_than_the_path_interval() -> None:
    chain = ["a", "b", "c"]
    system = System({"a": (0.0, 0.0), "b": (10.0, 50e-6), "c": (-20.0, -70e-6)})
    shared, _ = calls(system, chain, n=300)
    joint = align(chain, shared, reference="a", epoch_ns=T0)
    path = align(chain, shared, reference="a", epoch_ns=T0, method="path")
    for source in ("b", "c"):
        j_lo, j_hi = joint.clocks[source].interval_s
        p_lo, p_hi = path.clocks[source].interval_s
        assert j_lo is not None and j_hi is not None and p_lo is not None and p_hi is not None
        assert j_hi - j_lo <= p_hi - p_lo + 1e-6


def test_a_source_with_a_short_span_takes_its_callers_drift() -> None:
    system = System({"a": (0.0, 0.0), "b": (50.0, 150e-6), "c": (-5.0, 150e-6)})
    long, _ = calls(system, ["a", "b"], n=200)
    short, requests = calls(system, ["b", "c"], n=30, span_s=60, per_hop_ids=True, seed=2)
    result = align(["a", "b", "c"], long + short, reference="a", epoch_ns=T0)
    clock = result.clocks["c"]
    assert clock.drift_ppm == result.clocks["b"].drift_ppm
    assert "drift not fitted" in clock.reason and "taken as b's" in clock.reason
    assert violations(system, result, requests) == 0


def test_a_pair_that_contradicts_the_others_is_left_out_and_said_so() -> None:
    chain = ["a", "b", "c"]
    system = System({"a": (0.0, 0.0), "b": (30.0, 0.0), "c": (-40.0, 0.0)})
    shared, requests = calls(system, chain, n=200, per_hop_ids=True)
    rng = random.Random(5)
    for i in range(60):  # a-c links that put c a second later than the a-b-c chain allows
        t = T0 + i * 50 * NS + int(rng.uniform(0, 1) * NS)
        a = Occurrence(system.read("a", t), system.read("a", t + 30 * MS), 2)
        c_start, c_end = t + 1010 * MS, t + 1020 * MS
        c = Occurrence(system.read("c", c_start), system.read("c", c_end), 2)
        shared.append(SharedId(f"x{i}", "uuid", {"a": a, "c": c}))
    distinct = {"a": {"uuid": 60}, "c": {"uuid": 60}}
    result = align(chain, shared, reference="a", distinct_ids=distinct, epoch_ns=T0)
    (pair,) = [p for p in result.pairs if (p.source_a, p.source_b) == ("a", "c")]
    assert "left out of the joint estimate" in pair.reason
    assert result.clocks["c"].offset_s == pytest.approx(-40.0, abs=0.02)
    assert violations(system, result, requests) == 0
