"""The links as columns: any iterable of ids, any size of times, one pass over them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from warroom.engines.clockskew import NS, Occurrence, SharedId, align
from warroom.engines.clockskew.fit import Side
from warroom.engines.clockskew.pairs import _feasible, _Points, _surely_infeasible

T0 = 1_700_000_000 * NS


def _ids(base: int, n: int = 150) -> list[SharedId]:
    """``api`` calls ``db`` (spans nested); db's clock reads 2.5 s ahead; some ids are uuids."""
    out = []
    for i in range(n):
        t = base + i * 3 * NS + (i * 7919 % 1000) * 1_000_000
        api = Occurrence(t, t + 40_000_000, 2)
        db = Occurrence(t + 2_505_000_000, t + 2_530_000_000, 2)
        out.append(
            SharedId(f"r{i}", "uuid" if i % 3 == 0 else "request-id", {"api": api, "db": db})
        )
    return out


def test_ids_given_as_a_one_shot_iterator_align_as_a_list_does() -> None:
    listed = align(["api", "db"], _ids(T0), reference="api", epoch_ns=T0)

    def once() -> Iterator[SharedId]:
        yield from _ids(T0)

    streamed = align(["api", "db"], once(), reference="api", epoch_ns=T0)
    assert streamed == listed
    clock = streamed.clocks["db"]
    assert clock.status == "estimated" and clock.kinds == ("request-id", "uuid")
    assert clock.offset_s is not None and 2.49 <= clock.offset_s <= 2.505


def test_times_beyond_64_bits_align_exactly_as_small_ones() -> None:
    """Only differences from the epoch matter, however large the readings."""
    shift = 2**64  # no longer fits a 64-bit integer: kept as Python ints
    small = align(["api", "db"], _ids(T0), reference="api", epoch_ns=T0)
    large = align(["api", "db"], _ids(T0 + shift), reference="api", epoch_ns=T0 + shift)
    assert large.clocks == small.clocks and large.pairs == small.pairs


def _nest(gap_s: float) -> _Points:
    """A nesting's delay points: upper bounds at 10 ms, lower bounds at ``10 ms - gap``
    (links on a flat floor of whole milliseconds, 200 of each over 20 minutes)."""
    x = np.arange(200, dtype=np.float64) * 6.0 + 0.123
    upper = 0.010 + (np.arange(200) % 7) * 0.001
    lower = 0.010 - gap_s - (np.arange(200) % 5) * 0.001
    return _Points(Side(x, upper, True), Side(x + 0.5, lower, False))


def test_a_clearly_contradicting_nesting_is_settled_without_its_hulls() -> None:
    contradicting = _nest(-0.005)  # lower bounds 5 ms above the upper ones
    assert _surely_infeasible(contradicting)
    assert not _feasible(contradicting)
    for gap in (0.002, 0.0, -1e-9):  # room, touching, or too close to call: the hulls decide
        nest = _nest(gap)
        assert not _surely_infeasible(nest)
    assert _feasible(_nest(0.002))
