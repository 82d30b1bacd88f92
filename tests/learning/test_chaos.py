"""A recurring class becomes a Chaos Toolkit experiment that `chaos validate` accepts.

Needs the `chaostoolkit` package (the `chaos` command); skipped with a reason without it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.learning.helpers import UowFactory, seed_catalog, written

RunCli = Callable[..., CliResult]
CHAOS = shutil.which("chaos")


@pytest.mark.skipif(
    CHAOS is None, reason="the `chaos` command (pip install chaostoolkit) is absent"
)
def test_the_experiment_from_a_recurring_class_passes_chaos_validate(
    run_cli: RunCli, new_uow: UowFactory, tmp_path: Path
) -> None:
    seed_catalog(new_uow)
    for service in ("auth", "payments", "search"):
        written(
            new_uow,
            f"{service}: upstream dependency timed out",
            f"The {service} service timed out calling its upstream dependency; retries piled up.",
            services=[service],
            factors=["dependency"],
        )
    classes = run_cli("chaos", "classes")
    class_id = classes.out.split()[0]
    target = tmp_path / "experiment.json"
    made = run_cli("chaos", "experiment", class_id, "--service", "payments", "-o", str(target))
    assert made.code == 0, made.err
    assert CHAOS is not None
    checked = subprocess.run(
        [CHAOS, "--no-log-file", "validate", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "experiment syntax and semantic look valid" in (checked.stdout + checked.stderr)
