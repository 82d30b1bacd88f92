"""All sources: align each to the reference jointly (or along the narrowest path of pairs)."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Literal

from .joint import solve
from .model import Alignment, ClockEstimate, Fit, PairInference, Precedence, SharedId
from .pairs import relate


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
    method: Literal["joint", "path"] = "joint",
) -> Alignment:
    """Align every source to a reference (default: the source with the most links).

    ``method="joint"`` (the default) estimates every source at once from all links (see
    :mod:`.joint`); ``"path"`` chains the pairwise estimates along the narrowest path (kept
    as the fallback and for comparison).

    Returns one :class:`ClockEstimate` per source; sources without a usable path of links to
    the reference are ``unknown`` with the reason.
    """
    related = relate(
        shared_ids, rules=rules, distinct_ids=distinct_ids,
        resolution_ns=resolution_ns, epoch_ns=epoch_ns,
    )  # fmt: skip
    pairs = [p for p, _ in related]
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
    if method == "joint" and reference is not None and len(paths) > 1:
        fits = [(p, f) for p, f in related if f is not None and p.offset_s is not None]
        joint = _joint(reference, fits, paths, clocks)
        if joint is not None:
            clocks.update(joint[0])
            pairs = [joint[1].get((p.source_a, p.source_b), p) for p in pairs]
    return Alignment(reference, epoch_ns, clocks, tuple(pairs))


def _joint(
    reference: str,
    fits: Sequence[tuple[PairInference, Fit]],
    paths: Mapping[str, tuple[float, list[PairInference]]],
    path_clocks: Mapping[str, ClockEstimate],
) -> tuple[dict[str, ClockEstimate], dict[tuple[str, str], PairInference]] | None:
    """The joint estimate as clock estimates, and the pairs it left out (annotated)."""
    via = {s: path_clocks[s].via for s in paths}
    tree = [p for _, path in paths.values() for p in path]
    start = {
        s: (path_clocks[s].offset_s or 0.0, path_clocks[s].drift_ppm or 0.0)
        for s in paths
        if s != reference
    }
    result = solve(reference, fits, via, tree, start)
    if result is None:
        return None
    out: dict[str, ClockEstimate] = {}
    for source, clock in result.clocks.items():
        path = paths[source][1]
        evidence = {(p.source_a, p.source_b): p for p in path}
        for pair in result.used:
            if source in (pair.source_a, pair.source_b):
                evidence[(pair.source_a, pair.source_b)] = pair
        kinds = tuple(sorted({k for p in evidence.values() for k in p.kinds}))
        links = sum(p.links for p in evidence.values())
        notes = [f"joint estimate from {len(result.used)} pair(s) of sources"]
        if clock.worst_error is not None:
            notes.append(
                f"within {clock.worst_error * 1000:.3f} ms of every clock consistent with the "
                "links over its linked span"
            )
        if not clock.drift_fitted:
            ref = clock.tied_to or reference
            notes.append(f"drift not fitted (links span too short a time): taken as {ref}'s")
        reason = "; ".join(
            [f"{p.source_a}~{p.source_b}: {p.relation} ({p.reason})" for p in path] + notes
        )
        scale = 1.0 - clock.drift_ppm * 1e-6
        out[source] = ClockEstimate(
            source, "estimated", clock.offset, (clock.lo, clock.hi), clock.drift_ppm,
            links, kinds, via[source], reason, scale, -clock.offset, clock.worst_error,
        )  # fmt: skip
    left = {
        (p.source_a, p.source_b): replace(
            p, reason=p.reason + "; left out of the joint estimate: contradicts the other pairs"
        )
        for p in result.left_out
    }
    return out, left


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
