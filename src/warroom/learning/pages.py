"""HTML pages for learning: the postmortem editor (with the language check), the action-item
board, runbooks and decision records. Search, problem classes and the similar-incidents panel
live in `kbpages`. Every page works without JavaScript: the editor's "Check language" button
posts the text and shows the findings without saving it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from warroom.actors import Actor
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.http.deps import CurrentActor, DbDep, FormCsrf, UowDep
from warroom.http.templating import render
from warroom.learning import actions, decisions, postmortems, queries, runbooks
from warroom.learning.forms import day, lines, number, parse, raw, text
from warroom.learning.markdown import postmortem_markdown
from warroom.learning.schemas import (
    SECTION_KEYS,
    SECTIONS,
    ActionCreate,
    ActionKind,
    ActionStatus,
    ActionUpdate,
    AdrCreate,
    AdrStatus,
    PostmortemStatus,
    PostmortemUpdate,
    Priority,
    ProposalCreate,
    RunbookWrite,
)

router = APIRouter()


def _see(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


CHECK_SCRIPT = Path(__file__).parent / "static" / "check.js"


@router.get("/learning/check.js")
def check_script() -> Response:
    """The editor's optional live language check (the page works without it)."""
    return FileResponse(CHECK_SCRIPT, media_type="text/javascript")


