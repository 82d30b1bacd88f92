"""Use cases for incident roles: assigning, handing over command, ending a role.

Single-holder roles (commander, communications, operations, scribe) replace their holder; a new
commander is a command handoff, which only the current commander or an admin may make (anyone
may take command while nobody holds it). External participants may only be SMEs or observers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, Role, require_writer
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import FieldError, InvalidInput, NotFound
from warroom.incidents.models import Incident, IncidentRole
from warroom.incidents.people import Person
from warroom.incidents.queries import incident_out
from warroom.incidents.schemas import IncidentOut, ResponderRole
from warroom.incidents.steps import (
    email_of,
    record,
    require_command,
    user_by_email,
    writable_incident,
)

SINGLE_HOLDER_ROLES = frozenset(
    {
        ResponderRole.COMMANDER,
        ResponderRole.COMMUNICATIONS,
        ResponderRole.OPERATIONS,
        ResponderRole.SCRIBE,
    }
)
EXTERNAL_ROLES = frozenset({ResponderRole.SME, ResponderRole.OBSERVER})
ROLE_TITLES = {
    ResponderRole.COMMANDER: "incident commander",
    ResponderRole.COMMUNICATIONS: "communications lead",
    ResponderRole.OPERATIONS: "operations lead",
    ResponderRole.SCRIBE: "scribe",
    ResponderRole.SME: "subject-matter expert",
    ResponderRole.OBSERVER: "observer",
}


def assign_role(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, user_email: str, role: ResponderRole
) -> IncidentOut:
    """Give a person a role; a new commander takes over from the current one (a handoff)."""
    require_writer(actor, action="assigning incident roles")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        user = user_by_email(uow.session, user_email, field="user")
        if role is ResponderRole.COMMANDER:
            require_command(uow.session, actor, incident, action="handing over command")
        if user.role is Role.EXTERNAL and role not in EXTERNAL_ROLES:
            raise InvalidInput(
                "external participants can only be subject-matter experts or observers",
                [FieldError("role", "sme or observer for external users")],
            )
        assign_role_in(uow.session, actor, incident, user, role)
        out = incident_out(uow.session, incident)
        uow.commit()
    return out


def assign_role_in(
    session: Session, actor: Actor, incident: Incident, user: Person, role: ResponderRole
) -> None:
    now = utcnow()
    current = _holders(session, incident.id, role)
    if any(row.user_id == user.id for row in current):
        return
    previous = ""
    if role in SINGLE_HOLDER_ROLES:
        for row in current:
            row.ended_at = now
            previous = email_of(session, row.user_id)
    session.add(IncidentRole(incident_id=incident.id, user_id=user.id, role=role, assigned_at=now))
    if role is ResponderRole.COMMANDER and incident.acknowledged_at is None:
        incident.acknowledged_at = now
    title = ROLE_TITLES[role]
    handoff = role is ResponderRole.COMMANDER and previous
    text = (
        f"Command handed over from {previous} to {user.email}"
        if handoff
        else f"{user.display_name} <{user.email}> is {title}"
        + (f" (replacing {previous})" if previous else "")
    )
    record(
        session,
        actor,
        incident,
        action="handoff" if handoff else "role",
        text=text,
        data={"role": role.value, "user": user.email, "previous": previous or None},
    )


def remove_role(uow: UnitOfWork, actor: Actor, *, incident_id: int, role_id: int) -> IncidentOut:
    require_writer(actor, action="removing incident roles")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        row = uow.session.get(IncidentRole, role_id)
        if row is None or row.incident_id != incident.id or row.ended_at is not None:
            raise NotFound(f"role {role_id} of incident {incident_id}")
        if row.role == ResponderRole.COMMANDER:
            require_command(uow.session, actor, incident, action="removing the commander")
        row.ended_at = utcnow()
        email = email_of(uow.session, row.user_id)
        record(
            uow.session,
            actor,
            incident,
            action="role_end",
            text=f"{email} is no longer {ROLE_TITLES.get(ResponderRole(row.role), row.role)}",
            data={"role": row.role, "user": email},
        )
        out = incident_out(uow.session, incident)
        uow.commit()
    return out


def _holders(session: Session, incident_id: int, role: ResponderRole) -> list[IncidentRole]:
    return list(
        session.scalars(
            select(IncidentRole).where(
                IncidentRole.incident_id == incident_id,
                IncidentRole.role == role.value,
                IncidentRole.ended_at.is_(None),
            )
        )
    )
