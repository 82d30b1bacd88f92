"""Incident use cases: declare, edit, move through the status machine, take notes.

Two kinds of functions live here. Public use cases take a `UnitOfWork` and own one
transaction. The `*_in(session, ...)` functions are steps for other domains' transactions:
intake opens incidents, adds alert entries to timelines and records changes inside the same
transaction that stores the alert, so an accepted alert and its incident commit together.

Decision rights: severity, status and scope (impacted services, in/out of scope) belong to the
incident commander; only the IC or an admin may change them. Until someone takes command, any
responder may, because somebody has to be able to act in the first minutes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from warroom.actors import Actor, Role, require_admin, require_writer
from warroom.audit.service import append_entry
from warroom.catalog.queries import dependency_graph
from warroom.db.base import utcnow
from warroom.db.prepared import (
    Prepared,
    execute_driver_sql,
    postgres_array,
    postgres_time,
)
from warroom.db.transaction import before_commit, per_transaction
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, FieldError, InvalidInput, NotFound
from warroom.incidents import policy
from warroom.incidents.models import (
    Change,
    Incident,
    IncidentService,
    SeverityLevel,
    TimelineEntry,
)
from warroom.incidents.queries import incident_out, visible_incident
from warroom.incidents.schemas import (
    ChangeKind,
    ChangeOut,
    IncidentCreate,
    IncidentOut,
    IncidentUpdate,
    Severity,
    SeverityDefinition,
    SeverityDefinitionIn,
    Status,
)
from warroom.incidents.shapes import change_out
from warroom.incidents.steps import (
    audit_of_timeline_entry,
    get_row,
    record,
    require_command,
    writable_incident,
)

# --- in-transaction API (used by intake) ----------------------------------------------------


def open_incident_in(
    session: Session,
    actor: Actor,
    *,
    title: str,
    severity: str,
    summary: str,
    service_names: Sequence[str],
    detected_at: datetime,
    source: str,
) -> int:
    """Open an incident in triage inside the caller's transaction; returns its id.

    Service names are stored as given (alerts may name services the catalog lacks).
    """
    level = _parse_severity(severity)
    now = utcnow()
    incident = Incident(
        title=title.strip()[:200] or "Untitled incident",
        summary=summary,
        severity=level.value,
        status=Status.TRIAGE.value,
        source=source[:100],
        in_scope=[],
        out_of_scope=[],
        detected_at=detected_at,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    names = list(dict.fromkeys(n for n in service_names if n))
    session.add_all(IncidentService(incident_id=incident.id, service_name=n) for n in names)
    record(
        session,
        actor,
        incident,
        action="open",
        text=f"Incident opened ({level.value}) from {source}: {incident.title}",
        data={"severity": level.value, "services": names, "source": source},
        at=detected_at,
    )
    return incident.id


def add_timeline_entry_in(
    session: Session,
    actor: Actor,
    *,
    incident_id: int,
    kind: str,
    text: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add a timeline entry (and its audit entry) to the caller's transaction.

    The entry is held back and written with the transaction's others in one multi-row
    statement, with one touch of each incident's `updated_at`, when the transaction commits:
    intake adds one for every alert that joins or resolves, in batches. Held-back entries are
    written before the audit entries, after the ORM's pending rows (entries added through
    `steps.record` in the same transaction come first). An `Incident` already loaded in the
    session keeps the `updated_at` it was read with.
    """
    held = per_transaction(session, "warroom.incidents.held_timeline", _held_timeline)
    now = utcnow()
    held.touched[incident_id] = now
    held.entries.append(
        {
            "incident_id": incident_id,
            "at": at or now,
            "kind": kind,
            "text": text,
            "data": data or {},
            "actor_user_id": actor.user_id,
            "actor_label": actor.label,
        }
    )
    audit_of_timeline_entry(session, actor, incident_id, kind, text, data)


@dataclass
class HeldTimeline:
    entries: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[int, datetime] = field(default_factory=dict)  # incident id -> latest change


