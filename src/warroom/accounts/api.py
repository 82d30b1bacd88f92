"""JSON API for users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response

from warroom.accounts import queries, service
from warroom.accounts.schemas import (
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from warroom.errors import NotFound
from warroom.http.deps import CurrentActor, DbDep, UowDep

router = APIRouter(tags=["accounts"])


@router.get("/me")
def me(db: DbDep, actor: CurrentActor) -> UserOut:
    """The authenticated user."""
    if actor.user_id is None:
        raise NotFound("the system actor has no user record")
    return queries.get_user(db, actor, user_id=actor.user_id)


@router.get("/users")
def list_users(db: DbDep, actor: CurrentActor) -> list[UserOut]:
    return queries.list_users(db, actor)


@router.post("/users", status_code=201)
def create_user(uow: UowDep, actor: CurrentActor, data: UserCreate) -> UserOut:
    return service.create_user(uow, actor, data=data)


@router.get("/users/{user_id}")
def get_user(db: DbDep, actor: CurrentActor, user_id: int) -> UserOut:
    return queries.get_user(db, actor, user_id=user_id)


@router.patch("/users/{user_id}")
def update_user(uow: UowDep, actor: CurrentActor, user_id: int, data: UserUpdate) -> UserOut:
    return service.update_user(uow, actor, user_id=user_id, data=data)


@router.get("/tokens")
def list_tokens(db: DbDep, actor: CurrentActor, user_id: int | None = None) -> list[TokenOut]:
    """Your own tokens; admins may pass `user_id`, or see every token with `user_id=0`."""
    target = actor.user_id if user_id is None else (None if user_id == 0 else user_id)
    return queries.list_tokens(db, actor, user_id=target)


@router.post("/tokens", status_code=201)
def create_token(uow: UowDep, actor: CurrentActor, data: TokenCreate) -> TokenCreated:
    """Create a token; the response is the only time its secret is shown."""
    owner = data.user_id if data.user_id is not None else actor.user_id
    return service.create_token(uow, actor, user_id=owner or 0, name=data.name)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(uow: UowDep, actor: CurrentActor, token_id: int) -> Response:
    service.revoke_token(uow, actor, token_id=token_id)
    return Response(status_code=204)
