"""End to end over real sockets: PagerDuty's own client, and concurrent deliveries.

The concurrency tests send N deliveries at once from N threads to uvicorn serving the test
database (SQLite, or PostgreSQL under WARROOM_TEST_POSTGRES_URL) and check the database-side
guarantees: one alert per key, one incident per group.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pagerduty
import pytest
from fastapi import FastAPI

from tests.intake.conftest import (
    SYSTEM,
    LiveServer,
    am_alert,
    am_notification,
    self_signed_certificate,
)
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.incidents import queries as incident_queries
from warroom.intake import queries
from warroom.intake.schemas import IntegrationCreated

CONCURRENCY = 16
MakeIntegration = Callable[..., IntegrationCreated]


def test_pagerduty_official_client_triggers_acknowledges_resolves_and_sends_changes(
    app: FastAPI, make_integration: MakeIntegration, db: Database, tmp_path: Path
) -> None:
    routing_key = make_integration("pagerduty", default_service="checkout").credential
    cert, key = self_signed_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    with LiveServer(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        client = pagerduty.EventsApiV2Client(
            routing_key, base_url=f"{server.url}/api/v1/intake/pagerduty", verify=trust
        )
        key_one = client.trigger("Checkout error rate above 5%", "checkout-7f9c", "pd-1")
        generated = client.trigger("Payment latency p99 > 2s", "payments-1", severity="error")
        client.acknowledge("pd-1")
        client.resolve("pd-1")
        client.submit(
            "Deploy checkout v4.2.0",
            source="ci",
            custom_details={"kind": "code", "commit": "f00d"},
            timestamp=utcnow().isoformat(),
        )
        client.close()
    assert key_one == "pd-1" and generated and generated != "pd-1"
    alerts = {a.dedup_key: a for a in queries.list_alerts(db, SYSTEM).items}
    assert alerts["pd-1"].status == "resolved"
    assert alerts[generated].status == "firing" and alerts[generated].severity == "SEV3"
    changes = incident_queries.recent_changes(
        db, SYSTEM, services=["checkout"], since=utcnow().replace(year=2020)
    )
    assert [c.summary for c in changes] == ["Deploy checkout v4.2.0"]


def _post_all_at_once(
    url: str, bodies: list[dict[str, object]], headers: dict[str, str]
) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def send(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            statuses[index] = client.post(url, json=bodies[index], headers=headers).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.serial
def test_concurrent_deliveries_of_one_key_make_one_alert_and_one_incident(
    app: FastAPI, make_integration: MakeIntegration, db: Database
) -> None:
    credential = make_integration("alertmanager").credential
    body = am_notification(am_alert("HighLatency", fingerprint="same-key"))
    with LiveServer(app) as server:
        statuses = _post_all_at_once(
            f"{server.url}/api/v1/intake/alertmanager",
            [body] * CONCURRENCY,
            {"Authorization": f"Bearer {credential}"},
        )
    assert statuses == [200] * CONCURRENCY
    [alert] = queries.list_alerts(db, SYSTEM).items
    assert alert.occurrences == CONCURRENCY
    assert alert.incident_id is not None
    assert len(incident_queries.list_incidents(db, SYSTEM).items) == 1


@pytest.mark.serial
def test_concurrent_alerts_of_one_service_open_one_incident(
    app: FastAPI, make_integration: MakeIntegration, db: Database
) -> None:
    credential = make_integration("alertmanager").credential
    bodies = [
        am_notification(am_alert(f"Alert{i}", fingerprint=f"key-{i}")) for i in range(CONCURRENCY)
    ]
    with LiveServer(app) as server:
        statuses = _post_all_at_once(
            f"{server.url}/api/v1/intake/alertmanager",
            bodies,
            {"Authorization": f"Bearer {credential}"},
        )
    assert statuses == [200] * CONCURRENCY
    alerts = queries.list_alerts(db, SYSTEM).items
    assert len(alerts) == CONCURRENCY
    assert len({a.incident_id for a in alerts}) == 1
    assert len(incident_queries.list_incidents(db, SYSTEM).items) == 1
