"""JSON API for incidents under /api/v1/incidents, plus changes and the public status feed.

Routes parse, call one service or query function and return its schema; decision rights,
external isolation and auditing all live in the service and query layers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import PlainTextResponse, Response

from warroom.db.base import utcnow
from warroom.http.deps import CurrentActor, DbDep, UowDep, current_actor
from warroom.incidents import advice, queries, records, roles, service, structure
from warroom.incidents.markdown import render as render_markdown
from warroom.incidents.schemas import (
    AssumptionCreate,
    AssumptionOut,
    AssumptionUpdate,
    ChangeOut,
    DecisionCreate,
    DecisionOut,
    EscalationCreate,
    HypothesisCreate,
    HypothesisOut,
    HypothesisUpdate,
    IncidentCreate,
    IncidentDetail,
    IncidentOut,
    IncidentSummary,
    IncidentUpdate,
    MergeRequest,
    NoteCreate,
    ProposalVerdict,
    PublicIncident,
    Recommendation,
    ResponseModeChoice,
    RoleAssign,
    Severity,
    SeverityDefinition,
    SeverityDefinitionIn,
    SplitProposal,
    StakeholderCreate,
    StakeholderOut,
    Status,
    StatusChange,
    SuggestedResponder,
    TimelineOut,
    UpdateCreate,
    UpdateDraft,
    UpdateOut,
    WorkstreamCreate,
    WorkstreamOut,
)
from warroom.pagination import Page

router = APIRouter(tags=["incidents"])
ONE = "/incidents/{incident_id}"


@router.get("/incidents")
def list_incidents(
    db: DbDep,
    uow: UowDep,
    actor: CurrentActor,
    status: Status | None = None,
    severity: Severity | None = None,
    service_name: Annotated[str | None, Query(alias="service")] = None,
    q: str | None = None,
    active: bool = False,
    workstreams: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[IncidentSummary]:
    """Incidents newest first; `active=true` keeps triage to monitoring only."""
    service.record_external_view(uow, actor, incident_id=None, what="incident list")
    return queries.list_incidents(
        db,
        actor,
        status=status,
        severity=severity,
        service=service_name,
        search=q,
        active_only=active,
        include_workstreams=workstreams,
        cursor=cursor,
        limit=limit,
    )


@router.post("/incidents", status_code=201)
def declare(uow: UowDep, actor: CurrentActor, data: IncidentCreate) -> IncidentOut:
    return service.declare_incident(uow, actor, data=data)


@router.get("/incidents/severities", dependencies=[Depends(current_actor)])
def severities(db: DbDep) -> list[SeverityDefinition]:
    """The severity levels with this organisation's definitions and update cadence."""
    return queries.list_severities(db)


@router.put("/incidents/severities/{severity}")
def set_severity(
    uow: UowDep, actor: CurrentActor, severity: Severity, data: SeverityDefinitionIn
) -> SeverityDefinition:
    return service.set_severity_definition(uow, actor, severity=severity, data=data)


@router.get(ONE)
def get_incident(db: DbDep, uow: UowDep, actor: CurrentActor, incident_id: int) -> IncidentDetail:
    detail = queries.get_incident(db, actor, incident_id=incident_id)
    service.record_external_view(uow, actor, incident_id=incident_id, what="incident")
    return detail


@router.patch(ONE)
def update_incident(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: IncidentUpdate
) -> IncidentOut:
    return service.update_incident(uow, actor, incident_id=incident_id, data=data)


@router.post(ONE + "/status")
def change_status(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: StatusChange
) -> IncidentOut:
    return service.change_status(
        uow, actor, incident_id=incident_id, status=data.status, note=data.note
    )


@router.post(ONE + "/roles", status_code=201)
def assign_role(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: RoleAssign
) -> IncidentOut:
    return roles.assign_role(
        uow, actor, incident_id=incident_id, user_email=data.user, role=data.role
    )


@router.delete(ONE + "/roles/{role_id}")
def remove_role(uow: UowDep, actor: CurrentActor, incident_id: int, role_id: int) -> IncidentOut:
    return roles.remove_role(uow, actor, incident_id=incident_id, role_id=role_id)


@router.get(ONE + "/timeline")
def timeline(db: DbDep, uow: UowDep, actor: CurrentActor, incident_id: int) -> list[TimelineOut]:
    entries = queries.get_timeline(db, actor, incident_id=incident_id)
    service.record_external_view(uow, actor, incident_id=incident_id, what="timeline")
    return entries


@router.get(ONE + "/export.md", response_class=PlainTextResponse)
def export_markdown(db: DbDep, uow: UowDep, actor: CurrentActor, incident_id: int) -> Response:
    """The incident and its timeline as Markdown."""
    detail = queries.get_incident(db, actor, incident_id=incident_id)
    service.record_external_view(uow, actor, incident_id=incident_id, what="markdown export")
    return PlainTextResponse(render_markdown(detail), media_type="text/markdown; charset=utf-8")


