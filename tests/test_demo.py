"""`warroom demo` seeds a believable organisation, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import SYSTEM
from warroom import demo
from warroom.accounts import queries as account_queries
from warroom.actors import Role
from warroom.catalog import queries as catalog_queries
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork


def test_the_demo_has_teams_services_and_people_in_every_role(
    db: Database, new_uow: Callable[[], UnitOfWork], tmp_path: Path
) -> None:
    login = demo.seed(new_uow, tmp_path)
    assert login.email == demo.ADMIN_EMAIL and login.password.startswith("demo-")
    teams = catalog_queries.list_teams(db, SYSTEM)
    services = catalog_queries.list_services(db, SYSTEM, limit=500).items
    assert len(teams) == 6 and len(services) >= 25
    roles = {user.role for user in account_queries.list_users(db, SYSTEM)}
    assert roles == set(Role)
    radius = {i.service for i in catalog_queries.blast_radius(db, SYSTEM, name="users-db")}
    assert {"auth", "api-gateway", "cdn"} <= radius


def test_seeding_twice_keeps_the_same_login_and_data(
    db: Database, new_uow: Callable[[], UnitOfWork], tmp_path: Path
) -> None:
    first = demo.seed(new_uow, tmp_path)
    count = len(catalog_queries.list_services(db, SYSTEM, limit=500).items)
    second = demo.seed(new_uow, tmp_path)
    assert first == second
    assert len(catalog_queries.list_services(db, SYSTEM, limit=500).items) == count
