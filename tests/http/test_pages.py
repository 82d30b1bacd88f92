"""Server-rendered pages: login flow, CSRF on every form, role-gated admin pages."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Person, csrf_from


def test_pages_redirect_anonymous_visitors_to_login(client: TestClient) -> None:
    response = client.get("/catalog", follow_redirects=False, headers={"accept": "text/html"})
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/catalog"


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient, responder: Person) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page.text),
            "email": responder.email,
            "password": responder.password,
        },
        follow_redirects=False,
    )
    cookie = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("warroom_session=")
    ][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_a_login_without_the_csrf_token_is_refused(client: TestClient, responder: Person) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"email": responder.email, "password": responder.password}
    )
    assert response.status_code == 403 and "CSRF" in response.text


def test_a_wrong_password_shows_the_form_again_with_a_message(
    client: TestClient, responder: Person
) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page.text),
            "email": responder.email,
            "password": "nope nope",
        },
    )
    assert response.status_code == 401 and "wrong e-mail address or password" in response.text


def test_login_never_redirects_off_site(client: TestClient, responder: Person) -> None:
    page = client.get("/login?next=//evil.example.com/x")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page.text),
            "email": responder.email,
            "password": responder.password,
            "next": "//evil.example.com/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_every_form_post_without_a_csrf_token_is_refused(
    browser_login: Callable[[Person], TestClient], admin: Person
) -> None:
    client = browser_login(admin)
    for path in (
        "/logout",
        "/tokens",
        "/tokens/1/revoke",
        "/admin/users",
        f"/admin/users/{admin.id}",
    ):
        response = client.post(path, data={"name": "x"}, follow_redirects=False)
        assert response.status_code == 403, path


def test_a_user_creates_and_revokes_a_token_in_the_browser(
    browser_login: Callable[[Person], TestClient], responder: Person
) -> None:
    client = browser_login(responder)
    page = client.get("/tokens")
    created = client.post("/tokens", data={"csrf_token": csrf_from(page.text), "name": "laptop"})
    assert created.status_code == 201 and "Copy it now" in created.text
    assert "wr_" in created.text
    listing = client.get("/tokens")
    assert "laptop" in listing.text and "wr_" in listing.text  # only the prefix remains


def test_admin_pages_are_for_admins_only(
    browser_login: Callable[[Person], TestClient], responder: Person
) -> None:
    client = browser_login(responder)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_an_admin_adds_a_user_and_sees_it_in_the_audit_log(
    browser_login: Callable[[Person], TestClient], admin: Person
) -> None:
    client = browser_login(admin)
    page = client.get("/admin/users")
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf_from(page.text),
            "email": "new.person@example.com",
            "role": "viewer",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 200 and "new.person@example.com" in response.text
    audit = client.get("/admin/audit?action=user.create")
    assert "new.person@example.com" in audit.text


def test_an_invalid_user_form_shows_the_offending_field(
    browser_login: Callable[[Person], TestClient], admin: Person
) -> None:
    client = browser_login(admin)
    page = client.get("/admin/users")
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf_from(page.text),
            "email": "bad",
            "role": "wizard",
            "password": "x",
        },
    )
    assert response.status_code == 422
    for field in ("email", "role", "password"):
        assert f"<code>{field}</code>" in response.text


def test_logout_ends_the_session(
    browser_login: Callable[[Person], TestClient], responder: Person
) -> None:
    client = browser_login(responder)
    page = client.get("/")
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert client.get("/api/v1/me").status_code == 401


def test_catalog_pages_render_for_staff(
    browser_login: Callable[[Person], TestClient],
    viewer: Person,
    api_as: Callable[[Person], TestClient],
    admin: Person,
) -> None:
    api = api_as(admin)
    api.post("/api/v1/catalog/teams", json={"name": "core"})
    api.post("/api/v1/catalog/services", json={"name": "db", "owner_team": "core"})
    api.post("/api/v1/catalog/services", json={"name": "app", "depends_on": ["db"]})
    client = browser_login(viewer)
    assert "app" in client.get("/catalog").text
    detail = client.get("/catalog/db").text
    assert "<svg" in detail and 'href="/catalog/app"' in detail
    assert "core" in client.get("/teams").text
    assert client.get("/catalog/ghost").status_code == 404
