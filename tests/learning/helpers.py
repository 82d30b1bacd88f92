"""Shared set-up for learning tests: a catalog, resolved incidents and written postmortems."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import SYSTEM
from warroom.catalog import service as catalog_service
from warroom.catalog.schemas import CatalogSnapshot, ServiceCreate, TeamCreate
from warroom.db.uow import UnitOfWork
from warroom.incidents import records
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import (
    DecisionCreate,
    HypothesisCreate,
    IncidentCreate,
    Risk,
    Severity,
    Status,
)
from warroom.learning import postmortems
from warroom.learning.schemas import PostmortemCreate, PostmortemOut

UowFactory = Callable[[], UnitOfWork]

SERVICES = {
    "checkout": "commerce",
    "payments": "payments",
    "search": "discovery",
    "auth": "identity",
}


def seed_catalog(new_uow: UowFactory, members: dict[str, list[str]] | None = None) -> None:
    members = members or {}
    teams = sorted(set(SERVICES.values()))
    snapshot = CatalogSnapshot(
        teams=[TeamCreate(name=t, members=members.get(t, [])) for t in teams],
        services=[ServiceCreate(name=n, owner_team=t) for n, t in SERVICES.items()],
    )
    catalog_service.import_snapshot(new_uow(), SYSTEM, snapshot=snapshot)


def resolved_incident(
    new_uow: UowFactory,
    *,
    title: str = "Card payments failing at checkout",
    services: tuple[str, ...] = ("checkout", "payments"),
    severity: Severity = Severity.SEV2,
) -> int:
    """An incident with a decision, a hypothesis and a note, taken to resolved."""
    data = IncidentCreate(
        title=title,
        severity=severity,
        services=list(services),
        summary="Payments failed after a deploy of the fraud-check client.",
        customer_impact="Some customers could not pay by card.",
    )
    incident = incident_service.declare_incident(new_uow(), SYSTEM, data=data)
    records.add_decision(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        data=DecisionCreate(decision="Roll back payments to v41", rationale="Deploy coincided"),
    )
    records.add_hypothesis(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        data=HypothesisCreate(
            statement="The new client times out under load",
            test_plan="Compare latency",
            production_risk=Risk.LOW,
        ),
    )
    for status in (Status.INVESTIGATING, Status.MITIGATING, Status.RESOLVED):
        incident_service.change_status(new_uow(), SYSTEM, incident_id=incident.id, status=status)
    return incident.id


def written(
    new_uow: UowFactory,
    title: str,
    summary: str,
    *,
    services: list[str] | None = None,
    factors: list[str] | None = None,
    severity: str = "SEV2",
) -> PostmortemOut:
    data = PostmortemCreate(
        title=title,
        severity=severity,
        services=services or [],
        factors=factors or [],
        sections={"summary": summary},
    )
    return postmortems.create_postmortem(new_uow(), SYSTEM, data=data)
