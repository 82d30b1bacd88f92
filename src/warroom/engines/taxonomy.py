"""The contributing-factor taxonomy, and keyword-based suggestions of factors for a write-up.

Why: incidents rarely have one root cause. A postmortem records several contributing factors, and
a shared vocabulary for them is what lets an organisation count, compare and search its incidents
("how many incidents had a detection gap this year?"). The default families follow the ones that
incident-analysis practice keeps returning to: change and configuration, capacity, dependencies,
hardware, time and clocks, data, process, detection and observability, and human factors and work
conditions. Organisations extend it with their own factors (merged by key).

Method: each factor has keywords; a keyword matches as a whole word or phrase, with common English
inflections. A factor's score is the number of distinct keywords found, phrases counting once per
word; every match is returned as evidence (keyword, span, excerpt) so a reviewer can judge it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EXCERPT = 40


@dataclass(frozen=True)
class Factor:
    """One contributing-factor family.

    Attributes:
        key: Stable identifier (lower-case letters, digits and underscores).
        name: Human-readable name.
        description: What counts as this factor.
        keywords: Words or phrases that suggest it, lower-case.
    """

    key: str
    name: str
    description: str
    keywords: tuple[str, ...]

    def __post_init__(self) -> None:
        if not _KEY_RE.match(self.key):
            raise ValueError(f"factor key must match {_KEY_RE.pattern}, got {self.key!r}")
        if not self.name.strip():
            raise ValueError(f"factor {self.key!r} needs a name")
        if any(not k.strip() for k in self.keywords):
            raise ValueError(f"factor {self.key!r} has an empty keyword")


@dataclass(frozen=True)
class Evidence:
    """Where a keyword of a factor was found in the text."""

    keyword: str
    start: int
    end: int
    excerpt: str


@dataclass(frozen=True)
class FactorSuggestion:
    """A factor that the text appears to describe, with the matches behind it."""

    key: str
    name: str
    score: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of factors with unique keys."""

    factors: tuple[Factor, ...]
    _by_key: dict[str, Factor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Factor] = {}
        for factor in self.factors:
            if factor.key in by_key:
                raise ValueError(f"duplicate factor key {factor.key!r}")
            by_key[factor.key] = factor
        object.__setattr__(self, "_by_key", by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def get(self, key: str) -> Factor:
        """The factor with ``key``; raises KeyError when there is none."""
        return self._by_key[key]

    def keys(self) -> list[str]:
        """Factor keys in taxonomy order."""
        return [f.key for f in self.factors]


def _factor(key: str, name: str, description: str, keywords: str) -> Factor:
    return Factor(key, name, description, tuple(k.strip() for k in keywords.split(",")))


DEFAULT_TAXONOMY = Taxonomy(
    (
        _factor(
            "change",
            "Change and configuration",
            "A deployment, configuration change, migration or feature flag altered the system's "
            "behaviour, including changes whose effect was delayed or latent.",
            "deploy, deployment, release, rollout, roll out, config, configuration, "
            "misconfiguration, misconfigured, feature flag, flag, migration, upgrade, change, "
            "push, rollback, typo, setting, terraform, manifest",
        ),
        _factor(
            "capacity",
            "Capacity and load",
            "Demand exceeded what a component could serve: traffic spikes, resource exhaustion, "
            "limits and quotas, autoscaling that could not keep up.",
            "capacity, load, overload, traffic, spike, surge, exhausted, exhaustion, quota, "
            "rate limit, limit, out of memory, oom, cpu, memory, disk full, saturation, "
            "throttling, autoscaling, queue, backlog, connection pool, thundering herd",
        ),
        _factor(
            "dependency",
            "Dependency",
            "A service, vendor, library or shared platform that the system relies on failed or "
            "behaved differently, and the failure propagated.",
            "dependency, upstream, downstream, third-party, third party, vendor, provider, "
            "external service, library, cascading, cascade, dns, cdn, saas, api",
        ),
        _factor(
            "hardware",
            "Hardware and facilities",
            "Physical failure: servers, disks, network gear, power, cooling or the data centre.",
            "hardware, disk, drive, power, power outage, cooling, data center, datacenter, "
            "rack, switch, router, fiber, cable, ecc, memory corruption, generator, battery, "
            "storage volume, nic",
        ),
        _factor(
            "time",
            "Time and clocks",
            "Dates, clocks and durations: leap seconds and years, time zones, daylight saving, "
            "clock skew, expiry of certificates, tokens or caches.",
            "time, clock, clock skew, leap second, leap year, timezone, time zone, daylight "
            "saving, ntp, expired, expiry, expiration, certificate, timestamp, ttl, midnight, "
            "calendar, date",
        ),
        _factor(
            "data",
            "Data",
            "The content of data caused or spread the failure: corruption, loss, bad input, "
            "schema mismatch, replication and consistency problems.",
            "data loss, corruption, corrupted, corrupt, backup, restore, replication, replica, "
            "schema, database, inconsistent, consistency, malformed, bad input, poison, "
            "truncated, deleted",
        ),
        _factor(
            "process",
            "Process",
            "How work is organised let the event happen or slowed the response: reviews, "
            "approvals, runbooks, handoffs, change windows, ownership.",
            "process, runbook, checklist, review, approval, procedure, handoff, ownership, "
            "escalation, documentation, maintenance window, change window, communication, "
            "training, policy",
        ),
        _factor(
            "detection",
            "Detection and observability",
            "The problem was noticed late or hard to understand: missing or noisy alerts, gaps "
            "in metrics, logs, traces or dashboards.",
            "alert, alerting, alarm, monitoring, monitor, detection, detected, paging, page, "
            "dashboard, metric, metrics, logs, logging, tracing, observability, visibility, "
            "noticed, blind spot, false positive",
        ),
        _factor(
            "human_factors",
            "Human factors and work conditions",
            "Conditions that shaped people's actions: fatigue, time pressure, workload, "
            "confusing interfaces, unfamiliar tasks, staffing and on-call load.",
            "fatigue, tired, pressure, deadline, workload, on-call, oncall, late night, "
            "staffing, understaffed, confusing, interface, ui, manual, unfamiliar, "
            "cognitive load, interruption, context switch, handover, shift",
        ),
    )
)


def merge_factors(base: Taxonomy, custom: Iterable[Factor]) -> Taxonomy:
    """Extend ``base`` with an organisation's factors.

    A custom factor with a new key is appended; one with an existing key replaces its name and
    description and adds its keywords to the existing ones (order kept, duplicates dropped).
    """
    merged: dict[str, Factor] = {f.key: f for f in base.factors}
    for factor in custom:
        existing = merged.get(factor.key)
        if existing is None:
            merged[factor.key] = factor
            continue
        keywords = tuple(dict.fromkeys((*existing.keywords, *factor.keywords)))
        merged[factor.key] = Factor(factor.key, factor.name, factor.description, keywords)
    return Taxonomy(tuple(merged.values()))


def factor_from_mapping(data: Mapping[str, object]) -> Factor:
    """Build a factor from configuration data (for example a YAML or JSON entry).

    Raises:
        ValueError: When a field is missing or of the wrong type.
    """
    key, name = data.get("key"), data.get("name")
    description, keywords = data.get("description", ""), data.get("keywords", [])
    if not isinstance(key, str) or not isinstance(name, str) or not isinstance(description, str):
        raise ValueError(f"factor needs string key, name and description: {dict(data)!r}")
    if not isinstance(keywords, list | tuple) or not all(isinstance(k, str) for k in keywords):
        raise ValueError(f"factor {key!r}: keywords must be a list of strings")
    return Factor(key, name, description, tuple(k.lower().strip() for k in keywords))


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Words inside a phrase may be separated by any whitespace or a hyphen; the last word may
    # carry a plural or verb inflection.
    words = [re.escape(w) for w in re.split(r"[\s-]+", keyword.lower()) if w]
    body = r"[\s-]+".join(words)
    return re.compile(rf"(?<![\w-]){body}(?:s|es|ed|d|ing)?(?![\w-])", re.IGNORECASE)


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - _EXCERPT), min(len(text), end + _EXCERPT)
    return ("…" if left else "") + text[left:right].strip() + ("…" if right < len(text) else "")


