"""Clock offset and drift between log sources, from causal links, with honest intervals.

Why this exists: hosts' clocks disagree by milliseconds to minutes and drift by up to a few
hundred ppm without time sync.  Tracing UIs only repair *visible* violations with a symmetric
latency guess; here every source gets an offset and a drift relative to a reference, an
interval, the evidence, or "unknown" with a reason.

Model: a source's clock reads ``t``; its reading in the reference frame is
``t - offset - drift * (t - T0)`` (``T0`` the epoch of the alignment).  A causal link "event
``a`` in A happens before event ``b`` in B" constrains the pair (B relative to A) to
``offset + drift * x_b <= b - a`` (with ``x_b = b - T0``), and a link the other way gives a
``>=``.  The feasible (offset, drift) set is a convex polygon; as in the linear-programming
estimator of Moon, Skelly and Towsley (1999) and the convex-hull estimator of Duda (1987) only
the hull vertices of the delay points matter, and the estimate is:

* links both ways: the line that stays farthest from both hulls (maximum margin), with the
  interval of offsets over the polygon - two-sided bounds;
* links one way only: Moon's LP (the line under all delays, closest to them), i.e. minimum
  one-way latency treated as zero, and a one-sided interval;
* drift is only fitted when the links span enough time; otherwise it is fixed at 0 and said so.

Timestamp resolution widens each constraint by one tick so that second-granular logs are not
forced into impossible orders.  Links that make the polygon empty (re-used ids, wrong pairing)
are trimmed and counted, never silently kept; the corrected times satisfy every link used.

Which side sends is inferred when not given: nested spans (the caller's first and last lines
for an id enclose the callee's) when only one nesting is feasible, otherwise the source that
originates the identifiers (it holds more distinct ids of that kind), and the choice and its
reason are reported.  Sources are aligned through the link graph (A-B-C) along the path with
the narrowest intervals, so indirectly linked sources get an offset too.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, QhullError

NS: Final = 1_000_000_000
MIN_LINKS: Final = 3
MAX_DRIFT_PPM: Final = 1000.0
MIN_DRIFT_SPAN_S: Final = 300.0
MIN_DRIFT_LINKS: Final = 8
ORIGIN_RATIO: Final = 1.25


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where an identifier appears in one source: first and last time (ns) and how often."""

    first_ns: int
    last_ns: int
    count: int = 1


@dataclass(frozen=True, slots=True)
class SharedId:
    """An identifier seen in two or more sources."""

    value: str
    kind: str
    sources: Mapping[str, Occurrence]


@dataclass(frozen=True, slots=True)
class Precedence:
    """A known causal link: ``before_ns`` in one source happens before ``after_ns`` in another."""

    before_source: str
    before_ns: int
    after_source: str
    after_ns: int
    kind: str = "rule"


@dataclass(frozen=True, slots=True)
class PairInference:
    """How two sources were related: the inferred relation, why, and how much evidence."""

    source_a: str
    source_b: str
    relation: str
    reason: str
    links: int
    kinds: tuple[str, ...]
    offset_s: float | None = None
    interval_s: tuple[float | None, float | None] = (None, None)
    drift_ppm: float | None = None
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """One source's clock relative to the reference: estimate, interval and evidence."""

    source: str
    status: str
    offset_s: float | None
    interval_s: tuple[float | None, float | None]
    drift_ppm: float | None
    links: int
    kinds: tuple[str, ...]
    via: tuple[str, ...]
    reason: str
    scale: float = 1.0
    shift_s: float = 0.0


@dataclass(frozen=True)
class Alignment:
    """The result: one estimate per source and the pairwise inferences behind them."""

    reference: str | None
    epoch_ns: int
    clocks: Mapping[str, ClockEstimate]
    pairs: tuple[PairInference, ...]

    def correct(self, source: str, ns: int) -> int | None:
        """``ns`` read on ``source``'s clock, in the reference frame; None when unknown."""
        clock = self.clocks.get(source)
        if clock is None or clock.status == "unknown":
            return None
        x = (ns - self.epoch_ns) / NS
        return self.epoch_ns + round((clock.scale * x + clock.shift_s) * NS)


