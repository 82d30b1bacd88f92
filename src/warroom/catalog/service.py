"""Catalog use cases: teams, services, dependencies and whole-catalog import.

A dependency that would close a cycle is refused with the cycle spelled out; import validates
every reference first and writes everything in one transaction, so a bad file writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warroom.accounts.queries import user_ids_by_email_in
from warroom.actors import Actor, require_admin, require_writer
from warroom.audit.service import append_entry
from warroom.catalog import documents
from warroom.catalog.models import Service, ServiceDependency, Team, TeamMember
from warroom.catalog.queries import dependency_graph, service_out, team_out
from warroom.catalog.schemas import (
    CatalogSnapshot,
    ImportReport,
    ServiceCreate,
    ServiceOut,
    ServiceUpdate,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.engines.graphs import cycle_if_added, find_cycle
from warroom.errors import Conflict, FieldError, InvalidInput, NotFound

_SERVICE_FIELDS = (
    "kind",
    "description",
    "tier",
    "system",
    "runbook_url",
    "repository_url",
    "tags",
    "lifecycle",
)


def create_team(uow: UnitOfWork, actor: Actor, *, data: TeamCreate) -> TeamOut:
    require_writer(actor, action="creating teams")
    with uow:
        if _find_team(uow.session, data.name):
            raise Conflict(f"team {data.name} already exists", [FieldError("name", "in use")])
        team = Team(
            name=data.name,
            description=data.description,
            escalation_contact=data.escalation_contact,
            created_at=utcnow(),
        )
        uow.session.add(team)
        uow.session.flush()
        _set_members(uow.session, team, data.members, field="members")
        append_entry(
            uow.session,
            actor,
            action="team.create",
            object_type="team",
            object_id=team.id,
            summary=data.model_dump(mode="json"),
        )
        out = team_out(uow.session, team)
        uow.commit()
    return out


def update_team(uow: UnitOfWork, actor: Actor, *, name: str, data: TeamUpdate) -> TeamOut:
    require_writer(actor, action="changing teams")
    with uow:
        team = _get_team(uow.session, name)
        changes = data.model_dump(exclude_none=True, mode="json")
        for field_name in ("description", "escalation_contact"):
            if field_name in changes:
                setattr(team, field_name, changes[field_name])
        if data.members is not None:
            _set_members(uow.session, team, data.members, field="members")
        append_entry(
            uow.session,
            actor,
            action="team.update",
            object_type="team",
            object_id=team.id,
            summary=changes,
        )
        out = team_out(uow.session, team)
        uow.commit()
    return out


def delete_team(uow: UnitOfWork, actor: Actor, *, name: str) -> None:
    """Delete a team; its services stay, without an owner."""
    require_admin(actor, action="deleting teams")
    with uow:
        team = _get_team(uow.session, name)
        append_entry(
            uow.session,
            actor,
            action="team.delete",
            object_type="team",
            object_id=team.id,
            summary={"name": team.name},
        )
        uow.session.delete(team)
        uow.commit()


def create_service(uow: UnitOfWork, actor: Actor, *, data: ServiceCreate) -> ServiceOut:
    require_writer(actor, action="creating services")
    with uow:
        if _find_service(uow.session, data.name):
            raise Conflict(
                f"service {data.name} already exists", [FieldError("name", "already in use")]
            )
        service = Service(name=data.name, created_at=utcnow(), updated_at=utcnow())
        _apply_fields(uow.session, service, data.model_dump(mode="json"))
        uow.session.add(service)
        uow.session.flush()
        _set_dependencies(uow.session, service, data.depends_on)
        append_entry(
            uow.session,
            actor,
            action="service.create",
            object_type="service",
            object_id=service.id,
            summary=data.model_dump(mode="json"),
        )
        out = service_out(uow.session, service)
        uow.commit()
    return out


def update_service(uow: UnitOfWork, actor: Actor, *, name: str, data: ServiceUpdate) -> ServiceOut:
    require_writer(actor, action="changing services")
    with uow:
        service = _get_service(uow.session, name)
        changes = data.model_dump(exclude_unset=True, mode="json")
        _apply_fields(uow.session, service, changes)
        if data.depends_on is not None:
            _set_dependencies(uow.session, service, data.depends_on)
        service.updated_at = utcnow()
        append_entry(
            uow.session,
            actor,
            action="service.update",
            object_type="service",
            object_id=service.id,
            summary=changes,
        )
        out = service_out(uow.session, service)
        uow.commit()
    return out


def delete_service(uow: UnitOfWork, actor: Actor, *, name: str) -> None:
    require_admin(actor, action="deleting services")
    with uow:
        service = _get_service(uow.session, name)
        append_entry(
            uow.session,
            actor,
            action="service.delete",
            object_type="service",
            object_id=service.id,
            summary={"name": service.name},
        )
        uow.session.delete(service)
        uow.commit()


def add_dependency(uow: UnitOfWork, actor: Actor, *, name: str, depends_on: str) -> ServiceOut:
    """Record that `name` depends on `depends_on`; refuse a dependency that closes a cycle."""
    require_writer(actor, action="changing dependencies")
    with uow:
        service = _get_service(uow.session, name)
        target = _get_service(uow.session, depends_on, field="depends_on")
        cycle = cycle_if_added(dependency_graph(uow.session), service.name, target.name)
        if cycle:
            raise _cycle_error(cycle, field="depends_on")
        exists = uow.session.scalars(
            select(ServiceDependency).where(
                ServiceDependency.service_id == service.id,
                ServiceDependency.depends_on_id == target.id,
            )
        ).first()
        if exists is None:
            uow.session.add(ServiceDependency(service_id=service.id, depends_on_id=target.id))
            append_entry(
                uow.session,
                actor,
                action="service.dependency_add",
                object_type="service",
                object_id=service.id,
                summary={"depends_on": target.name},
            )
        uow.session.flush()
        out = service_out(uow.session, service)
        uow.commit()
    return out


def remove_dependency(uow: UnitOfWork, actor: Actor, *, name: str, depends_on: str) -> ServiceOut:
    require_writer(actor, action="changing dependencies")
    with uow:
        service = _get_service(uow.session, name)
        target = _get_service(uow.session, depends_on, field="depends_on")
        result = uow.session.execute(
            delete(ServiceDependency).where(
                ServiceDependency.service_id == service.id,
                ServiceDependency.depends_on_id == target.id,
            )
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound(f"dependency {service.name} -> {target.name}")
        append_entry(
            uow.session,
            actor,
            action="service.dependency_remove",
            object_type="service",
            object_id=service.id,
            summary={"depends_on": target.name},
        )
        out = service_out(uow.session, service)
        uow.commit()
    return out


def import_catalog_text(uow: UnitOfWork, actor: Actor, *, text: str, filename: str) -> ImportReport:
    """Import a Warroom or Backstage catalog file: all or nothing, and idempotent.

    Raises:
        InvalidInput: naming the file, line and field of the first problems; nothing written.
    """
    require_admin(actor, action="importing the catalog")
    parsed = documents.parse_catalog(text, filename)
    try:
        return import_snapshot(uow, actor, snapshot=parsed.snapshot)
    except InvalidInput as exc:
        raise parsed.locate(exc) from exc


def import_snapshot(uow: UnitOfWork, actor: Actor, *, snapshot: CatalogSnapshot) -> ImportReport:
    """Create or update every team and service in the snapshot, in one transaction."""
    require_admin(actor, action="importing the catalog")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with uow:
        _check_import_references(uow.session, snapshot)
        for index, team_data in enumerate(snapshot.teams):
            outcome = _upsert_team(uow.session, actor, team_data, f"teams.{index}.members")
            counts[outcome] += 1
        services = []
        for service_data in snapshot.services:
            service, outcome = _upsert_service(uow.session, service_data)
            services.append((service, service_data, outcome))
        for index, (service, service_data, outcome) in enumerate(services):
            changed = _replace_dependencies(uow.session, service, service_data.depends_on)
            final = "updated" if changed and outcome == "unchanged" else outcome
            counts[final] += 1
            if final != "unchanged":
                append_entry(
                    uow.session,
                    actor,
                    action=f"service.import_{final}",
                    object_type="service",
                    object_id=service.id,
                    summary={"name": service.name, "index": index},
                )
        cycle = find_cycle(dependency_graph(uow.session))
        if cycle:
            raise _cycle_error(cycle, field="services")
        report = ImportReport(**counts)
        append_entry(
            uow.session,
            actor,
            action="catalog.import",
            object_type="catalog",
            object_id="-",
            summary=report.model_dump(),
        )
        uow.commit()
    return report


def _check_import_references(session: Session, snapshot: CatalogSnapshot) -> None:
    errors: list[FieldError] = []
    team_names = {t.name for t in snapshot.teams} | set(session.scalars(select(Team.name)))
    service_names = {s.name for s in snapshot.services} | set(session.scalars(select(Service.name)))
    emails = set(user_ids_by_email_in(session, (m for t in snapshot.teams for m in t.members)))
    errors += _duplicates("teams", [t.name for t in snapshot.teams])
    errors += _duplicates("services", [s.name for s in snapshot.services])
    for i, team in enumerate(snapshot.teams):
        errors += _dangling(f"teams.{i}.members", team.members, emails, "user")
    for i, service in enumerate(snapshot.services):
        if service.owner_team and service.owner_team not in team_names:
            errors.append(
                FieldError(f"services.{i}.owner_team", _unknown("team", service.owner_team))
            )
        errors += _dangling(
            f"services.{i}.depends_on", service.depends_on, service_names, "service"
        )
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the catalog; nothing was imported", errors)


def _duplicates(prefix: str, names: Sequence[str]) -> list[FieldError]:
    seen: set[str] = set()
    errors = []
    for index, name in enumerate(names):
        if name in seen:
            errors.append(FieldError(f"{prefix}.{index}.name", f"duplicate name {name!r}"))
        seen.add(name)
    return errors


def _dangling(prefix: str, names: Iterable[str], known: set[str], what: str) -> list[FieldError]:
    return [
        FieldError(f"{prefix}.{index}", _unknown(what, name))
        for index, name in enumerate(names)
        if name not in known
    ]


def _unknown(what: str, name: str) -> str:
    return f"unknown {what} {name!r}"


def _upsert_team(session: Session, actor: Actor, data: TeamCreate, members_field: str) -> str:
    team = _find_team(session, data.name)
    outcome = "unchanged"
    if team is None:
        team = Team(name=data.name, created_at=utcnow())
        session.add(team)
        outcome = "created"
    before = (team.description, team.escalation_contact)
    team.description, team.escalation_contact = data.description, data.escalation_contact
    session.flush()
    members_changed = _set_members(session, team, data.members, field=members_field)
    if outcome == "unchanged" and (
        members_changed or before != (data.description, data.escalation_contact)
    ):
        outcome = "updated"
    if outcome != "unchanged":
        append_entry(
            session,
            actor,
            action=f"team.import_{outcome}",
            object_type="team",
            object_id=team.id,
            summary={"name": team.name},
        )
    return outcome


def _upsert_service(session: Session, data: ServiceCreate) -> tuple[Service, str]:
    service = _find_service(session, data.name)
    fields = data.model_dump(mode="json", exclude={"depends_on", "name"})
    if service is None:
        service = Service(name=data.name, created_at=utcnow(), updated_at=utcnow())
        _apply_fields(session, service, fields)
        session.add(service)
        session.flush()
        return service, "created"
    before = _snapshot_fields(service)
    _apply_fields(session, service, fields)
    if _snapshot_fields(service) == before:
        return service, "unchanged"
    service.updated_at = utcnow()
    return service, "updated"


def _snapshot_fields(service: Service) -> dict[str, Any]:
    values = {name: getattr(service, name) for name in _SERVICE_FIELDS}
    values["owner_team_id"] = service.owner_team_id
    return values


def _apply_fields(session: Session, service: Service, values: dict[str, Any]) -> None:
    for name in _SERVICE_FIELDS:
        if name in values:
            setattr(service, name, values[name])
    if "owner_team" in values:
        owner = values["owner_team"]
        service.owner_team_id = _get_team(session, owner, field="owner_team").id if owner else None


def _set_dependencies(session: Session, service: Service, names: Sequence[str]) -> None:
    _replace_dependencies(session, service, names)
    cycle = find_cycle(dependency_graph(session))
    if cycle:
        raise _cycle_error(cycle, field="depends_on")


def _replace_dependencies(session: Session, service: Service, names: Sequence[str]) -> bool:
    """Make the service's dependencies exactly `names`; True when anything changed."""
    targets = [_get_service(session, n, field=f"depends_on.{i}") for i, n in enumerate(names)]
    wanted = {t.id for t in targets}
    current = set(
        session.scalars(
            select(ServiceDependency.depends_on_id).where(
                ServiceDependency.service_id == service.id
            )
        )
    )
    if wanted == current:
        return False
    session.execute(
        delete(ServiceDependency).where(
            ServiceDependency.service_id == service.id,
            ServiceDependency.depends_on_id.in_(current - wanted),
        )
    )
    for target_id in sorted(wanted - current):
        session.add(ServiceDependency(service_id=service.id, depends_on_id=target_id))
    session.flush()
    return True


