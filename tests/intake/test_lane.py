"""The intake lane and the intake routes answer alike: same bodies, problems and headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from tests.conftest import run_coroutine
from tests.intake.conftest import am_alert, am_notification
from warroom.http.headers import SECURITY_HEADERS
from warroom.intake import service
from warroom.intake.receivers import ALERTMANAGER, IntakeLane, writer_of
from warroom.intake.schemas import AcceptedAlert, DeliveryResult, IntegrationCreated

AM = "/api/v1/intake/alertmanager"
PD = "/api/v1/intake/pagerduty/v2/enqueue"


def streamed(body: bytes) -> Iterator[bytes]:
    """A body without Content-Length (sent chunked), which the lane leaves to the routes."""
    yield body[:10]
    yield body[10:]


def post_both_ways(
    client: TestClient, path: str, bodies: tuple[bytes, bytes], headers: dict[str, str]
) -> tuple[Any, Any]:
    """The first body with a declared length (the lane), the second streamed (the routes)."""
    headers = {"content-type": "application/json", **headers}
    by_lane = client.post(path, content=bodies[0], headers=headers)
    by_route = client.post(path, content=streamed(bodies[1]), headers=headers)
    return by_lane, by_route


def notification(number: int) -> bytes:
    return json.dumps(am_notification(am_alert(f"Lane{number}", fingerprint=f"l{number}"))).encode()


def without_ids(answer: dict[str, Any]) -> dict[str, Any]:
    alerts = [{**a, "alert_id": None, "dedup_key": None} for a in answer.get("alerts", [])]
    return {**answer, "alerts": alerts}


def test_an_accepted_delivery_is_answered_alike_with_the_security_headers(
    intake_client: TestClient, make_integration: Callable[..., IntegrationCreated]
) -> None:
    credential = make_integration("alertmanager").credential
    headers = {"Authorization": f"Bearer {credential}"}
    by_lane, by_route = post_both_ways(
        intake_client, AM, (notification(1), notification(2)), headers
    )
    assert by_lane.status_code == by_route.status_code == 200
    assert [a["outcome"] for a in by_lane.json()["alerts"]] == ["created"]
    assert without_ids(by_lane.json()) == without_ids(by_route.json())
    for response in (by_lane, by_route):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert response.headers["content-type"] == "application/json"


def test_refusals_are_the_same_problems_either_way(
    intake_client: TestClient, make_integration: Callable[..., IntegrationCreated]
) -> None:
    make_integration("alertmanager")
    bodies = (notification(1), notification(1))
    by_lane, by_route = post_both_ways(intake_client, AM, bodies, {"Authorization": "Bearer no"})
    assert by_lane.status_code == by_route.status_code == 401
    assert by_lane.json() == by_route.json()
    assert by_lane.headers["www-authenticate"] == by_route.headers["www-authenticate"]
    assert by_lane.headers["content-type"] == "application/problem+json"

    pagerduty = make_integration("pagerduty").credential
    bad_event = json.dumps({"routing_key": pagerduty, "event_action": "explode"}).encode()
    by_lane, by_route = post_both_ways(intake_client, PD, (bad_event, bad_event), {})
    assert by_lane.status_code == by_route.status_code == 422
    assert by_lane.json() == by_route.json()


def test_an_unexpected_failure_is_a_500_problem(
    intake_client: TestClient,
    make_integration: Callable[..., IntegrationCreated],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credential = make_integration("alertmanager").credential

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(service, "receive_batch", broken)
    response = intake_client.post(
        AM, content=notification(1), headers={"Authorization": f"Bearer {credential}"}
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "fire" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_lane_takes_declared_bodies_and_passes_on_the_rest(
    app: FastAPI, make_integration: Callable[..., IntegrationCreated]
) -> None:
    credential = make_integration("alertmanager").credential
    passed_on: list[str] = []

    async def routes(scope: Scope, _receive: Receive, _send: Send) -> None:
        passed_on.append(f"{scope['method']} {scope['path']}")

    lane = IntakeLane(routes, max_body_bytes=1000)

    async def call(path: str, body: bytes, length: bool, method: str = "POST") -> list[Message]:
        headers = [(b"authorization", f"Bearer {credential}".encode())]
        if length:
            headers.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "method": method, "path": path, "headers": headers, "app": app}
        scope["query_string"] = b""
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await lane(scope, receive, send)
        return sent

    async def scenario() -> list[list[Message]]:
        try:
            return [
                await call(AM, notification(1), length=True),
                await call(AM, notification(2), length=False),
                await call(AM, notification(3) + b" " * 1000, length=True),
                await call(AM, b"", length=True, method="GET"),
                await call("/api/v1/intake/opsgenie/v2/alerts/x/close", b"{}", length=True),
            ]
        finally:
            await asyncio.to_thread(writer_of(app).close)

    answered, *others = run_coroutine(scenario())
    assert answered[0]["status"] == 200
    assert json.loads(answered[1]["body"])["alerts"][0]["outcome"] == "created"
    assert others == [[], [], [], []]
    assert passed_on == [
        f"POST {AM}",
        f"POST {AM}",
        f"GET {AM}",
        "POST /api/v1/intake/opsgenie/v2/alerts/x/close",
    ]


def test_answered_alerts_carry_every_field_of_the_outcome() -> None:
    """The answer's alerts are built by hand for speed: they must stay the model's dump."""
    result = DeliveryResult(
        alerts=[
            AcceptedAlert(alert_id=7, dedup_key="k", outcome="repeated", incident_id=3),
            AcceptedAlert(alert_id=None, dedup_key="gone", outcome="ignored"),
        ]
    )

    answered = ALERTMANAGER.answer(result, 0.001)

    assert answered["alerts"] == [alert.model_dump(mode="json") for alert in result.alerts]
