"""Read side of incidents: access checks, output shapes, listings, export and the status page.

Every read goes through `visible_incident`, so an external participant can only ever reach
the incidents they were added to: anything else is "not found", never "forbidden", so they
cannot probe which incident numbers exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from warroom.actors import Actor, Role, require_staff
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.errors import NotFound
from warroom.incidents import policy
from warroom.incidents.models import (
    Assumption,
    Change,
    Decision,
    Hypothesis,
    Incident,
    IncidentRole,
    IncidentService,
    SeverityLevel,
    Stakeholder,
    StatusUpdate,
    TimelineEntry,
)
from warroom.incidents.people import people_by_id_in
from warroom.incidents.schemas import (
    Audience,
    ChangeOut,
    IncidentDetail,
    IncidentOut,
    IncidentSummary,
    PublicIncident,
    ResponderRole,
    ResponseMode,
    RoleOut,
    Severity,
    SeverityDefinition,
    StakeholderOut,
    Status,
    TimelineOut,
    UpdateOut,
    WorkstreamOut,
)
from warroom.incidents.shapes import (
    assumption_out,
    change_out,
    decision_out,
    hypothesis_out,
    timeline_out,
    update_out,
)
from warroom.pagination import Page, clamp_limit, decode_cursor, encode_cursor

Row = TypeVar("Row", Decision, Stakeholder, Assumption, Hypothesis, StatusUpdate)

# --- access --------------------------------------------------------------------------------


def is_participant(session: Session, actor: Actor, incident_id: int) -> bool:
    """Whether the actor holds a current role in the incident (or in its parent)."""
    if actor.user_id is None:
        return False
    incident = session.get(Incident, incident_id)
    ids = [incident_id] + ([incident.parent_id] if incident and incident.parent_id else [])
    found = session.scalars(
        select(IncidentRole.id).where(
            IncidentRole.incident_id.in_(ids),
            IncidentRole.user_id == actor.user_id,
            IncidentRole.ended_at.is_(None),
        )
    ).first()
    return found is not None


def visible_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """The incident if the actor may see it; NotFound otherwise (externals included)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    if actor.role is Role.EXTERNAL and not is_participant(session, actor, incident_id):
        raise NotFound(f"incident {incident_id}")
    return incident


def _restrict_to_actor(query: Select[Incident], actor: Actor) -> Select[Incident]:
    if actor.role is not Role.EXTERNAL:
        return query
    mine = select(IncidentRole.incident_id).where(
        IncidentRole.user_id == (actor.user_id or -1), IncidentRole.ended_at.is_(None)
    )
    return query.where(Incident.id.in_(mine))


# --- severities ----------------------------------------------------------------------------


def severity_definitions(session: Session) -> dict[Severity, SeverityDefinition]:
    """The built-in definitions with this organisation's stored overrides applied."""
    definitions = dict(policy.DEFAULT_SEVERITIES)
    for row in session.scalars(select(SeverityLevel)):
        if row.severity in Severity.__members__:
            severity = Severity(row.severity)
            definitions[severity] = SeverityDefinition(
                severity=severity,
                name=row.name,
                description=row.description,
                update_every_minutes=row.update_every_minutes,
                customised=True,
            )
    return definitions


def list_severities(db: Database) -> list[SeverityDefinition]:
    with db.read_session() as session:
        return list(severity_definitions(session).values())


# --- output shapes -------------------------------------------------------------------------


def services_of(session: Session, incident_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(IncidentService.incident_id, IncidentService.service_name)
        .where(IncidentService.incident_id.in_(incident_ids))
        .order_by(IncidentService.service_name)
    ).all()
    found: dict[int, list[str]] = defaultdict(list)
    for incident_id, name in rows:
        found[incident_id].append(name)
    return found


def roles_of(session: Session, incident_ids: Sequence[int]) -> dict[int, list[RoleOut]]:
    rows = session.scalars(
        select(IncidentRole)
        .where(IncidentRole.incident_id.in_(incident_ids), IncidentRole.ended_at.is_(None))
        .order_by(IncidentRole.assigned_at, IncidentRole.id)
    ).all()
    people = people_by_id_in(session, {role.user_id for role in rows})
    found: dict[int, list[RoleOut]] = defaultdict(list)
    for role in rows:
        person = people.get(role.user_id)
        if person is None:
            continue
        found[role.incident_id].append(
            RoleOut(
                id=role.id,
                role=ResponderRole(role.role) if role.role in _ROLE_VALUES else role.role,
                user_id=role.user_id,
                email=person.email,
                display_name=person.display_name,
                assigned_at=role.assigned_at,
            )
        )
    return found


_ROLE_VALUES = {r.value for r in ResponderRole}


