"""Read side of intake: integrations, alerts, dead letters, silences, rules and replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_admin, require_staff
from warroom.catalog import queries as catalog_queries
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.engines import alertgrouping as grouping
from warroom.errors import NotFound
from warroom.intake import pipeline
from warroom.intake.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    DeadLetter,
    GroupingRuleSet,
    Integration,
    MaintenanceWindow,
)
from warroom.intake.schemas import (
    AlertOut,
    DeadLetterDetail,
    DeadLetterOut,
    IntegrationOut,
    MaintenanceOut,
    ReplayIncident,
    ReplayReport,
    RulesOut,
)
from warroom.pagination import Page, clamp_limit, decode_cursor, encode_cursor

_STATUS_OF_ACTION = {
    "trigger": grouping.FIRING,
    "repeat": grouping.FIRING,
    "acknowledge": grouping.ACKNOWLEDGED,
    "resolve": grouping.RESOLVED,
}


def list_integrations(db: Database, actor: Actor) -> list[IntegrationOut]:
    require_admin(actor, action="listing integrations")
    with db.read_session() as session:
        rows = session.scalars(select(Integration).order_by(Integration.name))
        return [IntegrationOut.model_validate(row) for row in rows]


def list_alerts(
    db: Database,
    actor: Actor,
    *,
    status: str | None = None,
    service: str | None = None,
    incident_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[AlertOut]:
    """Alerts, newest first, optionally filtered."""
    require_staff(actor, action="listing alerts")
    size = clamp_limit(limit)
    query = select(Alert).order_by(Alert.id.desc()).limit(size + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Alert.id < after)
    if status:
        query = query.where(Alert.status == status)
    if service:
        query = query.where(Alert.service == service)
    if incident_id is not None:
        query = query.where(Alert.incident_id == incident_id)
    with db.read_session() as session:
        rows = list(session.scalars(query))
    items = [AlertOut.model_validate(row) for row in rows[:size]]
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return Page(items=items, next_cursor=next_cursor)


def get_alert(db: Database, actor: Actor, *, alert_id: int) -> AlertOut:
    require_staff(actor, action="reading alerts")
    with db.read_session() as session:
        row = session.get(Alert, alert_id)
        if row is None:
            raise NotFound(f"alert {alert_id}")
        return AlertOut.model_validate(row)


def list_dead_letters(
    db: Database, actor: Actor, *, limit: int | None = None
) -> list[DeadLetterOut]:
    require_admin(actor, action="inspecting dead letters")
    with db.read_session() as session:
        rows = session.execute(
            select(DeadLetter, func.length(DeadLetter.body))
            .order_by(DeadLetter.id.desc())
            .limit(clamp_limit(limit))
        ).all()
        return [_letter_out(row[0], row[1]) for row in rows]


def _letter_out(letter: DeadLetter, size: int | None) -> DeadLetterOut:
    out = DeadLetterOut.model_validate(letter)
    out.size = size or 0
    return out


def get_dead_letter(db: Database, actor: Actor, *, dead_letter_id: int) -> DeadLetterDetail:
    """One dead letter with its body (decoded as UTF-8, undecodable bytes replaced)."""
    require_admin(actor, action="inspecting dead letters")
    with db.read_session() as session:
        letter = session.get(DeadLetter, dead_letter_id)
        if letter is None:
            raise NotFound(f"dead letter {dead_letter_id}")
        out = _letter_out(letter, len(letter.body))
        return DeadLetterDetail(
            **out.model_dump(), body=letter.body.decode("utf-8", errors="replace")
        )


def list_maintenance(db: Database, actor: Actor) -> list[MaintenanceOut]:
    require_staff(actor, action="listing maintenance windows")
    with db.read_session() as session:
        rows = session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at))
        return [MaintenanceOut.model_validate(row) for row in rows]


def get_rules(db: Database, actor: Actor) -> RulesOut:
    require_staff(actor, action="reading grouping rules")
    with db.read_session() as session:
        row = session.get(GroupingRuleSet, 1)
        if row is None:
            return RulesOut(source="", document={}, updated_at=None, updated_by="")
        return RulesOut(
            source=row.source,
            document=row.document,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )


def pending_groups_due(db: Database, *, now: datetime) -> int:
    """How many pending groups a tick would look at (lets the ticker skip a write)."""
    with db.read_session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AlertGroup)
            .where(AlertGroup.status == pipeline.PENDING)
            .where((AlertGroup.not_before <= now) | (AlertGroup.firing <= 0))
        )
        return count or 0


# --- replay --------------------------------------------------------------------------------


def replay(
    db: Database,
    actor: Actor,
    *,
    rules: grouping.Rules,
    since: datetime,
    until: datetime | None = None,
) -> ReplayReport:
    """Re-run `rules` over the alerts delivered since `since`; diff against what happened."""
    require_staff(actor, action="replaying grouping rules")
    end = until or utcnow()
    with db.read_session() as session:
        observations = _observations(session, since, end)
        neighbours = _all_neighbours(session)
        windows = [pipeline.window_view(row) for row in session.scalars(select(MaintenanceWindow))]
        alert_ids = {obs.alert for obs in observations}
        actual = _actual_incidents(session, since, end)
    simulated = grouping.simulate(observations, rules, neighbours, windows, end)
    lines = grouping.diff_incidents(simulated, actual)
    return ReplayReport(
        since=since,
        until=end,
        alerts=len(alert_ids),
        deliveries=len(observations),
        incidents=[_replay_line(line) for line in lines],
    )


def _observations(session: Session, since: datetime, until: datetime) -> list[grouping.Observation]:
    rows = session.execute(
        select(AlertEvent, Alert)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.at >= since, AlertEvent.at <= until)
        .order_by(AlertEvent.at, AlertEvent.id)
    ).all()
    return [
        grouping.Observation(
            alert=alert.id,
            key=f"{alert.integration_id}:{alert.dedup_key}",
            at=event.at,
            status=_STATUS_OF_ACTION.get(event.action, grouping.FIRING),
            facts=pipeline.facts_of(alert),
            starts=event.action == "trigger",
        )
        for event, alert in rows
    ]


def _all_neighbours(session: Session) -> dict[str, frozenset[str]]:
    graph = catalog_queries.dependency_graph(session)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for service, needs in graph.items():
        for other in needs:
            neighbours[service].add(other)
            neighbours[other].add(service)
    return {name: frozenset(others) for name, others in neighbours.items()}


def _actual_incidents(
    session: Session, since: datetime, until: datetime
) -> dict[int, frozenset[int]]:
    delivered = select(AlertEvent.alert_id).where(AlertEvent.at >= since, AlertEvent.at <= until)
    rows = session.execute(
        select(Alert.incident_id, Alert.id).where(
            Alert.id.in_(delivered), Alert.incident_id.is_not(None)
        )
    ).all()
    actual: dict[int, set[int]] = defaultdict(set)
    for incident_id, alert_id in rows:
        if incident_id is not None:
            actual[incident_id].add(alert_id)
    return {ref: frozenset(ids) for ref, ids in actual.items()}


def _replay_line(line: grouping.DiffLine) -> ReplayIncident:
    sim = line.simulated
    return ReplayIncident(
        change=line.change,
        rule=sim.rule if sim else "",
        title=sim.title if sim else "",
        severity=sim.severity if sim else "",
        opened_at=sim.opened_at if sim else None,
        services=sorted(sim.services) if sim else [],
        alerts=sorted(sim.alerts) if sim else [],
        actual_incident=line.actual,
        actual_alerts=sorted(line.actual_alerts),
    )
