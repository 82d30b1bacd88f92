"""HTML pages for the catalog: service list, service detail with its graph, teams."""

from __future__ import annotations

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from warroom.catalog import queries
from warroom.catalog.graphsvg import render_graph_svg
from warroom.http.deps import CurrentActor, DbDep
from warroom.http.templating import render

router = APIRouter()


@router.get("/catalog")
def catalog(
    request: Request,
    db: DbDep,
    actor: CurrentActor,
    q: str | None = None,
    team: str | None = None,
    tier: int | None = None,
    cursor: str | None = None,
) -> Response:
    page = queries.list_services(
        db, actor, search=q, team=team or None, tier=tier, cursor=cursor, limit=100
    )
    teams = queries.list_teams(db, actor)
    context = {
        "title": "Service catalog",
        "page": page,
        "teams": teams,
        "filters": {"q": q or "", "team": team or "", "tier": tier},
    }
    return render(request, "catalog/list.html", context)


@router.get("/catalog/{name}")
def service_detail(request: Request, db: DbDep, actor: CurrentActor, name: str) -> Response:
    service = queries.get_service(db, actor, name=name)
    nodes, edges = queries.neighbourhood(db, actor, name=name, depth=2)
    context = {
        "title": service.name,
        "service": service,
        "graph_svg": Markup(render_graph_svg(name, nodes, edges)),
        "blast_radius": queries.blast_radius(db, actor, name=name),
        "upstream": queries.upstream(db, actor, name=name),
    }
    return render(request, "catalog/service.html", context)


@router.get("/teams")
def teams(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {"title": "Teams", "teams": queries.list_teams(db, actor)}
    return render(request, "catalog/teams.html", context)
