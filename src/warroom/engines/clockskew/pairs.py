"""Pairs of sources: which side sends (inferred and reported), then the pair's estimate.

Per pair and per kind of identifier: nested spans (the caller's first and last lines enclose
the callee's) when only one nesting is feasible, otherwise the source that originates the
identifiers (it holds more distinct ids of that kind); kinds that contradict each other are not
averaged: the best-supported consistent kind is kept and the others are named.

The shared identifiers are held as columns (one row per identifier and source: first and last
time, whether it spans), never as an object per identifier; each pair's links are taken from
them as arrays, one pair at a time.
"""

from __future__ import annotations

import itertools
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from .fit import Margins, Side, fit_sides, max_margin
from .model import (
    MAX_DRIFT_PPM,
    MIN_DRIFT_SPAN_S,
    MIN_LINKS,
    NS,
    ORIGIN_RATIO,
    Fit,
    PairInference,
    Precedence,
    SharedId,
)

_EXACT: Final = 2**53  # int64 nanoseconds below this convert to float exactly


@dataclass
class _Points:
    """Delay points of one pair (B relative to A): upper bounds U and lower bounds L.

    A point is ``(x, y)``: ``x`` is B's reading (s since the epoch), ``y`` the delay
    ``B - A`` widened by the resolution pad (``+ pad_upper`` on U, ``- pad_lower`` on L), so
    A's reading is ``x - (y - pad_upper)`` (U) or ``x - (y + pad_lower)`` (L).
    """

    upper: Side
    lower: Side
    kinds: set[str] = field(default_factory=set)
    links: int = 0
    pad_upper: float = 0.0
    pad_lower: float = 0.0
    margins: Margins = field(default_factory=Margins)


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.float64)


def _points(
    upper: tuple[np.ndarray, np.ndarray] | None,
    lower: tuple[np.ndarray, np.ndarray] | None,
    res: tuple[float, float],
) -> _Points:
    up = Side(*(upper or (_empty(), _empty())), True)
    low = Side(*(lower or (_empty(), _empty())), False)
    return _Points(up, low, pad_upper=res[1], pad_lower=res[0])


def _secs(ns: np.ndarray, epoch: int) -> np.ndarray:
    """``(ns - epoch) / NS`` per element, exactly as Python computes it for one int."""
    if ns.dtype != object and ns.size:
        low, high = int(ns.min()) - epoch, int(ns.max()) - epoch
        if low >= -_EXACT and high <= _EXACT and -(2**63) <= epoch < 2**63:
            return (ns - np.int64(epoch)).astype(np.float64) / NS
    return np.array([(int(v) - epoch) / NS for v in ns.tolist()], dtype=np.float64)


@dataclass
class _Group:
    """The links of one pair (and one kind, once split): per link, both sources' columns."""

    a: str
    b: str
    kind: np.ndarray  # kind code per link
    a_first: np.ndarray
    a_last: np.ndarray
    a_spans: np.ndarray  # count >= 2
    b_first: np.ndarray
    b_last: np.ndarray
    b_spans: np.ndarray
    resolution: tuple[float, float]

    def __len__(self) -> int:
        return int(self.kind.size)

    def only(self, mask: np.ndarray) -> _Group:
        return _Group(
            self.a, self.b, self.kind[mask], self.a_first[mask], self.a_last[mask],
            self.a_spans[mask], self.b_first[mask], self.b_last[mask], self.b_spans[mask],
            self.resolution,
        )  # fmt: skip


def _nest_points(group: _Group, outer_is_a: bool, epoch: int) -> _Points:
    res = group.resolution
    b_first, b_last = _secs(group.b_first, epoch), _secs(group.b_last, epoch)
    y_first = b_first - _secs(group.a_first, epoch)
    y_last = b_last - _secs(group.a_last, epoch)
    if outer_is_a:  # a.first <= b.first and b.last <= a.last
        return _points((b_first, y_first + res[1]), (b_last, y_last - res[0]), res)
    # b.first <= a.first and a.last <= b.last
    return _points((b_last, y_last + res[1]), (b_first, y_first - res[0]), res)


def _before_points(group: _Group, a_first: bool, epoch: int) -> _Points:
    res = group.resolution
    x = _secs(group.b_first, epoch)
    y = x - _secs(group.a_first, epoch)
    if a_first:
        return _points((x, y + res[1]), None, res)
    return _points(None, (x, y - res[0]), res)


