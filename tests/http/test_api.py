"""The HTTP contract: authentication, problem responses, limits, CSRF and headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from tests.conftest import Person, csrf_from

PROBLEM = "application/problem+json"


def test_health_is_open_and_checks_the_database(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_everything_else_requires_authentication_as_a_problem(client: TestClient) -> None:
    for path in ("/api/v1/me", "/api/v1/users", "/api/v1/catalog/services", "/api/v1/audit"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["type"].endswith("/authentication-required") and body["instance"] == path


def test_a_bad_token_is_401_and_a_forbidden_action_is_403(
    client: TestClient, api_as: Callable[[Person], TestClient], viewer: Person
) -> None:
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer wr_nope"}).status_code == 401
    response = api_as(viewer).get("/api/v1/users")
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert "requires one of the roles: admin" in response.json()["detail"]


def test_malformed_json_is_a_400_problem(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    response = api_as(admin).post(
        "/api/v1/catalog/services",
        content=b'{"name": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["type"].endswith("/malformed-request")


def test_unknown_fields_and_wrong_types_are_422_naming_the_fields(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    response = api_as(admin).post(
        "/api/v1/catalog/services", json={"name": "x", "tier": "high", "colour": "red"}
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"tier", "colour"}


def test_duplicate_names_are_409_and_dangling_references_422(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    api = api_as(admin)
    assert api.post("/api/v1/catalog/services", json={"name": "db"}).status_code == 201
    assert api.post("/api/v1/catalog/services", json={"name": "db"}).status_code == 409
    response = api.post("/api/v1/catalog/services", json={"name": "app", "depends_on": ["gone"]})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "depends_on.0", "message": "unknown service 'gone'"}
    ]
    assert api.get("/api/v1/catalog/services/app").status_code == 404


def test_bodies_over_the_limit_are_413(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    huge = {"name": "x", "description": "a" * 2_000_000}
    response = api_as(admin).post("/api/v1/catalog/services", json=huge)
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM


def test_streamed_bodies_without_a_length_are_counted_and_cut_at_the_limit(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "x", "description": "'
        for _ in range(40):
            yield b"a" * 50_000
        yield b'"}'

    response = api_as(admin).post(
        "/api/v1/catalog/services", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM


def test_unknown_paths_and_methods_are_problems(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    api = api_as(admin)
    assert api.get("/api/v1/nothing-here").json()["status"] == 404
    response = api.put("/api/v1/health")
    assert response.status_code == 405 and response.headers["content-type"] == PROBLEM


def test_cursor_pagination_walks_every_service_once(
    api_as: Callable[[Person], TestClient], admin: Person
) -> None:
    api = api_as(admin)
    for index in range(7):
        api.post("/api/v1/catalog/services", json={"name": f"svc-{index}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/catalog/services", params=params).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"svc-{i}" for i in range(7)]
    assert api.get("/api/v1/catalog/services", params={"cursor": "garbage"}).status_code == 422


def test_a_token_is_shown_once_and_then_only_its_prefix(
    api_as: Callable[[Person], TestClient], responder: Person
) -> None:
    api = api_as(responder)
    created = api.post("/api/v1/tokens", json={"name": "deploys"}).json()
    listed = api.get("/api/v1/tokens").json()
    mine = [t for t in listed if t["id"] == created["id"]][0]
    assert "token" not in mine and created["token"].startswith(mine["prefix"])
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert api.get("/api/v1/me", headers=headers).json()["email"] == responder.email
    assert api.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    assert api.get("/api/v1/me", headers=headers).status_code == 401


def test_cookie_authenticated_api_writes_need_the_csrf_header(
    browser_login: Callable[[Person], TestClient], admin: Person
) -> None:
    client = browser_login(admin)
    assert client.get("/api/v1/me").status_code == 200
    refused = client.post("/api/v1/catalog/services", json={"name": "x"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = csrf_from(client.get("/tokens").text)
    accepted = client.post(
        "/api/v1/catalog/services", json={"name": "x"}, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 201


def test_responses_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert (
        "/api/v1/catalog/services/{name}/blast-radius" in paths and "/api/v1/audit/verify" in paths
    )
