"""Accounts use cases against a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, SYSTEM, Person
from warroom.accounts import queries, service
from warroom.accounts.models import User
from warroom.accounts.schemas import UserCreate, UserUpdate
from warroom.actors import Role
from warroom.audit.queries import list_entries
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import (
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)

UowFactory = Callable[[], UnitOfWork]


def _login(new_uow: UowFactory, email: str, password: str, client: str = "10.0.0.1") -> str:
    result = service.login(
        new_uow(),
        email=email,
        password=password,
        client=client,
        lifetime=timedelta(hours=1),
        window=timedelta(minutes=15),
        max_per_account=3,
        max_per_client=10,
    )
    return result.session_token


def test_passwords_are_stored_as_argon2_hashes(db: Database, admin: Person) -> None:
    with db.read_session() as session:
        stored = session.scalars(select(User.password_hash).where(User.id == admin.id)).one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_creating_a_user_with_a_used_email_is_a_conflict(
    new_uow: UowFactory, admin: Person
) -> None:
    data = UserCreate(email="ADMIN@example.com", role=Role.VIEWER, password=PASSWORD)
    with pytest.raises(Conflict, match="admin@example.com already exists"):
        service.create_user(new_uow(), SYSTEM, data=data)


def test_only_admins_create_users(new_uow: UowFactory, responder: Person) -> None:
    data = UserCreate(email="new@example.com", role=Role.VIEWER, password=PASSWORD)
    with pytest.raises(PermissionDenied, match="creating users requires"):
        service.create_user(new_uow(), responder.actor, data=data)


def test_short_passwords_are_rejected_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        service.parse_user_create(email="a@example.com", role="viewer", password="short")
    assert [err.field for err in caught.value.errors] == ["password"]


def test_login_opens_a_session_that_identifies_the_user(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    token = _login(new_uow, responder.email, PASSWORD)
    actor = queries.find_session_actor(db, session_token=token)
    assert actor is not None and actor.user_id == responder.id and actor.role is Role.RESPONDER


def test_a_wrong_password_is_refused_and_recorded(
    db: Database, new_uow: UowFactory, admin: Person, responder: Person
) -> None:
    with pytest.raises(AuthenticationRequired):
        _login(new_uow, responder.email, "not the password")
    failures = list_entries(db, admin.actor, action="session.login_failed").items
    assert [entry.object_id for entry in failures] == [responder.email]


def test_logins_are_throttled_per_account_after_repeated_failures(
    new_uow: UowFactory, responder: Person
) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationRequired):
            _login(new_uow, responder.email, "wrong password!")
    with pytest.raises(LimitExceeded):
        _login(new_uow, responder.email, PASSWORD)


def test_logins_are_throttled_per_client_address_across_accounts(
    new_uow: UowFactory, make_person: Callable[..., Person]
) -> None:
    people = [make_person(Role.VIEWER) for _ in range(5)]
    for person in people:
        for _ in range(2):
            with pytest.raises(AuthenticationRequired):
                _login(new_uow, person.email, "wrong password!", client="192.0.2.7")
    with pytest.raises(LimitExceeded):
        _login(new_uow, people[0].email, PASSWORD, client="192.0.2.7")
    assert _login(new_uow, people[0].email, PASSWORD, client="192.0.2.8")


def test_disabling_a_user_ends_sessions_and_stops_tokens(
    db: Database, new_uow: UowFactory, admin: Person, responder: Person
) -> None:
    session_token = _login(new_uow, responder.email, PASSWORD)
    api_token = service.create_token(new_uow(), responder.actor, user_id=responder.id, name="ci")
    service.disable_user(new_uow(), admin.actor, email=responder.email)
    assert queries.find_session_actor(db, session_token=session_token) is None
    with pytest.raises(AuthenticationRequired):
        service.authenticate_token(new_uow(), secret=api_token.token)
    with pytest.raises(AuthenticationRequired):
        _login(new_uow, responder.email, PASSWORD)


def test_tokens_are_stored_hashed_and_revocable(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    created = service.create_token(new_uow(), responder.actor, user_id=responder.id, name="ci")
    assert created.token.startswith("wr_") and len(created.token) > 40
    actor = service.authenticate_token(new_uow(), secret=created.token)
    assert actor.user_id == responder.id
    listed = queries.list_tokens(db, responder.actor, user_id=responder.id)
    assert listed[0].last_used_at is not None
    assert not hasattr(listed[0], "token")
    service.revoke_token(new_uow(), responder.actor, token_id=created.id)
    with pytest.raises(AuthenticationRequired):
        service.authenticate_token(new_uow(), secret=created.token)


def test_users_cannot_revoke_or_list_other_peoples_tokens(
    db: Database, new_uow: UowFactory, responder: Person, viewer: Person
) -> None:
    created = service.create_token(new_uow(), responder.actor, user_id=responder.id, name="ci")
    with pytest.raises(NotFound):
        service.revoke_token(new_uow(), viewer.actor, token_id=created.id)
    with pytest.raises(PermissionDenied):
        queries.list_tokens(db, viewer.actor, user_id=responder.id)
    with pytest.raises(PermissionDenied):
        service.create_token(new_uow(), viewer.actor, user_id=responder.id, name="x")


def test_admins_cannot_demote_or_disable_themselves(new_uow: UowFactory, admin: Person) -> None:
    with pytest.raises(Conflict, match="yourself"):
        service.update_user(
            new_uow(), admin.actor, user_id=admin.id, data=UserUpdate(disabled=True)
        )


def test_every_account_mutation_is_audited(
    db: Database, new_uow: UowFactory, admin: Person, responder: Person
) -> None:
    created = service.create_token(new_uow(), admin.actor, user_id=responder.id, name="ci")
    service.revoke_token(new_uow(), admin.actor, token_id=created.id)
    service.update_user(
        new_uow(), admin.actor, user_id=responder.id, data=UserUpdate(role=Role.VIEWER)
    )
    actions = [entry.action for entry in list_entries(db, admin.actor).items]
    assert actions[:3] == ["user.update", "token.revoke", "token.create"]
    assert actions.count("user.create") == 2