def _evidence_for(factor: Factor, text: str) -> list[Evidence]:
    found: list[Evidence] = []
    taken: list[tuple[int, int]] = []
    # longer keywords first, so "power outage" wins over "power" on the same words
    for keyword in sorted(set(factor.keywords), key=lambda k: (-len(k), k)):
        for match in _keyword_pattern(keyword).finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            found.append(Evidence(keyword, span[0], span[1], _excerpt(text, *span)))
    return sorted(found, key=lambda e: e.start)


def suggest_factors(
    text: str, taxonomy: Taxonomy = DEFAULT_TAXONOMY, min_score: float = 1.0
) -> list[FactorSuggestion]:
    """Factors that ``text`` appears to describe, strongest first.

    Args:
        text: A postmortem, or one of its sections.
        taxonomy: The factors to consider; the default or a merged one.
        min_score: Smallest score reported (one distinct single-word keyword scores 1).

    Returns:
        Suggestions ordered by score, then by taxonomy order; each lists its evidence.
    """
    suggestions: list[tuple[float, int, FactorSuggestion]] = []
    for position, factor in enumerate(taxonomy.factors):
        evidence = _evidence_for(factor, text)
        distinct = {e.keyword for e in evidence}
        score = float(sum(len(k.split()) for k in distinct))
        if evidence and score >= min_score:
            suggestion = FactorSuggestion(factor.key, factor.name, score, tuple(evidence))
            suggestions.append((-score, position, suggestion))
    return [s for _, _, s in sorted(suggestions, key=lambda item: item[:2])]
