"""HTML page for admins to browse and filter the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from warroom.audit import queries
from warroom.http.deps import CurrentActor, DbDep
from warroom.http.templating import render

router = APIRouter()


@router.get("/admin/audit")
def audit_log(
    request: Request,
    db: DbDep,
    actor: CurrentActor,
    action: str | None = None,
    object_type: str | None = None,
    actor_label: str | None = None,
    cursor: str | None = None,
) -> Response:
    page = queries.list_entries(
        db,
        actor,
        action=action or None,
        object_type=object_type or None,
        actor_label=actor_label or None,
        cursor=cursor,
        limit=100,
    )
    filters = {
        "action": action or "",
        "object_type": object_type or "",
        "actor_label": actor_label or "",
    }
    context = {"title": "Audit log", "page": page, "filters": filters}
    return render(request, "audit/list.html", context)
