"""HTML pages: login/logout, the user's API tokens, and user administration."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from warroom.accounts import queries, service
from warroom.actors import Role
from warroom.errors import AuthenticationRequired, InvalidInput, LimitExceeded
from warroom.http.csrf import check_form_csrf
from warroom.http.deps import (
    SESSION_COOKIE,
    CurrentActor,
    DbDep,
    FormCsrf,
    OptionalActor,
    SettingsDep,
    UowDep,
    session_serializer,
    session_token_from,
)
from warroom.http.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never redirect a login to another host.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return urlsplit(target).path or "/"


@router.get("/login")
def login_form(request: Request, actor: OptionalActor, next: str | None = None) -> Response:
    if actor is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"title": "Log in", "next": _safe_next(next)})


@router.post("/login")
def login_submit(request: Request, form: FormCsrf, uow: UowDep, settings: SettingsDep) -> Response:
    email = str(form.get("email", ""))
    target = _safe_next(str(form.get("next", "/")))
    try:
        result = service.login(
            uow,
            email=email,
            password=str(form.get("password", "")),
            client=request.client.host if request.client else "unknown",
            lifetime=timedelta(seconds=settings.session_lifetime_s),
            window=timedelta(seconds=settings.login_window_s),
            max_per_account=settings.login_max_failures_per_account,
            max_per_client=settings.login_max_failures_per_client,
        )
    except (AuthenticationRequired, LimitExceeded) as exc:
        context = {"title": "Log in", "next": target, "email": email, "message": exc.detail}
        return render(request, "accounts/login.html", context, status=exc.status)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_serializer(settings).dumps(result.session_token),
        max_age=settings.session_lifetime_s,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@router.post("/logout", dependencies=[Depends(check_form_csrf)])
def logout(request: Request, uow: UowDep, actor: CurrentActor) -> Response:
    token = session_token_from(request)
    if token:
        service.logout(uow, actor, session_token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/tokens")
def my_tokens(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    tokens = queries.list_tokens(db, actor, user_id=actor.user_id) if actor.user_id else []
    return render(request, "accounts/tokens.html", {"title": "API tokens", "tokens": tokens})


@router.post("/tokens")
def create_token(
    request: Request, form: FormCsrf, uow: UowDep, db: DbDep, actor: CurrentActor
) -> Response:
    name = str(form.get("name", "")).strip()
    if not name:
        raise InvalidInput("a token needs a name")
    created = service.create_token(uow, actor, user_id=actor.user_id or 0, name=name[:100])
    tokens = queries.list_tokens(db, actor, user_id=actor.user_id)
    context = {"title": "API tokens", "tokens": tokens, "created": created}
    return render(request, "accounts/tokens.html", context, status=201)


@router.post("/tokens/{token_id}/revoke", dependencies=[Depends(check_form_csrf)])
def revoke_token(uow: UowDep, actor: CurrentActor, token_id: int) -> Response:
    service.revoke_token(uow, actor, token_id=token_id)
    return RedirectResponse("/tokens", status_code=303)


@router.get("/admin/users")
def users(request: Request, db: DbDep, actor: CurrentActor) -> Response:
    context = {"title": "Users", "users": queries.list_users(db, actor), "roles": list(Role)}
    return render(request, "accounts/users.html", context)


@router.post("/admin/users")
def create_user(form: FormCsrf, uow: UowDep, actor: CurrentActor) -> Response:
    data = service.parse_user_create(
        email=form.get("email"),
        display_name=form.get("display_name") or "",
        role=form.get("role"),
        password=form.get("password"),
    )
    service.create_user(uow, actor, data=data)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}")
def update_user(form: FormCsrf, uow: UowDep, actor: CurrentActor, user_id: int) -> Response:
    role = form.get("role")
    disabled = form.get("disabled")
    data = service.parse_user_update(
        role=role or None, disabled=(disabled == "true") if disabled is not None else None
    )
    service.update_user(uow, actor, user_id=user_id, data=data)
    return RedirectResponse("/admin/users", status_code=303)
