"""The root `warroom` command: version, usage errors, and the standalone analyzer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.diagnosis.simulated import simulate
from warroom.cli import run


def test_version_prints_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("warroom ")


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["frobnicate"]) == 2
    assert "frobnicate" in capsys.readouterr().err


def test_analyze_runs_from_the_root_command_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = simulate(tmp_path, requests=40)
    code = run(["analyze", str(sim.frontend), str(sim.backend), "--format", "json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    backend = next(s for s in report["sources"] if s["name"] == sim.backend.name)
    assert abs(backend["offset_s"] + 600) < 0.05
    assert not (tmp_path / "warroom.db").exists()
