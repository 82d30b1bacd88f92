"""The three grouping stages against storage, run inside the delivery's transaction.

`apply_alert` takes one signal through identity (lock the key, find the open alert, count a
repeat or create it), correlation (`engines.alertgrouping.choose_group` over the groups that
could take it, with the dependency graph from the catalog) and opening
(`engines.alertgrouping.opening_decision`, which may open an incident through the incidents
domain). `evaluate_due_groups` is the same opening stage for time-based rules, run by the
ticker without a delivery. Locking is described in `warroom.intake.locks`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from warroom.actors import Actor
from warroom.catalog import queries as catalog_queries
from warroom.engines import alertgrouping as grouping
from warroom.incidents import service as incidents
from warroom.intake.locks import grouping_lock, identity_lock
from warroom.intake.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    GroupingRuleSet,
    Integration,
    MaintenanceWindow,
)
from warroom.intake.schemas import AcceptedAlert, TickReport
from warroom.integrations.signals import Action, AlertSignal

PENDING, OPEN, CLOSED, EXPIRED = "pending", "open", "closed", "expired"
ID_PREFIX = "#id:"
INTAKE_SOURCE = "alert intake"


@dataclass(frozen=True)
class Source:
    """The integration a delivery came through, read once per delivery without the ORM."""

    id: int
    kind: str
    name: str
    default_service: str
    mapping: dict[str, Any]
    max_body_bytes: int | None

    @classmethod
    def of(cls, row: Integration) -> Source:
        return cls(row.id, row.kind, row.name, row.default_service, row.mapping, row.max_body_bytes)


_FIND_SOURCE = select(
    Integration.id,
    Integration.kind,
    Integration.name,
    Integration.default_service,
    Integration.mapping,
    Integration.max_body_bytes,
    Integration.disabled_at,
).where(Integration.credential_hash == bindparam("credential_hash"))


def find_source(session: Session, credential_hash: str) -> tuple[Source, bool] | None:
    """The integration holding this credential hash, and whether it is disabled.

    Runs a statement built once, on the connection: this is on every delivery's path.
    """
    row = session.connection().execute(_FIND_SOURCE, {"credential_hash": credential_hash}).first()
    if row is None:
        return None
    source = Source(row[0], row[1], row[2], row[3], row[4], row[5])
    return source, row[6] is not None


@dataclass
class Context:
    """What every stage needs: the transaction, who acts, and when."""

    session: Session
    actor: Actor
    now: datetime
    integration: Source | None = None
    _rules: grouping.Rules | None = field(default=None, init=False)

    def rules(self) -> grouping.Rules:
        if self._rules is None:
            self._rules = load_rules(self.session)
        return self._rules


def load_rules(session: Session) -> grouping.Rules:
    row = session.get(GroupingRuleSet, 1)
    return grouping.parse_rules(row.document if row else None)


def apply_alert(ctx: Context, signal: AlertSignal) -> AcceptedAlert:
    """Run one alert signal through the stages; returns what happened to it."""
    assert ctx.integration is not None
    key = signal.dedup_key or uuid.uuid4().hex
    identity_lock(ctx.session, ctx.integration.id, key)
    if signal.action is Action.TRIGGER and signal.dedup_key:
        repeated = _repeat_in_open_incident(ctx, key)
        if repeated is not None:
            return repeated
    alert = _find_open(ctx, key)
    if signal.action is Action.TRIGGER:
        if alert is None:
            alert = _create(ctx, signal, key)
            _correlate(ctx, alert)
            return AcceptedAlert(
                alert_id=alert.id, dedup_key=key, outcome="created", incident_id=alert.incident_id
            )
        _repeat(ctx, alert)
        outcome = "repeated"
    elif alert is None:
        return AcceptedAlert(alert_id=None, dedup_key=key, outcome="ignored")
    elif signal.action is Action.ACKNOWLEDGE:
        _acknowledge(ctx, alert)
        outcome = "acknowledged"
    else:
        _resolve(ctx, alert)
        outcome = "resolved"
    return AcceptedAlert(
        alert_id=alert.id, dedup_key=alert.dedup_key, outcome=outcome, incident_id=alert.incident_id
    )


# --- stage 1: identity ---------------------------------------------------------------------


def _find_open(ctx: Context, key: str) -> Alert | None:
    assert ctx.integration is not None
    query = select(Alert).where(Alert.integration_id == ctx.integration.id)
    if key.startswith(ID_PREFIX) and key.removeprefix(ID_PREFIX).isdigit():
        query = query.where(
            Alert.id == int(key.removeprefix(ID_PREFIX)), Alert.open_key.is_not(None)
        )
    else:
        query = query.where(Alert.open_key == key)
    return ctx.session.scalars(query).first()


_OPEN_ALERT_IN_GROUP = (
    select(Alert.id, Alert.group_id, Alert.incident_id, AlertGroup.status)
    .join(AlertGroup, AlertGroup.id == Alert.group_id)
    .where(Alert.integration_id == bindparam("integration_id"), Alert.open_key == bindparam("key"))
)
_COUNT_ALERT_REPEAT = (
    update(Alert)
    .where(Alert.id == bindparam("alert_id"))
    .values(occurrences=Alert.occurrences + 1, last_seen_at=bindparam("now"))
)
_COUNT_GROUP_REPEAT = (
    update(AlertGroup)
    .where(AlertGroup.id == bindparam("group_id"))
    .values(occurrences=AlertGroup.occurrences + 1, last_at=bindparam("now"))
)
_RECORD_REPEAT = insert(AlertEvent).values(
    alert_id=bindparam("alert_id"), at=bindparam("now"), action="repeat"
)


def _repeat_in_open_incident(ctx: Context, key: str) -> AcceptedAlert | None:
    """The common case, a repeat of an alert whose incident is open, in four statements.

    Same effect as `_repeat` for that case, with statements built once and run on the
    connection (no ORM objects): intake throughput is mostly repeats, since Alertmanager
    re-notifies every alert of a group.
    """
    assert ctx.integration is not None
    connection = ctx.session.connection()
    row = connection.execute(
        _OPEN_ALERT_IN_GROUP, {"integration_id": ctx.integration.id, "key": key}
    ).first()
    if row is None or row.status != OPEN:
        return None
    connection.execute(_COUNT_ALERT_REPEAT, {"alert_id": row.id, "now": ctx.now})
    connection.execute(_COUNT_GROUP_REPEAT, {"group_id": row.group_id, "now": ctx.now})
    connection.execute(_RECORD_REPEAT, {"alert_id": row.id, "now": ctx.now})
    return AcceptedAlert(
        alert_id=row.id, dedup_key=key, outcome="repeated", incident_id=row.incident_id
    )


def _create(ctx: Context, signal: AlertSignal, key: str) -> Alert:
    assert ctx.integration is not None
    alert = Alert(
        integration_id=ctx.integration.id,
        dedup_key=key,
        open_key=key,
        title=(signal.title or "Untitled alert")[:500],
        severity=signal.severity,
        service=(signal.service or ctx.integration.default_service)[:100],
        source=signal.source[:200],
        labels=dict(signal.labels),
        details=dict(signal.details),
        links=list(signal.links),
        status=grouping.FIRING,
        started_at=signal.started_at or ctx.now,
        first_seen_at=ctx.now,
        last_seen_at=ctx.now,
        resolved_at=None,
        occurrences=1,
        suppressed="",
    )
    ctx.session.add(alert)
    ctx.session.flush()
    _event(ctx, alert, "trigger")
    return alert


def _event(ctx: Context, alert: Alert, action: str) -> None:
    ctx.session.add(AlertEvent(alert_id=alert.id, at=ctx.now, action=action))


def _repeat(ctx: Context, alert: Alert) -> None:
    alert.occurrences += 1
    alert.last_seen_at = ctx.now
    _event(ctx, alert, "repeat")
    if alert.group_id is None:
        _correlate(ctx, alert)  # silenced or flapping until now: try again
        return
    group = ctx.session.get_one(AlertGroup, alert.group_id)
    if group.status == PENDING:
        grouping_lock(ctx.session)
        ctx.session.refresh(group)
    if group.status == PENDING:
        group.occurrences += 1
        group.last_at = ctx.now
        _evaluate(ctx, group)
    else:
        # Open groups are updated without the grouping lock: let the database add.
        group.occurrences = AlertGroup.occurrences + 1
        group.last_at = ctx.now


def _acknowledge(ctx: Context, alert: Alert) -> None:
    alert.status = grouping.ACKNOWLEDGED
    alert.last_seen_at = ctx.now
    _event(ctx, alert, "acknowledge")
    if alert.incident_id is not None:
        _timeline(ctx, alert.incident_id, f"Alert acknowledged at source: {alert.title}", alert)


def _resolve(ctx: Context, alert: Alert) -> None:
    alert.status = grouping.RESOLVED
    alert.open_key = None
    alert.resolved_at = ctx.now
    alert.last_seen_at = ctx.now
    _event(ctx, alert, "resolve")
    if alert.group_id is None:
        return
    grouping_lock(ctx.session)
    group = ctx.session.get_one(AlertGroup, alert.group_id)
    ctx.session.refresh(group)
    group.firing = max(0, group.firing - 1)
    group.last_at = ctx.now
    if group.status == PENDING:
        _evaluate(ctx, group)
    elif group.incident_id is not None:
        _timeline(ctx, group.incident_id, f"Alert resolved at source: {alert.title}", alert)
        _note_when_all_resolved(ctx, group.incident_id)


def _note_when_all_resolved(ctx: Context, incident_id: int) -> None:
    counts = ctx.session.execute(
        select(func.count(), func.count().filter(Alert.status != grouping.RESOLVED)).where(
            Alert.incident_id == incident_id
        )
    ).one()
    if counts[0] and counts[1] == 0:
        incidents.add_timeline_entry_in(
            ctx.session,
            ctx.actor,
            incident_id=incident_id,
            kind="alerts_resolved",
            text=f"All {counts[0]} alert(s) of this incident have resolved at their source; "
            "the incident commander decides when the incident is resolved.",
            data={"alerts": counts[0]},
            at=ctx.now,
        )


def _timeline(ctx: Context, incident_id: int, text: str, alert: Alert) -> None:
    incidents.add_timeline_entry_in(
        ctx.session,
        ctx.actor,
        incident_id=incident_id,
        kind="alert",
        text=text,
        data={"alert_id": alert.id, "service": alert.service, "severity": alert.severity},
        at=ctx.now,
    )


# --- stage 2: correlation ------------------------------------------------------------------


def facts_of(alert: Alert) -> grouping.AlertFacts:
    labels = {str(k): str(v) for k, v in (alert.labels or {}).items()}
    return grouping.AlertFacts(alert.service, labels, alert.severity, alert.title)


def active_windows(session: Session, at: datetime) -> list[grouping.MaintenanceWindow]:
    rows = session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.starts_at <= at, MaintenanceWindow.ends_at > at
        )
    )
    return [window_view(row) for row in rows]


def window_view(row: MaintenanceWindow) -> grouping.MaintenanceWindow:
    labels = {str(k): str(v) for k, v in row.labels.items()}
    return grouping.MaintenanceWindow(
        row.id, row.starts_at, row.ends_at, tuple(row.services), labels
    )


def _correlate(ctx: Context, alert: Alert) -> None:
    facts = facts_of(alert)
    window = grouping.maintenance_window_for(facts, ctx.now, active_windows(ctx.session, ctx.now))
    if window is not None:
        alert.silenced_by = window.ref
        return
    grouping_lock(ctx.session)
    rule = ctx.rules().rule_for(facts.service, facts.labels)
    key = grouping.group_key(rule, facts)
    group = _choose(ctx, rule, key, alert.service)
    if group is None:
        if _flapping(ctx, alert, rule):
            alert.suppressed = "flapping"
            return
        group = _new_group(ctx, rule, key)
    alert.suppressed = ""
    _attach(ctx, alert, group)


def _choose(ctx: Context, rule: grouping.Rule, key: str, service: str) -> AlertGroup | None:
    """Same-key groups first (the engine prefers them anyway), then dependency neighbours.

    Only groups that could take the alert are turned into views, because deciding whether
    a group accepts alerts asks the incidents domain about its incident.
    """
    horizon = ctx.now - (rule.dependency_window or rule.window)
    rows = ctx.session.scalars(
        select(AlertGroup).where(
            AlertGroup.status.in_([PENDING, OPEN]),
            or_(AlertGroup.group_key == key, AlertGroup.last_at >= horizon),
        )
    ).all()
    same_key = [row for row in rows if row.group_key == key]
    chosen = _pick(ctx, rule, key, service, same_key, frozenset())
    if chosen is not None or rule.dependency_window is None:
        return chosen
    others = [row for row in rows if row.group_key != key and row.services]
    if not others:
        return None
    neighbours = _neighbours(ctx.session, service)
    related = [row for row in others if neighbours.intersection(row.services)]
    return _pick(ctx, rule, key, service, related, neighbours)


def _pick(
    ctx: Context,
    rule: grouping.Rule,
    key: str,
    service: str,
    rows: Sequence[AlertGroup],
    neighbours: frozenset[str],
) -> AlertGroup | None:
    if not rows:
        return None
    views = [_view(ctx, row) for row in rows]
    chosen = grouping.choose_group(rule, key, service, ctx.now, views, neighbours)
    return next((row for row in rows if row.id == chosen.ref), None) if chosen else None


def _view(ctx: Context, row: AlertGroup) -> grouping.GroupView:
    accepts = row.status == PENDING
    if row.status == OPEN and row.incident_id is not None:
        accepts = incidents.incident_accepts_alerts_in(ctx.session, row.incident_id)
        if not accepts:
            row.status = CLOSED  # the incident ended: this group takes no more alerts
    return grouping.GroupView(
        row.id,
        row.rule,
        row.group_key,
        frozenset(row.services),
        row.first_at,
        row.last_at,
        row.firing,
        accepts,
    )


def _neighbours(session: Session, service: str) -> frozenset[str]:
    graph = catalog_queries.dependency_graph(session)
    dependents = {name for name, needs in graph.items() if service in needs}
    return frozenset(graph.get(service, [])) | frozenset(dependents)


def _flapping(ctx: Context, alert: Alert, rule: grouping.Rule) -> bool:
    starts = ctx.session.scalars(
        select(Alert.first_seen_at).where(
            Alert.integration_id == alert.integration_id,
            Alert.dedup_key == alert.dedup_key,
            Alert.first_seen_at >= ctx.now - rule.flap_window,
        )
    ).all()
    return grouping.is_flapping(list(starts), rule, ctx.now)


def _new_group(ctx: Context, rule: grouping.Rule, key: str) -> AlertGroup:
    group = AlertGroup(
        rule=rule.name,
        group_key=key[:500],
        services=[],
        status=PENDING,
        first_at=ctx.now,
        last_at=ctx.now,
        occurrences=0,
        firing=0,
        reason="",
        previous_incident_id=_previous_incident(ctx, key),
    )
    ctx.session.add(group)
    ctx.session.flush()
    return group


def _previous_incident(ctx: Context, key: str) -> int | None:
    """The latest incident of this group key, if it has ended (the new one is a recurrence)."""
    latest = ctx.session.scalars(
        select(AlertGroup.incident_id)
        .where(AlertGroup.group_key == key, AlertGroup.incident_id.is_not(None))
        .order_by(AlertGroup.id.desc())
        .limit(1)
    ).first()
    if latest is None or incidents.incident_accepts_alerts_in(ctx.session, latest):
        return None
    return latest


def _attach(ctx: Context, alert: Alert, group: AlertGroup) -> None:
    alert.group_id = group.id
    group.occurrences += 1
    group.firing += 1
    group.last_at = ctx.now
    if alert.service and alert.service not in group.services:
        group.services = [*group.services, alert.service]
    if group.status == OPEN and group.incident_id is not None:
        alert.incident_id = group.incident_id
        text = f"Alert joined: {alert.title} ({alert.service or 'no service'})"
        _timeline(ctx, group.incident_id, text, alert)
    else:
        _evaluate(ctx, group)


# --- stage 3: opening ----------------------------------------------------------------------


def _evaluate(ctx: Context, group: AlertGroup) -> grouping.Verdict:
    rule = ctx.rules().by_name(group.rule)
    decision = grouping.opening_decision(
        rule,
        first_at=group.first_at,
        occurrences=group.occurrences,
        firing=group.firing,
        now=ctx.now,
    )
    group.reason = decision.reason
    if decision.verdict is grouping.Verdict.OPEN:
        _open_incident(ctx, group, rule, decision.reason)
    elif decision.verdict is grouping.Verdict.EXPIRE:
        group.status = EXPIRED
        group.not_before = None
    else:
        group.not_before = decision.not_before
    return decision.verdict


def _open_incident(ctx: Context, group: AlertGroup, rule: grouping.Rule, reason: str) -> None:
    alerts = ctx.session.scalars(
        select(Alert).where(Alert.group_id == group.id).order_by(Alert.id)
    ).all()
    incident_id = incidents.open_incident_in(
        ctx.session,
        ctx.actor,
        title=_title(alerts, group),
        severity=grouping.incident_severity([a.severity for a in alerts], rule),
        summary="\n".join(f"- [{a.severity}] {a.service}: {a.title}" for a in alerts),
        service_names=list(group.services),
        detected_at=min(a.started_at for a in alerts),
        source=INTAKE_SOURCE,
    )
    group.status, group.incident_id, group.opened_at = OPEN, incident_id, ctx.now
    group.not_before = None
    for alert in alerts:
        alert.incident_id = incident_id
    incidents.add_timeline_entry_in(
        ctx.session,
        ctx.actor,
        incident_id=incident_id,
        kind="alerts",
        text=f"Opened by grouping rule {rule.name!r}: {reason}; {len(alerts)} alert(s).",
        data={"group_id": group.id, "alerts": [a.id for a in alerts], "rule": rule.name},
        at=ctx.now,
    )
    if group.previous_incident_id is not None:
        incidents.link_recurrence_in(
            ctx.session,
            ctx.actor,
            incident_id=incident_id,
            previous_incident_id=group.previous_incident_id,
        )


def _title(alerts: Sequence[Alert], group: AlertGroup) -> str:
    lead = min(alerts, key=lambda a: (a.severity, a.id))
    services = ", ".join(group.services[:3]) or "alerts"
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    return f"{services}: {lead.title}{more}"[:200]


def evaluate_due_groups(ctx: Context) -> TickReport:
    """Open (or expire) every pending group whose time-based condition has come due."""
    grouping_lock(ctx.session)
    due = ctx.session.scalars(
        select(AlertGroup)
        .where(
            AlertGroup.status == PENDING,
            or_(AlertGroup.not_before <= ctx.now, AlertGroup.firing <= 0),
        )
        .order_by(AlertGroup.id)
    ).all()
    report = TickReport()
    for group in due:
        verdict = _evaluate(ctx, group)
        if verdict is grouping.Verdict.OPEN and group.incident_id is not None:
            report.opened.append(group.incident_id)
        elif verdict is grouping.Verdict.EXPIRE:
            report.expired += 1
        else:
            report.waiting += 1
    return report