def _feasible(points: _Points) -> bool:
    up, low = points.upper.hull(), points.lower.hull()
    xs = [x for x, _ in up + low]
    fitted = bool(xs) and max(xs) - min(xs) >= MIN_DRIFT_SPAN_S
    solution = points.margins.solve(up, low, fitted) if up and low else max_margin(up, low, fitted)
    return solution is not None and solution[2] >= 0.0


_SLOPES: Final = np.linspace(-MAX_DRIFT_PPM * 1e-6, MAX_DRIFT_PPM * 1e-6, 17)


def _sure_vertices(side: Side) -> list[tuple[float, float]]:
    """Points of ``side`` that are on its hull (the lower one for upper bounds) whatever order
    Qhull sees the points in: each is the only point within a clear distance of a line of
    drift-sized slope with every other point beyond it."""
    x, y = side.x, side.y
    sign = 1.0 if side.lower else -1.0
    clear = 1e-8 * (float(np.ptp(y)) + MAX_DRIFT_PPM * 1e-6 * float(np.ptp(x)))
    found: list[tuple[float, float]] = []
    for slope in _SLOPES.tolist():
        height = sign * (y - slope * x)
        best = int(height.argmin())
        near = height <= height[best] + clear
        if np.all(x[near] == x[best]) and np.all(y[near] == y[best]):
            point = (float(x[best]), float(y[best]))
            if point not in found:
                found.append(point)
    return found


def _surely_infeasible(points: _Points) -> bool:
    """True only when no hull :func:`_feasible` could use leaves a feasible nesting.

    The maximum margin over a subset of the hull points (and the widest drift bounds) is at
    least the margin over the hulls themselves, so a clearly negative one settles it without
    computing the hulls (which keep their points in set order, at a cost)."""
    if len(points.upper) < 64 or len(points.lower) < 64:
        return False
    up, low = _sure_vertices(points.upper), _sure_vertices(points.lower)
    if not up or not low:
        return False
    solution = max_margin(sorted(up), sorted(low), True)
    return solution is not None and solution[2] < -1e-6