@router.get("/learning")
def learning_home(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {
        "title": "Learning",
        "overdue": queries.list_postmortems(db, actor, overdue_only=True),
        "recent": queries.list_postmortems(db, actor, limit=10),
        "overdue_actions": queries.list_actions(db, actor, overdue_only=True),
        "unowned_actions": queries.list_actions(db, actor, unowned_only=True),
    }
    return render(request, "learning/home.html", context)


# --- postmortems ---------------------------------------------------------------------------


@router.get("/postmortems")
def postmortem_list(
    request: Request, db: DbDep, actor: CurrentActor, status: str = "", overdue: bool = False
) -> Response:
    chosen = PostmortemStatus(status) if status in set(PostmortemStatus) else None
    items = queries.list_postmortems(db, actor, status=chosen, overdue_only=overdue)
    context = {
        "title": "Postmortems",
        "items": items,
        "statuses": list(PostmortemStatus),
        "filters": {"status": status, "overdue": overdue},
    }
    return render(request, "learning/postmortems.html", context)


@router.post("/postmortems/from-incident")
def from_incident(form: FormCsrf, uow: UowDep, actor: CurrentActor) -> Response:
    incident_id = number(form, "incident_id")
    existing = queries.find_postmortem_for_incident(uow.db, actor, incident_id=incident_id)
    if existing is not None:
        return _see(f"/postmortems/{existing}")
    created = postmortems.create_from_incident(uow, actor, incident_id=incident_id)
    return _see(f"/postmortems/{created.id}")


@router.get("/postmortems/{postmortem_id}")
def editor(request: Request, db: DbDep, actor: CurrentActor, postmortem_id: int) -> Response:
    pm = queries.get_postmortem(db, actor, postmortem_id=postmortem_id)
    return _editor(request, db, actor, pm.sections, pm.findings, postmortem_id, checked=False)


def _editor(
    request: Request,
    db: Database,
    actor: Actor,
    sections: dict[str, str],
    findings: list[Any],
    postmortem_id: int,
    *,
    checked: bool,
) -> Response:
    pm = queries.get_postmortem(db, actor, postmortem_id=postmortem_id)
    context = {
        "title": pm.title,
        "pm": pm,
        "sections": SECTIONS,
        "values": sections,
        "findings": findings,
        "checked": checked,
        "factors": queries.list_factors(db, actor),
        "suggested": queries.suggest_factors_for(db, sections)[:5],
        "kinds": list(ActionKind),
        "priorities": list(Priority),
        "editable": pm.status is not PostmortemStatus.PUBLISHED,
    }
    return render(request, "learning/postmortem.html", context)


@router.post("/postmortems/{postmortem_id}")
def save(
    request: Request, form: FormCsrf, uow: UowDep, actor: CurrentActor, postmortem_id: int
) -> Response:
    """ "Save" stores the sections; "Check language" only shows the findings for the text."""
    sections = {key: raw(form, key) for key in SECTION_KEYS if key in form}
    if text(form, "op") == "check":
        findings = queries.language_findings(sections)
        return _editor(request, uow.db, actor, sections, findings, postmortem_id, checked=True)
    data = PostmortemUpdate(
        title=text(form, "title") or None,
        services=lines(form, "services"),
        factors=[str(v) for v in form.getlist("factors")],
        sections=sections,
    )
    postmortems.update_postmortem(uow, actor, postmortem_id=postmortem_id, data=data)
    return _see(f"/postmortems/{postmortem_id}")


def _review(uow: UnitOfWork, actor: Actor, pm_id: int, form: FormData) -> None:
    postmortems.request_review(uow, actor, postmortem_id=pm_id, reviewers=lines(form, "reviewers"))


def _comment(uow: UnitOfWork, actor: Actor, pm_id: int, form: FormData) -> None:
    postmortems.add_comment(
        uow, actor, postmortem_id=pm_id, body=text(form, "body"), section=text(form, "section")
    )


def _approve(uow: UnitOfWork, actor: Actor, pm_id: int, _form: FormData) -> None:
    postmortems.approve(uow, actor, postmortem_id=pm_id)


def _publish(uow: UnitOfWork, actor: Actor, pm_id: int, _form: FormData) -> None:
    postmortems.publish(uow, actor, postmortem_id=pm_id)


def _action(uow: UnitOfWork, actor: Actor, pm_id: int, form: FormData) -> None:
    fields = {
        k: text(form, k)
        for k in ("title", "owner", "priority", "kind", "success_metric")
        if text(form, k)
    }
    data = parse(ActionCreate, {**fields, "due_on": day(form, "due_on"), "postmortem_id": pm_id})
    actions.create_action(uow, actor, data=data)


POSTMORTEM_FORMS = {
    "review": _review,
    "comment": _comment,
    "approve": _approve,
    "publish": _publish,
    "actions": _action,
}


@router.post("/postmortems/{postmortem_id}/{op}")
def postmortem_form(
    form: FormCsrf, uow: UowDep, actor: CurrentActor, postmortem_id: int, op: str
) -> Response:
    handler = POSTMORTEM_FORMS.get(op)
    if handler is not None:
        handler(uow, actor, postmortem_id, form)
    return _see(f"/postmortems/{postmortem_id}")


@router.get("/postmortems/{postmortem_id}/export.md")
def export_markdown(db: DbDep, actor: CurrentActor, postmortem_id: int) -> Response:
    pm = queries.get_postmortem(db, actor, postmortem_id=postmortem_id)
    return PlainTextResponse(postmortem_markdown(pm), media_type="text/markdown")


# --- action items --------------------------------------------------------------------------


@router.get("/actions")
def board(
    request: Request, db: DbDep, actor: CurrentActor, report: str = "", owner: str = ""
) -> Response:
    items = queries.list_actions(
        db,
        actor,
        owner=owner or None,
        overdue_only=report == "overdue",
        unowned_only=report == "unowned",
    )
    columns = [(s, [i for i in items if i.status is s]) for s in ActionStatus]
    context = {
        "title": "Action items",
        "columns": columns,
        "report": report,
        "owner": owner,
        "statuses": list(ActionStatus),
        "kinds": list(ActionKind),
        "priorities": list(Priority),
    }
    return render(request, "learning/actions.html", context)


@router.get("/actions/{action_id}")
def action_anchor(db: DbDep, actor: CurrentActor, action_id: int) -> Response:
    queries.get_action(db, actor, action_id=action_id)
    return _see(f"/actions#action-{action_id}")


@router.post("/actions")
def create_action(form: FormCsrf, uow: UowDep, actor: CurrentActor) -> Response:
    fields = {
        k: text(form, k)
        for k in ("title", "owner", "priority", "kind", "success_metric", "description")
        if text(form, k)
    }
    data = parse(ActionCreate, {**fields, "due_on": day(form, "due_on")})
    created = actions.create_action(uow, actor, data=data)
    return _see(f"/actions#action-{created.id}")


@router.post("/actions/{action_id}")
def change_action(form: FormCsrf, uow: UowDep, actor: CurrentActor, action_id: int) -> Response:
    fields: dict[str, Any] = {
        k: text(form, k) for k in ("status", "owner", "success_metric") if text(form, k)
    }
    actions.update_action(uow, actor, action_id=action_id, data=parse(ActionUpdate, fields))
    return _see(f"/actions#action-{action_id}")


# --- runbooks and decision records ---------------------------------------------------------


@router.get("/runbooks")
def runbook_list(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {"title": "Runbooks", "runbooks": runbooks.list_runbooks(db, actor)}
    return render(request, "learning/runbooks.html", context)


@router.get("/runbooks/by-id/{runbook_id}")
def runbook_by_id(db: DbDep, actor: CurrentActor, runbook_id: int) -> Response:
    found = [r for r in runbooks.list_runbooks(db, actor) if r.id == runbook_id]
    return _see(f"/runbooks/{found[0].service}" if found else "/runbooks")


@router.get("/runbooks/{service}")
def runbook_page(request: Request, db: DbDep, actor: CurrentActor, service: str) -> Response:
    runbook = runbooks.get_runbook(db, actor, service=service)
    return render(request, "learning/runbook.html", {"title": runbook.title, "runbook": runbook})


@router.post("/runbooks/{service}")
def runbook_form(form: FormCsrf, uow: UowDep, actor: CurrentActor, service: str) -> Response:
    body = raw(form, "body")
    if text(form, "op") == "propose":
        pm = number(form, "postmortem_id") if text(form, "postmortem_id") else None
        data = ProposalCreate(body=body, rationale=text(form, "note"), postmortem_id=pm)
        runbooks.propose_change(uow, actor, service=service, data=data)
    else:
        write = parse(
            RunbookWrite, {"title": text(form, "title"), "body": body, "note": text(form, "note")}
        )
        runbooks.write_runbook(uow, actor, service=service, data=write)
    return _see(f"/runbooks/{service}")


@router.post("/runbook-proposals/{proposal_id}")
def decide(form: FormCsrf, uow: UowDep, actor: CurrentActor, proposal_id: int) -> Response:
    approve = text(form, "decision") == "approve"
    out = runbooks.decide_proposal(uow, actor, proposal_id=proposal_id, approve=approve)
    return _see(f"/runbooks/{out.service}")


@router.get("/decisions")
def decision_list(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {
        "title": "Decision records",
        "adrs": decisions.list_adrs(db, actor),
        "statuses": list(AdrStatus),
    }
    return render(request, "learning/decisions.html", context)


@router.get("/decisions/by-id/{record_id}")
def decision_by_id(db: DbDep, actor: CurrentActor, record_id: int) -> Response:
    found = [a for a in decisions.list_adrs(db, actor) if a.id == record_id]
    return _see(f"/decisions/{found[0].number}" if found else "/decisions")


@router.get("/decisions/{number}")
def decision_page(request: Request, db: DbDep, actor: CurrentActor, number: int) -> Response:
    adr = decisions.get_adr(db, actor, number=number)
    context = {"title": f"ADR-{adr.number:04d}", "adr": adr, "statuses": list(AdrStatus)}
    return render(request, "learning/decision.html", context)


@router.post("/decisions")
def create_decision(form: FormCsrf, uow: UowDep, actor: CurrentActor) -> Response:
    supersedes = text(form, "supersedes")
    fields = {
        "title": text(form, "title"),
        "status": text(form, "status") or "proposed",
        "deciders": lines(form, "deciders"),
        "context": raw(form, "context"),
        "options": [line for line in raw(form, "options").splitlines() if line.strip()],
        "outcome": raw(form, "outcome"),
        "consequences": raw(form, "consequences"),
        "services": lines(form, "services"),
        "supersedes": int(supersedes) if supersedes.isdigit() else None,
    }
    created = decisions.create_adr(uow, actor, data=parse(AdrCreate, fields))
    return _see(f"/decisions/{created.number}")


@router.post("/decisions/{number}")
def decision_status(form: FormCsrf, uow: UowDep, actor: CurrentActor, number: int) -> Response:
    status = parse(AdrCreate, {"title": "x", "status": text(form, "status")}).status
    decisions.set_adr_status(uow, actor, number=number, status=status)
    return _see(f"/decisions/{number}")
