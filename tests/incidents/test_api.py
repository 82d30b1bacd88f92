"""The incidents JSON API: problem responses naming fields, and 401/403/404 boundaries."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import SYSTEM, Person
from warroom.actors import Role
from warroom.audit.queries import list_entries
from warroom.db.engine import Database

ClientFor = Callable[[Person], TestClient]


def _declare(api: TestClient, **fields: object) -> dict[str, object]:
    body = {"title": "Checkout errors", "severity": "SEV2", **fields}
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_incident_api_needs_credentials(client: TestClient) -> None:
    response = client.get("/api/v1/incidents")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_bad_declaration_is_a_problem_naming_each_field(
    api_as: ClientFor, responder: Person
) -> None:
    response = api_as(responder).post(
        "/api/v1/incidents", json={"title": "", "severity": "SEV9", "colour": "red"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/invalid-input")
    assert {e["field"] for e in problem["errors"]} == {"title", "severity", "colour"}


def test_viewers_read_but_cannot_declare(
    api_as: ClientFor, responder: Person, viewer: Person
) -> None:
    incident = _declare(api_as(responder))
    reader = api_as(viewer)
    assert reader.get(f"/api/v1/incidents/{incident['id']}").status_code == 200
    refused = reader.post("/api/v1/incidents", json={"title": "x"})
    assert refused.status_code == 403 and "declaring incidents" in refused.json()["detail"]


def test_an_unknown_incident_is_404(api_as: ClientFor, responder: Person) -> None:
    response = api_as(responder).get("/api/v1/incidents/4242")
    assert response.status_code == 404 and response.json()["detail"] == "incident 4242"


def test_an_invalid_transition_is_409_naming_the_allowed_ones(
    api_as: ClientFor, responder: Person
) -> None:
    api = api_as(responder)
    incident = _declare(api)
    response = api.post(f"/api/v1/incidents/{incident['id']}/status", json={"status": "closed"})
    assert response.status_code == 409
    assert (
        "allowed: investigating, mitigating, resolved, declined, cancelled"
        in (response.json()["detail"])
    )
    assert response.json()["errors"][0]["field"] == "status"


def test_externals_see_their_incident_only_and_everything_they_do_is_audited(
    api_as: ClientFor, responder: Person, make_person: Callable[..., Person], db: Database
) -> None:
    vendor = make_person(Role.EXTERNAL)
    api = api_as(responder)
    mine, other = _declare(api), _declare(api, title="Internal only")
    assigned = api.post(
        f"/api/v1/incidents/{mine['id']}/roles", json={"user": vendor.email, "role": "sme"}
    )
    assert assigned.status_code == 201
    external = api_as(vendor)
    assert [i["id"] for i in external.get("/api/v1/incidents").json()["items"]] == [mine["id"]]
    filtered = api.get("/api/v1/incidents", params={"service": "nope", "active": "true"})
    assert filtered.json()["items"] == []
    assert external.get(f"/api/v1/incidents/{mine['id']}").status_code == 200
    assert external.get(f"/api/v1/incidents/{other['id']}").status_code == 404
    assert external.get(f"/api/v1/incidents/{other['id']}/timeline").status_code == 404
    assert external.get("/api/v1/catalog/services").status_code == 403
    note = external.post(f"/api/v1/incidents/{mine['id']}/notes", json={"text": "CDN ok"})
    assert note.status_code == 201
    status = external.post(f"/api/v1/incidents/{mine['id']}/status", json={"status": "resolved"})
    assert status.status_code == 403
    audited = [
        (e.action, e.summary.get("what"))
        for e in list_entries(db, SYSTEM, limit=500).items
        if e.actor_label == vendor.email
    ]
    assert ("incident.external_view", "incident list") in audited
    assert ("incident.external_view", "incident") in audited
    assert ("incident.note", None) in audited


def test_the_response_flow_through_the_api(api_as: ClientFor, responder: Person) -> None:
    api = api_as(responder)
    incident = _declare(api, customer_impact="Payments fail", impact_ongoing=True)
    base = f"/api/v1/incidents/{incident['id']}"
    roles = api.post(f"{base}/roles", json={"user": responder.email, "role": "commander"})
    assert roles.json()["roles"][0]["role"] == "commander"
    assumption = api.post(
        f"{base}/assumptions", json={"statement": "Only EU", "confidence": "low"}
    ).json()
    changed = api.patch(f"{base}/assumptions/{assumption['id']}", json={"status": "invalidated"})
    assert changed.json()["status"] == "invalidated"
    hypothesis = api.post(
        f"{base}/hypotheses", json={"statement": "Bad deploy", "production_risk": "high"}
    )
    assert hypothesis.status_code == 201
    drafts = {d["audience"]: d["body"] for d in api.get(f"{base}/update-drafts").json()}
    assert "Approve testing in production (high risk): Bad deploy" in drafts["executive"]
    posted = api.post(f"{base}/updates", json={"audience": "customer", "body": drafts["customer"]})
    assert posted.status_code == 201
    mode = api.get(f"{base}/response-mode").json()
    assert mode["mode"] == "contain"
    chosen = api.post(f"{base}/response-mode", json={"mode": "contain", "rationale": "stop it"})
    assert chosen.status_code == 201
    resolved = api.post(f"{base}/status", json={"status": "resolved", "note": "rolled back"})
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    markdown = api.get(f"{base}/export.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "rolled back" in markdown.text


def test_the_public_status_feed_needs_no_login(client: TestClient) -> None:
    response = client.get("/api/v1/status")
    assert response.status_code == 200 and response.json() == []


def test_severities_are_listed_and_only_admins_change_them(
    api_as: ClientFor, admin: Person, responder: Person
) -> None:
    levels = api_as(responder).get("/api/v1/incidents/severities").json()
    assert [(s["severity"], s["update_every_minutes"]) for s in levels][:2] == [
        ("SEV1", 30),
        ("SEV2", 60),
    ]
    body = {"name": "Outage", "description": "All down", "update_every_minutes": 15}
    assert api_as(responder).put("/api/v1/incidents/severities/SEV1", json=body).status_code == 403
    assert api_as(admin).put("/api/v1/incidents/severities/SEV1", json=body).status_code == 200
