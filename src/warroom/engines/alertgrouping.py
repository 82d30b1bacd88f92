"""Alert grouping: the rules that turn a stream of alerts into incidents, as pure functions.

Why this exists: live intake and `warroom intake replay` must reach the same decisions, so
the decisions live here, free of storage, and both callers feed them the same facts. Grouping
runs in three explicit stages:

1. **Identity** (done by the caller, which owns the storage): one alert per integration and
   dedup key / fingerprint / alias while it is open; repeats only count occurrences.
2. **Correlation** (`choose_group`): an alert joins the most recently active group that
   accepts alerts and either has the same *group key* (the rule name plus the values of its
   `group_by` fields, as in Alertmanager) and was active within the rule's `window`, or covers
   a service next to the alert's service in the dependency graph and was active within the
   rule's `dependency_window`.
3. **Opening** (`opening_decision`): a group becomes an incident once it has `N` firing
   occurrences or has been firing for `T` (whichever comes first; neither set means at once),
   but never before its `group_wait` has passed. Flapping alerts (`is_flapping`: too many
   fresh starts of one key within a window) and alerts inside a maintenance window
   (`maintenance_window_for`) are recorded by the caller but never open anything.

`simulate` replays stored observations through the same functions; it assumes an incident
keeps accepting alerts while any of its alerts fire or its window has not passed, because the
incident commander's decisions (resolving early, say) are not part of the replayed data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

FIRING: Final = "firing"
ACKNOWLEDGED: Final = "acknowledged"
RESOLVED: Final = "resolved"
SEVERITIES: Final = ("SEV1", "SEV2", "SEV3", "SEV4")
DEFAULT_SEVERITY: Final = "SEV3"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RULE_FIELDS: Final = frozenset(
    {
        "name",
        "match",
        "group_by",
        "window",
        "group_wait",
        "open_after",
        "flapping",
        "dependency_window",
        "severity",
    }
)


class RulesError(ValueError):
    """The rules document is not valid; `problems` names each offending field."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems


def parse_duration(text: str | int | float) -> timedelta:
    """`30s`, `5m`, `2h`, `7d`, `1w`, or a number of seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=text)
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 2h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class Rule:
    """One grouping rule; the first rule whose `match` fits an alert applies to it."""

    name: str
    match_services: tuple[str, ...] = ()
    match_labels: Mapping[str, str] = field(default_factory=dict)
    group_by: tuple[str, ...] = ("service",)
    window: timedelta = timedelta(minutes=30)
    group_wait: timedelta = timedelta(0)
    open_after_occurrences: int | None = None
    open_after: timedelta | None = None
    flap_starts: int = 4
    flap_window: timedelta = timedelta(hours=1)
    dependency_window: timedelta | None = timedelta(minutes=10)
    severity: str | None = None

    def matches(self, service: str, labels: Mapping[str, str]) -> bool:
        if self.match_services and service not in self.match_services:
            return False
        return all(labels.get(name) == value for name, value in self.match_labels.items())


DEFAULT_RULE: Final = Rule(name="default")


@dataclass(frozen=True)
class Rules:
    """An ordered rule list; alerts no rule matches use `DEFAULT_RULE`."""

    rules: tuple[Rule, ...] = ()

    def rule_for(self, service: str, labels: Mapping[str, str]) -> Rule:
        for rule in self.rules:
            if rule.matches(service, labels):
                return rule
        return DEFAULT_RULE

    def by_name(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        return DEFAULT_RULE


def parse_rules(document: Mapping[str, Any] | None) -> Rules:
    """Validate a rules document (`{"rules": [...]}`, usually from YAML) into `Rules`.

    Raises:
        RulesError: naming every offending field as `rules[i].field`.
    """
    if not document:
        return Rules()
    items = document.get("rules")
    if not isinstance(items, list):
        raise RulesError([("rules", "must be a list of rules")])
    problems: list[tuple[str, str]] = []
    rules: list[Rule] = []
    for index, item in enumerate(items):
        where = f"rules[{index}]"
        try:
            rules.append(_parse_rule(item, index))
        except RulesError as exc:
            problems.extend((f"{where}.{name}", what) for name, what in exc.problems)
    names = [rule.name for rule in rules]
    problems.extend(
        (f"rules[{i}].name", "duplicate rule name")
        for i, name in enumerate(names)
        if name in names[:i]
    )
    if problems:
        raise RulesError(problems)
    return Rules(tuple(rules))


def _parse_rule(item: object, index: int) -> Rule:
    if not isinstance(item, Mapping):
        raise RulesError([("", "must be a mapping")])
    problems = [(str(key), "unknown field") for key in item if key not in _RULE_FIELDS]
    values: dict[str, Any] = {"name": str(item.get("name") or f"rule-{index + 1}")}
    for key, parse in _FIELD_PARSERS.items():
        if key in item:
            try:
                values.update(parse(item[key]))
            except (TypeError, ValueError) as exc:
                problems.append((key, str(exc)))
    if problems:
        raise RulesError(problems)
    return Rule(**values)


def _parse_match(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("must be a mapping of service and/or labels")
    services = value.get("service", ())
    services = (services,) if isinstance(services, str) else tuple(str(s) for s in services)
    labels = value.get("labels", {})
    if not isinstance(labels, Mapping):
        raise ValueError("labels must be a mapping of label name to value")
    return {"match_services": services, "match_labels": {str(k): str(v) for k, v in labels.items()}}


def _parse_group_by(value: Any) -> dict[str, Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError("must be a list of fields such as service, alertname or labels.team")
    return {"group_by": tuple(str(v) for v in value)}


def _parse_open_after(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("must be a mapping with occurrences and/or duration")
    out: dict[str, Any] = {}
    if value.get("occurrences") is not None:
        count = int(value["occurrences"])
        if count < 1:
            raise ValueError("occurrences must be at least 1")
        out["open_after_occurrences"] = count
    if value.get("duration") is not None:
        out["open_after"] = parse_duration(value["duration"])
    return out


def _parse_flapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("must be a mapping with starts and window")
    starts = int(value.get("starts", 4))
    if starts < 2:
        raise ValueError("starts must be at least 2")
    return {"flap_starts": starts, "flap_window": parse_duration(value.get("window", "1h"))}


def _parse_severity(value: Any) -> dict[str, Any]:
    severity = str(value).upper()
    if severity not in SEVERITIES:
        raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
    return {"severity": severity}


def _parse_dependency_window(value: Any) -> dict[str, Any]:
    if value in (None, False, "off"):
        return {"dependency_window": None}
    return {"dependency_window": parse_duration(value)}


_FIELD_PARSERS: Final = {
    "match": _parse_match,
    "group_by": _parse_group_by,
    "window": lambda v: {"window": parse_duration(v)},
    "group_wait": lambda v: {"group_wait": parse_duration(v)},
    "open_after": _parse_open_after,
    "flapping": _parse_flapping,
    "dependency_window": _parse_dependency_window,
    "severity": _parse_severity,
}


# --- stage 2: correlation ------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFacts:
    """What grouping needs to know about an alert."""

    service: str
    labels: Mapping[str, str]
    severity: str
    title: str


def field_value(name: str, facts: AlertFacts) -> str:
    """The value of a `group_by` field: service, severity, title, or a label name."""
    if name == "service":
        return facts.service
    if name == "severity":
        return facts.severity
    if name == "title":
        return facts.title
    return facts.labels.get(name.removeprefix("labels."), "")


def group_key(rule: Rule, facts: AlertFacts) -> str:
    """The correlation key: alerts with equal keys under one rule belong together."""
    parts = [f"{name}={field_value(name, facts)}" for name in rule.group_by]
    return "|".join([rule.name, *parts])


@dataclass(frozen=True)
class GroupView:
    """A group as correlation sees it (stored rows live, plain objects in replay)."""

    ref: int
    rule: str
    key: str
    services: frozenset[str]
    first_at: datetime
    last_at: datetime
    firing: int
    accepts: bool = True


def choose_group(
    rule: Rule,
    key: str,
    service: str,
    at: datetime,
    candidates: Iterable[GroupView],
    neighbours: frozenset[str],
) -> GroupView | None:
    """The group an alert joins, or None when it starts a new one.

    Args:
        neighbours: services next to `service` in the dependency graph (either direction).
    """
    same_key: list[GroupView] = []
    related: list[GroupView] = []
    for group in candidates:
        if not group.accepts:
            continue
        if group.key == key and (group.firing > 0 or at - group.last_at <= rule.window):
            same_key.append(group)
        elif _joins_by_dependency(rule, service, at, group, neighbours):
            related.append(group)
    pool = same_key or related
    return max(pool, key=lambda g: (g.last_at, g.ref)) if pool else None


def _joins_by_dependency(
    rule: Rule, service: str, at: datetime, group: GroupView, neighbours: frozenset[str]
) -> bool:
    if rule.dependency_window is None or service in group.services:
        return False
    return bool(group.services & neighbours) and at - group.last_at <= rule.dependency_window


# --- stage 3: opening ----------------------------------------------------------------------


def is_flapping(starts: Sequence[datetime], rule: Rule, at: datetime) -> bool:
    """Whether an alert key started (fired afresh) too often within the flapping window."""
    recent = [start for start in starts if at - rule.flap_window <= start <= at]
    return len(recent) >= rule.flap_starts


class Verdict(StrEnum):
    OPEN = "open"
    WAIT = "wait"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Decision:
    """What to do with a pending group now; `not_before` is when to look again (WAIT)."""

    verdict: Verdict
    reason: str
    not_before: datetime | None = None


def opening_decision(
    rule: Rule, *, first_at: datetime, occurrences: int, firing: int, now: datetime
) -> Decision:
    """Whether a pending group opens an incident now, waits, or expires unopened."""
    if firing <= 0:
        return Decision(Verdict.EXPIRE, "every alert resolved before the opening rule was met")
    wait_until = first_at + rule.group_wait
    met, reason = _opening_condition(rule, first_at, occurrences, now)
    if met and now >= wait_until:
        return Decision(Verdict.OPEN, reason)
    if met:
        return Decision(Verdict.WAIT, f"group_wait until {wait_until.isoformat()}", wait_until)
    due = first_at + rule.open_after if rule.open_after is not None else None
    not_before = max(due, wait_until) if due is not None else None
    return Decision(Verdict.WAIT, reason, not_before)


def _opening_condition(
    rule: Rule, first_at: datetime, occurrences: int, now: datetime
) -> tuple[bool, str]:
    count, duration = rule.open_after_occurrences, rule.open_after
    if count is None and duration is None:
        return True, "opens on the first occurrence"
    if count is not None and occurrences >= count:
        return True, f"{occurrences} occurrence(s) reached the threshold of {count}"
    if duration is not None and now - first_at >= duration:
        return True, f"firing for {_minutes(now - first_at)} (threshold {_minutes(duration)})"
    wanted = [f"{count} occurrences" if count else "", _minutes(duration) if duration else ""]
    return False, "waiting for " + " or ".join(w for w in wanted if w)


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


@dataclass(frozen=True)
class MaintenanceWindow:
    """A time range during which matching alerts are recorded but silenced."""

    ref: int
    starts_at: datetime
    ends_at: datetime
    services: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def covers(self, service: str, labels: Mapping[str, str], at: datetime) -> bool:
        if not self.starts_at <= at < self.ends_at:
            return False
        if self.services and service not in self.services:
            return False
        return all(labels.get(name) == value for name, value in self.labels.items())


def maintenance_window_for(
    facts: AlertFacts, at: datetime, windows: Iterable[MaintenanceWindow]
) -> MaintenanceWindow | None:
    for window in windows:
        if window.covers(facts.service, facts.labels, at):
            return window
    return None


def incident_severity(severities: Iterable[str], rule: Rule) -> str:
    """The rule's severity if it sets one, else the most severe alert's (SEV1 highest)."""
    if rule.severity:
        return rule.severity
    known = [s for s in severities if s in SEVERITIES]
    return min(known) if known else DEFAULT_SEVERITY


# --- replay ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One stored delivery for one alert (`alert` is its stable id), in time order."""

    alert: int
    key: str  # the identity key (integration and dedup key), shared by an alert's recurrences
    at: datetime
    status: str
    facts: AlertFacts
    starts: bool = False  # the delivery that created the alert


