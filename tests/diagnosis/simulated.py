"""A tiny simulated two-host system for the acceptance tests (no shared data needed).

``frontend`` (JSON lines) calls ``backend`` (log4j layout) for every request; the backend host's
clock is shifted by ``backend_offset_s``.  After 70 % of the run the backend starts failing.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

START = datetime(2026, 11, 26, 21, 0, 0, tzinfo=UTC).timestamp()


@dataclass
class Simulation:
    """Written files and the true time of every (source, line)."""

    frontend: Path
    backend: Path
    truth: dict[tuple[str, int], float] = field(default_factory=dict)
    onset: float = 0.0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _log4j(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


def simulate(
    directory: Path, requests: int = 200, backend_offset_s: float = -600.0, seed: int = 7
) -> Simulation:
    """Write ``frontend.log`` and ``backend.log`` under ``directory``."""
    rng = random.Random(seed)
    front: list[tuple[float, str]] = []
    back: list[tuple[float, str]] = []
    onset = START + requests * 2.0 * 0.7
    for i in range(requests):
        t = START + i * 2.0 + rng.uniform(0, 1)
        rid = f"req-{rng.getrandbits(48):012x}"
        failing = t >= onset
        arrive = t + rng.uniform(0.004, 0.02)
        done = arrive + rng.uniform(0.01, 0.2)
        back_at = done + rng.uniform(0.004, 0.02)
        front.append((t, json.dumps({"ts": _iso(t), "level": "info", "msg": f"request started request_id={rid} path=/cart"})))  # noqa: E501
        back.append((arrive, f"INFO [http-{i % 8}] com.shop.CartHandler: handling request_id={rid}"))  # noqa: E501
        if failing:
            back.append((done, f"ERROR [http-{i % 8}] com.shop.db.Pool: connection pool exhausted request_id={rid}"))  # noqa: E501
        else:
            back.append((done, f"INFO [http-{i % 8}] com.shop.CartHandler: completed request_id={rid} in {int((done - arrive) * 1000)} ms"))  # noqa: E501
        status = 503 if failing else 200
        front.append((back_at, json.dumps({"ts": _iso(back_at), "level": "error" if failing else "info", "msg": f"request finished request_id={rid} status={status}"})))  # noqa: E501
    sim = Simulation(directory / "frontend.log", directory / "backend.log", onset=onset)
    _write(sim.frontend, "frontend.log", front, 0.0, sim.truth, lambda t, text: text)
    _write(sim.backend, "backend.log", back, backend_offset_s, sim.truth,
           lambda t, text: f"{_log4j(t)} {text}")  # fmt: skip
    return sim


def _write(path, name, rows, offset, truth, fmt):  # type: ignore[no-untyped-def]
    rows.sort()
    lines = []
    for number, (t, text) in enumerate(rows, start=1):
        truth[(name, number)] = t
        lines.append(fmt(t + offset, text))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
