"""The learning API, including the whole flow from a resolved incident to Jira."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Person
from tests.learning.helpers import UowFactory, resolved_incident, seed_catalog

ApiAs = Callable[[Person], TestClient]


def test_a_resolved_incident_flows_to_a_published_postmortem_and_jira(
    api_as: ApiAs, responder: Person, admin: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow)
    api = api_as(responder)
    created = api.post(f"/api/v1/incidents/{incident_id}/postmortem")
    assert created.status_code == 201, created.text
    pm = created.json()
    assert pm["status"] == "draft" and "Roll back payments" in pm["sections"]["response"]
    edited = api.patch(
        f"/api/v1/postmortems/{pm['id']}",
        json={
            "factors": ["change", "dependency", "detection"],
            "sections": {
                "went_well": "Rollback took four minutes.",
                "lucky": "Traffic was low.",
                "lessons": "Deploys of payment clients need a canary.",
            },
        },
    )
    assert edited.status_code == 200 and edited.json()["factors"][0] == "change"
    for title, kind, metric in (
        ("Canary payment client deploys", "prevent", "zero full rollouts without canary"),
        ("Alert on fraud-check latency", "detect", "pages within 5 minutes"),
    ):
        item = api.post(
            "/api/v1/actions",
            json={
                "title": title,
                "kind": kind,
                "owner": "priya@example.com",
                "due_on": "2027-01-15",
                "priority": "P2",
                "success_metric": metric,
                "postmortem_id": pm["id"],
            },
        )
        assert item.status_code == 201, item.text
        assert item.json()["incident_id"] == incident_id
    review = api.post(f"/api/v1/postmortems/{pm['id']}/review", json={"reviewers": [admin.email]})
    assert review.json()["status"] == "in_review"
    assert api_as(admin).post(f"/api/v1/postmortems/{pm['id']}/approve").status_code == 200
    published = api.post(f"/api/v1/postmortems/{pm['id']}/publish")
    assert published.status_code == 200 and published.json()["postmortem"]["status"] == "published"
    exported = api.get(
        "/api/v1/actions/export",
        params={"format": "jira-json", "project": "PAY", "postmortem_id": pm["id"]},
    )
    body = json.loads(exported.text)
    assert len(body["issueUpdates"]) == 2
    fields = body["issueUpdates"][0]["fields"]
    assert fields["project"] == {"key": "PAY"} and fields["issuetype"] == {"name": "Task"}
    assert fields["priority"] == {"name": "High"} and fields["duedate"] == "2027-01-15"
    assert "warroom-action-1" in fields["labels"]
    assert f"/postmortems/{pm['id']}" in fields["description"]


def test_status_comes_back_from_a_jira_search_export(api_as: ApiAs, responder: Person) -> None:
    api = api_as(responder)
    item = api.post("/api/v1/actions", json={"title": "Fix it", "success_metric": "m"}).json()
    jira = {
        "issues": [
            {
                "key": "OPS-7",
                "fields": {"labels": [f"warroom-action-{item['id']}"], "status": {"name": "Done"}},
            },
            {
                "key": "OPS-8",
                "fields": {"labels": ["warroom-action-999"], "status": {"name": "Done"}},
            },
        ]
    }
    report = api.post("/api/v1/actions/sync", json={"text": json.dumps(jira)}).json()
    assert report["updated"] == [item["id"]]
    assert "action item 999 does not exist" in report["problems"][0]
    synced = api.get(f"/api/v1/actions/{item['id']}").json()
    assert synced["status"] == "done" and synced["external_key"] == "OPS-7"


def test_starting_work_without_a_metric_is_a_422(api_as: ApiAs, responder: Person) -> None:
    api = api_as(responder)
    item = api.post("/api/v1/actions", json={"title": "Vague"}).json()
    refused = api.patch(f"/api/v1/actions/{item['id']}", json={"status": "in_progress"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "success_metric"


def test_search_similar_and_classes_answer_over_the_api(
    api_as: ApiAs, responder: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow)
    api = api_as(responder)
    assert api.post("/api/v1/kb/reindex").json() == {"incidents": 1}
    found = api.get("/api/v1/search", params={"q": "card payments", "kind": "incident"}).json()
    assert found["total"] == 1 and found["hits"][0]["url"] == f"/incidents/{incident_id}"
    assert api.get(f"/api/v1/incidents/{incident_id}/similar").status_code == 200
    assert api.get("/api/v1/problem-classes").json() == []
    assert api.get("/api/v1/problem-classes/c1").status_code == 404


def test_the_language_check_explains_and_suggests(api_as: ApiAs, viewer: Person) -> None:
    found = api_as(viewer).post(
        "/api/v1/language-check", json={"summary": "Bob failed to check the dashboard."}
    )
    assert found.status_code == 200
    first = found.json()[0]
    assert first["section"] == "summary" and first["explanation"] and first["suggestion"]


def test_viewers_read_but_do_not_write(api_as: ApiAs, viewer: Person) -> None:
    api = api_as(viewer)
    assert api.get("/api/v1/postmortems").status_code == 200
    assert api.post("/api/v1/postmortems", json={"title": "x"}).status_code == 403


def test_decision_records_and_runbooks_over_the_api(
    api_as: ApiAs, admin: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    api = api_as(admin)
    adr = api.post("/api/v1/decisions", json={"title": "Use canaries", "status": "accepted"})
    assert adr.status_code == 201 and adr.json()["number"] == 1
    files = api.get("/api/v1/decisions-export").json()
    assert list(files) == ["0001-use-canaries.md"]
    book = api.put("/api/v1/runbooks/auth", json={"body": "# Auth\n"})
    assert book.status_code == 200 and book.json()["current_version"] == 1
    proposal = api.post("/api/v1/runbooks/auth/proposals", json={"body": "# Auth\nstep\n"})
    decided = api.post(
        f"/api/v1/runbook-proposals/{proposal.json()['id']}/decision", json={"approve": False}
    )
    assert decided.json()["status"] == "rejected"
    assert api.put("/api/v1/runbooks/nope", json={"body": "x"}).status_code == 404