def commander_of(roles: Sequence[RoleOut]) -> str | None:
    return next((r.email for r in roles if r.role == ResponderRole.COMMANDER), None)


def incident_out(
    session: Session,
    incident: Incident,
    *,
    definitions: dict[Severity, SeverityDefinition] | None = None,
    now: datetime | None = None,
) -> IncidentOut:
    definitions = definitions or severity_definitions(session)
    definition = definitions[Severity(incident.severity)]
    due = policy.next_update_due(
        status=incident.status,
        last_update_at=incident.last_update_at,
        detected_at=incident.detected_at,
        every_minutes=definition.update_every_minutes,
    )
    status = Status(incident.status)
    return IncidentOut(
        id=incident.id,
        title=incident.title,
        summary=incident.summary,
        severity=definition.severity,
        severity_definition=definition,
        status=status,
        allowed_transitions=list(policy.allowed_transitions(status)),
        source=incident.source,
        customer_impact=incident.customer_impact,
        impact_ongoing=incident.impact_ongoing,
        eta=incident.eta,
        response_mode=ResponseMode(incident.response_mode) if incident.response_mode else None,
        services=services_of(session, [incident.id]).get(incident.id, []),
        in_scope=list(incident.in_scope or []),
        out_of_scope=list(incident.out_of_scope or []),
        parent_id=incident.parent_id,
        merged_into_id=incident.merged_into_id,
        recurrence_of_id=incident.recurrence_of_id,
        started_at=incident.started_at,
        detected_at=incident.detected_at,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        last_update_at=incident.last_update_at,
        next_update_due=due,
        update_overdue=policy.update_overdue(due, now or utcnow()),
        roles=roles_of(session, [incident.id]).get(incident.id, []),
    )


def incident_detail(session: Session, incident: Incident) -> IncidentDetail:
    """The whole incident page in a fixed number of queries (no per-row lookups)."""
    now = utcnow()
    base = incident_out(session, incident, now=now)
    timeline = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    ).all()
    return IncidentDetail(
        **base.model_dump(),
        timeline=[timeline_out(entry) for entry in timeline],
        decisions=[decision_out(d) for d in _rows(session, Decision, incident.id)],
        stakeholders=[
            StakeholderOut(id=s.id, name=s.name, success=s.success)
            for s in _rows(session, Stakeholder, incident.id)
        ],
        assumptions=[assumption_out(a, now) for a in _rows(session, Assumption, incident.id)],
        hypotheses=[hypothesis_out(h) for h in _rows(session, Hypothesis, incident.id)],
        updates=[update_out(u) for u in _rows(session, StatusUpdate, incident.id, newest=True)],
        workstreams=workstreams_of(session, incident.id),
    )


def _rows(
    session: Session, model: type[Row], incident_id: int, *, newest: bool = False
) -> Sequence[Row]:
    order = model.id.desc() if newest else model.id
    return session.scalars(
        select(model).where(model.incident_id == incident_id).order_by(order)
    ).all()


def workstreams_of(session: Session, incident_id: int) -> list[WorkstreamOut]:
    children = session.scalars(
        select(Incident).where(Incident.parent_id == incident_id).order_by(Incident.id)
    ).all()
    ids = [c.id for c in children]
    roles = roles_of(session, ids)
    services = services_of(session, ids)
    last = _last_entries(session, ids)
    return [
        WorkstreamOut(
            id=child.id,
            title=child.title,
            status=Status(child.status),
            lead=commander_of(roles.get(child.id, [])),
            services=services.get(child.id, []),
            last_entry=last.get(child.id),
        )
        for child in children
    ]


def _last_entries(session: Session, incident_ids: Sequence[int]) -> dict[int, str]:
    if not incident_ids:
        return {}
    newest = (
        select(func.max(TimelineEntry.id))
        .where(TimelineEntry.incident_id.in_(incident_ids))
        .group_by(TimelineEntry.incident_id)
    )
    rows = session.execute(
        select(TimelineEntry.incident_id, TimelineEntry.text).where(TimelineEntry.id.in_(newest))
    ).all()
    return dict(rows)


# --- listings ------------------------------------------------------------------------------


