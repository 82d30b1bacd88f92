"""JSON API for the audit trail (admins only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from warroom.audit import queries, service
from warroom.audit.schemas import AuditEntryOut, ChainReport
from warroom.http.deps import CurrentActor, DbDep
from warroom.pagination import Page

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def list_entries(
    db: DbDep,
    actor: CurrentActor,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_label: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[AuditEntryOut]:
    return queries.list_entries(
        db,
        actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_label=actor_label,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )


@router.get("/verify")
def verify(db: DbDep, actor: CurrentActor) -> ChainReport:
    """Walk the hash chain and report the first entry that was changed, removed or moved."""
    return service.verify_chain(db, actor)
