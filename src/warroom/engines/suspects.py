"""Rank change events (deploys, config changes, flags, infrastructure) as suspects of an outage.

Why this exists: most outages follow a change, and the responder's first question is "what
changed?".  Each change gets a score that is the product of three explained factors, in the
spirit of change-correlation in incident tooling (temporal precedence first, then locality):

* **temporal precedence**: a change shortly *before* the onset scores high, decaying
  exponentially with the gap (time constant ``tau``); a change after the onset scores near zero
  (it cannot be the cause, though it may be a mitigation);
* **locality**: the same service as the first source to fail, another affected source, or a
  declared dependency of an affected source;
* **kind**: code deploys before config changes before feature flags before infrastructure.

Every factor adds a human-readable reason, so the ranking can be argued with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

NS: Final = 1_000_000_000
KIND_WEIGHT: Final = {"code": 1.0, "config": 0.9, "flag": 0.85, "infrastructure": 0.8}
_KIND_WORDS: Final = {
    "code": ("deploy", "release", "code", "rollout", "build", "version"),
    "config": ("config", "setting", "parameter", "secret"),
    "flag": ("flag", "feature", "toggle", "experiment"),
    "infrastructure": ("infra", "scal", "network", "node", "host", "dns", "certificate", "db"),
}


@dataclass(frozen=True, slots=True)
class Change:
    """A change event: what, where and when (ns)."""

    id: str
    kind: str
    service: str
    ns: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class Suspect:
    """A ranked change with its score in [0, 1] and the reasons for it."""

    change: Change
    kind: str
    score: float
    reasons: tuple[str, ...]


def normalise_kind(kind: str) -> str:
    """Map free-text kinds (``deploy``, ``feature_flag``, ``scaling``) to the four classes."""
    lowered = kind.lower()
    for name, words in _KIND_WORDS.items():
        if any(word in lowered for word in words):
            return name
    return "other"


def _tokens(name: str) -> set[str]:
    stem = re.sub(r"\.(log|txt|json|gz|zst)$", "", name.lower())
    return {t for t in re.split(r"[^a-z0-9]+", stem) if t and not t.isdigit()}


def same_service(service: str, source: str) -> bool:
    """True when a change's service and a log source name refer to the same service."""
    wanted = _tokens(service)
    return bool(wanted) and wanted <= _tokens(source)


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _precedence(change: Change, onset_ns: int, tau_s: float) -> tuple[float, str]:
    gap = (onset_ns - change.ns) / NS
    if gap < 0:
        return 0.05, f"after the onset by {_duration(gap)} (cannot have caused it)"
    return math.exp(-gap / tau_s), f"precedes the onset by {_duration(gap)}"


def _locality(
    change: Change, onsets: Sequence[tuple[str, int]], dependencies: Mapping[str, Sequence[str]]
) -> tuple[float, str]:
    first = onsets[0][0]
    if same_service(change.service, first):
        return 1.0, f"same service as the first source to fail ({first})"
    for source, _ in onsets[1:]:
        if same_service(change.service, source):
            return 0.8, f"same service as an affected source ({source})"
    for source, _ in onsets:
        for dependency in _deps_of(source, dependencies):
            if same_service(change.service, dependency):
                return 0.7, f"{change.service} is a dependency of {source}"
    return 0.3, "no link between its service and the affected sources"


def _deps_of(source: str, dependencies: Mapping[str, Sequence[str]]) -> Sequence[str]:
    for service, deps in dependencies.items():
        if same_service(service, source):
            return deps
    return ()


def rank_suspects(
    changes: Sequence[Change],
    onsets: Sequence[tuple[str, int]],
    *,
    dependencies: Mapping[str, Sequence[str]] | None = None,
    tau_s: float = 1800.0,
) -> list[Suspect]:
    """Rank ``changes`` against the onsets (``(source, ns)`` in propagation order).

    Without any onset, changes are ranked by kind only and say so.
    """
    ranked: list[Suspect] = []
    for change in changes:
        kind = normalise_kind(change.kind)
        weight = KIND_WEIGHT.get(kind, 0.5)
        reasons = [f"kind: {kind}"]
        score = weight
        if onsets:
            timing, why_time = _precedence(change, onsets[0][1], tau_s)
            place, why_place = _locality(change, onsets, dependencies or {})
            score *= timing * place
            reasons = [why_time, why_place, *reasons]
        else:
            reasons.append("no onset found: ranked by kind only")
        ranked.append(Suspect(change, kind, round(score, 4), tuple(reasons)))
    return sorted(ranked, key=lambda s: (-s.score, s.change.ns))