def list_incidents(
    db: Database,
    actor: Actor,
    *,
    status: Status | None = None,
    severity: Severity | None = None,
    service: str | None = None,
    search: str | None = None,
    active_only: bool = False,
    include_workstreams: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[IncidentSummary]:
    """Incidents newest first, filtered; externals only see the ones they were added to."""
    size = clamp_limit(limit)
    query = _restrict_to_actor(select(Incident).order_by(Incident.id.desc()), actor)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Incident.id < after)
    if not include_workstreams:
        query = query.where(Incident.parent_id.is_(None))
    if status:
        query = query.where(Incident.status == status.value)
    if active_only:
        query = query.where(Incident.status.in_([s.value for s in policy.ACTIVE]))
    if severity:
        query = query.where(Incident.severity == severity.value)
    if service:
        hits = select(IncidentService.incident_id).where(IncidentService.service_name == service)
        query = query.where(Incident.id.in_(hits))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(Incident.title).like(pattern), func.lower(Incident.summary).like(pattern)
            )
        )
    with db.read_session() as session:
        rows = list(session.scalars(query.limit(size + 1)))
        items = _summaries(session, rows[:size])
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return Page(items=items, next_cursor=next_cursor)


def _summaries(session: Session, rows: Sequence[Incident]) -> list[IncidentSummary]:
    ids = [row.id for row in rows]
    services = services_of(session, ids)
    roles = roles_of(session, ids)
    definitions = severity_definitions(session)
    now = utcnow()
    items = []
    for row in rows:
        due = policy.next_update_due(
            status=row.status,
            last_update_at=row.last_update_at,
            detected_at=row.detected_at,
            every_minutes=definitions[Severity(row.severity)].update_every_minutes,
        )
        items.append(
            IncidentSummary(
                id=row.id,
                title=row.title,
                severity=Severity(row.severity),
                status=Status(row.status),
                services=services.get(row.id, []),
                commander=commander_of(roles.get(row.id, [])),
                parent_id=row.parent_id,
                detected_at=row.detected_at,
                resolved_at=row.resolved_at,
                update_overdue=policy.update_overdue(due, now),
            )
        )
    return items


def get_incident(db: Database, actor: Actor, *, incident_id: int) -> IncidentDetail:
    with db.read_session() as session:
        return incident_detail(session, visible_incident(session, actor, incident_id))


def get_timeline(db: Database, actor: Actor, *, incident_id: int) -> list[TimelineOut]:
    with db.read_session() as session:
        visible_incident(session, actor, incident_id)
        entries = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        ).all()
        return [timeline_out(entry) for entry in entries]


def recent_changes(
    db: Database, actor: Actor, *, services: Sequence[str] | None, since: datetime
) -> list[ChangeOut]:
    require_staff(actor, action="reading changes")
    query = select(Change).where(Change.happened_at >= since).order_by(Change.happened_at.desc())
    if services:
        query = query.where(Change.service_name.in_(list(services)))
    with db.read_session() as session:
        return [change_out(row) for row in session.scalars(query.limit(500))]


def public_status(db: Database) -> list[PublicIncident]:
    """Active top-level incidents and their customer-facing updates, for the public page."""
    with db.read_session() as session:
        rows = session.scalars(
            select(Incident)
            .where(
                Incident.parent_id.is_(None),
                Incident.status.in_([s.value for s in policy.ACTIVE]),
            )
            .order_by(Incident.id.desc())
        ).all()
        ids = [row.id for row in rows]
        updates: dict[int, list[UpdateOut]] = defaultdict(list)
        for update in session.scalars(
            select(StatusUpdate)
            .where(
                StatusUpdate.incident_id.in_(ids),
                StatusUpdate.audience == Audience.CUSTOMER.value,
            )
            .order_by(StatusUpdate.published_at.desc(), StatusUpdate.id.desc())
        ):
            updates[update.incident_id].append(update_out(update))
    return [
        PublicIncident(
            reference=f"#{row.id}",
            state=policy.STATUS_PHRASES[Status(row.status)],
            started=row.started_at or row.detected_at,
            updates=updates[row.id],
        )
        for row in rows
        if updates[row.id]
    ]


# --- change feed (for domains that keep a derived copy, e.g. the knowledge base) -----------


def incident_versions_in(
    session: Session, *, since: datetime | None, limit: int
) -> list[tuple[int, datetime, bool]]:
    """(id, updated_at, is_workstream) of incidents changed at or after `since`, oldest first.

    Every change to an incident moves its `updated_at`, so a reader that remembers the version
    it derived something from can tell what to refresh without this domain knowing about it.
    """
    query = select(Incident.id, Incident.updated_at, Incident.parent_id)
    if since is not None:
        query = query.where(Incident.updated_at >= since)
    rows = session.execute(query.order_by(Incident.updated_at, Incident.id).limit(limit)).all()
    return [(row.id, row.updated_at, row.parent_id is not None) for row in rows]


def incident_details_in(session: Session, incident_ids: Sequence[int]) -> list[IncidentDetail]:
    """Full records of these incidents (no access check: for system readers only)."""
    rows = session.scalars(select(Incident).where(Incident.id.in_(incident_ids))).all()
    return [incident_detail(session, row) for row in rows]
