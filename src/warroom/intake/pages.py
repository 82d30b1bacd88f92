"""HTML pages for intake: integrations (admins), dead letters (admins) and recent alerts."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from warroom.errors import FieldError, InvalidInput
from warroom.http.csrf import check_form_csrf
from warroom.http.deps import CurrentActor, DbDep, FormCsrf, UowDep
from warroom.http.templating import render
from warroom.intake import queries, service
from warroom.intake.schemas import ENDPOINTS, IntegrationCreated, IntegrationKind

router = APIRouter()


def _integrations_page(
    request: Request, db: DbDep, actor: CurrentActor, created: IntegrationCreated | None = None
) -> Response:
    context = {
        "title": "Integrations",
        "integrations": queries.list_integrations(db, actor),
        "dead_letters": queries.list_dead_letters(db, actor, limit=50),
        "kinds": [kind.value for kind in IntegrationKind],
        "endpoints": {kind.value: path for kind, path in ENDPOINTS.items()},
        "created": created,
    }
    return render(request, "intake/integrations.html", context)


@router.get("/admin/integrations")
def integrations(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    return _integrations_page(request, db, actor)


@router.post("/admin/integrations")
def create_integration(
    request: Request, form: FormCsrf, db: DbDep, uow: UowDep, actor: CurrentActor
) -> Response:
    fields: dict[str, Any] = {
        "kind": str(form.get("kind", "")),
        "name": str(form.get("name", "")).strip(),
        "default_service": str(form.get("default_service", "")).strip(),
    }
    mapping_text = str(form.get("mapping", "")).strip()
    if mapping_text:
        fields["mapping"] = _json_object(mapping_text)
    data = service.parse_integration_create(**fields)
    created = service.create_integration(uow, actor, data=data)
    return _integrations_page(request, db, actor, created)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("the mapping is not JSON", [FieldError("mapping", str(exc))]) from exc
    if not isinstance(value, dict):
        raise InvalidInput("the mapping must be a JSON object", [FieldError("mapping", "object")])
    return value


@router.post("/admin/integrations/{name}/rotate", dependencies=[Depends(check_form_csrf)])
def rotate(request: Request, db: DbDep, uow: UowDep, actor: CurrentActor, name: str) -> Response:
    created = service.rotate_credential(uow, actor, name=name)
    return _integrations_page(request, db, actor, created)


@router.post("/admin/integrations/{name}/disable", dependencies=[Depends(check_form_csrf)])
def disable(uow: UowDep, actor: CurrentActor, name: str) -> Response:
    service.disable_integration(uow, actor, name=name)
    return RedirectResponse("/admin/integrations", status_code=303)


@router.get("/admin/dead-letters/{dead_letter_id}")
def dead_letter(request: Request, db: DbDep, actor: CurrentActor, dead_letter_id: int) -> Response:
    letter = queries.get_dead_letter(db, actor, dead_letter_id=dead_letter_id)
    context = {"title": f"Dead letter {letter.id}", "letter": letter}
    return render(request, "intake/dead_letter.html", context)


@router.post("/admin/dead-letters/{dead_letter_id}/replay", dependencies=[Depends(check_form_csrf)])
def replay_dead_letter(uow: UowDep, actor: CurrentActor, dead_letter_id: int) -> Response:
    service.replay_dead_letter(uow, actor, dead_letter_id=dead_letter_id)
    return RedirectResponse(f"/admin/dead-letters/{dead_letter_id}", status_code=303)


@router.get("/alerts")
def alerts(
    request: Request,
    db: DbDep,
    actor: CurrentActor,
    status: str | None = None,
    cursor: str | None = None,
) -> Response:
    page = queries.list_alerts(db, actor, status=status or None, cursor=cursor, limit=100)
    context = {"title": "Alerts", "page": page, "status": status or ""}
    return render(request, "intake/alerts.html", context)
