"""A real Prometheus Alertmanager delivers to Warroom: an incident opens, groups and resolves.

Alertmanager (Debian's `prometheus-alertmanager`) runs on a free loopback port with a webhook
receiver pointing at Warroom served by uvicorn over the test database, authenticating with
`http_config.authorization`. Alerts are posted to its v2 API; its short group_wait and
group_interval make it notify within seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from tests.intake.conftest import SYSTEM, LiveServer, free_port
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.incidents import queries as incident_queries
from warroom.intake import queries
from warroom.intake.schemas import AlertOut, IntegrationCreated

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="prometheus-alertmanager is not installed (apt install it to run)"
)


def alertmanager_config(webhook: str, credential: str) -> dict[str, Any]:
    return {
        "global": {"resolve_timeout": "10s"},
        "route": {
            "receiver": "warroom",
            "group_by": ["service"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "warroom",
                "webhook_configs": [
                    {
                        "url": webhook,
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials": credential}
                        },
                    }
                ],
            }
        ],
    }


@pytest.fixture
def alertmanager(
    app: FastAPI,
    make_integration: Callable[..., IntegrationCreated],
    tmp_path: Path,
) -> Iterator[str]:
    """Warroom on uvicorn plus an Alertmanager whose webhook points at it; yields AM's URL."""
    assert BINARY is not None
    credential = make_integration("alertmanager", name="alertmanager").credential
    with LiveServer(app) as warroom:
        config = tmp_path / "alertmanager.yml"
        webhook = f"{warroom.url}/api/v1/intake/alertmanager"
        config.write_text(yaml.safe_dump(alertmanager_config(webhook, credential)))
        port = free_port()
        process = subprocess.Popen(
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alertmanager exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("alertmanager did not become ready within 20 s")


def post_alerts(url: str, *names: str, resolved: bool = False) -> None:
    now = utcnow()
    alerts = [
        {
            "labels": {"alertname": name, "service": "payments", "severity": "critical"},
            "annotations": {"summary": f"{name} on payments"},
            "startsAt": (now - timedelta(minutes=2)).isoformat(),
            "endsAt": (now if resolved else now + timedelta(hours=1)).isoformat(),
            "generatorURL": "http://prometheus.example/graph",
        }
        for name in names
    ]
    response = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=10)
    assert response.status_code == 200, response.text


def wait_for(
    db: Database, condition: Callable[[list[AlertOut]], bool], timeout: float = 30
) -> list[AlertOut]:
    deadline = time.monotonic() + timeout
    while True:
        alerts = queries.list_alerts(db, SYSTEM).items
        if condition(alerts) or time.monotonic() > deadline:
            return alerts
        time.sleep(0.2)


@pytest.mark.serial
def test_a_real_alertmanager_opens_groups_and_resolves_an_incident(
    alertmanager: str, db: Database
) -> None:
    post_alerts(alertmanager, "PaymentsLatencyHigh", "PaymentsErrorRate")
    alerts = wait_for(db, lambda items: len(items) == 2 and all(a.incident_id for a in items))
    assert len(alerts) == 2, alerts
    [incident_id] = {a.incident_id for a in alerts}
    assert incident_id is not None
    incident = incident_queries.get_incident(db, SYSTEM, incident_id=incident_id)
    assert incident.severity == "SEV2"
    assert "payments" in incident.title

    post_alerts(alertmanager, "PaymentsLatencyHigh", "PaymentsErrorRate", resolved=True)
    alerts = wait_for(db, lambda items: all(a.status == "resolved" for a in items))
    assert [a.status for a in alerts] == ["resolved", "resolved"]
    timeline = incident_queries.get_timeline(db, SYSTEM, incident_id=incident_id)
    assert any(e.text.startswith("All 2 alert(s) of this incident have resolved") for e in timeline)
    assert len(incident_queries.list_incidents(db, SYSTEM).items) == 1
