"""All sources at once: one feasible set over every source's offset and drift.

Every source's clock ``(o, d)`` relative to the reference (fixed at 0, 0) is a variable of one
linear program; every link hull point of every pair is one exact constraint, "A's reading in
the reference frame is not after B's",

    o_b - o_a + d_b * x_b - d_a * x_a <= x_b - x_a + pad      (a before b),

so direct and indirect links (A-C as well as A-B-C) bound each source together.

* Intervals: each source's offset (at the epoch) ranges over the whole set, so the interval is
  never wider than along any single path, and it is honest (the true clocks lie in the set as
  long as the links are right and the pad covers the timestamps' resolution).
* Estimate: the pairs' own maximum-margin lines are reconciled by weighted least squares (one
  equation per pair at each end of its links; on a tree of pairs this is exactly the chain of
  pairwise estimates, redundant pairs average their errors out instead of adding them up along
  a path), then moved to the nearest point of the set (least total change of every source's
  offset at both ends of its linked span), so no link used is ever violated.  Centring each
  source in its own range (the minimax point) was measured worse: the range's ends pivot on
  a few hull points at the ends of the window.
* Error bound: over its linked span a source's corrected times are within
  ``max(estimate - low, high - estimate)`` (at both ends of the span) of every clock
  consistent with the links, the true one included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, hstack, vstack

from .model import MAX_DRIFT_PPM, MIN_DRIFT_LINKS, MIN_DRIFT_SPAN_S, Fit, PairInference

PPM = 1e-6
_TOLERANCE = 1e-9  # seconds: slack below this counts as satisfied


@dataclass(frozen=True, slots=True)
class JointClock:
    """One source's clock from the joint estimate (relative to the reference)."""

    offset: float
    drift_ppm: float
    lo: float | None
    hi: float | None
    drift_fitted: bool
    tied_to: str | None
    worst_error: float | None
    span: tuple[float, float]


@dataclass(frozen=True, slots=True)
class JointResult:
    clocks: dict[str, JointClock]
    used: tuple[PairInference, ...]
    left_out: tuple[PairInference, ...]


@dataclass(frozen=True, slots=True)
class _Row:
    """``sign * (o_b - o_a + ppm * (d_b * xb - d_a * xa)) <= sign * y``."""

    a: str
    b: str
    xa: float
    xb: float
    y: float
    sign: float


def _rows(pair: PairInference, fit: Fit) -> list[_Row]:
    a, b = pair.source_a, pair.source_b
    rows = [_Row(a, b, x - (y - fit.pad_upper), x, y, 1.0) for x, y in fit.upper]
    rows += [_Row(a, b, x - (y + fit.pad_lower), x, y, -1.0) for x, y in fit.lower]
    return rows


class _Problem:
    """The variables (offset per source, drift per drift owner) and the constraint matrix."""

    def __init__(
        self,
        reference: str,
        sources: Sequence[str],
        owners: Mapping[str, str | None],
        start: Mapping[str, tuple[float, float]],
    ) -> None:
        self.reference = reference
        self.owners = owners
        self.start = start  # (offset s, drift ppm) to centre the variables on
        self.col_o = {s: i for i, s in enumerate(sources)}
        fitted = sorted({o for o in owners.values() if o is not None})
        self.col_d = {s: len(sources) + i for i, s in enumerate(fitted)}
        self.size = len(sources) + len(fitted)
        self.bounds: list[tuple[float | None, float | None]] = [(None, None)] * len(sources)
        for s in fitted:  # relative to the reference: two clocks of up to MAX_DRIFT each
            d0 = start[s][1]
            self.bounds.append((-2 * MAX_DRIFT_PPM - d0, 2 * MAX_DRIFT_PPM - d0))

    def _drift0(self, source: str) -> float:
        owner = self.owners.get(source)
        return self.start[owner][1] if owner is not None else 0.0

    def value(self, source: str, x: float) -> tuple[dict[int, float], float]:
        """Source's offset at reading ``x`` as (coefficients on the variables, constant)."""
        if source == self.reference:
            return {}, 0.0
        coef = {self.col_o[source]: 1.0}
        owner = self.owners.get(source)
        if owner is not None:
            coef[self.col_d[owner]] = coef.get(self.col_d[owner], 0.0) + PPM * x
        return coef, self.start[source][0] + PPM * self._drift0(source) * x

    def matrix(self, rows: Sequence[_Row]) -> tuple[csr_matrix, np.ndarray]:
        data: list[float] = []
        cols: list[int] = []
        indptr = [0]
        rhs = np.empty(len(rows))
        for i, row in enumerate(rows):
            cb, kb = self.value(row.b, row.xb)
            ca, ka = self.value(row.a, row.xa)
            coef = dict(cb)
            for col, c in ca.items():
                coef[col] = coef.get(col, 0.0) - c
            for col, c in coef.items():
                if c != 0.0:
                    cols.append(col)
                    data.append(row.sign * c)
            indptr.append(len(cols))
            rhs[i] = row.sign * (row.y - (kb - ka))
        shape = (len(rows), self.size)
        return csr_matrix((data, cols, indptr), shape=shape), rhs


