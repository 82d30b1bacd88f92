"""The intake endpoints over the in-process client: formats, credentials, errors, dead letters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.intake.conftest import am_alert, am_notification
from warroom.intake.schemas import IntegrationCreated

AM = "/api/v1/intake/alertmanager"


def bearer(created: IntegrationCreated) -> dict[str, str]:
    return {"Authorization": f"Bearer {created.credential}"}


def test_an_alertmanager_notification_opens_an_incident(
    intake_client: TestClient, make_integration: Callable[..., IntegrationCreated]
) -> None:
    integration = make_integration("alertmanager")
    response = intake_client.post(AM, json=am_notification(am_alert()), headers=bearer(integration))
    assert response.status_code == 200, response.text
    [accepted] = response.json()["alerts"]
    assert accepted["outcome"] == "created"
    assert accepted["incident_id"] is not None


def test_a_wrong_credential_is_refused_with_401(
    intake_client: TestClient, make_integration: Callable[..., Any]
) -> None:
    make_integration("alertmanager")
    response = intake_client.post(
        AM, json=am_notification(am_alert()), headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