@dataclass
class _Points:
    """Delay points of one pair (B relative to A): upper bounds U and lower bounds L."""

    upper: list[tuple[float, float]] = field(default_factory=list)
    lower: list[tuple[float, float]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    links: int = 0


@dataclass(frozen=True, slots=True)
class _Fit:
    offset: float
    drift: float
    lo: float | None
    hi: float | None
    rejected: int
    drift_fitted: bool


# --- geometry and LP ------------------------------------------------------------------------


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _candidates(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Hull vertices by Qhull when there are many points (the chain below then runs on few)."""
    unique = list(set(points))
    if len(unique) < 64:
        return unique
    array = np.array(unique)
    spread = array.std(axis=0)
    spread[spread == 0] = 1.0
    try:  # Qhull wants comparable scales: seconds of x against milliseconds of y
        vertices = ConvexHull((array - array.mean(axis=0)) / spread).vertices
    except (QhullError, ValueError):  # collinear or degenerate: keep them all
        return unique
    return [unique[i] for i in vertices]


def hull(points: Iterable[tuple[float, float]], lower: bool) -> list[tuple[float, float]]:
    """Lower (or upper) convex hull by Andrew's monotone chain; only these bind the LP."""
    chain: list[tuple[float, float]] = []
    sign = 1.0 if lower else -1.0
    for p in sorted(_candidates(points)):
        while len(chain) >= 2 and sign * _cross(chain[-2], chain[-1], p) <= 0:
            chain.pop()
        chain.append(p)
    return chain


def _solve(
    c: list[float],
    rows: list[list[float]],
    rhs: list[float],
    bounds: list[tuple[float | None, float | None]],
) -> np.ndarray | None:  # noqa: E501
    result = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    return np.asarray(result.x) if result.status == 0 else None


def _rows(
    upper: Sequence[tuple[float, float]], lower: Sequence[tuple[float, float]], margin: bool
) -> tuple[list[list[float]], list[float]]:  # noqa: E501
    # Variables: offset (s), drift (ppm) and optionally the margin (s).
    rows: list[list[float]] = []
    rhs: list[float] = []
    for x, y in upper:
        rows.append([1.0, x * 1e-6] + ([1.0] if margin else []))
        rhs.append(y)
    for x, y in lower:
        rows.append([-1.0, -x * 1e-6] + ([1.0] if margin else []))
        rhs.append(-y)
    return rows, rhs


def _drift_bounds(fitted: bool) -> tuple[float, float]:
    return (-MAX_DRIFT_PPM, MAX_DRIFT_PPM) if fitted else (0.0, 0.0)


def _max_margin(
    upper: Sequence[tuple[float, float]], lower: Sequence[tuple[float, float]], fitted: bool
) -> tuple[float, float, float] | None:
    rows, rhs = _rows(upper, lower, margin=True)
    x = _solve([0.0, 0.0, -1.0], rows, rhs, [(None, None), _drift_bounds(fitted), (None, 1e6)])
    return (float(x[0]), float(x[1]), float(x[2])) if x is not None else None


def _moon(
    upper: Sequence[tuple[float, float]], lower: Sequence[tuple[float, float]], fitted: bool
) -> tuple[float, float] | None:
    """Moon et al.: the line closest to one-sided delay points without crossing them."""
    points = upper or lower
    sign = -1.0 if upper else 1.0
    c = [sign * len(points), sign * sum(x for x, _ in points) * 1e-6]
    rows, rhs = _rows(upper, lower, margin=False)
    x = _solve(c, rows, rhs, [(None, None), _drift_bounds(fitted)])
    return (float(x[0]), float(x[1])) if x is not None else None


def _offset_range(
    upper: Sequence[tuple[float, float]], lower: Sequence[tuple[float, float]], fitted: bool
) -> tuple[float | None, float | None]:
    rows, rhs = _rows(upper, lower, margin=False)
    bounds: list[tuple[float | None, float | None]] = [(None, None), _drift_bounds(fitted)]
    lo = _solve([1.0, 0.0], rows, rhs, bounds) if lower else None
    hi = _solve([-1.0, 0.0], rows, rhs, bounds) if upper else None
    return (float(lo[0]) if lo is not None else None, float(hi[0]) if hi is not None else None)


def _residual(point: tuple[float, float], offset: float, drift_ppm: float) -> float:
    return point[1] - offset - drift_ppm * 1e-6 * point[0]


def _trim(
    upper: list[tuple[float, float]], lower: list[tuple[float, float]], fitted: bool
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], int] | None:
    """Drop the links that make the polygon empty (most binding first), at most 10%."""
    budget = max(1, (len(upper) + len(lower)) // 10)
    rejected = 0
    while True:
        solution = _max_margin(hull(upper, True), hull(lower, False), fitted)
        if solution is None:
            return None
        offset, drift, margin = solution
        if margin >= -1e-9:
            return upper, lower, rejected
        slack_u = [_residual(p, offset, drift) for p in upper]
        slack_l = [-_residual(p, offset, drift) for p in lower]
        worst = min(slack_u + slack_l) + 1e-9
        keep_u = [p for p, r in zip(upper, slack_u, strict=True) if r > worst]
        keep_l = [p for p, r in zip(lower, slack_l, strict=True) if r > worst]
        rejected += len(upper) + len(lower) - len(keep_u) - len(keep_l)
        if rejected > budget:
            return None
        upper, lower = keep_u, keep_l


def fit_pair(
    upper: Sequence[tuple[float, float]], lower: Sequence[tuple[float, float]]
) -> _Fit | None:
    """Estimate (offset, drift) of B relative to A from its upper and lower delay bounds.

    Args:
        upper: points (x, y) meaning ``offset + drift * x <= y`` (A happened before B).
        lower: points (x, y) meaning ``offset + drift * x >= y`` (B happened before A).

    Returns:
        The fit, or None when the links contradict each other beyond trimming.
    """
    xs = [x for x, _ in upper] + [x for x, _ in lower]
    fitted = len(xs) >= MIN_DRIFT_LINKS and max(xs) - min(xs) >= MIN_DRIFT_SPAN_S
    trimmed = (
        _trim(list(upper), list(lower), fitted)
        if upper and lower
        else (list(upper), list(lower), 0)
    )
    if trimmed is None:
        return None
    up, low, rejected = hull(trimmed[0], True), hull(trimmed[1], False), trimmed[2]
    if up and low:
        solution = _max_margin(up, low, fitted)
        estimate = (solution[0], solution[1]) if solution else None
    else:
        estimate = _moon(up, low, fitted)
    if estimate is None:
        return None
    lo, hi = _offset_range(up, low, fitted)
    return _Fit(estimate[0], estimate[1], lo, hi, rejected, fitted)


# --- direction inference ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shared:
    kind: str
    a: Occurrence
    b: Occurrence


def _secs(ns: int, epoch: int) -> float:
    return (ns - epoch) / NS


def _nest_points(
    shared: Sequence[_Shared], outer_is_a: bool, epoch: int, res: tuple[float, float]
) -> _Points:  # noqa: E501
    points = _Points()
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
) -> _Points:  # noqa: E501
    points = _Points()
    for item in shared:
        x = _secs(item.b.first_ns, epoch)
        y = x - _secs(item.a.first_ns, epoch)
        if a_first:
            points.upper.append((x, y + res[1]))
        else:
            points.lower.append((x, y - res[0]))
    return points


def _feasible(points: _Points) -> bool:
    up, low = hull(points.upper, True), hull(points.lower, False)
    xs = [x for x, _ in up + low]
    fitted = bool(xs) and max(xs) - min(xs) >= MIN_DRIFT_SPAN_S
    solution = _max_margin(up, low, fitted)
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


def _infer(pair: _Pair, origin: str | None, epoch: int) -> tuple[str, str, _Points | None]:
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


# --- the whole graph ---------------------------------------------------------------------------


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
) -> dict[tuple[str, str], _Points]:  # noqa: E501
    out: dict[tuple[str, str], _Points] = defaultdict(_Points)
    for rule in rules:
        a, b = sorted((rule.before_source, rule.after_source))
        points = out[(a, b)]
        xb = _secs(rule.after_ns if b == rule.after_source else rule.before_ns, epoch)
        xa = _secs(rule.before_ns if a == rule.before_source else rule.after_ns, epoch)
        if a == rule.before_source:
            points.upper.append((xb, xb - xa + resolution.get(b, 0) / NS))
        else:
            points.lower.append((xb, xb - xa - resolution.get(a, 0) / NS))
        points.kinds.add(rule.kind)
        points.links += 1
    return out


