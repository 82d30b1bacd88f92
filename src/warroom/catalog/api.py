"""JSON API for teams, services, dependencies and graph queries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from warroom.catalog import queries, service
from warroom.catalog.schemas import (
    CatalogSnapshot,
    DependencyCreate,
    Impact,
    ImportReport,
    ServiceCreate,
    ServiceOut,
    ServiceUpdate,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from warroom.http.deps import CurrentActor, DbDep, UowDep
from warroom.pagination import Page

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/services")
def list_services(
    db: DbDep,
    actor: CurrentActor,
    team: str | None = None,
    tier: int | None = None,
    tag: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ServiceOut]:
    return queries.list_services(
        db, actor, team=team, tier=tier, tag=tag, search=q, cursor=cursor, limit=limit
    )


@router.post("/services", status_code=201)
def create_service(uow: UowDep, actor: CurrentActor, data: ServiceCreate) -> ServiceOut:
    return service.create_service(uow, actor, data=data)


@router.get("/services/{name}")
def get_service(db: DbDep, actor: CurrentActor, name: str) -> ServiceOut:
    return queries.get_service(db, actor, name=name)


@router.patch("/services/{name}")
def update_service(uow: UowDep, actor: CurrentActor, name: str, data: ServiceUpdate) -> ServiceOut:
    return service.update_service(uow, actor, name=name, data=data)


@router.delete("/services/{name}", status_code=204)
def delete_service(uow: UowDep, actor: CurrentActor, name: str) -> Response:
    service.delete_service(uow, actor, name=name)
    return Response(status_code=204)


@router.post("/services/{name}/dependencies", status_code=201)
def add_dependency(
    uow: UowDep, actor: CurrentActor, name: str, data: DependencyCreate
) -> ServiceOut:
    return service.add_dependency(uow, actor, name=name, depends_on=data.depends_on)


@router.delete("/services/{name}/dependencies/{depends_on}")
def remove_dependency(uow: UowDep, actor: CurrentActor, name: str, depends_on: str) -> ServiceOut:
    return service.remove_dependency(uow, actor, name=name, depends_on=depends_on)


@router.get("/services/{name}/blast-radius")
def blast_radius(db: DbDep, actor: CurrentActor, name: str) -> list[Impact]:
    """Every service that depends on `name`, transitively, nearest first."""
    return queries.blast_radius(db, actor, name=name)


@router.get("/services/{name}/upstream")
def upstream(db: DbDep, actor: CurrentActor, name: str) -> list[Impact]:
    """Every service `name` depends on, transitively, nearest first."""
    return queries.upstream(db, actor, name=name)


@router.get("/path")
def dependency_path(
    db: DbDep, actor: CurrentActor, source: str, target: str
) -> dict[str, list[str] | None]:
    """The shortest dependency chain from `source` to `target` (null when there is none)."""
    return {"path": queries.dependency_path(db, actor, source=source, target=target)}


@router.get("/teams")
def list_teams(db: DbDep, actor: CurrentActor) -> list[TeamOut]:
    return queries.list_teams(db, actor)


@router.post("/teams", status_code=201)
def create_team(uow: UowDep, actor: CurrentActor, data: TeamCreate) -> TeamOut:
    return service.create_team(uow, actor, data=data)


@router.get("/teams/{name}")
def get_team(db: DbDep, actor: CurrentActor, name: str) -> TeamOut:
    return queries.get_team(db, actor, name=name)


@router.patch("/teams/{name}")
def update_team(uow: UowDep, actor: CurrentActor, name: str, data: TeamUpdate) -> TeamOut:
    return service.update_team(uow, actor, name=name, data=data)


@router.delete("/teams/{name}", status_code=204)
def delete_team(uow: UowDep, actor: CurrentActor, name: str) -> Response:
    service.delete_team(uow, actor, name=name)
    return Response(status_code=204)


@router.get("/export")
def export_catalog(db: DbDep, actor: CurrentActor) -> dict[str, Any]:
    return queries.export_catalog(db, actor)


@router.post("/import")
def import_catalog(uow: UowDep, actor: CurrentActor, data: CatalogSnapshot) -> ImportReport:
    """Create or update teams and services from a snapshot: all or nothing, idempotent."""
    return service.import_snapshot(uow, actor, snapshot=data)
