"""Shared set-up for incident tests: a small catalog and a declared incident."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import SYSTEM
from warroom.catalog import service as catalog_service
from warroom.catalog.schemas import CatalogSnapshot, ServiceCreate, TeamCreate
from warroom.db.uow import UnitOfWork
from warroom.incidents import service
from warroom.incidents.schemas import IncidentCreate, IncidentOut, Severity

UowFactory = Callable[[], UnitOfWork]

# checkout -> payments -> ledger -> ledger-db ; search -> search-index ; web -> checkout, search
SERVICES = {
    "web": ["checkout", "search"],
    "checkout": ["payments"],
    "payments": ["ledger"],
    "ledger": ["ledger-db"],
    "ledger-db": [],
    "search": ["search-index"],
    "search-index": [],
}


def seed_catalog(new_uow: UowFactory, members: dict[str, list[str]] | None = None) -> None:
    members = members or {}
    teams = [
        TeamCreate(name="payments", members=members.get("payments", [])),
        TeamCreate(name="discovery", members=members.get("discovery", [])),
    ]
    owners = {"payments": "payments", "ledger": "payments", "search": "discovery"}
    services = [
        ServiceCreate(name=name, depends_on=deps, owner_team=owners.get(name))
        for name, deps in SERVICES.items()
    ]
    catalog_service.import_snapshot(
        new_uow(), SYSTEM, snapshot=CatalogSnapshot(teams=teams, services=services)
    )


def declare(
    new_uow: UowFactory,
    *,
    title: str = "Checkout failing",
    severity: Severity = Severity.SEV2,
    services: list[str] | None = None,
    impact: str = "",
    ongoing: bool = False,
) -> IncidentOut:
    data = IncidentCreate(
        title=title,
        severity=severity,
        services=services if services is not None else [],
        customer_impact=impact,
        impact_ongoing=ongoing,
    )
    return service.declare_incident(new_uow(), SYSTEM, data=data)
