"""The data of clock alignment: links in, estimates out (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

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
    error_bound_s: float | None = None
    """Joint estimate only: over the source's linked span, its corrected times are within this
    of those of every clock consistent with the links (None: unbounded, or not computed)."""


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


@dataclass(frozen=True, slots=True)
class Fit:
    offset: float
    drift: float
    lo: float | None
    hi: float | None
    rejected: int
    drift_fitted: bool
    upper: tuple[tuple[float, float], ...] = ()
    lower: tuple[tuple[float, float], ...] = ()
    pad_upper: float = 0.0
    pad_lower: float = 0.0