def _lp(
    c: np.ndarray,
    a: csr_matrix,
    b: np.ndarray,
    bounds: Sequence[tuple[float | None, float | None]],
) -> np.ndarray | None:
    result = linprog(c, A_ub=a, b_ub=b, bounds=list(bounds), method="highs")
    return np.asarray(result.x) if result.status == 0 else None


def _feasible(problem: _Problem, rows: Sequence[_Row]) -> bool:
    """Whether the links leave a non-empty set (maximum common slack >= 0)."""
    if not rows:
        return True
    a, b = problem.matrix(rows)
    margin = csr_matrix(np.ones((a.shape[0], 1)))
    full = hstack([a, margin], format="csr")
    c = np.zeros(problem.size + 1)
    c[-1] = -1.0
    x = _lp(c, full, b, [*problem.bounds, (None, 1.0)])
    return x is not None and float(x[-1]) >= -_TOLERANCE


def _owners(
    reference: str,
    sources: Sequence[str],
    readings: Mapping[str, list[float]],
    links: Mapping[str, int],
    paths: Mapping[str, Sequence[str]],
) -> dict[str, str | None]:
    """Who owns each source's drift variable: itself when its links span long enough, else
    the next source on its path to the reference (drift relative to it taken as 0)."""
    owners: dict[str, str | None] = {reference: None}
    for source in sorted(sources, key=lambda s: len(paths[s])):
        xs = readings.get(source, [])
        span = max(xs) - min(xs) if xs else 0.0
        if span >= MIN_DRIFT_SPAN_S and links.get(source, 0) >= MIN_DRIFT_LINKS:
            owners[source] = source
        else:
            owners[source] = owners[paths[source][-2]]
    return owners


def solve(
    reference: str,
    fits: Sequence[tuple[PairInference, Fit]],
    paths: Mapping[str, Sequence[str]],
    tree: Sequence[PairInference],
    start: Mapping[str, tuple[float, float]],
) -> JointResult | None:
    """The joint estimate of every source in ``paths`` (reached from the reference).

    Args:
        reference: the reference source (offset 0, drift 0).
        fits: the usable pairs with their link hulls.
        paths: per source, the sources on its narrowest path from the reference.
        tree: the pairs of those paths, kept first if the pairs contradict each other.
        start: per source, the path-wise (offset, drift ppm) the variables are centred on.

    Returns:
        The clocks, or None when even the path pairs are jointly infeasible.
    """
    sources = sorted(s for s in paths if s != reference)
    if not sources:
        return JointResult({}, (), ())
    component = set(paths)
    fits = [(p, f) for p, f in fits if p.source_a in component and p.source_b in component]
    readings: dict[str, list[float]] = {s: [] for s in component}
    links: dict[str, int] = dict.fromkeys(component, 0)
    rows_of: dict[tuple[str, str], list[_Row]] = {}
    for pair, fit in fits:
        rows = rows_of[(pair.source_a, pair.source_b)] = _rows(pair, fit)
        readings[pair.source_a] += [r.xa for r in rows]
        readings[pair.source_b] += [r.xb for r in rows]
        links[pair.source_a] += pair.links
        links[pair.source_b] += pair.links
    owners = _owners(reference, sources, readings, links, paths)
    problem = _Problem(reference, sources, owners, start)
    used, left_out = _select(problem, fits, tree, rows_of)
    if used is None:
        return None
    rows = [r for p in used for r in rows_of[(p.source_a, p.source_b)]]
    a, b = problem.matrix(rows)
    keys = {(p.source_a, p.source_b) for p in used}
    centre = _reconcile(problem, [(p, f) for p, f in fits if (p.source_a, p.source_b) in keys])
    clocks = _estimate(problem, sources, readings, a, b, centre)
    if clocks is None:
        return None
    return JointResult(clocks, tuple(used), tuple(left_out))