def _estimate(pair: _Pair, points: _Points, relation: str, reason: str) -> PairInference:
    kinds = tuple(sorted(points.kinds))
    if points.links < MIN_LINKS:
        why = f"only {points.links} link(s); at least {MIN_LINKS} needed"
        return PairInference(pair.a, pair.b, relation, why, points.links, kinds)
    fit = fit_pair(points.upper, points.lower)
    if fit is None:
        why = "links contradict each other"
        return PairInference(pair.a, pair.b, "inconsistent", why, points.links, kinds)
    note = "" if fit.drift_fitted else "; drift not fitted (links span too short a time)"
    return PairInference(
        pair.a, pair.b, relation, reason + note, points.links, kinds,
        fit.offset, (fit.lo, fit.hi), fit.drift, fit.rejected,
    )  # fmt: skip


def _pair_estimate(
    pair: _Pair, groups: list[tuple[_Points, str, str]], relation: str, reason: str
) -> PairInference:
    """All kinds together; if they contradict, the best-supported kind that is consistent."""
    if not groups:
        kinds = tuple(sorted({s.kind for s in pair.shared}))
        return PairInference(pair.a, pair.b, relation, reason, len(pair.shared), kinds)
    merged = groups[0][0]
    for points, _, _ in groups[1:]:
        merged = _merge(merged, points)
    together = _estimate(pair, merged, relation, reason)
    if together.offset_s is not None or len(groups) == 1:
        return together
    for points, kind_relation, kind_reason in sorted(groups, key=lambda g: -g[0].links):
        alone = _estimate(pair, points, kind_relation, kind_reason)
        if alone.offset_s is not None:
            note = f"; other identifier kinds contradicted it and were left out ({reason})"
            return PairInference(
                alone.source_a, alone.source_b, alone.relation, alone.reason + note,
                alone.links, alone.kinds, alone.offset_s, alone.interval_s,
                alone.drift_ppm, alone.rejected,
            )  # fmt: skip
    return together


