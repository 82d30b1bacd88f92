"""`warroom integration`, `warroom alert send` and `warroom intake` commands, in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.intake.conftest import SYSTEM
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import InvalidInput
from warroom.intake import queries, service
from warroom.intake.service import Delivery, Endpoint

RunCli = Callable[..., CliResult]


def test_integration_create_prints_only_the_credential(run_cli: RunCli, db: Database) -> None:
    result = run_cli("integration", "create", "alertmanager", "prom", "--service", "payments")
    assert result.code == 0, result.err
    assert result.out.strip().startswith("wi_") and len(result.out.strip().split()) == 1
    assert "prom" in run_cli("integration", "list").out
    [integration] = queries.list_integrations(db, SYSTEM)
    assert integration.default_service == "payments"


def test_a_generic_integration_takes_its_mapping_from_a_file(
    run_cli: RunCli, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("title: summary\nservice: labels.service\n")
    result = run_cli("integration", "create", "generic", "hooks", "--mapping", str(mapping))
    assert result.code == 0, result.err
    bad = tmp_path / "bad.yaml"
    bad.write_text("titel: summary\n")
    refused = run_cli("integration", "create", "generic", "hooks2", "--mapping", str(bad))
    assert refused.code == 1
    assert "mapping" in refused.err


def test_alert_send_runs_a_test_alert_through_grouping(run_cli: RunCli) -> None:
    run_cli("integration", "create", "alertmanager", "prom")
    result = run_cli("alert", "send", "prom", "--title", "Disk full", "--service", "ledger-db")
    assert result.code == 0, result.err
    assert "created, incident #" in result.out
    resolved = run_cli("alert", "send", "prom", "--title", "Disk full", "--resolve")
    assert "resolved" in resolved.out


def test_intake_replay_diffs_a_rules_file_against_what_happened(
    run_cli: RunCli, tmp_path: Path
) -> None:
    run_cli("integration", "create", "alertmanager", "prom")
    for title, where in (("Latency", "payments"), ("Errors", "search")):
        run_cli("alert", "send", "prom", "--title", title, "--service", where)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: everything\n    group_by: []\n")
    result = run_cli("intake", "replay", "--rules", str(rules), "--since", "7d")
    assert result.code == 0, result.err
    assert "1 changed, 0 new, 1 would not open" in result.out
    as_json = json.loads(run_cli("intake", "replay", "--since", "1d", "--json").out)
    assert [line["change"] for line in as_json["incidents"]] == ["same", "same"]


def test_rules_set_validates_and_show_prints_them(run_cli: RunCli, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: slow\n    open_after: {duration: 10m}\n")
    assert run_cli("intake", "rules", "set", str(rules)).code == 0
    assert "open_after" in run_cli("intake", "rules", "show").out
    rules.write_text("rules:\n  - name: slow\n    open_after: {duration: forever}\n")
    refused = run_cli("intake", "rules", "set", str(rules))
    assert refused.code == 1
    assert "rules[0].open_after" in refused.err
    assert "opened: none" in run_cli("intake", "tick").out


def test_dead_letters_can_be_listed_shown_and_replayed(
    run_cli: RunCli, new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    credential = run_cli("integration", "create", "alertmanager", "prom").out.strip()
    body = b'{"version": "4", "status": "firing"}'
    with pytest.raises(InvalidInput):
        service.receive_delivery(new_uow(), Delivery(Endpoint.ALERTMANAGER, body, credential))
    [letter] = queries.list_dead_letters(db, SYSTEM)
    assert "alertmanager" in run_cli("intake", "dead-letters", "list").out
    shown = run_cli("intake", "dead-letters", "show", str(letter.id))
    assert body.decode() in shown.out
    replayed = run_cli("intake", "dead-letters", "replay", str(letter.id))
    assert "failed (still invalid" in replayed.out


def test_maintenance_windows_from_the_command_line(run_cli: RunCli) -> None:
    added = run_cli(
        "intake",
        "maintenance",
        "add",
        "db upgrade",
        "--duration",
        "2h",
        "--service",
        "ledger-db",
        "--label",
        "team=platform",
    )
    assert added.code == 0, added.err
    assert "db upgrade" in run_cli("intake", "maintenance", "list").out
    assert "ended" in run_cli("intake", "maintenance", "end", "1").out