def _held_timeline(session: Session) -> HeldTimeline:
    held = HeldTimeline()
    before_commit(session, "warroom.incidents.timeline", lambda s: _write_timeline(s, held))
    return held


def _write_timeline(session: Session, held: HeldTimeline) -> None:
    if not held.entries:
        return
    connection = session.connection()
    # An entry for an incident that does not exist fails here, on the foreign key.
    if connection.dialect.name == "postgresql":
        touched = sorted(held.touched.items())
        entries = held.entries
        execute_driver_sql(
            connection,
            _WRITE_TIMELINE_POSTGRESQL,
            {
                "incident_ids": postgres_array(id_ for id_, _ in touched),
                "touched_ats": postgres_array(postgres_time(at) for _, at in touched),
                "entry_incidents": postgres_array(e["incident_id"] for e in entries),
                "entry_ats": postgres_array(postgres_time(e["at"]) for e in entries),
                "entry_kinds": postgres_array(e["kind"] for e in entries),
                "entry_texts": postgres_array(e["text"] for e in entries),
                "entry_data": postgres_array(json.dumps(e["data"]) for e in entries),
                "entry_users": postgres_array(e["actor_user_id"] for e in entries),
                "entry_labels": postgres_array(e["actor_label"] for e in entries),
            },
            later=True,  # with the next statement or the COMMIT
        )
    else:
        touches = [{"incident_id": id_, "now": now} for id_, now in held.touched.items()]
        _TOUCH_INCIDENT.many(connection, touches)
        _INSERT_TIMELINE_ENTRY.many(connection, held.entries)
    held.entries, held.touched = [], {}


# PostgreSQL: the touches and the entries in one statement over array parameters (an
# executemany costs a bound execution per row); incidents are locked in id order.
_WRITE_TIMELINE_POSTGRESQL = f"""
WITH locked AS (
    SELECT id FROM {Incident.__tablename__}
    WHERE id = ANY(%(incident_ids)s::integer[]) ORDER BY id FOR UPDATE
), touched AS (
    UPDATE {Incident.__tablename__} AS i SET updated_at = v.at
    FROM locked AS l,
         unnest(%(incident_ids)s::integer[], %(touched_ats)s::text[]::timestamptz[]) AS v(id, at)
    WHERE i.id = ANY(%(incident_ids)s::integer[]) AND i.id = l.id AND i.id = v.id
)
INSERT INTO {TimelineEntry.__tablename__}
    (incident_id, at, kind, text, data, actor_user_id, actor_label)
SELECT e.incident_id, e.at, e.kind, e.text, e.data::json, e.actor_user_id, e.actor_label
FROM unnest(%(entry_incidents)s::integer[], %(entry_ats)s::text[]::timestamptz[],
            %(entry_kinds)s::text[], %(entry_texts)s::text[], %(entry_data)s::text[],
            %(entry_users)s::integer[], %(entry_labels)s::text[])
     WITH ORDINALITY AS e(incident_id, at, kind, text, data, actor_user_id, actor_label, n)
ORDER BY e.n
"""


_TOUCH_INCIDENT = Prepared(
    update(Incident)
    .where(Incident.id == bindparam("incident_id"))
    .values(updated_at=bindparam("now"))
)
_TIMELINE_ENTRY_COLUMNS = (
    "incident_id", "at", "kind", "text", "data", "actor_user_id", "actor_label",
)  # fmt: skip
_INSERT_TIMELINE_ENTRY = Prepared(
    insert(TimelineEntry).values({name: bindparam(name) for name in _TIMELINE_ENTRY_COLUMNS})
)


def add_impacted_service_in(
    session: Session,
    actor: Actor,
    *,
    incident_id: int,
    service_name: str,
    at: datetime | None = None,
) -> bool:
    """Add a service to an incident's impacted services inside the caller's transaction.

    Intake calls this when an alert on a service new to the incident joins it. The name is
    stored as given, as `open_incident_in` does. Returns False if it was already impacted.
    """
    session.flush()  # services added through the ORM earlier in this transaction count too
    connection = session.connection()
    key = {"incident_id": incident_id, "service_name": service_name}
    if connection.execute(_IMPACTED_SERVICE, key).first() is not None:
        return False
    connection.execute(_ADD_IMPACTED_SERVICE, key)
    add_timeline_entry_in(
        session,
        actor,
        incident_id=incident_id,
        kind="services",
        text=f"Impacted service added: {service_name} (an alert on it joined the incident)",
        data={"added": [service_name], "removed": []},
        at=at,
    )
    return True


