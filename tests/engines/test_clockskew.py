from __future__ import annotations

import random

import pytest

from warroom.engines.clockskew import NS, Occurrence, Precedence, SharedId, align

T0 = 1_700_000_000 * NS


def _calls(truth: dict[str, tuple[float, float]], chain: list[str], n: int = 120) -> list[SharedId]:
    """Requests flowing down ``chain``, each hop nested in its caller, on skewed clocks."""
    rng = random.Random(3)

    def seen(source: str, t: int) -> int:
        offset, drift = truth[source]
        return int(t + offset * NS + drift * (t - T0))

    out = []
    for i in range(n):
        t = T0 + i * 30 * NS
        starts: list[int] = [t]
        ends: list[int] = []
        for _ in chain[1:]:
            starts.append(starts[-1] + int(rng.uniform(0.002, 0.02) * NS))
        end = starts[-1] + int(rng.uniform(0.005, 0.05) * NS)
        for _ in chain:
            ends.insert(0, end)
            end += int(rng.uniform(0.002, 0.02) * NS)
        ends.reverse()
        occ = {
            s: Occurrence(seen(s, a), seen(s, b), 2)
            for s, a, b in zip(chain, starts, list(reversed(ends)), strict=True)
        }
        out.append(SharedId(f"r{i}", "request-id", occ))
    return out


def test_two_sided_links_recover_offset_and_drift_with_an_interval() -> None:
    truth = {"web": (0.0, 0.0), "db": (-600.0, 150e-6)}
    result = align(["web", "db"], _calls(truth, ["web", "db"]), reference="web", epoch_ns=T0)
    clock = result.clocks["db"]
    lo, hi = clock.interval_s
    assert clock.status == "estimated" and lo is not None and hi is not None
    assert lo <= clock.offset_s <= hi and hi - lo < 0.05  # type: ignore[operator]
    assert clock.drift_ppm == pytest.approx(150, abs=5)
    assert clock.links == 120 and clock.kinds == ("request-id",)
    assert "web.log" not in clock.reason and "calls" in clock.reason


def test_corrected_times_are_within_the_latency_of_the_truth() -> None:
    truth = {"web": (0.0, 0.0), "db": (-600.0, 150e-6)}
    shared = _calls(truth, ["web", "db"])
    result = align(["web", "db"], shared, reference="web", epoch_ns=T0)
    for item in shared:
        web, db = item.sources["web"], item.sources["db"]
        fixed_first = result.correct("db", db.first_ns)
        fixed_last = result.correct("db", db.last_ns)
        assert fixed_first is not None and fixed_last is not None
        assert web.first_ns <= fixed_first and fixed_last <= web.last_ns  # no causal violation


def test_sources_linked_only_indirectly_are_aligned_through_the_graph() -> None:
    truth = {"a": (0.0, 0.0), "b": (120.0, 0.0), "c": (-300.0, 0.0)}
    shared = _calls(truth, ["a", "b", "c"])
    shared = [SharedId(s.value, s.kind, {k: v for k, v in s.sources.items() if k != "a"})
              if i % 2 else SharedId(s.value, s.kind, {k: v for k, v in s.sources.items() if k != "c"})  # noqa: E501
              for i, s in enumerate(shared)]  # fmt: skip
    result = align(["a", "b", "c"], shared, reference="a", epoch_ns=T0)
    assert result.clocks["c"].via == ("a", "b", "c")
    assert result.clocks["c"].offset_s == pytest.approx(-300.0, abs=0.05)


def test_too_little_evidence_is_unknown_with_a_reason() -> None:
    one = [SharedId("x", "uuid", {"a": Occurrence(T0, T0), "b": Occurrence(T0 + NS, T0 + NS)})]
    result = align(["a", "b", "c"], one, reference="a", epoch_ns=T0)
    assert result.clocks["b"].status == "unknown" and result.clocks["b"].offset_s is None
    assert "sender side could not be inferred" in result.clocks["b"].reason
    assert result.clocks["c"].reason == "no identifier or rule links this source to any other"


def test_one_way_rules_give_a_one_sided_interval() -> None:
    rules = [Precedence("a", T0 + i * NS, "b", T0 + i * NS + 60 * NS + NS // 100) for i in range(5)]  # noqa: E501
    result = align(["a", "b"], [], reference="a", rules=rules, epoch_ns=T0)
    clock = result.clocks["b"]
    assert clock.interval_s[0] is None and clock.interval_s[1] == pytest.approx(60.01)
    assert clock.offset_s == pytest.approx(60.01)


def test_a_contradicting_kind_of_identifier_is_left_out_not_averaged_in() -> None:
    truth = {"web": (0.0, 0.0), "db": (-600.0, 0.0)}
    shared = _calls(truth, ["web", "db"])
    for i in range(40):  # hashes that happen to appear on both hosts, minutes apart
        t = T0 + i * 60 * NS
        occ = {"web": Occurrence(t, t), "db": Occurrence(t - 700 * NS, t - 700 * NS)}
        shared.append(SharedId(f"{i:016x}", "hex-id", occ))
    distinct = {"web": {"hex-id": 100, "request-id": 120}, "db": {"hex-id": 40, "request-id": 120}}
    result = align(["web", "db"], shared, reference="web", distinct_ids=distinct, epoch_ns=T0)
    clock = result.clocks["db"]
    assert clock.offset_s == pytest.approx(-600.0, abs=0.05)
    assert clock.kinds == ("request-id",) and "left out" in clock.reason