@dataclass
class SimulatedIncident:
    """An incident the rules would have opened."""

    ref: int
    rule: str
    key: str
    opened_at: datetime
    severity: str
    title: str
    services: set[str]
    alerts: set[int]


@dataclass
class _SimGroup:
    view: GroupView
    occurrences: int = 0
    alerts: dict[int, str] = field(default_factory=dict)  # alert -> status
    severities: list[str] = field(default_factory=list)
    title: str = ""
    incident: SimulatedIncident | None = None
    expired: bool = False
    not_before: datetime | None = None


@dataclass
class Simulation:
    """Replays observations through the three stages, in memory, with the live functions."""

    rules: Rules
    neighbours: Mapping[str, frozenset[str]]
    windows: Sequence[MaintenanceWindow] = ()
    groups: list[_SimGroup] = field(default_factory=list)
    alert_group: dict[int, _SimGroup] = field(default_factory=dict)
    starts: dict[str, list[datetime]] = field(default_factory=dict)
    incidents: list[SimulatedIncident] = field(default_factory=list)
    services_by_alert: dict[int, str] = field(default_factory=dict)

    def run(self, observations: Iterable[Observation], until: datetime) -> list[SimulatedIncident]:
        for observation in observations:
            self.tick(observation.at)
            self.observe(observation)
        self.tick(until)
        return self.incidents

    def observe(self, obs: Observation) -> None:
        group = self.alert_group.get(obs.alert)
        if obs.status == RESOLVED:
            if group is not None:
                group.alerts[obs.alert] = RESOLVED
                self._refresh(group, obs.at)
            return
        if group is None:
            group = self._place(obs)
            if group is None:
                return
        group.alerts[obs.alert] = obs.status
        if obs.status == FIRING:
            group.occurrences += 1
        group.severities.append(obs.facts.severity)
        self._refresh(group, obs.at)
        self._evaluate(group, obs.at)

    def _place(self, obs: Observation) -> _SimGroup | None:
        facts = obs.facts
        rule = self.rules.rule_for(facts.service, facts.labels)
        if obs.starts:
            self.starts.setdefault(obs.key, []).append(obs.at)
        if maintenance_window_for(facts, obs.at, self.windows) is not None:
            return None
        key = group_key(rule, facts)
        views = [g.view for g in self.groups if not g.expired]
        chosen = choose_group(
            rule, key, facts.service, obs.at, views, self.neighbours.get(facts.service, frozenset())
        )
        if chosen is not None:
            group = next(g for g in self.groups if g.view.ref == chosen.ref)
        elif is_flapping(self.starts.get(obs.key, []), rule, obs.at):
            return None
        else:
            group = self._new_group(rule, key, facts, obs.at)
        self.alert_group[obs.alert] = group
        return group

    def _new_group(self, rule: Rule, key: str, facts: AlertFacts, at: datetime) -> _SimGroup:
        view = GroupView(len(self.groups) + 1, rule.name, key, frozenset(), at, at, 0)
        group = _SimGroup(view=view, title=facts.title)
        self.groups.append(group)
        return group

    def _refresh(self, group: _SimGroup, at: datetime) -> None:
        firing = sum(1 for status in group.alerts.values() if status != RESOLVED)
        services = group.view.services | {
            self.services_by_alert[a] for a in group.alerts if self.services_by_alert.get(a)
        }
        group.view = replace(group.view, firing=firing, last_at=at, services=services)
        if group.incident is not None:
            group.incident.alerts.update(group.alerts)
            group.incident.services.update(services)

    def tick(self, now: datetime) -> None:
        """Evaluate every pending group whose time-based condition fell due by `now`, at the
        moment it fell due (the live ticker gets there within its interval)."""
        for group in self.groups:
            due = group.not_before
            if group.incident is None and not group.expired and due is not None and due <= now:
                self._evaluate(group, due)

    def _evaluate(self, group: _SimGroup, now: datetime) -> None:
        if group.incident is not None or group.expired:
            return
        rule = self.rules.by_name(group.view.rule)
        decision = opening_decision(
            rule,
            first_at=group.view.first_at,
            occurrences=group.occurrences,
            firing=group.view.firing,
            now=now,
        )
        group.not_before = decision.not_before
        if decision.verdict is Verdict.EXPIRE:
            group.expired = True
        elif decision.verdict is Verdict.OPEN:
            self._open(group, rule, now)

    def _open(self, group: _SimGroup, rule: Rule, at: datetime) -> None:
        incident = SimulatedIncident(
            ref=len(self.incidents) + 1,
            rule=rule.name,
            key=group.view.key,
            opened_at=at,
            severity=incident_severity(group.severities, rule),
            title=group.title,
            services=set(group.view.services),
            alerts=set(group.alerts),
        )
        group.incident = incident
        self.incidents.append(incident)