def _set_members(session: Session, team: Team, emails: Sequence[str], *, field: str) -> bool:
    known = user_ids_by_email_in(session, emails)
    errors = [
        FieldError(f"{field}.{index}", _unknown("user", email))
        for index, email in enumerate(emails)
        if email.strip().lower() not in known
    ]
    if errors:
        raise InvalidInput("unknown team members", errors)
    wanted = set(known.values())
    current = set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
    if wanted == current:
        return False
    session.execute(
        delete(TeamMember).where(
            TeamMember.team_id == team.id, TeamMember.user_id.in_(current - wanted)
        )
    )
    for user_id in sorted(wanted - current):
        session.add(TeamMember(team_id=team.id, user_id=user_id))
    session.flush()
    return True


def _cycle_error(cycle: Sequence[str], *, field: str) -> Conflict:
    spelled = " -> ".join(cycle)
    return Conflict(
        f"dependency cycle: {spelled}", [FieldError(field, f"would create the cycle {spelled}")]
    )


def _find_team(session: Session, name: str) -> Team | None:
    return session.scalars(select(Team).where(Team.name == name)).first()


def _get_team(session: Session, name: str, *, field: str = "name") -> Team:
    team = _find_team(session, name)
    if team is None:
        if field == "name":
            raise NotFound(f"team {name}")
        raise InvalidInput(f"unknown team {name!r}", [FieldError(field, _unknown("team", name))])
    return team


def _find_service(session: Session, name: str) -> Service | None:
    return session.scalars(select(Service).where(Service.name == name)).first()


def _get_service(session: Session, name: str, *, field: str = "name") -> Service:
    service = _find_service(session, name)
    if service is None:
        if field == "name":
            raise NotFound(f"service {name}")
        raise InvalidInput(
            f"unknown service {name!r}", [FieldError(field, _unknown("service", name))]
        )
    return service