def _select(
    problem: _Problem,
    fits: Sequence[tuple[PairInference, Fit]],
    tree: Sequence[PairInference],
    rows_of: Mapping[tuple[str, str], list[_Row]],
) -> tuple[list[PairInference] | None, list[PairInference]]:
    """All pairs if they agree; else the path pairs, then each other pair that agrees."""
    pairs = [p for p, _ in fits]
    if _feasible(problem, [r for p in pairs for r in rows_of[(p.source_a, p.source_b)]]):
        return pairs, []
    keys = {(p.source_a, p.source_b) for p in tree}
    used = [p for p in pairs if (p.source_a, p.source_b) in keys]
    rows = [r for p in used for r in rows_of[(p.source_a, p.source_b)]]
    if not _feasible(problem, rows):
        return None, []
    left_out = []
    for pair in sorted((p for p in pairs if (p.source_a, p.source_b) not in keys), key=_width):
        more = rows_of[(pair.source_a, pair.source_b)]
        if _feasible(problem, rows + more):
            used.append(pair)
            rows = rows + more
        else:
            left_out.append(pair)
    return used, left_out


def _margin(pair: PairInference, fit: Fit) -> float | None:
    """Half the width of the pair's corridor around its line (None: links one way only)."""
    if not fit.upper or not fit.lower:
        return None
    offset, drift = pair.offset_s or 0.0, (pair.drift_ppm or 0.0) * PPM
    slack = [y - offset - drift * x for x, y in fit.upper]
    slack += [offset + drift * x - y for x, y in fit.lower]
    return max(min(slack), 1e-4)


def _reconcile(problem: _Problem, fits: Sequence[tuple[PairInference, Fit]]) -> np.ndarray:
    """The clocks that agree best with every pair's own estimate (weighted least squares).

    Each pair's line, at both ends of its links (at their middle when the pair's drift was
    not fitted), is one equation on the two sources' clocks.  A pair's error grows faster than
    its corridor (the extreme of a sum of delays over several hops sits further above its
    minimum than a single hop's), so an equation counts by the inverse fourth power of its
    corridor's half-width, and links one way only count far less still.  On a tree of pairs
    this is exactly the chain of pairwise estimates; redundant pairs average out.
    """
    margins = [_margin(p, f) for p, f in fits]
    two_sided = [m for m in margins if m is not None]
    one_sided = 100 * max(two_sided) if two_sided else 1.0
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    for (pair, fit), margin in zip(fits, margins, strict=True):
        xs = [x for x, _ in fit.upper + fit.lower]
        ends = [min(xs), max(xs)] if fit.drift_fitted else [(min(xs) + max(xs)) / 2]
        weight = 1.0 / (margin if margin is not None else one_sided) ** 2
        for x in ends:
            y = (pair.offset_s or 0.0) + (pair.drift_ppm or 0.0) * PPM * x
            coef_b, const_b = problem.value(pair.source_b, x)
            coef_a, const_a = problem.value(pair.source_a, x - y)
            row = np.zeros(problem.size)
            for col, c in coef_b.items():
                row[col] += c
            for col, c in coef_a.items():
                row[col] -= c
            rows.append(row * weight)
            rhs.append((y - const_b + const_a) * weight)
    if not rows:
        return np.zeros(problem.size)
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    return np.asarray(solution)