_IMPACTED_SERVICE = select(IncidentService.id).where(
    IncidentService.incident_id == bindparam("incident_id"),
    IncidentService.service_name == bindparam("service_name"),
)
_ADD_IMPACTED_SERVICE = insert(IncidentService)


def incident_accepts_alerts_in(session: Session, incident_id: int) -> bool:
    """False once the incident is resolved or ended: new alerts must open a new incident."""
    session.flush()  # a status changed earlier in this transaction counts
    current = _INCIDENT_STATUS.scalar(session.connection(), {"incident_id": incident_id})
    return current is not None and policy.is_active(current)


_INCIDENT_STATUS = Prepared(select(Incident.status).where(Incident.id == bindparam("incident_id")))


def accepts_alerts(incident_id: ColumnExpressionArgument[int | None]) -> ColumnElement[bool]:
    """For another domain's query: whether the incident `incident_id` names accepts new
    alerts (as `incident_accepts_alerts_in`; false where it is NULL), so that a read of rows
    referring to incidents needs no second read for them."""
    active = or_(*(Incident.status == status.value for status in sorted(policy.ACTIVE)))
    return exists().where(Incident.id == incident_id, active)


def link_recurrence_in(
    session: Session, actor: Actor, *, incident_id: int, previous_incident_id: int
) -> None:
    """Mark `incident_id` as a recurrence of `previous_incident_id`, on both timelines."""
    incident = session.get(Incident, incident_id)
    previous = session.get(Incident, previous_incident_id)
    if incident is None or previous is None:
        raise NotFound(f"incident {incident_id if incident is None else previous_incident_id}")
    incident.recurrence_of_id = previous.id
    record(
        session,
        actor,
        incident,
        action="recurrence",
        text=f"Recurrence of #{previous.id} ({previous.title})",
        data={"previous_incident_id": previous.id},
    )
    record(
        session,
        actor,
        previous,
        action="recurred",
        text=f"Recurred as #{incident.id}",
        data={"incident_id": incident.id},
    )


def record_change_in(
    session: Session,
    actor: Actor,
    *,
    service_name: str,
    summary: str,
    source: str,
    kind: str,
    happened_at: datetime,
    details: dict[str, Any],
) -> int:
    """Store a change to a service (deploy, config, infrastructure, flag); returns its id."""
    try:
        change_kind = ChangeKind(kind)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in ChangeKind)
        raise InvalidInput(
            f"unknown change kind {kind!r}", [FieldError("kind", f"one of: {allowed}")]
        ) from exc
    change = Change(
        service_name=service_name[:100],
        summary=summary,
        source=source[:100],
        kind=change_kind.value,
        happened_at=happened_at,
        details=details,
        created_at=utcnow(),
    )
    session.add(change)
    session.flush()
    append_entry(
        session,
        actor,
        action="change.record",
        object_type="change",
        object_id=change.id,
        summary={"service": service_name, "kind": change_kind.value, "source": source},
    )
    return change.id


def recent_changes_in(
    session: Session, service_names: Sequence[str], since: datetime
) -> list[ChangeOut]:
    """Changes to any of `service_names` at or after `since`, newest first."""
    if not service_names:
        return []
    rows = session.scalars(
        select(Change)
        .where(Change.service_name.in_(list(service_names)), Change.happened_at >= since)
        .order_by(Change.happened_at.desc(), Change.id.desc())
        .limit(200)
    )
    return [change_out(row) for row in rows]


# --- use cases -----------------------------------------------------------------------------