def _median(spans: np.ndarray) -> float | int:
    """``statistics.median`` of integers (the middle one, or the mean of the two middle)."""
    n = spans.size
    if n == 0:
        raise ValueError("no median for empty data")
    middle = np.partition(spans, (n // 2 - 1, n // 2) if n % 2 == 0 else n // 2)
    if n % 2 == 1:
        return int(middle[n // 2])
    return (int(middle[n // 2 - 1]) + int(middle[n // 2])) / 2


def _median_span(group: _Group, on_a: bool) -> float | int:
    first, last = (group.a_first, group.a_last) if on_a else (group.b_first, group.b_last)
    return _median(last - first)


def _infer(group: _Group, origin: str | None, epoch: int) -> tuple[str, str, _Points | None]:
    """Choose the causal relation of a pair; returns (relation, reason, points)."""
    origin_is_a = origin == group.a if origin is not None else None
    nests = []
    for outer_is_a in (True, False):
        if origin_is_a is not None and outer_is_a != origin_is_a:
            continue  # only the origin's own nesting can be used
        if bool((group.a_spans if outer_is_a else group.b_spans).any()):
            points = _nest_points(group, outer_is_a, epoch)
            if not _surely_infeasible(points) and _feasible(points):
                nests.append((outer_is_a, points))
    names = {True: group.a, False: group.b}
    if origin is not None and origin_is_a is not None:
        for outer_is_a, points in nests:
            if outer_is_a == origin_is_a:
                reason = f"{origin} originates the ids and its spans enclose the other's"
                return f"{origin} calls {names[not outer_is_a]}", reason, points
        points = _before_points(group, origin_is_a, epoch)
        reason = f"{origin} originates the ids (holds more distinct ids); first sightings ordered"
        return f"{origin} before {names[not origin_is_a]}", reason, points
    if len(nests) == 2:
        longer = _median_span(group, True) >= _median_span(group, False)
        nests = [n for n in nests if n[0] == longer]
    if len(nests) == 1:
        outer_is_a, points = nests[0]
        reason = f"spans of {names[outer_is_a]} enclose those of {names[not outer_is_a]}"
        return f"{names[outer_is_a]} calls {names[not outer_is_a]}", reason, points
    return "unknown", "sender side could not be inferred (no nesting, no id origin)", None


def _origin(
    a: str, b: str, kinds: set[str], distinct: Mapping[str, Mapping[str, int]]
) -> str | None:  # noqa: E501
    count_a = sum(distinct.get(a, {}).get(k, 0) for k in kinds)
    count_b = sum(distinct.get(b, {}).get(k, 0) for k in kinds)
    if count_a >= ORIGIN_RATIO * count_b and count_a > count_b:
        return a
    if count_b >= ORIGIN_RATIO * count_a and count_b > count_a:
        return b
    return None


def _int_column(values: Iterator[int], size: int) -> np.ndarray:
    kept = list(values)
    try:
        return np.fromiter(kept, np.int64, size)
    except OverflowError:  # beyond 64 bits: kept as Python ints (exact, slower)
        return np.array(kept, dtype=object)


def _drain(parts: list[np.ndarray]) -> np.ndarray:
    """The parts joined; the list is emptied so that they do not outlive the join."""
    joined = np.concatenate(parts)
    parts.clear()
    return joined


class _Codes(dict[str, int]):
    """Numbers names in order of first appearance."""

    def __missing__(self, key: str) -> int:
        code = self[key] = len(self)
        return code


_BATCH: Final = 4096
_KIND: Final = operator.attrgetter("kind")
_SOURCES: Final = operator.attrgetter("sources")
_VALUES: Final = operator.methodcaller("values")
_FIRST: Final = operator.attrgetter("first_ns")
_LAST: Final = operator.attrgetter("last_ns")
_COUNT: Final = operator.attrgetter("count")


class _Links:
    """The shared identifiers as columns, one row per identifier and source."""

    def __init__(self, shared_ids: Iterable[SharedId], resolution: Mapping[str, int]) -> None:
        self.resolution = resolution
        kind_codes = _Codes()
        source_codes = _Codes()
        kinds: list[np.ndarray] = []
        sizes: list[np.ndarray] = []
        sources: list[np.ndarray] = []
        first: list[np.ndarray] = []
        last: list[np.ndarray] = []
        spans: list[np.ndarray] = []
        items = iter(shared_ids)
        while batch := list(itertools.islice(items, _BATCH)):  # only a batch of objects held
            kinds.append(np.fromiter(map(kind_codes.__getitem__, map(_KIND, batch)), np.int32))
            held = list(map(_SOURCES, batch))
            del batch
            sizes.append(np.fromiter(map(len, held), np.int64, len(held)))
            names = list(itertools.chain.from_iterable(held))
            occurrences = list(itertools.chain.from_iterable(map(_VALUES, held)))
            del held
            sources.append(np.fromiter(map(source_codes.__getitem__, names), np.int32, len(names)))
            first.append(_int_column(map(_FIRST, occurrences), len(occurrences)))
            last.append(_int_column(map(_LAST, occurrences), len(occurrences)))
            spans.append(_int_column(map(_COUNT, occurrences), len(occurrences)) >= 2)
            del names, occurrences
        kinds.append(np.zeros(0, dtype=np.int32))
        for column in (sizes, first, last):
            column.append(np.zeros(0, dtype=np.int64))
        sources.append(np.zeros(0, dtype=np.int32))
        spans.append(np.zeros(0, dtype=bool))
        sizes_all = np.concatenate(sizes)
        self.kind_names = list(kind_codes)
        self.source_names = sorted(source_codes)
        rank = np.zeros(len(source_codes), dtype=np.int32)
        for name, code in source_codes.items():
            rank[code] = self.source_names.index(name)
        number = np.repeat(np.arange(sizes_all.size, dtype=np.int64), sizes_all)
        source = rank[_drain(sources)]
        order = np.lexsort((source, number))  # by identifier, then source name
        number = number[order]
        self.source = source[order]
        self.first = _drain(first)[order]
        self.last = _drain(last)[order]
        self.spans = _drain(spans)[order]
        self.kind = _drain(kinds)[number]  # per row, its identifier's kind
        del order
        self._pairs = self._pair_rows(number)

    def _pair_rows(
        self, number: np.ndarray
    ) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        """Per pair of sources, the rows of both sides of each shared id, in id order."""
        source, count = self.source, len(self.source_names)
        small = np.int32 if number.size < 2**31 else np.int64
        wide = np.int32 if count * count < 2**31 else np.int64
        keys, rows_a, rows_b = [], [], []
        step = 1
        while step < number.size:
            same = np.flatnonzero(number[:-step] == number[step:]).astype(small)
            if not same.size:
                break
            keys.append(source[same].astype(wide) * count + source[same + step])
            rows_a.append(same)
            rows_b.append(same + step)
            step += 1
        if not keys:
            return {}
        key, row_a, row_b = np.concatenate(keys), np.concatenate(rows_a), np.concatenate(rows_b)
        del keys, rows_a, rows_b
        order = np.lexsort((row_a, key))  # rows of one id are adjacent: row order is id order
        key, row_a, row_b = key[order], row_a[order], row_b[order]
        bounds = np.flatnonzero(np.diff(key)) + 1
        out = {}
        for lo, hi in zip(
            [0, *bounds.tolist()], [*bounds.tolist(), key.size], strict=True
        ):  # fmt: skip
            a, b = divmod(int(key[lo]), count)
            out[(self.source_names[a], self.source_names[b])] = (row_a[lo:hi], row_b[lo:hi])
        return out

    def pairs(self) -> set[tuple[str, str]]:
        return set(self._pairs)

    def group(self, key: tuple[str, str]) -> _Group:
        """The links of one pair (its rows are released: each pair is taken once)."""
        rows_a, rows_b = self._pairs.pop(key)
        a, b = key
        return _Group(
            a, b, self.kind[rows_a],
            self.first[rows_a], self.last[rows_a], self.spans[rows_a],
            self.first[rows_b], self.last[rows_b], self.spans[rows_b],
            (self.resolution.get(a, 0) / NS, self.resolution.get(b, 0) / NS),
        )  # fmt: skip


def _rule_points(
    rules: Iterable[Precedence], epoch: int, resolution: Mapping[str, int]
) -> dict[tuple[str, str], _Points]:  # noqa: E501
    upper: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    lower: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    meta: dict[tuple[str, str], tuple[set[str], list[int], list[float]]] = {}
    for rule in rules:
        a, b = sorted((rule.before_source, rule.after_source))
        kinds, links, pads = meta.setdefault((a, b), (set(), [0], [0.0, 0.0]))
        pads[:] = [resolution.get(b, 0) / NS, resolution.get(a, 0) / NS]
        xb = ((rule.after_ns if b == rule.after_source else rule.before_ns) - epoch) / NS
        xa = ((rule.before_ns if a == rule.before_source else rule.after_ns) - epoch) / NS
        if a == rule.before_source:
            upper[(a, b)].append((xb, xb - xa + resolution.get(b, 0) / NS))
        else:
            lower[(a, b)].append((xb, xb - xa - resolution.get(a, 0) / NS))
        kinds.add(rule.kind)
        links[0] += 1
    out = {}
    for key, (kinds, links, pads) in meta.items():
        up = np.array(upper[key], dtype=np.float64).reshape(-1, 2)
        low = np.array(lower[key], dtype=np.float64).reshape(-1, 2)
        out[key] = _Points(
            Side(up[:, 0].copy(), up[:, 1].copy(), True),
            Side(low[:, 0].copy(), low[:, 1].copy(), False),
            kinds, links[0], pads[0], pads[1],
        )  # fmt: skip
    return out


Estimated = tuple[PairInference, Fit | None]


def _estimate(a: str, b: str, points: _Points, relation: str, reason: str) -> Estimated:
    kinds = tuple(sorted(points.kinds))
    if points.links < MIN_LINKS:
        why = f"only {points.links} link(s); at least {MIN_LINKS} needed"
        return PairInference(a, b, relation, why, points.links, kinds), None
    pads = (points.pad_upper, points.pad_lower)
    fit = fit_sides(points.upper, points.lower, pads, points.margins)
    if fit is None:
        why = "links contradict each other"
        return PairInference(a, b, "inconsistent", why, points.links, kinds), None
    note = "" if fit.drift_fitted else "; drift not fitted (links span too short a time)"
    return PairInference(
        a, b, relation, reason + note, points.links, kinds,
        fit.offset, (fit.lo, fit.hi), fit.drift, fit.rejected,
    ), fit  # fmt: skip


def _pair_estimate(
    key: tuple[str, str],
    shared: tuple[int, tuple[str, ...]],
    groups: list[tuple[_Points, str, str]],
    relation: str,
    reason: str,
) -> Estimated:
    """All kinds together; if they contradict, the best-supported kind that is consistent."""
    a, b = key
    if not groups:
        return PairInference(a, b, relation, reason, shared[0], shared[1]), None
    merged = groups[0][0]
    for points, _, _ in groups[1:]:
        merged = _merge(merged, points)
    together, fit = _estimate(a, b, merged, relation, reason)
    if fit is not None or len(groups) == 1:
        return together, fit
    for points, kind_relation, kind_reason in sorted(groups, key=lambda g: -g[0].links):
        alone, fit = _estimate(a, b, points, kind_relation, kind_reason)
        if fit is not None:
            note = f"; other identifier kinds contradicted it and were left out ({reason})"
            return PairInference(
                alone.source_a, alone.source_b, alone.relation, alone.reason + note,
                alone.links, alone.kinds, alone.offset_s, alone.interval_s,
                alone.drift_ppm, alone.rejected,
            ), fit  # fmt: skip
    return together, None


def infer_pairs(
    shared_ids: Iterable[SharedId],
    *,
    rules: Iterable[Precedence] = (),
    distinct_ids: Mapping[str, Mapping[str, int]] | None = None,
    resolution_ns: Mapping[str, int] | None = None,
    epoch_ns: int = 0,
) -> list[PairInference]:
    """Relate every pair of sources that share identifiers or user rules."""
    return [
        inference
        for inference, _ in relate(
            shared_ids,
            rules=rules,
            distinct_ids=distinct_ids,
            resolution_ns=resolution_ns,
            epoch_ns=epoch_ns,
        )  # fmt: skip
    ]


def relate(
    shared_ids: Iterable[SharedId],
    *,
    rules: Iterable[Precedence] = (),
    distinct_ids: Mapping[str, Mapping[str, int]] | None = None,
    resolution_ns: Mapping[str, int] | None = None,
    epoch_ns: int = 0,
) -> list[Estimated]:
    """Like :func:`infer_pairs`, with each pair's fit (its link hulls) when it has one."""
    resolution = resolution_ns or {}
    rule_points = _rule_points(rules, epoch_ns, resolution)
    links = _Links(shared_ids, resolution)
    out = []
    for key in sorted(links.pairs() | set(rule_points)):
        groups: list[tuple[_Points, str, str]] = []
        if key in rule_points:
            groups.append((rule_points[key], "rule", "user rules"))
        relations, reasons = [g[1] for g in groups], [g[2] for g in groups]
        shared: tuple[int, tuple[str, ...]] = (0, ())
        if key in links.pairs():
            pair = links.group(key)
            codes = np.unique(pair.kind).tolist()
            kinds = sorted((links.kind_names[c], c) for c in codes)
            shared = (len(pair), tuple(name for name, _ in kinds))
            # Each kind of identifier may flow its own way (containers up, attempts down).
            for kind, code in kinds:
                group = pair.only(pair.kind == code) if len(kinds) > 1 else pair
                origin = _origin(key[0], key[1], {kind}, distinct_ids or {})
                relation, reason, inferred = _infer(group, origin, epoch_ns)
                relations.append(f"{kind}: {relation}")
                reasons.append(f"{kind}: {reason}")
                if inferred is not None:
                    inferred.kinds.add(kind)
                    inferred.links = len(group)
                    groups.append((inferred, f"{kind}: {relation}", f"{kind}: {reason}"))
            del pair
        estimated = _pair_estimate(key, shared, groups, "; ".join(relations), "; ".join(reasons))
        out.append(estimated)
    return out


def _merge(first: _Points, second: _Points) -> _Points:
    return _Points(
        Side(
            np.concatenate((first.upper.x, second.upper.x)),
            np.concatenate((first.upper.y, second.upper.y)),
            True,
        ),
        Side(
            np.concatenate((first.lower.x, second.lower.x)),
            np.concatenate((first.lower.y, second.lower.y)),
            False,
        ),
        first.kinds | second.kinds,
        first.links + second.links,
        max(first.pad_upper, second.pad_upper),
        max(first.pad_lower, second.pad_lower),
    )
