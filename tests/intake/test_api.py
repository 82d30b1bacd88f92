"""The intake endpoints over the in-process client: formats, credentials, errors, dead letters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Person, csrf_from
from tests.intake.conftest import SYSTEM, am_alert, am_notification
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.incidents import queries as incident_queries
from warroom.intake import queries
from warroom.intake.schemas import IntegrationCreated

AM = "/api/v1/intake/alertmanager"
PD = "/api/v1/intake/pagerduty/v2/enqueue"
PD_CHANGE = "/api/v1/intake/pagerduty/v2/change/enqueue"
OG = "/api/v1/intake/opsgenie/v2/alerts"
GENERIC = "/api/v1/intake/generic"
MakeIntegration = Callable[..., IntegrationCreated]


def bearer(created: IntegrationCreated) -> dict[str, str]:
    return {"Authorization": f"Bearer {created.credential}"}


def pd_trigger(key: str, dedup_key: str | None = None, **payload: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {
            "summary": "Checkout error rate above 5%",
            "source": "checkout-7f9c",
            "severity": "critical",
            "component": "checkout",
            **payload,
        },
    }
    if dedup_key:
        event["dedup_key"] = dedup_key
    return event


def test_an_alertmanager_notification_opens_an_incident(
    intake_client: TestClient, make_integration: MakeIntegration
) -> None:
    integration = make_integration("alertmanager")
    response = intake_client.post(AM, json=am_notification(am_alert()), headers=bearer(integration))
    assert response.status_code == 200, response.text
    [accepted] = response.json()["alerts"]
    assert accepted["outcome"] == "created"
    assert accepted["incident_id"] is not None


def test_a_wrong_credential_is_refused_with_401(
    intake_client: TestClient, make_integration: MakeIntegration
) -> None:
    make_integration("alertmanager")
    response = intake_client.post(
        AM, json=am_notification(am_alert()), headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert intake_client.post(AM, json=am_notification(am_alert())).status_code == 401


def test_malformed_json_is_a_400_problem_and_kept(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    integration = make_integration("alertmanager")
    response = intake_client.post(AM, content=b'{"version": "4", ', headers=bearer(integration))
    assert response.status_code == 400
    assert response.json()["type"].endswith("/malformed-request")
    [letter] = queries.list_dead_letters(db, SYSTEM)
    assert letter.reason.startswith("the body is not valid JSON")


def test_an_invalid_payload_is_a_422_problem_naming_the_field(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    integration = make_integration("alertmanager")
    body = am_notification(am_alert())
    body["version"] = "3"
    response = intake_client.post(AM, json=body, headers=bearer(integration))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["version"]
    assert len(queries.list_dead_letters(db, SYSTEM)) == 1


def test_a_body_over_the_integration_limit_is_413(
    intake_client: TestClient, make_integration: MakeIntegration
) -> None:
    integration = make_integration("alertmanager", max_body_bytes=1024)
    alerts = [am_alert(f"A{i}", fingerprint=f"f{i}") for i in range(10)]
    response = intake_client.post(AM, json=am_notification(*alerts), headers=bearer(integration))
    assert response.status_code == 413


def test_a_body_over_the_server_limit_is_413(
    intake_client: TestClient, make_integration: MakeIntegration
) -> None:
    integration = make_integration("alertmanager")
    body = b"x" * (1_048_576 + 1)
    response = intake_client.post(AM, content=body, headers=bearer(integration))
    assert response.status_code == 413


def test_pagerduty_triggers_without_a_key_always_open_new_alerts(
    intake_client: TestClient, make_integration: MakeIntegration
) -> None:
    key = make_integration("pagerduty").credential
    first = intake_client.post(PD, json=pd_trigger(key))
    second = intake_client.post(PD, json=pd_trigger(key))
    assert first.status_code == second.status_code == 202
    assert first.json()["status"] == "success"
    assert first.json()["message"] == "Event processed"
    assert first.json()["dedup_key"] != second.json()["dedup_key"]


def test_pagerduty_acknowledge_and_resolve_apply_to_the_open_alert(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    key = make_integration("pagerduty").credential
    intake_client.post(PD, json=pd_trigger(key, "checkout-errors"))
    for action in ("acknowledge", "resolve"):
        event = {"routing_key": key, "event_action": action, "dedup_key": "checkout-errors"}
        response = intake_client.post(PD, json=event)
        assert response.status_code == 202
        assert response.json()["dedup_key"] == "checkout-errors"
    [alert] = queries.list_alerts(db, SYSTEM).items
    assert alert.status == "resolved"
    intake_client.post(PD, json=pd_trigger(key, "checkout-errors"))
    newest, older = queries.list_alerts(db, SYSTEM).items
    assert newest.dedup_key == older.dedup_key and newest.id != older.id
    assert newest.status == "firing"


def test_a_pagerduty_event_without_a_routing_key_is_kept_unattributed(
    intake_client: TestClient, db: Database
) -> None:
    response = intake_client.post(PD, content=b"garbage")
    assert response.status_code == 400
    [letter] = queries.list_dead_letters(db, SYSTEM)
    assert letter.integration_id is None


def test_a_wrong_routing_key_is_401(
    intake_client: TestClient, make_integration: MakeIntegration
) -> None:
    make_integration("pagerduty")
    assert intake_client.post(PD, json=pd_trigger("not-a-key")).status_code == 401


def test_an_invalid_pagerduty_event_is_kept_for_its_integration(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    created = make_integration("pagerduty")
    event = {"routing_key": created.credential, "event_action": "resolve"}
    response = intake_client.post(PD, json=event)
    assert response.status_code == 422
    [letter] = queries.list_dead_letters(db, SYSTEM)
    assert letter.integration_id == created.id


def test_pagerduty_change_events_are_stored_as_changes(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    key = make_integration("pagerduty", default_service="payments").credential
    event = {
        "routing_key": key,
        "payload": {
            "summary": "Deploy payments v2.3.1",
            "source": "ci",
            "timestamp": "2026-11-26T21:55:00Z",
            "custom_details": {"kind": "code", "commit": "abc123"},
        },
        "links": [{"href": "https://ci.example/123", "text": "build"}],
    }
    response = intake_client.post(PD_CHANGE, json=event)
    assert response.status_code == 202, response.text
    since = utcnow() - timedelta(days=30)
    [change] = incident_queries.recent_changes(db, SYSTEM, services=["payments"], since=since)
    assert change.summary == "Deploy payments v2.3.1"
    assert change.details["commit"] == "abc123"


def test_opsgenie_create_dedups_by_alias_and_closes_by_alias(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    created = make_integration("opsgenie")
    headers = {"Authorization": f"GenieKey {created.credential}"}
    alert = {
        "message": "Ledger replication lag",
        "alias": "ledger-lag",
        "priority": "P1",
        "tags": ["service:ledger", "db"],
        "details": {"lag_seconds": "42"},
        "entity": "ledger-db-1",
        "source": "zabbix",
    }
    first = intake_client.post(OG, json=alert, headers=headers)
    intake_client.post(OG, json=alert, headers=headers)
    assert first.status_code == 202
    assert first.json()["result"] == "Request will be processed"
    [stored] = queries.list_alerts(db, SYSTEM).items
    assert (stored.occurrences, stored.severity, stored.service) == (2, "SEV1", "ledger")
    close = intake_client.post(
        f"{OG}/ledger-lag/close", params={"identifierType": "alias"}, json={}, headers=headers
    )
    assert close.status_code == 202
    assert queries.get_alert(db, SYSTEM, alert_id=stored.id).status == "resolved"


def test_a_generic_webhook_is_read_through_its_mapping(
    intake_client: TestClient, make_integration: MakeIntegration, db: Database
) -> None:
    mapping = {
        "items": "events",
        "title": "name",
        "severity": "level",
        "service": "tags.service",
        "dedup_key": "id",
        "status": "state",
    }
    created = make_integration("generic", mapping=mapping)
    body = {
        "events": [
            {
                "id": "e1",
                "name": "Queue backlog",
                "level": "warning",
                "state": "alerting",
                "tags": {"service": "event-bus"},
            },
            {
                "id": "e2",
                "name": "Consumer lag",
                "level": "error",
                "state": "alerting",
                "tags": {"service": "event-bus"},
            },
        ]
    }
    response = intake_client.post(GENERIC, json=body, headers=bearer(created))
    assert response.status_code == 202, response.text
    outcomes = response.json()["alerts"]
    assert [a["outcome"] for a in outcomes] == ["created", "created"]
    assert outcomes[0]["incident_id"] == outcomes[1]["incident_id"]
    resolve = {"events": [{"id": "e1", "name": "Queue backlog", "state": "ok"}]}
    again = intake_client.post(GENERIC, json=resolve, headers=bearer(created))
    assert again.json()["alerts"][0]["outcome"] == "resolved"
    severities = {a.title: a.severity for a in queries.list_alerts(db, SYSTEM).items}
    assert severities == {"Queue backlog": "SEV4", "Consumer lag": "SEV3"}


def test_a_dead_letter_replays_after_the_mapping_is_fixed(
    intake_client: TestClient,
    make_integration: MakeIntegration,
    api_as: Callable[[Person], TestClient],
    admin: Person,
) -> None:
    created = make_integration("generic", name="hooks", mapping={"title": "title"})
    body = {"summary": "Disk almost full", "host": "db-3"}
    assert intake_client.post(GENERIC, json=body, headers=bearer(created)).status_code == 422
    api = api_as(admin)
    [letter] = api.get("/api/v1/intake/dead-letters").json()
    assert letter["reason"] == "a mapped field is missing"
    detail = api.get(f"/api/v1/intake/dead-letters/{letter['id']}").json()
    assert '"Disk almost full"' in detail["body"]
    fixed = api.patch("/api/v1/integrations/hooks", json={"mapping": {"title": "summary"}})
    assert fixed.status_code == 200, fixed.text
    replayed = api.post(f"/api/v1/intake/dead-letters/{letter['id']}/replay")
    assert replayed.json()["status"] == "replayed"
    [alert] = api.get("/api/v1/alerts").json()["items"]
    assert alert["title"] == "Disk almost full"


def test_admins_create_integrations_over_the_api_and_others_cannot(
    api_as: Callable[[Person], TestClient], admin: Person, responder: Person
) -> None:
    response = api_as(admin).post(
        "/api/v1/integrations", json={"kind": "alertmanager", "name": "prom"}
    )
    assert response.status_code == 201
    assert response.json()["credential"].startswith("wi_")
    refused = api_as(responder).post(
        "/api/v1/integrations", json={"kind": "alertmanager", "name": "prom2"}
    )
    assert refused.status_code == 403


def test_grouping_rules_are_validated_and_replayed_over_the_api(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    api = api_as(admin)
    bad = api.put("/api/v1/intake/rules", json={"source": "rules:\n  - window: soon\n"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "rules[0].window"
    good = api.put("/api/v1/intake/rules", json={"source": "rules:\n  - name: all\n"})
    assert good.status_code == 200
    replay = api.post("/api/v1/intake/rules/replay", json={"source": ""}, params={"since": "1d"})
    assert replay.status_code == 200
    assert replay.json()["incidents"] == []


def test_the_integrations_page_creates_one_and_shows_the_credential_once(
    browser_login: Callable[[Person], TestClient], admin: Person
) -> None:
    browser = browser_login(admin)
    page = browser.get("/admin/integrations")
    assert page.status_code == 200
    response = browser.post(
        "/admin/integrations",
        data={"csrf_token": csrf_from(page.text), "kind": "opsgenie", "name": "og"},
    )
    assert response.status_code == 200
    assert 'id="new-credential">wi_' in response.text
    assert "new-credential" not in browser.get("/admin/integrations").text
    assert browser.get("/alerts").status_code == 200
