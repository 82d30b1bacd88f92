"""Catalog import and export: Warroom YAML and Backstage documents, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import SYSTEM, CliResult, Person
from warroom.catalog import queries, service
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, InvalidInput

UowFactory = Callable[[], UnitOfWork]

BACKSTAGE = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  description: Money movement
spec:
  type: team
  profile:
    email: payments-oncall@example.com
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: money
spec:
  owner: group:payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  description: Card payments
  tags: [java, pci]
  annotations:
    backstage.io/source-location: url:https://git.example.com/payments/api
  links:
    - url: https://runbooks.example.com/payments-api
      title: Runbook
spec:
  type: service
  lifecycle: production
  owner: group:default/payments
  system: money
  dependsOn:
    - resource:default/payments-db
  consumesApis:
    - fraud-api
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: fraud-api
spec:
  type: openapi
  lifecycle: experimental
  owner: payments
  definition: "openapi: 3.0.0"
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: payments-db
spec:
  type: database
  owner: payments
"""

WARROOM = """\
apiVersion: warroom.dev/v1
kind: Catalog
teams:
  - name: search
    escalation_contact: search-oncall@example.com
services:
  - name: search-api
    tier: 2
    owner_team: search
    depends_on: [search-index]
  - name: search-index
    tier: 2
    owner_team: search
"""


def _import(new_uow: UowFactory, text: str, filename: str = "catalog.yaml") -> tuple[int, ...]:
    report = service.import_catalog_text(new_uow(), SYSTEM, text=text, filename=filename)
    return report.created, report.updated, report.unchanged


def test_backstage_documents_become_teams_and_services(db: Database, new_uow: UowFactory) -> None:
    assert _import(new_uow, BACKSTAGE) == (4, 0, 0)
    api = queries.get_service(db, SYSTEM, name="payments-api")
    assert api.owner_team == "payments" and api.system == "money"
    assert api.depends_on == ["fraud-api", "payments-db"]
    assert api.repository_url == "https://git.example.com/payments/api"
    assert api.runbook_url == "https://runbooks.example.com/payments-api"
    assert api.tags == ["java", "pci"]
    assert queries.get_service(db, SYSTEM, name="fraud-api").kind.value == "api"
    team = queries.get_team(db, SYSTEM, name="payments")
    assert team.escalation_contact == "payments-oncall@example.com"


def test_importing_the_same_file_twice_changes_nothing(
    db: Database, new_uow: UowFactory, admin: Person
) -> None:
    assert _import(new_uow, WARROOM) == (3, 0, 0)
    assert _import(new_uow, WARROOM) == (0, 0, 3)
    changed = WARROOM.replace(
        "tier: 2\n    owner_team: search\n    depends_on",
        "tier: 1\n    owner_team: search\n    depends_on",
    )
    assert _import(new_uow, changed) == (0, 1, 2)
    assert queries.get_service(db, SYSTEM, name="search-api").tier == 1


def test_a_dangling_reference_is_reported_with_file_line_and_field_and_nothing_is_written(
    db: Database, new_uow: UowFactory
) -> None:
    broken = BACKSTAGE.replace("- fraud-api", "- fraud-api-v2")
    with pytest.raises(InvalidInput) as caught:
        _import(new_uow, broken, "catalog-info.yaml")
    error = caught.value
    assert "catalog-info.yaml" in error.detail and "nothing was imported" in error.detail
    assert any("unknown service 'fraud-api-v2'" in e.message for e in error.errors)
    assert queries.list_services(db, SYSTEM).items == []
    assert queries.list_teams(db, SYSTEM) == []


def test_a_wrong_type_names_its_line(new_uow: UowFactory) -> None:
    broken = WARROOM.replace(
        "tier: 2\n    owner_team: search\n    depends_on",
        "tier: high\n    owner_team: search\n    depends_on",
    )
    with pytest.raises(InvalidInput) as caught:
        _import(new_uow, broken)
    error = caught.value.errors[0]
    assert error.field.endswith("services.0.tier") and error.line == 8


def test_a_yaml_syntax_error_names_its_line(new_uow: UowFactory) -> None:
    with pytest.raises(InvalidInput) as caught:
        _import(new_uow, "teams:\n  - name: [unclosed\nservices: []\n")
    assert caught.value.errors[0].line is not None
    assert "not valid YAML" in caught.value.detail


def test_an_unsupported_backstage_kind_is_named(new_uow: UowFactory) -> None:
    text = "apiVersion: backstage.io/v1alpha1\nkind: Template\nmetadata:\n  name: x\n"
    with pytest.raises(InvalidInput, match="unsupported kind 'Template'"):
        _import(new_uow, text)


def test_an_import_that_would_create_a_cycle_writes_nothing(
    db: Database, new_uow: UowFactory
) -> None:
    _import(new_uow, WARROOM)
    cyclic = WARROOM.replace(
        "    owner_team: search\n", "    owner_team: search\n    depends_on: [search-api]\n", 1
    )
    cyclic = cyclic.replace(
        "  - name: search-index\n    tier: 2\n    owner_team: search\n",
        "  - name: search-index\n    tier: 3\n    owner_team: search\n"
        "    depends_on: [search-api]\n",
    )
    with pytest.raises(Conflict, match="cycle"):
        _import(new_uow, cyclic)
    assert queries.get_service(db, SYSTEM, name="search-index").tier == 2


def test_export_then_import_round_trips(
    run_cli: Callable[..., CliResult], new_uow: UowFactory, tmp_path: Path
) -> None:
    _import(new_uow, BACKSTAGE)
    exported = run_cli("catalog", "export")
    assert exported.code == 0
    document = yaml.safe_load(exported.out)
    assert {s["name"] for s in document["services"]} == {"payments-api", "fraud-api", "payments-db"}
    path = tmp_path / "export.yaml"
    path.write_text(exported.out)
    again = run_cli("catalog", "import", str(path))
    assert again.code == 0 and "0 created, 0 updated, 4 unchanged" in again.out


def test_backstage_export_can_be_imported_again(
    run_cli: Callable[..., CliResult], new_uow: UowFactory, tmp_path: Path
) -> None:
    _import(new_uow, BACKSTAGE)
    path = tmp_path / "catalog-info.yaml"
    result = run_cli("catalog", "export", "--format", "backstage", "-o", str(path))
    assert result.code == 0
    kinds = [doc["kind"] for doc in yaml.safe_load_all(path.read_text())]
    assert kinds.count("Group") == 1 and "System" in kinds and "API" in kinds
    again = run_cli("catalog", "import", str(path))
    assert again.code == 0 and "0 created, 0 updated, 4 unchanged" in again.out


def test_the_cli_reports_a_bad_file_with_its_line_and_exits_non_zero(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        WARROOM.replace("owner_team: search\n    depends_on", "owner_team: nobody\n    depends_on")
    )
    result = run_cli("catalog", "import", str(path))
    assert result.code == 1
    assert f"{path}:9" in result.err and "unknown team 'nobody'" in result.err
