"""HTML pages for incidents: the list, the declare form, the incident page, and its forms.

Built for use during an outage: plain server-rendered forms (no JavaScript), every section
reachable by an access key, each form posting back and redirecting to its section, and the
whole incident page read in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from warroom.actors import Actor, Role
from warroom.catalog import queries as catalog_queries
from warroom.db.uow import UnitOfWork
from warroom.errors import FieldError, InvalidInput
from warroom.http.deps import CurrentActor, DbDep, FormCsrf, UowDep
from warroom.http.templating import render
from warroom.incidents import advice, policy, queries, records, roles, service, structure
from warroom.incidents.markdown import render as render_markdown
from warroom.incidents.schemas import (
    AssumptionCreate,
    AssumptionStatus,
    AssumptionUpdate,
    Audience,
    Confidence,
    DecisionCreate,
    EscalationCreate,
    HypothesisCreate,
    HypothesisStatus,
    HypothesisUpdate,
    IncidentCreate,
    IncidentUpdate,
    ProposalVerdict,
    ResponderRole,
    ResponseModeChoice,
    Risk,
    Severity,
    StakeholderCreate,
    Status,
    UpdateCreate,
    WorkstreamCreate,
    parse,
)

router = APIRouter()
_STATUS_VALUES = frozenset(s.value for s in Status)


# --- form helpers ------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _lines(form: FormData, name: str) -> list[str]:
    """A textarea of one item per line (commas also separate, for quick typing)."""
    raw = _text(form, name).replace(",", "\n")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _when(form: FormData, name: str) -> datetime | None:
    """`datetime-local` inputs carry no zone: the UI shows and takes UTC."""
    value = _text(form, name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{name} is not a date and time", [FieldError(name, "expected YYYY-MM-DDTHH:MM")]
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _fields(form: FormData, *names: str) -> dict[str, Any]:
    """Non-empty form fields, so that a blank input means "unchanged" or "default"."""
    return {name: _text(form, name) for name in names if _text(form, name)}


def _back(incident_id: int, section: str = "") -> Response:
    anchor = f"#{section}" if section else ""
    return RedirectResponse(f"/incidents/{incident_id}{anchor}", status_code=303)


# --- pages -------------------------------------------------------------------------------------


@router.get("/incidents")
def incident_list(
    request: Request,
    db: DbDep,
    uow: UowDep,
    actor: CurrentActor,
    q: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    service_name: str | None = None,
    active: str | None = None,
    cursor: str | None = None,
) -> Response:
    service.record_external_view(uow, actor, incident_id=None, what="incident list")
    status_filter = Status(status) if status and status in _STATUS_VALUES else None
    severity_filter = Severity(severity) if severity and severity in Severity.__members__ else None
    page = queries.list_incidents(
        db,
        actor,
        search=q or None,
        status=status_filter,
        severity=severity_filter,
        service=service_name or None,
        active_only=active == "1",
        cursor=cursor,
        limit=100,
    )
    filters = {
        "q": q or "",
        "status": status_filter.value if status_filter else "",
        "severity": severity_filter.value if severity_filter else "",
        "service_name": service_name or "",
        "active": active == "1",
    }
    context = {
        "title": "Incidents",
        "page": page,
        "filters": filters,
        "statuses": list(Status),
        "severities": list(Severity),
        "can_write": actor.role in (Role.ADMIN, Role.RESPONDER),
    }
    return render(request, "incidents/list.html", context)


@router.get("/incidents/new")
def declare_form(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {
        "title": "Declare an incident",
        "severities": queries.list_severities(db),
        "services": catalog_queries.service_names(db) if actor.role is not Role.EXTERNAL else [],
    }
    return render(request, "incidents/new.html", context)


@router.post("/incidents")
def declare(form: FormCsrf, uow: UowDep, actor: CurrentActor) -> Response:
    fields: dict[str, Any] = _fields(form, "title", "severity", "summary", "customer_impact")
    fields["services"] = [s for s in form.getlist("services") if isinstance(s, str) and s]
    fields["impact_ongoing"] = _text(form, "impact_ongoing") == "on"
    data = parse(IncidentCreate, fields, what="incident")
    created = service.declare_incident(uow, actor, data=data)
    return _back(created.id)


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, db: DbDep, uow: UowDep, actor: CurrentActor, incident_id: int
) -> Response:
    staff = actor.role is not Role.EXTERNAL
    context: dict[str, Any] = {
        "staff": staff,
        "can_write": actor.role in (Role.ADMIN, Role.RESPONDER),
        "roles": list(ResponderRole),
        "severities": list(Severity),
        "confidences": list(Confidence),
        "risks": list(Risk),
        "hypothesis_statuses": list(HypothesisStatus),
        "audiences": list(Audience),
        "drafts": {},
    }
    if staff:
        page = advice.incident_page(db, actor, incident_id=incident_id)
        detail = page.incident
        context["drafts"] = {d.audience.value: d.body for d in page.drafts}
        context.update(
            recommendation=page.recommendation,
            proposal=page.proposal,
            responders=page.responders,
        )
    else:
        detail = queries.get_incident(db, actor, incident_id=incident_id)
        service.record_external_view(uow, actor, incident_id=incident_id, what="incident page")
    context.update(
        title=f"#{detail.id} {detail.title}",
        incident=detail,
        active=policy.is_active(detail.status),
    )
    return render(request, "incidents/incident.html", context)


@router.get("/incidents/{incident_id}/export.md")
def export_markdown(db: DbDep, uow: UowDep, actor: CurrentActor, incident_id: int) -> Response:
    detail = queries.get_incident(db, actor, incident_id=incident_id)
    service.record_external_view(uow, actor, incident_id=incident_id, what="markdown export")
    return PlainTextResponse(
        render_markdown(detail),
        media_type="text/markdown; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="incident-{incident_id}.md"'},
    )


@router.get("/status")
def public_status(request: Request, db: DbDep) -> Response:
    """The public status page: no login, customer-facing updates of active incidents only."""
    context = {"title": "Status", "incidents": queries.public_status(db)}
    return render(request, "incidents/status.html", context)


# --- forms on the incident page --------------------------------------------------------------

Handler = Callable[[UnitOfWork, Actor, int, FormData], str]


def _edit(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields: dict[str, Any] = _fields(form, "title", "summary", "customer_impact", "eta")
    fields["impact_ongoing"] = _text(form, "impact_ongoing") == "on"
    data = parse(IncidentUpdate, fields, what="change")
    service.update_incident(uow, actor, incident_id=incident_id, data=data)
    return "summary"


def _command(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields: dict[str, Any] = _fields(form, "severity")
    if "in_scope" in form:
        fields["in_scope"] = _lines(form, "in_scope")
        fields["out_of_scope"] = _lines(form, "out_of_scope")
    if "services" in form:
        fields["services"] = _lines(form, "services")
    data = parse(IncidentUpdate, fields, what="change")
    service.update_incident(uow, actor, incident_id=incident_id, data=data)
    return "scope" if "in_scope" in form else "header"


def _status(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    status = parse(_StatusForm, _fields(form, "status"), what="status change").status
    service.change_status(
        uow, actor, incident_id=incident_id, status=status, note=_text(form, "note")
    )
    return "header"


class _StatusForm(BaseModel):
    status: Status


class _RoleForm(BaseModel):
    user: str
    role: ResponderRole


def _role(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    data = parse(_RoleForm, _fields(form, "user", "role"), what="role")
    roles.assign_role(uow, actor, incident_id=incident_id, user_email=data.user, role=data.role)
    return "roles"


def _note(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    text = _text(form, "text")
    if text:
        service.add_note(uow, actor, incident_id=incident_id, text=text)
    return "timeline"


def _decision(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields: dict[str, Any] = _fields(form, "decision", "rationale")
    fields["alternatives"] = _lines(form, "alternatives")
    data = parse(DecisionCreate, fields, what="decision")
    records.add_decision(uow, actor, incident_id=incident_id, data=data)
    return "decisions"


def _stakeholder(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    data = parse(StakeholderCreate, _fields(form, "name", "success"), what="stakeholder")
    records.add_stakeholder(uow, actor, incident_id=incident_id, data=data)
    return "scope"


def _assumption(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields: dict[str, Any] = _fields(form, "statement", "evidence", "confidence", "owner")
    fields["review_by"] = _when(form, "review_by")
    data = parse(AssumptionCreate, fields, what="assumption")
    records.add_assumption(uow, actor, incident_id=incident_id, data=data)
    return "assumptions"


def _hypothesis(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields = _fields(form, "statement", "test_plan", "production_risk")
    data = parse(HypothesisCreate, fields, what="hypothesis")
    records.add_hypothesis(uow, actor, incident_id=incident_id, data=data)
    return "hypotheses"


def _update(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    data = parse(UpdateCreate, _fields(form, "audience", "body"), what="update")
    records.post_update(uow, actor, incident_id=incident_id, data=data)
    return "updates"


def _workstream(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields: dict[str, Any] = _fields(form, "title", "lead")
    fields["services"] = _lines(form, "services")
    data = parse(WorkstreamCreate, fields, what="workstream")
    structure.create_workstream(uow, actor, incident_id=incident_id, data=data)
    return "workstreams"


def _response_mode(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    choice = parse(ResponseModeChoice, _fields(form, "mode", "rationale"), what="choice")
    structure.choose_response_mode(uow, actor, incident_id=incident_id, choice=choice)
    return "decisions"


def _split(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    fields: dict[str, Any] = _fields(form, "rationale")
    fields["accept"] = _text(form, "verdict") == "accept"
    verdict = parse(ProposalVerdict, fields, what="verdict")
    structure.decide_split(uow, actor, incident_id=incident_id, verdict=verdict)
    return "workstreams"


def _escalation(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    data = parse(EscalationCreate, _fields(form, "team", "reason"), what="escalation")
    records.escalate(uow, actor, incident_id=incident_id, data=data)
    return "responders"


def _merge(uow: UnitOfWork, actor: Actor, incident_id: int, form: FormData) -> str:
    into = parse(_MergeForm, _fields(form, "into"), what="merge").into
    structure.merge_incident(uow, actor, incident_id=incident_id, into=into)
    return "header"


class _MergeForm(BaseModel):
    into: int


FORMS: dict[str, Handler] = {
    "edit": _edit,
    "command": _command,
    "status": _status,
    "roles": _role,
    "notes": _note,
    "decisions": _decision,
    "stakeholders": _stakeholder,
    "assumptions": _assumption,
    "hypotheses": _hypothesis,
    "updates": _update,
    "workstreams": _workstream,
    "response-mode": _response_mode,
    "split": _split,
    "escalations": _escalation,
    "merge": _merge,
}


@router.post("/incidents/{incident_id}/{action}")
def incident_form(
    form: FormCsrf, uow: UowDep, actor: CurrentActor, incident_id: int, action: str
) -> Response:
    """One endpoint per form on the incident page; each redirects back to its section."""
    handler = FORMS.get(action)
    if handler is None:
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
    return _back(incident_id, handler(uow, actor, incident_id, form))


@router.post("/incidents/{incident_id}/roles/{role_id}/end")
def end_role(
    form: FormCsrf, uow: UowDep, actor: CurrentActor, incident_id: int, role_id: int
) -> Response:
    del form  # checked for CSRF by the dependency
    roles.remove_role(uow, actor, incident_id=incident_id, role_id=role_id)
    return _back(incident_id, "roles")


class _AssumptionForm(BaseModel):
    status: AssumptionStatus


@router.post("/incidents/{incident_id}/assumptions/{assumption_id}")
def assumption_status(
    form: FormCsrf, uow: UowDep, actor: CurrentActor, incident_id: int, assumption_id: int
) -> Response:
    status = parse(_AssumptionForm, _fields(form, "status"), what="assumption").status
    records.update_assumption(
        uow,
        actor,
        incident_id=incident_id,
        assumption_id=assumption_id,
        data=AssumptionUpdate(status=status),
    )
    return _back(incident_id, "assumptions")


@router.post("/incidents/{incident_id}/hypotheses/{hypothesis_id}")
def hypothesis_result(
    form: FormCsrf, uow: UowDep, actor: CurrentActor, incident_id: int, hypothesis_id: int
) -> Response:
    data = parse(HypothesisUpdate, _fields(form, "status", "result"), what="hypothesis")
    records.update_hypothesis(
        uow, actor, incident_id=incident_id, hypothesis_id=hypothesis_id, data=data
    )
    return _back(incident_id, "hypotheses")
