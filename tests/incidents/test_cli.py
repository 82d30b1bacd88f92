"""`warroom incident …` against the test database."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import CliResult

RunCli = Callable[..., CliResult]


def test_declare_list_show_update_and_resolve(run_cli: RunCli) -> None:
    declared = run_cli("incident", "declare", "Checkout errors", "--severity", "SEV2")
    assert declared.code == 0 and "declared incident #1" in declared.out
    listed = run_cli("incident", "list", "--active")
    assert "Checkout errors" in listed.out and "SEV2" in listed.out
    updated = run_cli(
        "incident", "update", "1", "--status", "investigating", "--note", "looking", "--eta", "1h"
    )
    assert updated.code == 0, updated.err
    shown = run_cli("incident", "show", "1")
    assert "investigating" in shown.out and "Status triage → investigating: looking" in shown.out
    resolved = run_cli("incident", "resolve", "1", "--note", "fixed")
    assert resolved.code == 0 and "resolved incident #1" in resolved.out
    markdown = run_cli("incident", "show", "1", "--markdown")
    assert markdown.out.startswith("# Incident #1: Checkout errors")


def test_an_invalid_transition_exits_1_naming_the_allowed_ones(run_cli: RunCli) -> None:
    run_cli("incident", "declare", "Search slow")
    result = run_cli("incident", "update", "1", "--status", "closed")
    assert result.code == 1
    assert "allowed: investigating" in result.err


def test_showing_a_missing_incident_fails_clearly(run_cli: RunCli) -> None:
    result = run_cli("incident", "show", "99")
    assert result.code == 1 and "incident 99" in result.err
