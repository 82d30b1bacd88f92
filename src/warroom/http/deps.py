"""FastAPI dependencies: the database, a fresh unit of work, and the authenticated actor.

Authentication order: a `Authorization: Bearer` API token, else the signed session cookie.
Cookie-authenticated writes must carry the CSRF token (forms check it in `FormCsrf`, API
calls from a browser send `X-CSRF-Token`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import FormData

from warroom.accounts import queries as account_queries
from warroom.accounts import service as account_service
from warroom.actors import Actor
from warroom.config import Settings
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import AuthenticationRequired
from warroom.http.csrf import CSRF_HEADER, SAFE_METHODS, check_csrf, check_form_csrf

SESSION_COOKIE = "warroom_session"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def new_uow(request: Request) -> UnitOfWork:
    return UnitOfWork(get_db(request))


def session_serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="warroom-session")


def session_token_from(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = session_serializer(get_settings(request)).loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def optional_actor(request: Request) -> Actor | None:
    """The actor behind the request, or None for anonymous requests."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    actor = _resolve_actor(request)
    request.state.actor = actor
    return actor


def _resolve_actor(request: Request) -> Actor | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return account_service.authenticate_token(new_uow(request), secret=credential.strip())
    token = session_token_from(request)
    if token is None:
        return None
    actor = account_queries.find_session_actor(get_db(request), session_token=token)
    if actor is not None and request.method not in SAFE_METHODS and _is_api(request):
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return actor


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def current_actor(request: Request) -> Actor:
    actor = optional_actor(request)
    if actor is None:
        raise AuthenticationRequired("log in, or send an API token as `Authorization: Bearer …`")
    return actor


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
UowDep = Annotated[UnitOfWork, Depends(new_uow)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
FormCsrf = Annotated[FormData, Depends(check_form_csrf)]