@router.post(ONE + "/notes", status_code=201)
def add_note(uow: UowDep, actor: CurrentActor, incident_id: int, data: NoteCreate) -> Response:
    service.add_note(uow, actor, incident_id=incident_id, text=data.text)
    return Response(status_code=201)


@router.post(ONE + "/decisions", status_code=201)
def add_decision(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: DecisionCreate
) -> DecisionOut:
    return records.add_decision(uow, actor, incident_id=incident_id, data=data)


@router.post(ONE + "/stakeholders", status_code=201)
def add_stakeholder(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: StakeholderCreate
) -> StakeholderOut:
    return records.add_stakeholder(uow, actor, incident_id=incident_id, data=data)


@router.post(ONE + "/assumptions", status_code=201)
def add_assumption(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: AssumptionCreate
) -> AssumptionOut:
    return records.add_assumption(uow, actor, incident_id=incident_id, data=data)


@router.patch(ONE + "/assumptions/{assumption_id}")
def update_assumption(
    uow: UowDep, actor: CurrentActor, incident_id: int, assumption_id: int, data: AssumptionUpdate
) -> AssumptionOut:
    return records.update_assumption(
        uow, actor, incident_id=incident_id, assumption_id=assumption_id, data=data
    )


@router.post(ONE + "/hypotheses", status_code=201)
def add_hypothesis(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: HypothesisCreate
) -> HypothesisOut:
    return records.add_hypothesis(uow, actor, incident_id=incident_id, data=data)


@router.patch(ONE + "/hypotheses/{hypothesis_id}")
def update_hypothesis(
    uow: UowDep, actor: CurrentActor, incident_id: int, hypothesis_id: int, data: HypothesisUpdate
) -> HypothesisOut:
    return records.update_hypothesis(
        uow, actor, incident_id=incident_id, hypothesis_id=hypothesis_id, data=data
    )


@router.get(ONE + "/update-drafts")
def update_drafts(db: DbDep, actor: CurrentActor, incident_id: int) -> list[UpdateDraft]:
    """Executive, customer and engineering drafts built from the incident's current state."""
    return advice.update_drafts(db, actor, incident_id=incident_id)


@router.post(ONE + "/updates", status_code=201)
def post_update(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: UpdateCreate
) -> UpdateOut:
    return records.post_update(uow, actor, incident_id=incident_id, data=data)


@router.post(ONE + "/escalations", status_code=201)
def escalate(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: EscalationCreate
) -> Response:
    records.escalate(uow, actor, incident_id=incident_id, data=data)
    return Response(status_code=201)


@router.get(ONE + "/responders")
def suggested_responders(
    db: DbDep, actor: CurrentActor, incident_id: int
) -> list[SuggestedResponder]:
    return advice.suggest_responders(db, actor, incident_id=incident_id)


@router.get(ONE + "/response-mode")
def response_mode(db: DbDep, actor: CurrentActor, incident_id: int) -> Recommendation:
    return advice.recommend_response_mode(db, actor, incident_id=incident_id)


@router.post(ONE + "/response-mode", status_code=201)
def choose_response_mode(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: ResponseModeChoice
) -> DecisionOut:
    return structure.choose_response_mode(uow, actor, incident_id=incident_id, choice=data)


@router.get(ONE + "/split-proposal")
def split_proposal(db: DbDep, actor: CurrentActor, incident_id: int) -> SplitProposal:
    return advice.propose_split(db, actor, incident_id=incident_id)


@router.post(ONE + "/split-proposal")
def decide_split(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: ProposalVerdict
) -> list[WorkstreamOut]:
    return structure.decide_split(uow, actor, incident_id=incident_id, verdict=data)


@router.post(ONE + "/workstreams", status_code=201)
def create_workstream(
    uow: UowDep, actor: CurrentActor, incident_id: int, data: WorkstreamCreate
) -> WorkstreamOut:
    return structure.create_workstream(uow, actor, incident_id=incident_id, data=data)


@router.post(ONE + "/merge")
def merge(uow: UowDep, actor: CurrentActor, incident_id: int, data: MergeRequest) -> IncidentOut:
    return structure.merge_incident(uow, actor, incident_id=incident_id, into=data.into)


@router.get("/changes")
def changes(
    db: DbDep,
    actor: CurrentActor,
    service: Annotated[list[str] | None, Query()] = None,
    since: datetime | None = None,
) -> list[ChangeOut]:
    """Recorded changes to services (default: the last 24 hours), newest first."""
    start = since or utcnow() - timedelta(hours=24)
    return queries.recent_changes(db, actor, services=service, since=start)


@router.get("/status")
def public_status(db: DbDep) -> list[PublicIncident]:
    """Public, unauthenticated: active incidents and their customer-facing updates only."""
    return queries.public_status(db)