def infer_pairs(
    shared_ids: Iterable[SharedId],
    *,
    rules: Iterable[Precedence] = (),
    distinct_ids: Mapping[str, Mapping[str, int]] | None = None,
    resolution_ns: Mapping[str, int] | None = None,
    epoch_ns: int = 0,
) -> list[PairInference]:
    """Relate every pair of sources that share identifiers or user rules."""
    resolution = resolution_ns or {}
    rule_points = _rule_points(rules, epoch_ns, resolution)
    pairs = {(p.a, p.b): p for p in _group_pairs(shared_ids, resolution)}
    out = []
    for key in sorted(set(pairs) | set(rule_points)):
        pair = pairs.get(key, _Pair(key[0], key[1], (), (0.0, 0.0)))
        groups: list[tuple[_Points, str, str]] = []
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


def _merge(first: _Points | None, second: _Points) -> _Points:
    if first is None:
        return second
    return _Points(
        first.upper + second.upper,
        first.lower + second.lower,
        first.kinds | second.kinds,
        first.links + second.links,
    )


def _weight(pair: PairInference) -> float:
    lo, hi = pair.interval_s
    if lo is not None and hi is not None:
        return max(hi - lo, 1e-9)
    return 1e6  # one-sided: usable, but any two-sided path is preferred


def _paths(
    reference: str, pairs: Sequence[PairInference]
) -> dict[str, tuple[float, list[PairInference]]]:  # noqa: E501
    edges: dict[str, list[tuple[str, PairInference]]] = defaultdict(list)
    for pair in pairs:
        if pair.offset_s is not None:
            edges[pair.source_a].append((pair.source_b, pair))
            edges[pair.source_b].append((pair.source_a, pair))
    best: dict[str, tuple[float, list[PairInference]]] = {reference: (0.0, [])}
    queue: list[tuple[float, str]] = [(0.0, reference)]
    while queue:
        cost, node = heapq.heappop(queue)
        if cost > best[node][0]:
            continue
        for other, pair in edges[node]:
            total = cost + _weight(pair)
            if other not in best or total < best[other][0]:
                best[other] = (total, best[node][1] + [pair])
                heapq.heappush(queue, (total, other))
    return best