def _width(pair: PairInference) -> float:
    lo, hi = pair.interval_s
    return hi - lo if lo is not None and hi is not None else math.inf


def _extremes(
    problem: _Problem, a: csr_matrix, b: np.ndarray, source: str, x: float
) -> tuple[float | None, float | None]:
    """Range of ``source``'s offset at reading ``x`` over the feasible set."""
    coef, const = problem.value(source, x)
    c = np.zeros(problem.size)
    for col, value in coef.items():
        c[col] = value
    low = _lp(c, a, b, problem.bounds)
    high = _lp(-c, a, b, problem.bounds)
    return (
        float(c @ low) + const if low is not None else None,
        float(c @ high) + const if high is not None else None,
    )


def _estimate(
    problem: _Problem,
    sources: Sequence[str],
    readings: Mapping[str, list[float]],
    a: csr_matrix,
    b: np.ndarray,
    centre: np.ndarray,
) -> dict[str, JointClock] | None:
    ends: dict[str, tuple[float, float]] = {}
    ranges: dict[tuple[str, float], tuple[float | None, float | None]] = {}
    for source in sources:
        xs = readings[source]
        x0, x1 = (min(xs), max(xs)) if xs else (0.0, 0.0)
        ends[source] = (x0, x1)
        for x in {x0, x1, 0.0}:
            ranges[(source, x)] = _extremes(problem, a, b, source, x)
    targets = [(s, x, _at(problem, centre, s, x)) for s in sources for x in set(ends[s])]
    solution = _nearest(problem, a, b, targets)
    if solution is None:
        return None
    clocks = {}
    for source in sources:
        offset = _at(problem, solution, source, 0.0)
        owner = problem.owners[source]
        drift = problem.start[owner][1] + solution[problem.col_d[owner]] if owner else 0.0
        lo, hi = ranges[(source, 0.0)]
        worst = 0.0
        for x in set(ends[source]):
            low, high = ranges[(source, x)]
            at = _at(problem, solution, source, x)
            unbounded = low is None or high is None
            worst = math.inf if unbounded else max(worst, at - (low or 0.0), (high or 0.0) - at)
        clocks[source] = JointClock(
            offset,
            float(drift),
            min(lo, offset) if lo is not None else None,
            max(hi, offset) if hi is not None else None,
            owner == source,
            owner if owner != source else None,
            worst if math.isfinite(worst) else None,
            ends[source],
        )
    return clocks


def _at(problem: _Problem, solution: np.ndarray, source: str, x: float) -> float:
    coef, const = problem.value(source, x)
    return const + sum(float(solution[col]) * c for col, c in coef.items())


def _nearest(
    problem: _Problem,
    a: csr_matrix,
    b: np.ndarray,
    targets: Sequence[tuple[str, float, float]],
) -> np.ndarray | None:
    """The feasible point with the least total distance of each offset to its target."""
    n, k = problem.size, len(targets)
    data: list[float] = []
    cols: list[int] = []
    indptr = [0]
    rhs = []
    for i, (source, x, target) in enumerate(targets):
        coef, const = problem.value(source, x)
        for sign in (1.0, -1.0):  # sign * (value - target) - t_i <= 0
            for col, weight in coef.items():
                cols.append(col)
                data.append(sign * weight)
            cols.append(n + i)
            data.append(-1.0)
            indptr.append(len(cols))
            rhs.append(sign * (target - const))
    distance = csr_matrix((data, cols, indptr), shape=(2 * k, n + k))
    links = hstack([a, csr_matrix((a.shape[0], k))], format="csr")
    cost = np.concatenate([np.zeros(n), np.ones(k)])
    full = vstack([links, distance], format="csr")
    point = _lp(cost, full, np.concatenate([b, rhs]), [*problem.bounds, *[(0.0, None)] * k])
    return point[:n] if point is not None else None
