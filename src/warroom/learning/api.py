"""JSON API for postmortems, action items, runbooks, decision records, the knowledge base and
recurring problems (mounted under /api/v1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import PlainTextResponse, Response

from warroom.http.deps import CurrentActor, DbDep, UowDep, current_actor
from warroom.learning import (
    actions,
    decisions,
    knowledge,
    postmortems,
    problems,
    queries,
    runbooks,
)
from warroom.learning.exports import ExportFormat, export_actions
from warroom.learning.markdown import postmortem_markdown
from warroom.learning.schemas import (
    ActionCreate,
    ActionOut,
    ActionStatus,
    ActionUpdate,
    AdrCreate,
    AdrOut,
    AdrStatusChange,
    DocKind,
    FactorIn,
    FactorOut,
    ImportReport,
    LanguageFinding,
    PostmortemCreate,
    PostmortemOut,
    PostmortemStatus,
    PostmortemSummary,
    PostmortemUpdate,
    ProblemClassOut,
    ProposalCreate,
    ProposalOut,
    PublishResult,
    RunbookOut,
    RunbookWrite,
    SearchFilters,
    SearchResult,
    SimilarPanel,
    SyncReport,
)

router = APIRouter(tags=["learning"])


class ReviewRequest(BaseModel):
    reviewers: list[str] = Field(min_length=1, max_length=30)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)
    section: str = ""


class TextIn(BaseModel):
    text: str = Field(max_length=200_000)


class Decision(BaseModel):
    approve: bool


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# --- postmortems ---------------------------------------------------------------------------


@router.get("/postmortems")
def list_postmortems(
    db: DbDep,
    actor: CurrentActor,
    status: PostmortemStatus | None = None,
    overdue: bool = False,
) -> list[PostmortemSummary]:
    return queries.list_postmortems(db, actor, status=status, overdue_only=overdue)


@router.post("/postmortems", status_code=201)
def create_postmortem(uow: UowDep, actor: CurrentActor, data: PostmortemCreate) -> PostmortemOut:
    return postmortems.create_postmortem(uow, actor, data=data)


@router.post("/incidents/{incident_id}/postmortem", status_code=201)
def create_from_incident(uow: UowDep, actor: CurrentActor, incident_id: int) -> PostmortemOut:
    return postmortems.create_from_incident(uow, actor, incident_id=incident_id)


@router.get("/incidents/{incident_id}/similar")
def similar_incidents(db: DbDep, actor: CurrentActor, incident_id: int) -> SimilarPanel:
    return problems.similar_to_incident(db, actor, incident_id=incident_id)


@router.get("/postmortems/{postmortem_id}")
def get_postmortem(db: DbDep, actor: CurrentActor, postmortem_id: int) -> PostmortemOut:
    return queries.get_postmortem(db, actor, postmortem_id=postmortem_id)


@router.patch("/postmortems/{postmortem_id}")
def update_postmortem(
    uow: UowDep, actor: CurrentActor, postmortem_id: int, data: PostmortemUpdate
) -> PostmortemOut:
    return postmortems.update_postmortem(uow, actor, postmortem_id=postmortem_id, data=data)


@router.post("/postmortems/{postmortem_id}/review")
def request_review(
    uow: UowDep, actor: CurrentActor, postmortem_id: int, data: ReviewRequest
) -> PostmortemOut:
    return postmortems.request_review(
        uow, actor, postmortem_id=postmortem_id, reviewers=data.reviewers
    )


@router.post("/postmortems/{postmortem_id}/comments", status_code=201)
def add_comment(
    uow: UowDep, actor: CurrentActor, postmortem_id: int, data: CommentIn
) -> PostmortemOut:
    return postmortems.add_comment(
        uow, actor, postmortem_id=postmortem_id, body=data.body, section=data.section
    )


@router.post("/postmortems/{postmortem_id}/approve")
def approve(uow: UowDep, actor: CurrentActor, postmortem_id: int) -> PostmortemOut:
    return postmortems.approve(uow, actor, postmortem_id=postmortem_id)


@router.post("/postmortems/{postmortem_id}/publish")
def publish(uow: UowDep, actor: CurrentActor, postmortem_id: int) -> PublishResult:
    return postmortems.publish(uow, actor, postmortem_id=postmortem_id)


@router.get("/postmortems/{postmortem_id}/export.md")
def export_markdown(db: DbDep, actor: CurrentActor, postmortem_id: int) -> Response:
    pm = queries.get_postmortem(db, actor, postmortem_id=postmortem_id)
    return PlainTextResponse(postmortem_markdown(pm), media_type="text/markdown")


@router.post("/postmortems/import", status_code=201)
def import_markdown(uow: UowDep, actor: CurrentActor, data: TextIn) -> PostmortemOut:
    return postmortems.import_markdown(uow, actor, text=data.text)


@router.post("/language-check", dependencies=[Depends(current_actor)])
def language_check(sections: dict[str, str]) -> list[LanguageFinding]:
    """Blame and hindsight phrasing in the given sections (nothing is stored)."""
    return queries.language_findings(sections)


@router.get("/factors")
def list_factors(db: DbDep, actor: CurrentActor) -> list[FactorOut]:
    return queries.list_factors(db, actor)


@router.put("/factors")
def put_factor(uow: UowDep, actor: CurrentActor, data: FactorIn) -> FactorOut:
    return postmortems.add_factor(uow, actor, data=data)


# --- action items --------------------------------------------------------------------------


@router.get("/actions")
def list_actions(
    db: DbDep,
    actor: CurrentActor,
    status: ActionStatus | None = None,
    owner: str | None = None,
    overdue: bool = False,
    unowned: bool = False,
    postmortem_id: int | None = None,
) -> list[ActionOut]:
    return queries.list_actions(
        db,
        actor,
        status=status,
        owner=owner,
        overdue_only=overdue,
        unowned_only=unowned,
        postmortem_id=postmortem_id,
    )


@router.post("/actions", status_code=201)
def create_action(uow: UowDep, actor: CurrentActor, data: ActionCreate) -> ActionOut:
    return actions.create_action(uow, actor, data=data)


@router.get("/actions/export")
def export(
    request: Request,
    db: DbDep,
    actor: CurrentActor,
    format: ExportFormat = ExportFormat.JIRA_JSON,
    project: str = "OPS",
    status: ActionStatus | None = None,
    postmortem_id: int | None = None,
) -> Response:
    items = queries.list_actions(db, actor, status=status, postmortem_id=postmortem_id)
    text = export_actions(items, format, project=project, base_url=base_url(request))
    media = "text/csv" if format is ExportFormat.JIRA_CSV else "application/json"
    return PlainTextResponse(text, media_type=media)


@router.post("/actions/sync")
def sync(uow: UowDep, actor: CurrentActor, data: TextIn) -> SyncReport:
    return actions.sync_statuses(uow, actor, text=data.text)


@router.get("/actions/{action_id}")
def get_action(db: DbDep, actor: CurrentActor, action_id: int) -> ActionOut:
    return queries.get_action(db, actor, action_id=action_id)


@router.patch("/actions/{action_id}")
def update_action(
    uow: UowDep, actor: CurrentActor, action_id: int, data: ActionUpdate
) -> ActionOut:
    return actions.update_action(uow, actor, action_id=action_id, data=data)


# --- runbooks ------------------------------------------------------------------------------


@router.get("/runbooks")
def list_runbooks(db: DbDep, actor: CurrentActor) -> list[RunbookOut]:
    return runbooks.list_runbooks(db, actor)


@router.get("/runbooks/{service}")
def get_runbook(db: DbDep, actor: CurrentActor, service: str) -> RunbookOut:
    return runbooks.get_runbook(db, actor, service=service)


@router.put("/runbooks/{service}")
def write_runbook(uow: UowDep, actor: CurrentActor, service: str, data: RunbookWrite) -> RunbookOut:
    return runbooks.write_runbook(uow, actor, service=service, data=data)


@router.post("/runbooks/{service}/proposals", status_code=201)
def propose(uow: UowDep, actor: CurrentActor, service: str, data: ProposalCreate) -> ProposalOut:
    return runbooks.propose_change(uow, actor, service=service, data=data)


@router.post("/runbook-proposals/{proposal_id}/decision")
def decide(uow: UowDep, actor: CurrentActor, proposal_id: int, data: Decision) -> ProposalOut:
    return runbooks.decide_proposal(uow, actor, proposal_id=proposal_id, approve=data.approve)


# --- decision records ----------------------------------------------------------------------


@router.get("/decisions")
def list_adrs(db: DbDep, actor: CurrentActor) -> list[AdrOut]:
    return decisions.list_adrs(db, actor)


@router.post("/decisions", status_code=201)
def create_adr(uow: UowDep, actor: CurrentActor, data: AdrCreate) -> AdrOut:
    return decisions.create_adr(uow, actor, data=data)


@router.get("/decisions/{number}")
def get_adr(db: DbDep, actor: CurrentActor, number: int) -> AdrOut:
    return decisions.get_adr(db, actor, number=number)


@router.post("/decisions/{number}/status")
def set_adr_status(uow: UowDep, actor: CurrentActor, number: int, data: AdrStatusChange) -> AdrOut:
    return decisions.set_adr_status(uow, actor, number=number, status=data.status)


@router.get("/decisions-export")
def export_adrs(db: DbDep, actor: CurrentActor) -> dict[str, str]:
    """`docs/decisions/NNNN-title.md` file names and their MADR Markdown."""
    return decisions.adr_files(db, actor)


# --- knowledge base and recurring problems -------------------------------------------------


@router.get("/search")
def search(
    db: DbDep,
    actor: CurrentActor,
    q: str = "",
    kind: DocKind | None = None,
    service: str | None = None,
    team: str | None = None,
    factor: str | None = None,
    severity: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2000)] = 0,
) -> SearchResult:
    filters = SearchFilters(
        kind=kind,
        service=service,
        team=team,
        factor=factor,
        severity=severity,
        since=since,
        until=until,
    )
    return knowledge.search(db, actor, query=q, filters=filters, limit=limit, offset=offset)


@router.post("/kb/import")
def kb_import(uow: UowDep, actor: CurrentActor, data: TextIn) -> ImportReport:
    """Historical postmortems as JSON Lines in `text`; idempotent by record id."""
    return knowledge.import_jsonl(uow, actor, text=data.text)


@router.post("/kb/reindex")
def kb_reindex(uow: UowDep, actor: CurrentActor) -> dict[str, int]:
    return {"incidents": knowledge.reindex(uow, actor)}


@router.get("/problem-classes")
def list_classes(db: DbDep, actor: CurrentActor) -> list[ProblemClassOut]:
    return problems.list_classes(db, actor)


@router.get("/problem-classes/{class_id}")
def get_class(db: DbDep, actor: CurrentActor, class_id: str) -> ProblemClassOut:
    return problems.get_class(db, actor, class_id=class_id)


@router.get("/problem-classes/{class_id}/chaos-experiment")
def chaos_experiment(
    db: DbDep,
    actor: CurrentActor,
    class_id: str,
    service: str | None = None,
    health_url: str | None = None,
) -> Response:
    text = problems.chaos_experiment(
        db, actor, class_id=class_id, service=service, health_url=health_url
    )
    return Response(text, media_type="application/json")


@router.get("/services/{service}/failure-modes.md")
def failure_modes(db: DbDep, actor: CurrentActor, service: str) -> Response:
    text = problems.failure_mode_catalog(db, actor, service=service)
    return PlainTextResponse(text, media_type="text/markdown")