def declare_incident(uow: UnitOfWork, actor: Actor, *, data: IncidentCreate) -> IncidentOut:
    """Declare an incident by hand; impacted services must be in the catalog."""
    require_writer(actor, action="declaring incidents")
    with uow:
        _check_services(uow.session, data.services, field="services")
        incident_id = open_incident_in(
            uow.session,
            actor,
            title=data.title,
            severity=data.severity.value,
            summary=data.summary,
            service_names=data.services,
            detected_at=data.detected_at or utcnow(),
            source="manual",
        )
        incident = get_row(uow.session, incident_id)
        incident.customer_impact = data.customer_impact
        incident.impact_ongoing = data.impact_ongoing
        incident.started_at = data.started_at
        out = incident_out(uow.session, incident)
        uow.commit()
    return out


_FREE_FIELDS = ("title", "summary", "customer_impact", "impact_ongoing", "eta", "started_at")
_COMMAND_FIELDS = ("severity", "services", "in_scope", "out_of_scope")


def update_incident(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: IncidentUpdate
) -> IncidentOut:
    """Edit an incident; severity and scope changes need the incident commander or an admin."""
    require_writer(actor, action="changing incidents")
    changes = data.model_dump(exclude_unset=True)
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        if any(changes.get(name) is not None for name in _COMMAND_FIELDS):
            require_command(uow.session, actor, incident, action="changing severity or scope")
        for name in _FREE_FIELDS:
            if name in changes and changes[name] is not None:
                _set_field(uow.session, actor, incident, name, changes[name])
        if data.severity is not None and data.severity.value != incident.severity:
            before = incident.severity
            incident.severity = data.severity.value
            record(
                uow.session,
                actor,
                incident,
                action="severity",
                text=f"Severity {before} → {incident.severity}",
                data={"from": before, "to": incident.severity},
            )
        if data.services is not None:
            _check_services(uow.session, data.services, field="services")
            _replace_services(uow.session, actor, incident, data.services)
        for name in ("in_scope", "out_of_scope"):
            if changes.get(name) is not None:
                _set_field(uow.session, actor, incident, name, _clean_list(changes[name]))
        out = incident_out(uow.session, incident)
        uow.commit()
    return out


def change_status(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, status: Status, note: str = ""
) -> IncidentOut:
    """Move the incident along the status machine (IC or admin); refuses invalid moves."""
    require_writer(actor, action="changing incident status")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        require_command(uow.session, actor, incident, action="changing status")
        apply_status(uow.session, actor, incident, status, note=note)
        out = incident_out(uow.session, incident)
        uow.commit()
    return out


def resolve_incident(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, note: str = ""
) -> IncidentOut:
    return change_status(uow, actor, incident_id=incident_id, status=Status.RESOLVED, note=note)


def apply_status(
    session: Session, actor: Actor, incident: Incident, status: Status, *, note: str = ""
) -> None:
    """Check the transition, stamp the milestone times and record it (parent too)."""
    current = Status(incident.status)
    allowed = policy.allowed_transitions(current)
    if status not in allowed:
        names = ", ".join(s.value for s in allowed) or "none (the incident has ended)"
        raise Conflict(
            f"cannot move incident {incident.id} from {current.value} to {status.value}; "
            f"allowed: {names}",
            [FieldError("status", f"allowed from {current.value}: {names}")],
        )
    now = utcnow()
    incident.status = status.value
    _stamp_milestones(incident, status, now)
    text = f"Status {current.value} → {status.value}" + (f": {note}" if note else "")
    data = {"from": current.value, "to": status.value, "note": note}
    record(session, actor, incident, action="status", text=text, data=data)
    if incident.parent_id is not None:
        parent = get_row(session, incident.parent_id)
        record(
            session,
            actor,
            parent,
            action="workstream",
            text=f"Workstream #{incident.id} ({incident.title}): {text}",
            data={"workstream_id": incident.id, **data},
        )


def _stamp_milestones(incident: Incident, status: Status, now: datetime) -> None:
    if status is not Status.TRIAGE and incident.acknowledged_at is None:
        incident.acknowledged_at = now
    if status in (Status.MONITORING, Status.RESOLVED) and incident.mitigated_at is None:
        incident.mitigated_at = now
    if status is Status.RESOLVED:
        incident.resolved_at = now
    if status in policy.ENDED:
        incident.closed_at = now


