"""One pair of sources: the offset/drift polygon from delay bounds, solved as small LPs.

Only the convex hulls of the delay points bind (Duda 1987); the estimate is the maximum-margin
line between the two hulls, or Moon, Skelly and Towsley's LP when the links run one way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, QhullError

from .model import MAX_DRIFT_PPM, MIN_DRIFT_LINKS, MIN_DRIFT_SPAN_S, Fit


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _candidates(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Hull vertices by Qhull when there are many points (the chain below then runs on few)."""
    unique = list(set(points))
    if len(unique) < 64:
        return unique
    # The same array as np.array(unique), built faster; its order (the set's) is kept on
    # purpose: Qhull's choice among collinear points on a flat edge depends on it.
    array = np.fromiter(itertools.chain.from_iterable(unique), np.float64, 2 * len(unique))
    array = array.reshape(len(unique), 2)
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


def max_margin(
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


@dataclass
class Side:
    """Delay points of one kind of bound as two arrays (``x``, ``y``), in link order, with
    their hull once computed (a side's hull is needed by several steps)."""

    x: np.ndarray
    y: np.ndarray
    lower: bool
    _hull: list[tuple[float, float]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.x.size)

    def hull(self) -> list[tuple[float, float]]:
        if self._hull is None:
            self._hull = hull(zip(self.x.tolist(), self.y.tolist(), strict=True), self.lower)
        return self._hull

    def keep(self, mask: np.ndarray) -> Side:
        return Side(self.x[mask], self.y[mask], self.lower)


def side(points: Sequence[tuple[float, float]], lower: bool) -> Side:
    """Points ``(x, y)`` as a :class:`Side` (upper bounds: ``lower=True``, their lower hull)."""
    array = np.array(points, dtype=np.float64).reshape(len(points), 2)
    return Side(array[:, 0].copy(), array[:, 1].copy(), lower)


Solution = tuple[float, float, float] | None


class Margins:
    """Maximum-margin solutions already computed, by (upper hull, lower hull, fitted)."""

    def __init__(self) -> None:
        self._known: list[tuple[object, object, bool, Solution]] = []

    def solve(
        self, up: list[tuple[float, float]], low: list[tuple[float, float]], fitted: bool
    ) -> Solution:
        for known_up, known_low, known_fitted, solution in self._known:
            if known_up is up and known_low is low and known_fitted == fitted:
                return solution
        solution = max_margin(up, low, fitted)
        self._known.append((up, low, fitted, solution))
        return solution


def _trim(
    upper: Side, lower: Side, fitted: bool, margins: Margins
) -> tuple[Side, Side, int] | None:
    """Drop the links that make the polygon empty (most binding first), at most 10%."""
    budget = max(1, (len(upper) + len(lower)) // 10)
    rejected = 0
    while True:
        solution = margins.solve(upper.hull(), lower.hull(), fitted)
        if solution is None:
            return None
        offset, drift, margin = solution
        if margin >= -1e-9:
            return upper, lower, rejected
        slope = drift * 1e-6  # residual: y - offset - drift * 1e-6 * x, as for one point
        slack_u = upper.y - offset - slope * upper.x
        slack_l = -(lower.y - offset - slope * lower.x)
        worst = float(np.concatenate((slack_u, slack_l)).min()) + 1e-9
        keep_u, keep_l = upper.keep(slack_u > worst), lower.keep(slack_l > worst)
        rejected += len(upper) + len(lower) - len(keep_u) - len(keep_l)
        if rejected > budget:
            return None
        upper, lower = keep_u, keep_l


def fit_pair(
    upper: Sequence[tuple[float, float]],
    lower: Sequence[tuple[float, float]],
    *,
    pads: tuple[float, float] = (0.0, 0.0),
) -> Fit | None:
    """Estimate (offset, drift) of B relative to A from its upper and lower delay bounds.

    Args:
        upper: points (x, y) meaning ``offset + drift * x <= y`` (A happened before B).
        lower: points (x, y) meaning ``offset + drift * x >= y`` (B happened before A).
        pads: the resolution pads already added to the upper and subtracted from the lower
            points (kept with the hulls so that the joint estimate can recover A's readings).

    Returns:
        The fit, with the hulls of the links kept, or None when the links contradict each
        other beyond trimming.
    """
    return fit_sides(side(upper, True), side(lower, False), pads, Margins())


def fit_sides(upper: Side, lower: Side, pads: tuple[float, float], margins: Margins) -> Fit | None:
    """:func:`fit_pair` on :class:`Side` arrays (hulls and margins already computed reused)."""
    xs = [a for a in (upper.x, lower.x) if a.size]
    fitted = (
        len(upper) + len(lower) >= MIN_DRIFT_LINKS
        and max(float(a.max()) for a in xs) - min(float(a.min()) for a in xs) >= MIN_DRIFT_SPAN_S
    )
    trimmed = (
        _trim(upper, lower, fitted, margins) if len(upper) and len(lower) else (upper, lower, 0)
    )
    if trimmed is None:
        return None
    up, low, rejected = trimmed[0].hull(), trimmed[1].hull(), trimmed[2]
    if up and low:
        solution = margins.solve(up, low, fitted)
        estimate = (solution[0], solution[1]) if solution else None
    else:
        estimate = _moon(up, low, fitted)
    if estimate is None:
        return None
    lo, hi = _offset_range(up, low, fitted)
    return Fit(estimate[0], estimate[1], lo, hi, rejected, fitted, tuple(up), tuple(low), *pads)
