"""Catalog use cases: teams, services, dependency rules and graph queries on a real database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import SYSTEM, Person
from warroom.actors import Role
from warroom.audit.queries import list_entries
from warroom.catalog import queries, service
from warroom.catalog.schemas import ServiceCreate, ServiceUpdate, TeamCreate, TeamUpdate
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, InvalidInput, NotFound, PermissionDenied

UowFactory = Callable[[], UnitOfWork]


def _service(new_uow: UowFactory, name: str, *deps: str, tier: int = 3) -> None:
    service.create_service(
        new_uow(), SYSTEM, data=ServiceCreate(name=name, tier=tier, depends_on=list(deps))
    )


@pytest.fixture
def shop(new_uow: UowFactory) -> None:
    """db <- payments <- checkout <- gateway; cache <- checkout; search alone."""
    _service(new_uow, "db", tier=1)
    _service(new_uow, "cache", tier=2)
    _service(new_uow, "payments", "db", tier=1)
    _service(new_uow, "checkout", "payments", "cache", tier=1)
    _service(new_uow, "gateway", "checkout", tier=1)
    _service(new_uow, "search")


def test_a_dependency_that_closes_a_cycle_is_refused_naming_the_cycle(
    new_uow: UowFactory, shop: None
) -> None:
    with pytest.raises(Conflict, match="db -> payments -> db"):
        service.add_dependency(new_uow(), SYSTEM, name="db", depends_on="payments")
    with pytest.raises(Conflict, match="db -> gateway -> checkout -> payments -> db"):
        service.add_dependency(new_uow(), SYSTEM, name="db", depends_on="gateway")


def test_a_service_cannot_depend_on_itself(new_uow: UowFactory, shop: None) -> None:
    with pytest.raises(Conflict, match="search -> search"):
        service.add_dependency(new_uow(), SYSTEM, name="search", depends_on="search")


def test_replacing_dependencies_through_an_update_is_cycle_checked(
    db: Database, new_uow: UowFactory, shop: None
) -> None:
    with pytest.raises(Conflict, match="cycle"):
        service.update_service(
            new_uow(), SYSTEM, name="cache", data=ServiceUpdate(depends_on=["gateway"])
        )
    assert queries.get_service(db, SYSTEM, name="cache").depends_on == []


def test_blast_radius_lists_every_transitive_dependant_nearest_first(
    db: Database, shop: None
) -> None:
    impacts = queries.blast_radius(db, SYSTEM, name="db")
    assert [(i.service, i.distance) for i in impacts] == [
        ("payments", 1),
        ("checkout", 2),
        ("gateway", 3),
    ]


def test_upstream_lists_what_a_service_needs(db: Database, shop: None) -> None:
    names = [i.service for i in queries.upstream(db, SYSTEM, name="gateway")]
    assert names == ["checkout", "payments", "cache", "db"]


def test_the_path_between_two_services_is_the_shortest_dependency_chain(
    db: Database, shop: None
) -> None:
    assert queries.dependency_path(db, SYSTEM, source="gateway", target="db") == [
        "gateway",
        "checkout",
        "payments",
        "db",
    ]
    assert queries.dependency_path(db, SYSTEM, source="db", target="gateway") is None


def test_unknown_dependencies_are_invalid_input_naming_the_field(
    new_uow: UowFactory, shop: None
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _service(new_uow, "orders", "db", "ghost")
    assert caught.value.errors[0].field == "depends_on.1"


def test_duplicate_service_names_are_a_conflict(new_uow: UowFactory, shop: None) -> None:
    with pytest.raises(Conflict, match="service db already exists"):
        _service(new_uow, "db")


def test_a_failed_create_writes_nothing(db: Database, new_uow: UowFactory, shop: None) -> None:
    with pytest.raises(InvalidInput):
        _service(new_uow, "orders", "ghost")
    with pytest.raises(NotFound):
        queries.get_service(db, SYSTEM, name="orders")


def test_teams_own_services_and_list_their_members(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    service.create_team(
        new_uow(), SYSTEM, data=TeamCreate(name="payments-team", members=[responder.email])
    )
    service.create_service(
        new_uow(), SYSTEM, data=ServiceCreate(name="ledger", owner_team="payments-team")
    )
    team = queries.get_team(db, SYSTEM, name="payments-team")
    assert team.members == [responder.email] and team.services == ["ledger"]
    service.update_team(new_uow(), SYSTEM, name="payments-team", data=TeamUpdate(members=[]))
    assert queries.get_team(db, SYSTEM, name="payments-team").members == []


def test_team_members_must_be_existing_users(new_uow: UowFactory) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_team(new_uow(), SYSTEM, data=TeamCreate(name="t", members=["no@x.io"]))
    assert caught.value.errors[0].field == "members.0"


def test_viewers_read_but_cannot_change_the_catalog(
    db: Database, new_uow: UowFactory, viewer: Person, shop: None
) -> None:
    assert queries.get_service(db, viewer.actor, name="db").tier == 1
    with pytest.raises(PermissionDenied):
        _create_as(new_uow, viewer, "x")


def test_external_users_cannot_read_the_catalog(
    db: Database, make_person: Callable[..., Person], shop: None
) -> None:
    vendor = make_person(Role.EXTERNAL)
    with pytest.raises(PermissionDenied):
        queries.list_services(db, vendor.actor)


def _create_as(new_uow: UowFactory, person: Person, name: str) -> None:
    service.create_service(new_uow(), person.actor, data=ServiceCreate(name=name))


def test_catalog_changes_are_audited(db: Database, new_uow: UowFactory, admin: Person) -> None:
    _service(new_uow, "a")
    _service(new_uow, "b", "a")
    service.remove_dependency(new_uow(), SYSTEM, name="b", depends_on="a")
    actions = [e.action for e in list_entries(db, admin.actor, object_type="service").items]
    assert actions == ["service.dependency_remove", "service.create", "service.create"]


def test_listing_filters_by_tier_and_search_and_pages(db: Database, shop: None) -> None:
    tier_one = queries.list_services(db, SYSTEM, tier=1)
    assert {s.name for s in tier_one.items} == {"db", "payments", "checkout", "gateway"}
    found = queries.list_services(db, SYSTEM, search="PAY")
    assert [s.name for s in found.items] == ["payments"]
    first = queries.list_services(db, SYSTEM, limit=4)
    rest = queries.list_services(db, SYSTEM, limit=4, cursor=first.next_cursor)
    assert len(first.items) == 4 and len(rest.items) == 2 and rest.next_cursor is None
