"""JSON API for administering intake: integrations, alerts, dead letters, rules, silences."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from warroom.db.base import utcnow
from warroom.engines import alertgrouping as grouping
from warroom.errors import FieldError, InvalidInput
from warroom.http.deps import CurrentActor, DbDep, UowDep
from warroom.intake import queries, service
from warroom.intake.schemas import (
    AlertOut,
    DeadLetterDetail,
    DeadLetterOut,
    IntegrationCreate,
    IntegrationCreated,
    IntegrationOut,
    IntegrationUpdate,
    MaintenanceCreate,
    MaintenanceOut,
    ReplayReport,
    RulesIn,
    RulesOut,
    TickReport,
)
from warroom.pagination import Page

router = APIRouter(tags=["intake"])


@router.get("/integrations")
def list_integrations(db: DbDep, actor: CurrentActor) -> list[IntegrationOut]:
    return queries.list_integrations(db, actor)


@router.post("/integrations", status_code=201)
def create_integration(
    uow: UowDep, actor: CurrentActor, data: IntegrationCreate
) -> IntegrationCreated:
    """Create an integration; the response holds its credential, shown only this once."""
    return service.create_integration(uow, actor, data=data)


@router.patch("/integrations/{name}")
def update_integration(
    uow: UowDep, actor: CurrentActor, name: str, data: IntegrationUpdate
) -> IntegrationOut:
    return service.update_integration(uow, actor, name=name, data=data)


@router.post("/integrations/{name}/rotate")
def rotate_credential(uow: UowDep, actor: CurrentActor, name: str) -> IntegrationCreated:
    return service.rotate_credential(uow, actor, name=name)


@router.post("/integrations/{name}/disable")
def disable_integration(uow: UowDep, actor: CurrentActor, name: str) -> IntegrationOut:
    return service.disable_integration(uow, actor, name=name)


@router.get("/alerts")
def list_alerts(
    db: DbDep,
    actor: CurrentActor,
    status: str | None = None,
    service_name: str | None = None,
    incident_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[AlertOut]:
    return queries.list_alerts(
        db,
        actor,
        status=status,
        service=service_name,
        incident_id=incident_id,
        cursor=cursor,
        limit=limit,
    )


@router.get("/alerts/{alert_id}")
def get_alert(db: DbDep, actor: CurrentActor, alert_id: int) -> AlertOut:
    return queries.get_alert(db, actor, alert_id=alert_id)


@router.get("/intake/dead-letters")
def list_dead_letters(
    db: DbDep, actor: CurrentActor, limit: int | None = None
) -> list[DeadLetterOut]:
    return queries.list_dead_letters(db, actor, limit=limit)


@router.get("/intake/dead-letters/{dead_letter_id}")
def get_dead_letter(db: DbDep, actor: CurrentActor, dead_letter_id: int) -> DeadLetterDetail:
    return queries.get_dead_letter(db, actor, dead_letter_id=dead_letter_id)


@router.post("/intake/dead-letters/{dead_letter_id}/replay")
def replay_dead_letter(uow: UowDep, actor: CurrentActor, dead_letter_id: int) -> DeadLetterOut:
    return service.replay_dead_letter(uow, actor, dead_letter_id=dead_letter_id)


@router.get("/intake/rules")
def get_rules(db: DbDep, actor: CurrentActor) -> RulesOut:
    return queries.get_rules(db, actor)


@router.put("/intake/rules")
def set_rules(uow: UowDep, actor: CurrentActor, data: RulesIn) -> RulesOut:
    return service.set_rules(uow, actor, source=data.source)


@router.post("/intake/rules/replay")
def replay_rules(db: DbDep, actor: CurrentActor, data: RulesIn, since: str = "7d") -> ReplayReport:
    """What `data` would have opened over the alerts since `since` (e.g. 7d), diffed."""
    document = service.parse_rules_text(data.source)
    return queries.replay(
        db, actor, rules=grouping.parse_rules(document), since=utcnow() - _duration(since)
    )


def _duration(text: str) -> timedelta:
    try:
        return grouping.parse_duration(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), [FieldError("since", str(exc))]) from exc


@router.get("/intake/maintenance")
def list_maintenance(db: DbDep, actor: CurrentActor) -> list[MaintenanceOut]:
    return queries.list_maintenance(db, actor)


@router.post("/intake/maintenance", status_code=201)
def create_maintenance(uow: UowDep, actor: CurrentActor, data: MaintenanceCreate) -> MaintenanceOut:
    return service.create_maintenance(uow, actor, data=data)


@router.post("/intake/maintenance/{window_id}/end")
def end_maintenance(uow: UowDep, actor: CurrentActor, window_id: int) -> MaintenanceOut:
    return service.end_maintenance(uow, actor, window_id=window_id)


@router.post("/intake/tick")
def tick(uow: UowDep, actor: CurrentActor) -> TickReport:
    """Evaluate time-based opening rules now (the server also does this every 15 s)."""
    service.require_tick_rights(actor)
    return service.tick(uow)