def add_note(uow: UnitOfWork, actor: Actor, *, incident_id: int, text: str) -> None:
    """A free-text timeline note; external participants may add notes to their incident."""
    with uow:
        if actor.role is Role.EXTERNAL:
            incident = visible_incident(uow.session, actor, incident_id)
        else:
            require_writer(actor, action="adding notes")
            incident = visible_incident(uow.session, actor, incident_id)
        record(uow.session, actor, incident, action="note", text=text.strip())
        uow.commit()


def record_external_view(
    uow: UnitOfWork, actor: Actor, *, incident_id: int | None, what: str
) -> None:
    """Audit what an external participant looked at (staff reads are not audited).

    `incident_id` None stands for the incident list (which only shows their incidents).
    """
    if actor.role is not Role.EXTERNAL:
        return
    with uow:
        if incident_id is not None:
            visible_incident(uow.session, actor, incident_id)
        append_entry(
            uow.session,
            actor,
            action="incident.external_view",
            object_type="incident",
            object_id=incident_id if incident_id is not None else "-",
            summary={"what": what},
        )
        uow.commit()


def set_severity_definition(
    uow: UnitOfWork, actor: Actor, *, severity: Severity, data: SeverityDefinitionIn
) -> SeverityDefinition:
    """Override one severity's name, definition and update cadence (admins only)."""
    require_admin(actor, action="changing severity definitions")
    with uow:
        row = uow.session.get(SeverityLevel, severity.value)
        if row is None:
            row = SeverityLevel(severity=severity.value)
            uow.session.add(row)
        row.name, row.description = data.name, data.description
        row.update_every_minutes, row.updated_at = data.update_every_minutes, utcnow()
        append_entry(
            uow.session,
            actor,
            action="incident.severity_definition",
            object_type="severity",
            object_id=severity.value,
            summary=data.model_dump(),
        )
        uow.commit()
    return SeverityDefinition(severity=severity, customised=True, **data.model_dump())


def _parse_severity(value: str) -> Severity:
    try:
        return Severity(value.upper())
    except ValueError as exc:
        raise InvalidInput(
            f"unknown severity {value!r}", [FieldError("severity", "one of SEV1, SEV2, SEV3, SEV4")]
        ) from exc


def _check_services(session: Session, names: Sequence[str], *, field: str) -> None:
    known = dependency_graph(session)
    errors = [
        FieldError(f"{field}.{i}", f"unknown service {name!r}")
        for i, name in enumerate(names)
        if name not in known
    ]
    if errors:
        raise InvalidInput("unknown impacted service(s)", errors)


def _replace_services(
    session: Session, actor: Actor, incident: Incident, names: Sequence[str]
) -> None:
    rows = session.scalars(
        select(IncidentService).where(IncidentService.incident_id == incident.id)
    ).all()
    current = {row.service_name for row in rows}
    wanted = set(names)
    if wanted == current:
        return
    for row in rows:
        if row.service_name not in wanted:
            session.delete(row)
    session.add_all(
        IncidentService(incident_id=incident.id, service_name=n) for n in sorted(wanted - current)
    )
    record(
        session,
        actor,
        incident,
        action="services",
        text=f"Impacted services: {', '.join(sorted(wanted)) or 'none'}",
        data={"added": sorted(wanted - current), "removed": sorted(current - wanted)},
    )


def _set_field(session: Session, actor: Actor, incident: Incident, name: str, value: Any) -> None:
    before = getattr(incident, name)
    if before == value:
        return
    setattr(incident, name, value)
    shown = value.isoformat() if isinstance(value, datetime) else value
    label = name.replace("_", " ")
    text = f"{label.capitalize()}: {', '.join(shown) if isinstance(shown, list) else shown}"
    record(session, actor, incident, action="edit", text=text, data={"field": name, "to": shown})


def _clean_list(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))