def simulate(
    observations: Sequence[Observation],
    rules: Rules,
    neighbours: Mapping[str, frozenset[str]],
    windows: Sequence[MaintenanceWindow],
    until: datetime,
) -> list[SimulatedIncident]:
    """The incidents `rules` would have opened from `observations` (sorted by time)."""
    simulation = Simulation(rules=rules, neighbours=neighbours, windows=windows)
    simulation.services_by_alert = {obs.alert: obs.facts.service for obs in observations}
    return simulation.run(sorted(observations, key=lambda o: (o.at, o.alert)), until)


@dataclass(frozen=True)
class DiffLine:
    """One line of a replay diff: `same`, `changed`, `new` (rules only) or `gone` (live only)."""

    change: str
    simulated: SimulatedIncident | None
    actual: int | None
    actual_alerts: frozenset[int]


def diff_incidents(
    simulated: Sequence[SimulatedIncident], actual: Mapping[int, frozenset[int]]
) -> list[DiffLine]:
    """Match simulated incidents to actual ones (by shared alerts) and classify each pair."""
    lines: list[DiffLine] = []
    used: set[int] = set()
    for incident in simulated:
        best = max(
            (ref for ref in actual if ref not in used and actual[ref] & incident.alerts),
            key=lambda ref: (len(actual[ref] & incident.alerts), -ref),
            default=None,
        )
        if best is None:
            lines.append(DiffLine("new", incident, None, frozenset()))
            continue
        used.add(best)
        change = "same" if actual[best] == frozenset(incident.alerts) else "changed"
        lines.append(DiffLine(change, incident, best, actual[best]))
    lines.extend(
        DiffLine("gone", None, ref, alerts) for ref, alerts in actual.items() if ref not in used
    )
    return lines
