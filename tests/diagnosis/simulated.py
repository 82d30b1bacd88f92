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
Row = tuple[float, str]


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


def _front(t: float, level: str, message: str) -> str:
    return json.dumps({"ts": _iso(t), "level": level, "msg": message})


def _request(rng: random.Random, i: int, t: float, failing: bool) -> tuple[list[Row], list[Row]]:
    rid = f"req-{rng.getrandbits(48):012x}"
    arrive = t + rng.uniform(0.004, 0.02)
    done = arrive + rng.uniform(0.01, 0.2)
    back_at = done + rng.uniform(0.004, 0.02)
    thread = f"[http-{i % 8}]"
    if failing:
        result = f"ERROR {thread} com.shop.db.Pool: connection pool exhausted request_id={rid}"
    else:
        took = int((done - arrive) * 1000)
        result = f"INFO {thread} com.shop.CartHandler: completed request_id={rid} in {took} ms"
    front = [
        (t, _front(t, "info", f"request started request_id={rid} path=/cart")),
        (back_at, _front(back_at, "error" if failing else "info",
                         f"request finished request_id={rid} status={503 if failing else 200}")),
    ]  # fmt: skip
    back = [
        (arrive, f"INFO {thread} com.shop.CartHandler: handling request_id={rid}"),
        (done, result),
    ]
    return front, back


def simulate(
    directory: Path, requests: int = 200, backend_offset_s: float = -600.0, seed: int = 7
) -> Simulation:
    """Write ``frontend.log`` and ``backend.log`` under ``directory``."""
    rng = random.Random(seed)
    front: list[Row] = []
    back: list[Row] = []
    onset = START + requests * 2.0 * 0.7
    for i in range(requests):
        t = START + i * 2.0 + rng.uniform(0, 1)
        more_front, more_back = _request(rng, i, t, failing=t >= onset)
        front += more_front
        back += more_back
    sim = Simulation(directory / "frontend.log", directory / "backend.log", onset=onset)
    _write(sim.frontend, "frontend.log", front, sim.truth, None)
    _write(sim.backend, "backend.log", back, sim.truth, backend_offset_s)
    return sim


def _write(
    path: Path, name: str, rows: list[Row], truth: dict[tuple[str, int], float], shift: float | None
) -> None:
    """Write rows in true-time order; ``shift`` set means a log4j prefix on a skewed clock."""
    rows.sort()
    lines = []
    for number, (t, text) in enumerate(rows, start=1):
        truth[(name, number)] = t
        lines.append(text if shift is None else f"{_log4j(t + shift)} {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
