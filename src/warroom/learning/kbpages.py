"""HTML pages for the knowledge base: search with facets, problem classes, the failure-mode
catalog, and the "similar incidents" panel shown on the incident page.

The incident page belongs to the incidents domain, which must not import this one. So the panel
is a template include that the incident page pulls in with `ignore missing`, and its data comes
from a Jinja global that `install_template_hooks` registers when the app is composed: the
dependency points from learning to incidents only, and without this domain the incident page
renders exactly as before. GET /incidents/{id}/similar renders the same panel as a page of its
own (linked from the panel, and usable without the incident page).
"""

from __future__ import annotations

import logging
from datetime import date

from fastapi import APIRouter, Request
from jinja2 import Environment
from starlette.responses import PlainTextResponse, Response

from warroom.actors import Actor, Role
from warroom.errors import WarroomError
from warroom.http.deps import CurrentActor, DbDep
from warroom.http.templating import render
from warroom.learning import knowledge, live, problems
from warroom.learning.schemas import DocKind, SearchFilters, SimilarPanel

router = APIRouter(lifespan=live.make_lifespan(problems.warm))
logger = logging.getLogger(__name__)
FACET_NAMES = ("kind", "service", "team", "factor", "severity")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/search")
def search_page(
    request: Request,
    db: DbDep,
    actor: CurrentActor,
    q: str = "",
    kind: str = "",
    service: str = "",
    team: str = "",
    factor: str = "",
    severity: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    filters = SearchFilters(
        kind=DocKind(kind) if kind in set(DocKind) else None,
        service=service or None,
        team=team or None,
        factor=factor or None,
        severity=severity or None,
        since=_date(since),
        until=_date(until),
    )
    result = knowledge.search(db, actor, query=q, filters=filters, limit=50)
    chosen = {
        "q": q,
        "kind": kind,
        "service": service,
        "team": team,
        "factor": factor,
        "severity": severity,
        "since": since,
        "until": until,
    }
    context = {"title": "Search", "result": result, "chosen": chosen, "facet_names": FACET_NAMES}
    return render(request, "learning/search.html", context)


@router.get("/problem-classes")
def classes_page(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {"title": "Recurring problems", "classes": problems.list_classes(db, actor)}
    return render(request, "learning/classes.html", context)


@router.get("/failure-modes/{service}.md")
def failure_modes(db: DbDep, actor: CurrentActor, service: str) -> Response:
    text = problems.failure_mode_catalog(db, actor, service=service)
    return PlainTextResponse(text, media_type="text/markdown")


@router.get("/incidents/{incident_id}/similar")
def similar_page(request: Request, db: DbDep, actor: CurrentActor, incident_id: int) -> Response:
    panel = problems.similar_to_incident(db, actor, incident_id=incident_id)
    context = {
        "title": f"Similar to incident #{incident_id}",
        "panel": panel,
        "incident_id": incident_id,
    }
    return render(request, "learning/similar.html", context)


def similar_panel(request: Request, incident_id: int) -> SimilarPanel | None:
    """The panel's data for the incident page; None for those who may not see it."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None or actor.role is Role.EXTERNAL:
        return None
    try:
        return problems.similar_to_incident(
            request.app.state.db, actor, incident_id=incident_id, catch_up=False
        )
    except (WarroomError, ValueError):
        # The incident page must render even if this optional panel cannot.
        logger.exception("similar incidents panel failed for incident %s", incident_id)
        return None


def install_template_hooks(env: Environment) -> None:
    """Let `learning/similar_panel.html` fetch its data when the incident page includes it."""
    env.globals["learning_similar_panel"] = similar_panel
