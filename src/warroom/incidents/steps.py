"""Steps shared by the incident use cases, run inside their transaction.

`record` is the one way an incident changes visibly: a timeline entry with actor and time plus
the audit entry, so "every change is on the timeline" and "every mutation is audited" hold by
construction. The checks encode the decision rights (see `service`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, Role
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from warroom.incidents.models import Incident, IncidentRole, TimelineEntry
from warroom.incidents.people import Person, people_by_id_in, person_by_email_in
from warroom.incidents.queries import visible_incident
from warroom.incidents.schemas import ResponderRole


def record(
    session: Session,
    actor: Actor,
    incident: Incident,
    *,
    action: str,
    text: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One timeline entry plus its audit entry: every change to an incident goes through here."""
    now = utcnow()
    session.add(
        TimelineEntry(
            incident_id=incident.id,
            at=at or now,
            kind=action,
            text=text,
            data=data or {},
            actor_user_id=actor.user_id,
            actor_label=actor.label,
        )
    )
    incident.updated_at = now
    audit_of_timeline_entry(session, actor, incident.id, action, text, data)


def audit_of_timeline_entry(
    session: Session,
    actor: Actor,
    incident_id: int,
    action: str,
    text: str,
    data: dict[str, Any] | None,
) -> None:
    """The audit entry that goes with every timeline entry."""
    append_entry(
        session,
        actor,
        action=f"incident.{action}",
        object_type="incident",
        object_id=incident_id,
        summary={"text": text[:500], **(data or {})},
    )


def writable_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """The incident for a change by staff; externals get NotFound or PermissionDenied."""
    incident = visible_incident(session, actor, incident_id)
    if actor.role is Role.EXTERNAL:
        raise PermissionDenied("external participants may only read and add notes")
    return incident


def require_command(session: Session, actor: Actor, incident: Incident, *, action: str) -> None:
    """Admins, the incident's (or parent's) commander, or anyone while nobody has command."""
    if actor.is_admin:
        return
    ids = [incident.id] + ([incident.parent_id] if incident.parent_id else [])
    commanders = session.scalars(
        select(IncidentRole.user_id).where(
            IncidentRole.incident_id.in_(ids),
            IncidentRole.role == ResponderRole.COMMANDER.value,
            IncidentRole.ended_at.is_(None),
        )
    ).all()
    if not commanders or actor.user_id in commanders:
        return
    raise PermissionDenied(f"{action} is for the incident commander or an admin")


def email_of(session: Session, user_id: int) -> str:
    person = people_by_id_in(session, [user_id]).get(user_id)
    return person.email if person else f"user {user_id}"


def user_by_email(session: Session, email: str, *, field: str) -> Person:
    user = person_by_email_in(session, email)
    if user is None or user.disabled:
        raise InvalidInput(f"unknown user {email!r}", [FieldError(field, f"no user {email}")])
    return user


def get_row(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    return incident