def _step(pair: PairInference, forward: bool) -> tuple[float, float, float, float]:
    """(scale, shift, shift_lo, shift_hi) mapping the far node's readings into the near frame."""
    offset, drift = pair.offset_s or 0.0, (pair.drift_ppm or 0.0) * 1e-6
    p_lo = pair.interval_s[0] if pair.interval_s[0] is not None else -math.inf
    p_hi = pair.interval_s[1] if pair.interval_s[1] is not None else math.inf
    if forward:  # the pair gives B relative to A: x_A = (1 - drift) x_B - offset
        return 1.0 - drift, -offset, -p_hi, -p_lo
    scale = 1.0 / (1.0 - drift)  # inverted: x_B = (x_A + offset) / (1 - drift)
    return scale, offset * scale, p_lo * scale, p_hi * scale


def _compose(reference: str, source: str, path: list[PairInference]) -> ClockEstimate:
    scale, shift, shift_lo, shift_hi = 1.0, 0.0, 0.0, 0.0
    node, via, links, kinds, reasons = reference, [reference], 0, set(), []
    for pair in path:
        forward = pair.source_a == node
        step_scale, step_shift, step_lo, step_hi = _step(pair, forward)
        shift, shift_lo, shift_hi = (
            scale * step_shift + shift, scale * step_lo + shift_lo, scale * step_hi + shift_hi,
        )  # fmt: skip
        scale *= step_scale
        node = pair.source_b if forward else pair.source_a
        via.append(node)
        links += pair.links
        kinds |= set(pair.kinds)
        reasons.append(f"{pair.source_a}~{pair.source_b}: {pair.relation} ({pair.reason})")
    return ClockEstimate(
        source, "estimated", -shift, (_finite(-shift_hi), _finite(-shift_lo)),
        (1.0 - scale) * 1e6, links, tuple(sorted(kinds)), tuple(via), "; ".join(reasons),
        scale, shift,
    )  # fmt: skip


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def align(
    sources: Sequence[str],
    shared_ids: Iterable[SharedId],
    *,
    reference: str | None = None,
    rules: Iterable[Precedence] = (),
    distinct_ids: Mapping[str, Mapping[str, int]] | None = None,
    resolution_ns: Mapping[str, int] | None = None,
    epoch_ns: int = 0,
) -> Alignment:
    """Align every source to a reference (default: the source with the most links).

    Returns one :class:`ClockEstimate` per source; sources without a usable path of links to
    the reference are ``unknown`` with the reason.
    """
    pairs = infer_pairs(
        shared_ids, rules=rules, distinct_ids=distinct_ids,
        resolution_ns=resolution_ns, epoch_ns=epoch_ns,
    )  # fmt: skip
    if reference is None:
        reference = _most_linked(sources, pairs)
    clocks: dict[str, ClockEstimate] = {}
    paths = _paths(reference, pairs) if reference else {}
    for source in sources:
        if source == reference:
            clocks[source] = _reference(source, pairs)  # noqa: E501
        elif source in paths:
            clocks[source] = _compose(str(reference), source, paths[source][1])
        else:
            clocks[source] = ClockEstimate(
                source, "unknown", None, (None, None), None, 0, (), (), _why_unknown(source, pairs)
            )  # noqa: E501
    return Alignment(reference, epoch_ns, clocks, tuple(pairs))


def _reference(source: str, pairs: Sequence[PairInference]) -> ClockEstimate:
    mine = [p for p in pairs if source in (p.source_a, p.source_b) and p.offset_s is not None]
    kinds = tuple(sorted({k for p in mine for k in p.kinds}))
    links = sum(p.links for p in mine)
    return ClockEstimate(
        source, "reference", 0.0, (0.0, 0.0), 0.0, links, kinds, (source,), "reference clock"
    )


def _most_linked(sources: Sequence[str], pairs: Sequence[PairInference]) -> str | None:
    counts: dict[str, int] = dict.fromkeys(sources, 0)
    for pair in pairs:
        if pair.offset_s is not None:
            counts[pair.source_a] = counts.get(pair.source_a, 0) + pair.links
            counts[pair.source_b] = counts.get(pair.source_b, 0) + pair.links
    return max(counts, key=lambda s: (counts[s], s == sources[0])) if counts else None


def _why_unknown(source: str, pairs: Sequence[PairInference]) -> str:
    mine = [p for p in pairs if source in (p.source_a, p.source_b)]
    if not mine:
        return "no identifier or rule links this source to any other"
    reasons = {f"{p.source_a}~{p.source_b}: {p.reason}" for p in mine if p.offset_s is None}
    if reasons:
        return "; ".join(sorted(reasons))
    return "linked sources are not connected to the reference"
