"""All sources: align each to the reference along the narrowest path of the pair graph."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from .model import Alignment, ClockEstimate, PairInference, Precedence, SharedId
from .pairs import infer_pairs


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
