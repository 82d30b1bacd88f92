"""Pairs of sources: which side sends (inferred and reported), then the pair's estimate.

Per pair and per kind of identifier: nested spans (the caller's first and last lines enclose
the callee's) when only one nesting is feasible, otherwise the source that originates the
identifiers (it holds more distinct ids of that kind); kinds that contradict each other are not
averaged: the best-supported consistent kind is kept and the others are named.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .fit import fit_pair, hull, max_margin
from .model import (
    MIN_DRIFT_SPAN_S,
    MIN_LINKS,
    NS,
    ORIGIN_RATIO,
    Fit,
    Occurrence,
    PairInference,
    Points,
    Precedence,
    SharedId,
)


@dataclass(frozen=True, slots=True)
class _Shared:
    kind: str
    a: Occurrence
    b: Occurrence


def _secs(ns: int, epoch: int) -> float:
    return (ns - epoch) / NS


def _nest_points(
    shared: Sequence[_Shared], outer_is_a: bool, epoch: int, res: tuple[float, float]
) -> Points:  # noqa: E501
    points = Points(pad_upper=res[1], pad_lower=res[0])
    for item in shared:
        b_first, b_last = _secs(item.b.first_ns, epoch), _secs(item.b.last_ns, epoch)
        y_first = b_first - _secs(item.a.first_ns, epoch)
        y_last = b_last - _secs(item.a.last_ns, epoch)
        if outer_is_a:  # a.first <= b.first and b.last <= a.last
            points.upper.append((b_first, y_first + res[1]))
            points.lower.append((b_last, y_last - res[0]))
        else:  # b.first <= a.first and a.last <= b.last
            points.lower.append((b_first, y_first - res[0]))
            points.upper.append((b_last, y_last + res[1]))
    return points


def _before_points(
    shared: Sequence[_Shared], a_first: bool, epoch: int, res: tuple[float, float]
) -> Points:  # noqa: E501
    points = Points(pad_upper=res[1], pad_lower=res[0])
    for item in shared:
        x = _secs(item.b.first_ns, epoch)
        y = x - _secs(item.a.first_ns, epoch)
        if a_first:
            points.upper.append((x, y + res[1]))
        else:
            points.lower.append((x, y - res[0]))
    return points


def _feasible(points: Points) -> bool:
    up, low = hull(points.upper, True), hull(points.lower, False)
    xs = [x for x, _ in up + low]
    fitted = bool(xs) and max(xs) - min(xs) >= MIN_DRIFT_SPAN_S
    solution = max_margin(up, low, fitted)
    return solution is not None and solution[2] >= 0.0


def _has_spans(shared: Sequence[_Shared], on_a: bool) -> bool:
    return any((s.a if on_a else s.b).count >= 2 for s in shared)


def _median_span(shared: Sequence[_Shared], on_a: bool) -> float:
    return statistics.median(
        (s.a if on_a else s.b).last_ns - (s.a if on_a else s.b).first_ns for s in shared
    )


@dataclass(frozen=True, slots=True)
class _Pair:
    a: str
    b: str
    shared: tuple[_Shared, ...]
    resolution: tuple[float, float]


def _infer(pair: _Pair, origin: str | None, epoch: int) -> tuple[str, str, Points | None]:
    """Choose the causal relation of a pair; returns (relation, reason, points)."""
    nests = []
    for outer_is_a in (True, False):
        if _has_spans(pair.shared, outer_is_a):
            points = _nest_points(pair.shared, outer_is_a, epoch, pair.resolution)
            if _feasible(points):
                nests.append((outer_is_a, points))
    names = {True: pair.a, False: pair.b}
    if origin is not None:
        origin_is_a = origin == pair.a
        for outer_is_a, points in nests:
            if outer_is_a == origin_is_a:
                reason = f"{origin} originates the ids and its spans enclose the other's"
                return f"{origin} calls {names[not outer_is_a]}", reason, points
        points = _before_points(pair.shared, origin_is_a, epoch, pair.resolution)
        reason = f"{origin} originates the ids (holds more distinct ids); first sightings ordered"
        return f"{origin} before {names[not origin_is_a]}", reason, points
    if len(nests) == 2:
        longer = _median_span(pair.shared, True) >= _median_span(pair.shared, False)
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


def _group_pairs(shared_ids: Iterable[SharedId], resolution: Mapping[str, int]) -> list[_Pair]:
    groups: dict[tuple[str, str], list[_Shared]] = defaultdict(list)
    for item in shared_ids:
        names = sorted(item.sources)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                groups[(a, b)].append(_Shared(item.kind, item.sources[a], item.sources[b]))
    return [
        _Pair(a, b, tuple(items), (resolution.get(a, 0) / NS, resolution.get(b, 0) / NS))
        for (a, b), items in sorted(groups.items())
    ]


def _rule_points(
    rules: Iterable[Precedence], epoch: int, resolution: Mapping[str, int]
) -> dict[tuple[str, str], Points]:  # noqa: E501
    out: dict[tuple[str, str], Points] = defaultdict(Points)
    for rule in rules:
        a, b = sorted((rule.before_source, rule.after_source))
        points = out[(a, b)]
        points.pad_upper = resolution.get(b, 0) / NS
        points.pad_lower = resolution.get(a, 0) / NS
        xb = _secs(rule.after_ns if b == rule.after_source else rule.before_ns, epoch)
        xa = _secs(rule.before_ns if a == rule.before_source else rule.after_ns, epoch)
        if a == rule.before_source:
            points.upper.append((xb, xb - xa + resolution.get(b, 0) / NS))
        else:
            points.lower.append((xb, xb - xa - resolution.get(a, 0) / NS))
        points.kinds.add(rule.kind)
        points.links += 1
    return out


Estimated = tuple[PairInference, Fit | None]


def _estimate(pair: _Pair, points: Points, relation: str, reason: str) -> Estimated:
    kinds = tuple(sorted(points.kinds))
    if points.links < MIN_LINKS:
        why = f"only {points.links} link(s); at least {MIN_LINKS} needed"
        return PairInference(pair.a, pair.b, relation, why, points.links, kinds), None
    fit = fit_pair(points.upper, points.lower, pads=(points.pad_upper, points.pad_lower))
    if fit is None:
        why = "links contradict each other"
        return PairInference(pair.a, pair.b, "inconsistent", why, points.links, kinds), None
    note = "" if fit.drift_fitted else "; drift not fitted (links span too short a time)"
    return PairInference(
        pair.a, pair.b, relation, reason + note, points.links, kinds,
        fit.offset, (fit.lo, fit.hi), fit.drift, fit.rejected,
    ), fit  # fmt: skip


def _pair_estimate(
    pair: _Pair, groups: list[tuple[Points, str, str]], relation: str, reason: str
) -> Estimated:
    """All kinds together; if they contradict, the best-supported kind that is consistent."""
    if not groups:
        kinds = tuple(sorted({s.kind for s in pair.shared}))
        return PairInference(pair.a, pair.b, relation, reason, len(pair.shared), kinds), None
    merged = groups[0][0]
    for points, _, _ in groups[1:]:
        merged = _merge(merged, points)
    together, fit = _estimate(pair, merged, relation, reason)
    if fit is not None or len(groups) == 1:
        return together, fit
    for points, kind_relation, kind_reason in sorted(groups, key=lambda g: -g[0].links):
        alone, fit = _estimate(pair, points, kind_relation, kind_reason)
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
    pairs = {(p.a, p.b): p for p in _group_pairs(shared_ids, resolution)}
    out = []
    for key in sorted(set(pairs) | set(rule_points)):
        pair = pairs.get(key, _Pair(key[0], key[1], (), (0.0, 0.0)))
        groups: list[tuple[Points, str, str]] = []
        if key in rule_points:
            groups.append((rule_points[key], "rule", "user rules"))
        relations, reasons = [g[1] for g in groups], [g[2] for g in groups]
        # Each kind of identifier may flow its own way (containers up, attempts down).
        for kind in sorted({s.kind for s in pair.shared}):
            members = tuple(s for s in pair.shared if s.kind == kind)
            group = _Pair(pair.a, pair.b, members, pair.resolution)
            origin = _origin(pair.a, pair.b, {kind}, distinct_ids or {})
            relation, reason, inferred = _infer(group, origin, epoch_ns)
            relations.append(f"{kind}: {relation}")
            reasons.append(f"{kind}: {reason}")
            if inferred is not None:
                inferred.kinds.add(kind)
                inferred.links = len(members)
                groups.append((inferred, f"{kind}: {relation}", f"{kind}: {reason}"))
        out.append(_pair_estimate(pair, groups, "; ".join(relations), "; ".join(reasons)))
    return out


def _merge(first: Points | None, second: Points) -> Points:
    if first is None:
        return second
    return Points(
        first.upper + second.upper,
        first.lower + second.lower,
        first.kinds | second.kinds,
        first.links + second.links,
        max(first.pad_upper, second.pad_upper),
        max(first.pad_lower, second.pad_lower),
    )
