"""Action-item use cases: create, edit, move through statuses, export and sync back.

Rule: an item cannot start (move to in progress) without a success metric: work that cannot be
checked to have worked is how postmortem actions quietly fail to prevent the next incident.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from warroom.actors import Actor, require_writer
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import FieldError, InvalidInput, NotFound
from warroom.learning.documents import Document, put_document, teams_by_service
from warroom.learning.exports import ExternalStatus, parse_status_file
from warroom.learning.models import ActionItem, Postmortem
from warroom.learning.queries import action_out
from warroom.learning.schemas import (
    ActionCreate,
    ActionOut,
    ActionStatus,
    ActionUpdate,
    DocKind,
    SyncReport,
)

_EDITABLE = ("title", "description", "owner", "due_on", "success_metric", "external_key")


def _document(session: Session, row: ActionItem) -> Document:
    services: tuple[str, ...] = ()
    if row.postmortem_id is not None:
        pm = session.get(Postmortem, row.postmortem_id)
        services = tuple(pm.services or ()) if pm else ()
    return Document(
        kind=DocKind.ACTION,
        ref_id=row.id,
        title=row.title,
        body=f"{row.description}\n{row.success_metric}\n{row.kind} {row.status} {row.owner}",
        services=services,
        occurred_at=row.created_at,
    )


def check_can_start(row: ActionItem, status: ActionStatus) -> None:
    if status is ActionStatus.IN_PROGRESS and not row.success_metric.strip():
        raise InvalidInput(
            f"action item {row.id} needs a success metric before work starts",
            [FieldError("success_metric", "required before moving to in progress")],
        )


def add_action_in(
    session: Session, actor: Actor, *, data: ActionCreate, teams: dict[str, str] | None = None
) -> ActionItem:
    incident_id = data.incident_id
    if data.postmortem_id is not None:
        pm = session.get(Postmortem, data.postmortem_id)
        if pm is None:
            raise NotFound(f"postmortem {data.postmortem_id}")
        incident_id = incident_id or pm.incident_id
    now = utcnow()
    row = ActionItem(
        postmortem_id=data.postmortem_id,
        incident_id=incident_id,
        title=data.title,
        description=data.description,
        owner=data.owner.strip().lower(),
        due_on=data.due_on,
        priority=data.priority.value,
        kind=data.kind.value,
        status=ActionStatus.OPEN.value,
        success_metric=data.success_metric.strip(),
        external_key="",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    put_document(session, _document(session, row), teams=teams or {}, now=now)
    _audit(session, actor, "action.create", row, data.model_dump(mode="json"))
    return row


def create_action(uow: UnitOfWork, actor: Actor, *, data: ActionCreate) -> ActionOut:
    require_writer(actor, action="creating action items")
    teams = teams_by_service(uow.db)
    with uow:
        row = add_action_in(uow.session, actor, data=data, teams=teams)
        out = action_out(row, utcnow().date())
        uow.commit()
    return out


def update_action(
    uow: UnitOfWork, actor: Actor, *, action_id: int, data: ActionUpdate
) -> ActionOut:
    """Edit fields and/or move the status (refused into in progress without a metric)."""
    require_writer(actor, action="changing action items")
    teams = teams_by_service(uow.db)
    with uow:
        row = _get(uow.session, action_id)
        changes = data.model_dump(exclude_unset=True)
        for name in _EDITABLE:
            if name in changes:
                value = changes[name]
                setattr(row, name, value.strip().lower() if name == "owner" else value)
        for name in ("priority", "kind"):
            if changes.get(name) is not None:
                setattr(row, name, changes[name].value)
        if data.status is not None:
            check_can_start(row, data.status)
            row.status = data.status.value
        row.updated_at = utcnow()
        put_document(uow.session, _document(uow.session, row), teams=teams, now=row.updated_at)
        _audit(
            uow.session,
            actor,
            "action.update",
            row,
            data.model_dump(mode="json", exclude_unset=True),
        )
        out = action_out(row, utcnow().date())
        uow.commit()
    return out


def sync_statuses(uow: UnitOfWork, actor: Actor, *, text: str) -> SyncReport:
    """Apply statuses from a Jira or GitHub export; bad entries are reported, not fatal."""
    require_writer(actor, action="syncing action items")
    found, problems = parse_status_file(text)
    updated: list[int] = []
    unchanged: list[int] = []
    with uow:
        for entry in found:
            outcome = _apply_external(uow.session, actor, entry)
            if outcome is None:
                unchanged.append(entry.action_id)
            elif outcome == "":
                updated.append(entry.action_id)
            else:
                problems.append(outcome)
        uow.commit()
    return SyncReport(updated=updated, unchanged=unchanged, problems=problems)


def _apply_external(session: Session, actor: Actor, entry: ExternalStatus) -> str | None:
    """None when nothing changed, "" when updated, else the problem."""
    row = session.get(ActionItem, entry.action_id)
    if row is None:
        return f"line {entry.line}: action item {entry.action_id} does not exist"
    if row.status == entry.status.value and (not entry.key or row.external_key == entry.key):
        return None
    if entry.status is ActionStatus.IN_PROGRESS and not row.success_metric.strip():
        return f"line {entry.line}: action item {row.id} has no success metric; not started"
    row.status = entry.status.value
    row.external_key = entry.key or row.external_key
    row.updated_at = utcnow()
    _audit(session, actor, "action.sync", row, {"status": row.status, "key": row.external_key})
    return ""


def _get(session: Session, action_id: int) -> ActionItem:
    row = session.get(ActionItem, action_id)
    if row is None:
        raise NotFound(f"action item {action_id}")
    return row


def _audit(
    session: Session, actor: Actor, action: str, row: ActionItem, summary: dict[str, object]
) -> None:
    append_entry(
        session, actor, action=action, object_type="action_item", object_id=row.id, summary=summary
    )
