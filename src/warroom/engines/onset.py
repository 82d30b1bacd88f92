"""Where a failure started: the first anomalous change per source, and its propagation order.

Why this exists: in a multi-system outage the responders need to know which system changed
behaviour *first*; the others are usually victims.  Each source is compared with its own
baseline (the first part of its time range), so a chatty source and a quiet one are judged on
their own terms.  Three signals, the earliest of which is the source's onset:

* a **new template** (event type never seen in the baseline) of warning level or above, or one
  that repeats;
* an **error-rate spike**: a time bin whose error count is improbable under a Poisson law with
  the baseline rate (upper tail ``P(X >= k) < alpha``);
* a **template-rate spike**: the same test per template (a retry storm, a flood of timeouts).

Times are integer nanoseconds, already corrected for clock skew by the caller; the propagation
order is the onsets sorted by time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.stats import poisson

NS: Final = 1_000_000_000
WARN: Final = 2
ERROR: Final = 3
MIN_EVENTS: Final = 20
ALPHA: Final = 1e-6
MAX_TEMPLATES: Final = 2000


@dataclass(frozen=True, slots=True)
class SourceEvents:
    """The events of one source as parallel arrays (time ns, template code, severity 0-4)."""

    times: np.ndarray
    templates: np.ndarray
    severity: np.ndarray


@dataclass(frozen=True, slots=True)
class Onset:
    """The first anomalous change of one source."""

    source: str
    ns: int
    kind: str
    detail: str
    template: int | None
    score: float


@dataclass(frozen=True)
class OnsetReport:
    """Onsets sorted by time (the propagation order) and the sources without one, with why."""

    onsets: tuple[Onset, ...]
    quiet: Mapping[str, str]

    @property
    def order(self) -> tuple[str, ...]:
        """Source names in the order the failure reached them."""
        return tuple(o.source for o in self.onsets)


@dataclass(frozen=True, slots=True)
class _Bins:
    start: int
    width: int
    count: int
    baseline: int


def _bins(times: np.ndarray, baseline_fraction: float) -> _Bins:
    start, end = int(times[0]), int(times[-1])
    span = max(end - start, 1)
    width = max(NS, span // 200)
    count = span // width + 1
    baseline = max(1, int(count * baseline_fraction))
    return _Bins(start, width, count, baseline)


def _spike(counts: np.ndarray, bins: _Bins) -> tuple[int, float] | None:
    """First post-baseline bin (index, p) where counts exceed the baseline Poisson rate."""
    rate = (counts[: bins.baseline].sum() + 0.5) / bins.baseline
    tail = counts[bins.baseline :]
    candidates = np.nonzero(tail >= 3)[0]
    if candidates.size == 0:
        return None
    p = poisson.sf(tail[candidates] - 1, rate)
    hits = np.nonzero(p < ALPHA)[0]
    if hits.size == 0:
        return None
    first = int(hits[0])
    return bins.baseline + int(candidates[first]), float(p[first])


def _error_spike(events: SourceEvents, index: np.ndarray, bins: _Bins) -> Onset | None:
    errors = events.severity >= ERROR
    counts = np.bincount(index[errors], minlength=bins.count)
    found = _spike(counts, bins)
    if found is None:
        return None
    bin_index, p = found
    in_bin = np.nonzero(errors & (index == bin_index))[0]
    at = int(events.times[in_bin[0]])
    detail = f"{int(counts[bin_index])} errors in a {bins.width / NS:g} s bin (p={p:.1e})"
    return Onset("", at, "error-rate spike", detail, None, -np.log10(max(p, 1e-300)))


def _template_spike(events: SourceEvents, index: np.ndarray, bins: _Bins) -> Onset | None:
    codes, inverse = np.unique(events.templates, return_inverse=True)
    totals = np.bincount(inverse)
    # Only templates frequent enough to spike, and at most MAX_TEMPLATES of them, so that the
    # template-by-bin matrix stays small even for sources with very many rare templates.
    keep = np.nonzero(totals >= 3)[0]
    keep = keep[np.argsort(-totals[keep], kind="stable")[:MAX_TEMPLATES]]
    if keep.size == 0:
        return None
    row_of = np.full(codes.size, -1, dtype=np.int64)
    row_of[keep] = np.arange(keep.size)
    rows = row_of[inverse]
    selected = rows >= 0
    matrix = np.zeros((keep.size, bins.count), dtype=np.int64)
    np.add.at(matrix, (rows[selected], index[selected]), 1)
    rates = (matrix[:, : bins.baseline].sum(axis=1) + 0.5) / bins.baseline
    tail = matrix[:, bins.baseline :]
    p = poisson.sf(tail - 1, rates[:, None])
    hits = np.argwhere((p < ALPHA) & (tail >= 3))
    if hits.size == 0:
        return None
    row, col = min(hits.tolist(), key=lambda rc: (rc[1], p[rc[0], rc[1]]))
    bin_index = bins.baseline + col
    in_bin = np.nonzero((rows == row) & (index == bin_index))[0]
    at = int(events.times[in_bin[0]])
    code = int(codes[keep[row]])
    detail = f"template {code}: {int(tail[row, col])} in a {bins.width / NS:g} s bin"
    return Onset("", at, "template-rate spike", detail, code, -np.log10(max(p[row, col], 1e-300)))


def _new_template(events: SourceEvents, bins: _Bins) -> Onset | None:
    cut = bins.start + bins.baseline * bins.width
    codes, first, counts = np.unique(events.templates, return_index=True, return_counts=True)
    late = events.times[first] >= cut
    severity = events.severity[first]
    notable = late & ((severity >= WARN) | (counts >= 3))
    if not notable.any():
        return None
    chosen = np.nonzero(notable)[0]
    pick = chosen[np.argmin(events.times[first[chosen]])]
    code, at = int(codes[pick]), int(events.times[first[pick]])
    detail = f"template {code} first seen after the baseline ({int(counts[pick])} times)"
    return Onset("", at, "new template", detail, code, 3.0 + float(severity[pick]))


def source_onset(source: str, events: SourceEvents, baseline_fraction: float = 0.3) -> Onset | str:
    """The onset of one source, or the reason there is none."""
    if events.times.size < MIN_EVENTS:
        return f"only {events.times.size} timed events (need {MIN_EVENTS})"
    order = np.argsort(events.times, kind="stable")
    events = SourceEvents(events.times[order], events.templates[order], events.severity[order])
    if events.times[-1] <= events.times[0]:
        return "all events at one instant"
    bins = _bins(events.times, baseline_fraction)
    index = ((events.times - bins.start) // bins.width).astype(np.int64)
    found = [
        o
        for o in (
            _new_template(events, bins),
            _error_spike(events, index, bins),
            _template_spike(events, index, bins),
        )
        if o is not None
    ]
    if not found:
        return "no change against its own baseline"
    first = min(found, key=lambda o: (o.ns, -o.score))
    return Onset(source, first.ns, first.kind, first.detail, first.template, first.score)


def detect_onsets(
    sources: Mapping[str, SourceEvents], baseline_fraction: float = 0.3
) -> OnsetReport:
    """Onset of every source and the propagation order (earliest first)."""
    onsets: list[Onset] = []
    quiet: dict[str, str] = {}
    for name, events in sources.items():
        result = source_onset(name, events, baseline_fraction)
        if isinstance(result, Onset):
            onsets.append(result)
        else:
            quiet[name] = result
    return OnsetReport(tuple(sorted(onsets, key=lambda o: (o.ns, o.source))), quiet)
