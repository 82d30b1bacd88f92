"""Read side of the catalog: listings, detail, blast radius, paths and graph neighbourhoods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from warroom.accounts.queries import user_emails_in
from warroom.actors import Actor, require_staff
from warroom.catalog import documents
from warroom.catalog.models import Service, ServiceDependency, Team, TeamMember
from warroom.catalog.schemas import (
    GraphEdge,
    Impact,
    ServiceKind,
    ServiceOut,
    TeamOut,
)
from warroom.db.engine import Database
from warroom.engines.graphs import reachable, reverse, shortest_path
from warroom.errors import NotFound
from warroom.pagination import Page, clamp_limit, decode_cursor, encode_cursor


def dependency_graph(session: Session) -> dict[str, list[str]]:
    """Every service name mapped to the names it depends on (sorted, deterministic)."""
    source, target = aliased(Service), aliased(Service)
    rows = session.execute(
        select(source.name, target.name)
        .join(ServiceDependency, ServiceDependency.service_id == source.id)
        .join(target, ServiceDependency.depends_on_id == target.id)
        .order_by(source.name, target.name)
    ).all()
    graph: dict[str, list[str]] = {name: [] for name in session.scalars(select(Service.name))}
    for name, depends_on in rows:
        graph[name].append(depends_on)
    return graph


def service_out(
    session: Session, service: Service, graph: dict[str, list[str]] | None = None
) -> ServiceOut:
    """The public shape of a service; pass `graph` when rendering many services at once."""
    graph = graph if graph is not None else dependency_graph(session)
    dependants = sorted(name for name, deps in graph.items() if service.name in deps)
    owner = session.get(Team, service.owner_team_id) if service.owner_team_id else None
    return ServiceOut(
        id=service.id,
        name=service.name,
        kind=ServiceKind(service.kind),
        description=service.description,
        tier=service.tier,
        owner_team=owner.name if owner else None,
        system=service.system,
        runbook_url=service.runbook_url,
        repository_url=service.repository_url,
        tags=list(service.tags or []),
        lifecycle=service.lifecycle,
        depends_on=graph.get(service.name, []),
        dependants=dependants,
    )


def team_out(session: Session, team: Team) -> TeamOut:
    member_ids = session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id))
    members = sorted(user_emails_in(session, member_ids).values())
    services = session.scalars(
        select(Service.name).where(Service.owner_team_id == team.id).order_by(Service.name)
    ).all()
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        escalation_contact=team.escalation_contact,
        members=list(members),
        services=list(services),
    )


def list_services(
    db: Database,
    actor: Actor,
    *,
    team: str | None = None,
    tier: int | None = None,
    tag: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ServiceOut]:
    """Services ordered by id, filtered by owner team, tier, tag or a name/description search."""
    require_staff(actor, action="reading the catalog")
    size = clamp_limit(limit)
    query = select(Service).order_by(Service.id).limit(size + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Service.id > after)
    if team:
        query = query.join(Team, Team.id == Service.owner_team_id).where(Team.name == team)
    if tier:
        query = query.where(Service.tier == tier)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(Service.name).like(pattern),
                func.lower(Service.description).like(pattern),
            )
        )
    with db.read_session() as session:
        rows = list(session.scalars(query))
        if tag:
            rows = [row for row in rows if tag in (row.tags or [])]
        graph = dependency_graph(session)
        items = [service_out(session, row, graph) for row in rows[:size]]
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return Page(items=items, next_cursor=next_cursor)


def get_service(db: Database, actor: Actor, *, name: str) -> ServiceOut:
    require_staff(actor, action="reading the catalog")
    with db.read_session() as session:
        service = session.scalars(select(Service).where(Service.name == name)).first()
        if service is None:
            raise NotFound(f"service {name}")
        return service_out(session, service)


def list_teams(db: Database, actor: Actor) -> list[TeamOut]:
    require_staff(actor, action="reading teams")
    with db.read_session() as session:
        return [
            team_out(session, team) for team in session.scalars(select(Team).order_by(Team.name))
        ]


def get_team(db: Database, actor: Actor, *, name: str) -> TeamOut:
    require_staff(actor, action="reading teams")
    with db.read_session() as session:
        team = session.scalars(select(Team).where(Team.name == name)).first()
        if team is None:
            raise NotFound(f"team {name}")
        return team_out(session, team)


def blast_radius(db: Database, actor: Actor, *, name: str) -> list[Impact]:
    """Everything that depends on `name`, transitively: what is affected if it fails."""
    return _walk(db, actor, name=name, downstream=True)


def upstream(db: Database, actor: Actor, *, name: str) -> list[Impact]:
    """Everything `name` depends on, transitively: where its failure may come from."""
    return _walk(db, actor, name=name, downstream=False)


def _walk(db: Database, actor: Actor, *, name: str, downstream: bool) -> list[Impact]:
    require_staff(actor, action="reading the catalog")
    with db.read_session() as session:
        graph = dependency_graph(session)
        tiers = dict(session.execute(select(Service.name, Service.tier)).all())
    if name not in graph:
        raise NotFound(f"service {name}")
    walk_graph = reverse(graph) if downstream else graph
    distances = reachable(walk_graph, name)
    ordered = sorted(distances.items(), key=lambda item: (item[1], tiers[item[0]], item[0]))
    return [Impact(service=s, distance=d, tier=tiers[s]) for s, d in ordered]


def dependency_path(db: Database, actor: Actor, *, source: str, target: str) -> list[str] | None:
    """The shortest chain of dependencies from `source` to `target`, or None."""
    require_staff(actor, action="reading the catalog")
    with db.read_session() as session:
        graph = dependency_graph(session)
    for name in (source, target):
        if name not in graph:
            raise NotFound(f"service {name}")
    return shortest_path(graph, source, target)


def neighbourhood(
    db: Database, actor: Actor, *, name: str, depth: int = 2
) -> tuple[list[str], list[GraphEdge]]:
    """Services within `depth` hops of `name` in either direction, and the edges among them."""
    require_staff(actor, action="reading the catalog")
    with db.read_session() as session:
        graph = dependency_graph(session)
    if name not in graph:
        raise NotFound(f"service {name}")
    near = {name}
    for walk_graph in (graph, reverse(graph)):
        near |= {n for n, d in reachable(walk_graph, name).items() if d <= depth}
    edges = [GraphEdge(source=s, target=t) for s in sorted(near) for t in graph[s] if t in near]
    return sorted(near), edges


def export_catalog(db: Database, actor: Actor) -> dict[str, Any]:
    """The whole catalog in Warroom's own format (what `import` takes back unchanged)."""
    require_staff(actor, action="exporting the catalog")
    with db.read_session() as session:
        teams = [team_out(session, t) for t in session.scalars(select(Team).order_by(Team.name))]
        graph = dependency_graph(session)
        services = [
            service_out(session, s, graph)
            for s in session.scalars(select(Service).order_by(Service.name))
        ]
    return {
        "apiVersion": documents.WARROOM_API_VERSION,
        "kind": "Catalog",
        "teams": [t.model_dump(exclude={"id", "services"}) for t in teams],
        "services": [s.model_dump(mode="json", exclude={"id", "dependants"}) for s in services],
    }


def export_backstage(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The catalog as Backstage entities, one document each."""
    catalog = export_catalog(db, actor)
    return list(documents.iter_backstage_documents(catalog["teams"], catalog["services"]))


def service_names(db: Database) -> Sequence[str]:
    with db.read_session() as session:
        return list(session.scalars(select(Service.name).order_by(Service.name)))


def owning_team_members_in(
    session: Session, service_names: Sequence[str]
) -> list[tuple[int, str, str]]:
    """(user id, team, service) for every member of a team owning one of the services."""
    if not service_names:
        return []
    rows = session.execute(
        select(TeamMember.user_id, Team.name, Service.name)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Service, Service.owner_team_id == Team.id)
        .where(Service.name.in_(list(service_names)))
        .order_by(Service.name, Team.name)
    ).all()
    return [(user_id, team, service) for user_id, team, service in rows]
