"""Learning pages render, work without JavaScript, and every form needs the CSRF token."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import SYSTEM, Person, csrf_from
from tests.learning.helpers import UowFactory, resolved_incident, seed_catalog, written
from warroom.learning import knowledge

Login = Callable[[Person], TestClient]


def test_the_editor_checks_language_without_saving_and_saves_with_the_token(
    browser_login: Login, responder: Person, new_uow: UowFactory
) -> None:
    pm = written(new_uow, "Outage", "It broke.")
    client = browser_login(responder)
    page = client.get(f"/postmortems/{pm.id}")
    assert page.status_code == 200 and "Check language" in page.text
    token = csrf_from(page.text)
    checked = client.post(
        f"/postmortems/{pm.id}",
        data={"csrf_token": token, "op": "check", "summary": "Dana should have known better."},
    )
    assert checked.status_code == 200 and "should have" in checked.text
    assert "Try:" in checked.text
    assert "It broke." in client.get(f"/postmortems/{pm.id}").text  # nothing saved
    refused = client.post(f"/postmortems/{pm.id}", data={"op": "save", "summary": "x"})
    assert refused.status_code == 403
    saved = client.post(
        f"/postmortems/{pm.id}",
        data={
            "csrf_token": token,
            "op": "save",
            "summary": "The deploy paused.",
            "factors": "change",
        },
    )
    assert saved.status_code == 200 and "The deploy paused." in saved.text


def test_a_postmortem_is_started_from_the_incident_page(
    browser_login: Login, responder: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow)
    client = browser_login(responder)
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200 and 'id="similar"' in page.text
    started = client.post(
        "/postmortems/from-incident",
        data={"csrf_token": csrf_from(page.text), "incident_id": str(incident_id)},
        follow_redirects=False,
    )
    assert started.status_code == 303
    editor = client.get(started.headers["location"])
    assert "Roll back payments to v41" in editor.text


def test_the_board_moves_items_and_refuses_a_start_without_a_metric(
    browser_login: Login, responder: Person
) -> None:
    client = browser_login(responder)
    board = client.get("/actions")
    token = csrf_from(board.text)
    client.post("/actions", data={"csrf_token": token, "title": "Add a canary", "kind": "prevent"})
    board = client.get("/actions")
    assert 'id="action-1"' in board.text
    refused = client.post("/actions/1", data={"csrf_token": token, "status": "in_progress"})
    assert refused.status_code == 422 and "success_metric" in refused.text
    moved = client.post(
        "/actions/1",
        data={"csrf_token": token, "status": "in_progress", "success_metric": "canary catches it"},
    )
    assert moved.status_code == 200
    assert client.get("/actions?report=unowned").status_code == 200


def test_search_and_classes_pages_show_facets_and_results(
    browser_login: Login, viewer: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    for service in ("auth", "payments"):
        written(
            new_uow,
            f"{service} certificate expired",
            "TLS certificate expired.",
            services=[service],
        )
    client = browser_login(viewer)
    page = client.get("/search?q=certificate")
    assert page.status_code == 200 and "2 results" in page.text
    assert "service=payments" in page.text
    narrowed = client.get("/search?q=certificate&service=payments")
    assert "1 result" in narrowed.text
    classes = client.get("/problem-classes")
    assert classes.status_code == 200 and "Recurring" in classes.text
    assert client.get("/learning").status_code == 200
    assert knowledge.search(client.app.state.db, SYSTEM, query="tls").total == 2  # type: ignore[attr-defined]


def test_runbook_and_decision_pages_use_csrf_forms(
    browser_login: Login, admin: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    client = browser_login(admin)
    listing = client.get("/decisions")
    token = csrf_from(listing.text)
    created = client.post(
        "/decisions",
        data={
            "csrf_token": token,
            "title": "Adopt canaries",
            "options": "A\nB",
            "status": "accepted",
        },
    )
    assert created.status_code == 200 and "ADR-0001" in created.text
    saved = client.post(
        "/runbooks/auth", data={"csrf_token": token, "body": "# Auth\n", "op": "save"}
    )
    assert saved.status_code == 200 and "version 1" in saved.text
    proposed = client.post(
        "/runbooks/auth", data={"csrf_token": token, "body": "# Auth\nnew\n", "op": "propose"}
    )
    assert "+new" in proposed.text
    assert client.post("/runbooks/auth", data={"body": "x"}).status_code == 403


def test_the_optional_live_check_script_uses_the_api_with_the_csrf_header(
    browser_login: Login, responder: Person, new_uow: UowFactory
) -> None:
    pm = written(new_uow, "Outage", "A bad deploy of the config rolled out everywhere.")
    client = browser_login(responder)
    page = client.get(f"/postmortems/{pm.id}")
    assert 'src="/learning/check.js"' in page.text and 'id="live-findings"' in page.text
    assert "Suggested from the text" in page.text and "Change and configuration" in page.text
    script = client.get("/learning/check.js")
    assert script.status_code == 200 and "language-check" in script.text
    body = {"summary": "Obviously the operator was careless."}
    assert client.post("/api/v1/language-check", json=body).status_code == 403
    checked = client.post(
        "/api/v1/language-check", json=body, headers={"X-CSRF-Token": csrf_from(page.text)}
    )
    assert checked.status_code == 200 and len(checked.json()) >= 2
