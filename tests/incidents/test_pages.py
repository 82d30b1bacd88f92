"""Incident pages: they render, every form needs the CSRF token, and the status page is public."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.conftest import SYSTEM, Person, csrf_from
from tests.incidents.helpers import UowFactory, declare, seed_catalog
from warroom.actors import Role
from warroom.db.engine import Database
from warroom.incidents import records, structure
from warroom.incidents.schemas import DecisionCreate, WorkstreamCreate


def test_the_incident_pages_render_for_a_responder(
    browser_login: Callable[[Person], TestClient], responder: Person, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident = declare(new_uow, services=["ledger", "search"])
    client = browser_login(responder)
    listing = client.get("/incidents?q=checkout&active=1")
    assert listing.status_code == 200 and f'href="/incidents/{incident.id}"' in listing.text
    page = client.get(f"/incidents/{incident.id}")
    assert page.status_code == 200
    for section in ("timeline", "roles", "scope", "assumptions", "hypotheses", "decisions"):
        assert f'id="{section}"' in page.text
    assert 'accesskey="n"' in page.text and "Proposed split" in page.text
    assert client.get("/incidents/new").status_code == 200


def test_declaring_and_noting_through_forms_needs_the_csrf_token(
    browser_login: Callable[[Person], TestClient], responder: Person
) -> None:
    client = browser_login(responder)
    form_page = client.get("/incidents/new")
    refused = client.post("/incidents", data={"title": "No token"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    created = client.post(
        "/incidents",
        data={"csrf_token": csrf_from(form_page.text), "title": "Search down", "severity": "SEV1"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    location = created.headers["location"]
    page = client.get(location)
    assert "Search down" in page.text and "SEV1" in page.text
    refused = client.post(f"{location}/notes", data={"text": "no token"})
    assert refused.status_code == 403
    noted = client.post(
        f"{location}/notes", data={"csrf_token": csrf_from(page.text), "text": "Looking at it"}
    )
    assert noted.status_code == 200 and "Looking at it" in noted.text


def test_a_bad_form_shows_the_offending_field(
    browser_login: Callable[[Person], TestClient], responder: Person, new_uow: UowFactory
) -> None:
    incident = declare(new_uow)
    client = browser_login(responder)
    page = client.get(f"/incidents/{incident.id}")
    response = client.post(
        f"/incidents/{incident.id}/assumptions",
        data={"csrf_token": csrf_from(page.text), "statement": "x", "review_by": "tomorrow"},
    )
    assert response.status_code == 422 and "review_by" in response.text


def test_an_external_participant_gets_404_for_other_incidents(
    browser_login: Callable[[Person], TestClient],
    make_person: Callable[..., Person],
    new_uow: UowFactory,
) -> None:
    vendor = make_person(Role.EXTERNAL)
    other = declare(new_uow, title="Internal")
    client = browser_login(vendor)
    response = client.get(f"/incidents/{other.id}", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Internal" not in client.get("/incidents").text


def test_the_public_status_page_needs_no_login(client: TestClient) -> None:
    response = client.get("/status", headers={"accept": "text/html"})
    assert response.status_code == 200 and "All systems operational" in response.text


def _queries_for(client: TestClient, db: Database, path: str) -> int:
    count = [0]

    def counter(*_args: object, **_kwargs: object) -> None:
        count[0] += 1

    event.listen(db.reader, "before_cursor_execute", counter)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.reader, "before_cursor_execute", counter)
    return count[0]


def test_the_incident_page_reads_a_fixed_number_of_queries(
    browser_login: Callable[[Person], TestClient],
    responder: Person,
    new_uow: UowFactory,
    db: Database,
) -> None:
    incident = declare(new_uow)
    client = browser_login(responder)
    # One of everything first, so that only the number of rows changes afterwards.
    structure.create_workstream(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        data=WorkstreamCreate(title="w0", lead=responder.email),
    )
    before = _queries_for(client, db, f"/incidents/{incident.id}")
    for index in range(1, 6):
        structure.create_workstream(
            new_uow(),
            SYSTEM,
            incident_id=incident.id,
            data=WorkstreamCreate(title=f"w{index}", lead=responder.email),
        )
        records.add_decision(
            new_uow(), SYSTEM, incident_id=incident.id, data=DecisionCreate(decision=f"d{index}")
        )
    assert _queries_for(client, db, f"/incidents/{incident.id}") == before
    listing_before = _queries_for(client, db, "/incidents?workstreams=1")
    declare(new_uow, title="another")
    assert _queries_for(client, db, "/incidents") <= listing_before
