"""Read side of the audit trail: filtered, cursor-paginated listing for admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from warroom.actors import Actor, require_admin
from warroom.audit.models import AuditEntry
from warroom.audit.schemas import AuditEntryOut
from warroom.db.engine import Database
from warroom.pagination import Page, clamp_limit, decode_cursor, encode_cursor


def list_entries(
    db: Database,
    actor: Actor,
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_label: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[AuditEntryOut]:
    """Newest first; every filter is optional and they combine with AND."""
    require_admin(actor, action="reading the audit trail")
    size = clamp_limit(limit)
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(size + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(AuditEntry.seq < after)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if actor_label:
        query = query.where(AuditEntry.actor_label == actor_label)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    with db.read_session() as session:
        rows = session.scalars(query).all()
    items = [AuditEntryOut.model_validate(row) for row in rows[:size]]
    next_cursor = encode_cursor(rows[size - 1].seq) if len(rows) > size else None
    return Page(items=items, next_cursor=next_cursor)
