"""Chaos Toolkit experiments drafted from recurring problem classes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from warroom.engines.chaos import (
    FAULTS_BY_FACTOR,
    RecurringProblem,
    ServiceIndicators,
    build_experiment,
)

_PIPES: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}

CHECKOUT = ServiceIndicators(
    service="Checkout API",
    health_url="http://checkout.internal:8080/healthz",
    latency_p99_ms=300.0,
    error_rate_max=0.02,
)
DEPENDENCY_CLASS = RecurringProblem(
    title="Database restarts take checkout down",
    summary="Three times a PostgreSQL restart left checkout returning errors for minutes.",
    factors=("dependency", "detection"),
    incidents=("INC-12", "INC-40", "INC-77"),
    dependency="postgresql",
)


def _activity_names(activities: list[dict[str, Any]]) -> list[str]:
    return [a["name"] for a in activities]


def test_experiment_has_the_chaos_toolkit_sections() -> None:
    experiment = build_experiment(DEPENDENCY_CLASS, CHECKOUT)
    assert experiment["title"].startswith("Database restarts take checkout down")
    assert "INC-40" in experiment["description"]
    assert experiment["tags"] == ["warroom", "checkout-api", "dependency", "detection"]
    assert experiment["method"] and experiment["rollbacks"]
    json.dumps(experiment)  # must be JSON-serialisable as it is


def test_steady_state_probes_come_from_the_service_indicators() -> None:
    probes = build_experiment(DEPENDENCY_CLASS, CHECKOUT)["steady-state-hypothesis"]["probes"]
    health, latency, errors = probes
    assert health["provider"] == {"type": "http", "url": CHECKOUT.health_url, "timeout": 5}
    assert health["tolerance"] == 200
    assert latency["tolerance"] == {"type": "range", "range": [0, 300.0], "target": "stdout"}
    assert errors["tolerance"]["range"] == [0, 0.02]
    assert CHECKOUT.health_url in latency["provider"]["arguments"]


def test_error_rate_probe_uses_prometheus_when_the_service_has_it() -> None:
    indicators = ServiceIndicators(
        "checkout",
        "http://checkout/healthz",
        prometheus_url="http://prometheus:9090",
        error_rate_query="sum(rate(errors[5m])) / sum(rate(requests[5m]))",
    )
    probes = build_experiment(DEPENDENCY_CLASS, indicators)["steady-state-hypothesis"]["probes"]
    assert probes[2]["provider"]["arguments"][-2:] == [
        "http://prometheus:9090",
        "sum(rate(errors[5m])) / sum(rate(requests[5m]))",
    ]


def test_dependency_class_stops_the_dependency_and_starts_it_again() -> None:
    experiment = build_experiment(DEPENDENCY_CLASS, CHECKOUT)
    assert _activity_names(experiment["method"]) == ["stop-dependency-postgresql"]
    assert experiment["configuration"]["fault_command"] == "systemctl stop postgresql"
    assert experiment["configuration"]["rollback_command"] == "systemctl start postgresql"
    assert experiment["method"][0]["provider"]["arguments"] == ["-c", "${fault_command}"]


@pytest.mark.parametrize(
    ("factor", "fault"),
    [
        ("capacity", "load"),
        ("change", "config-change"),
        ("time", "clock-step"),
        ("hardware", "kill-instance"),
        ("data", "malformed-input"),
        ("process", "network-latency"),
    ],
)
def test_the_first_factor_with_a_fault_chooses_the_method(factor: str, fault: str) -> None:
    problem = RecurringProblem("Class", "It recurs.", ("human_factors", factor))
    experiment = build_experiment(problem, CHECKOUT)
    assert experiment["extensions"][0]["fault"] == fault


def test_invalid_indicators_are_rejected() -> None:
    with pytest.raises(ValueError, match="health_url"):
        ServiceIndicators("checkout", "checkout/healthz")
    with pytest.raises(ValueError, match="error rate"):
        ServiceIndicators("checkout", "http://checkout/healthz", error_rate_max=2.0)


def _experiments() -> list[tuple[str, dict[str, Any]]]:
    with_prometheus = ServiceIndicators(
        "checkout", CHECKOUT.health_url, prometheus_url="http://prom:9090", error_rate_query="1"
    )
    built = [
        (
            factor,
            build_experiment(
                RecurringProblem(f"{factor} class", "It recurs.", (factor,)), CHECKOUT
            ),
        )
        for factor in [*FAULTS_BY_FACTOR, "process"]
    ]
    built.append(("prometheus", build_experiment(DEPENDENCY_CLASS, with_prometheus)))
    return built


def _chaos_command() -> str:
    chaos = shutil.which("chaos")
    if chaos is None:
        pytest.skip("the `chaos` command (pip install chaostoolkit) is not installed")
    return chaos


def test_chaos_validate_accepts_every_generated_experiment(tmp_path: Path) -> None:
    chaos = _chaos_command()
    # one `chaos validate` process per experiment, started together to keep the test short
    running = []
    for name, experiment in _experiments():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(experiment, indent=2), encoding="utf-8")
        command = [chaos, "--no-version-check", "--no-log-file", "validate", str(path)]
        running.append((name, subprocess.Popen(command, cwd=tmp_path, **_PIPES)))
    for name, process in running:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name}: {stdout}{stderr}"
        assert "experiment syntax and semantic look valid" in stdout + stderr


def test_chaos_validate_rejects_a_broken_experiment(tmp_path: Path) -> None:
    # guards the test above: validation must be able to fail
    chaos = _chaos_command()
    experiment = build_experiment(DEPENDENCY_CLASS, CHECKOUT)
    experiment["steady-state-hypothesis"]["probes"][1]["tolerance"]["range"] = [0]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(experiment), encoding="utf-8")
    result = subprocess.run(
        [chaos, "--no-version-check", "--no-log-file", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
