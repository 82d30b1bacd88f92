"""`warroom kb|postmortem|actions|adr|chaos …` against the test database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import SYSTEM, CliResult
from tests.learning.helpers import UowFactory, written
from warroom.learning import actions, decisions
from warroom.learning.schemas import ActionCreate, AdrCreate

RunCli = Callable[..., CliResult]


def test_kb_import_reports_bad_lines_and_search_finds_the_good(
    run_cli: RunCli, tmp_path: Path
) -> None:
    file = tmp_path / "history.jsonl"
    file.write_text(
        json.dumps({"id": "h1", "summary": "BGP leak took the region offline."}) + "\nnope\n"
    )
    imported = run_cli("kb", "import", str(file))
    assert imported.code == 1
    assert "1 created" in imported.out and "line 2: not JSON" in imported.out
    again = run_cli("kb", "import", str(file))
    assert "0 created, 0 updated, 1 unchanged" in again.out
    found = run_cli("kb", "search", "bgp")
    assert found.code == 0 and "1 results" in found.out and "/postmortems/1" in found.out


def test_postmortem_export_then_import(
    run_cli: RunCli, new_uow: UowFactory, tmp_path: Path
) -> None:
    written(new_uow, "DNS outage", "Resolvers overloaded.")
    path = tmp_path / "pm.md"
    assert run_cli("postmortem", "export", "1", "-o", str(path)).code == 0
    assert path.read_text().startswith("# Postmortem: DNS outage")
    imported = run_cli("postmortem", "import", str(path))
    assert imported.code == 0 and "imported postmortem 2: DNS outage" in imported.out


def test_actions_export_and_sync(run_cli: RunCli, new_uow: UowFactory, tmp_path: Path) -> None:
    actions.create_action(new_uow(), SYSTEM, data=ActionCreate(title="Canary", success_metric="m"))
    exported = run_cli("actions", "export", "--format", "jira-json", "--project", "OPS")
    assert json.loads(exported.out)["issueUpdates"][0]["fields"]["summary"] == "Canary"
    assert run_cli("actions", "export", "--format", "jira-csv").out.startswith("Summary,")
    assert (
        json.loads(run_cli("actions", "export", "--format", "github").out)[0]["title"] == "Canary"
    )
    status = tmp_path / "jira.csv"
    status.write_text("Issue key,Labels,Status\nOPS-3,warroom-action-1,In Progress\n")
    synced = run_cli("actions", "sync", str(status))
    assert synced.code == 0 and "1 updated" in synced.out


def test_adr_export_writes_madr_files(run_cli: RunCli, new_uow: UowFactory, tmp_path: Path) -> None:
    decisions.create_adr(new_uow(), SYSTEM, data=AdrCreate(title="Use canaries"))
    target = tmp_path / "docs" / "decisions"
    result = run_cli("adr", "export", str(target))
    assert result.code == 0 and "wrote 1 decision records" in result.out
    assert (target / "0001-use-canaries.md").read_text().startswith("---\nstatus: proposed")


def test_chaos_experiment_for_an_unknown_class_fails_clearly(run_cli: RunCli) -> None:
    result = run_cli("chaos", "experiment", "c42")
    assert result.code == 1 and "problem class c42" in result.err
