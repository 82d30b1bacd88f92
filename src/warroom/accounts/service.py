"""Account use cases: users, logins, sessions and API tokens. One function, one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from warroom.accounts.models import ApiToken, BrowserSession, LoginFailure, User
from warroom.accounts.passwords import digest, hash_password, new_secret, verify_password
from warroom.accounts.queries import find_token
from warroom.accounts.schemas import (
    LoginResult,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
    normalise_email,
)
from warroom.actors import Actor, Role, require_admin
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import (
    AuthenticationRequired,
    Conflict,
    FieldError,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from warroom.validation import parse_fields

TOKEN_PREFIX = "wr"
SESSION_PREFIX = "ws"
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_user(uow: UnitOfWork, actor: Actor, *, data: UserCreate) -> UserOut:
    """Create a user (admins only); the e-mail address must be unused."""
    require_admin(actor, action="creating users")
    with uow:
        _refuse_duplicate_email(uow.session, data.email)
        user = User(
            email=data.email,
            display_name=data.display_name or data.email.split("@")[0],
            role=data.role.value,
            password_hash=hash_password(data.password),
            disabled=False,
            created_at=utcnow(),
        )
        uow.session.add(user)
        uow.session.flush()
        append_entry(
            uow.session,
            actor,
            action="user.create",
            object_type="user",
            object_id=user.id,
            summary={"email": user.email, "role": user.role},
        )
        out = UserOut.model_validate(user)
        uow.commit()
    return out


def update_user(uow: UnitOfWork, actor: Actor, *, user_id: int, data: UserUpdate) -> UserOut:
    """Change a user's name, role or disabled flag (admins only)."""
    require_admin(actor, action="changing users")
    with uow:
        user = _get_user(uow.session, user_id)
        changes = data.model_dump(exclude_none=True, mode="json")
        if actor.user_id == user.id and (changes.get("disabled") or "role" in changes):
            raise Conflict("you cannot disable yourself or change your own role")
        for name, value in changes.items():
            setattr(user, name, value)
        if changes.get("disabled"):
            uow.session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
        append_entry(
            uow.session,
            actor,
            action="user.update",
            object_type="user",
            object_id=user.id,
            summary=changes,
        )
        out = UserOut.model_validate(user)
        uow.commit()
    return out


def disable_user(uow: UnitOfWork, actor: Actor, *, email: str) -> UserOut:
    """Disable the account with this e-mail: its sessions end and its tokens stop working."""
    require_admin(actor, action="disabling users")
    with uow:
        user = _get_user_by_email(uow.session, email)
        user.disabled = True
        uow.session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
        append_entry(
            uow.session, actor, action="user.disable", object_type="user", object_id=user.id
        )
        out = UserOut.model_validate(user)
        uow.commit()
    return out


def login(
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    client: str,
    lifetime: timedelta,
    window: timedelta,
    max_per_account: int,
    max_per_client: int,
) -> LoginResult:
    """Check a password and open a browser session; failed attempts are throttled.

    Raises:
        LimitExceeded: too many recent failures for this account or client address.
        AuthenticationRequired: wrong e-mail or password, or a disabled account.
    """
    account = email.strip().lower()
    with uow:
        since = utcnow() - window
        _refuse_when_throttled(uow.session, account, client, since, max_per_account, max_per_client)
        user = uow.session.scalars(select(User).where(User.email == account)).first()
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or user.disabled:
            _record_failure(uow, account, client)
            raise AuthenticationRequired("wrong e-mail address or password")
        secret = new_secret(SESSION_PREFIX)
        now = utcnow()
        uow.session.add(
            BrowserSession(
                token_hash=digest(secret),
                user_id=user.id,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        uow.session.execute(delete(BrowserSession).where(BrowserSession.expires_at < now))
        actor = Actor(user_id=user.id, label=user.email, role=Role(user.role))
        append_entry(
            uow.session,
            actor,
            action="session.login",
            object_type="user",
            object_id=user.id,
            summary={"client": client},
        )
        result = LoginResult(session_token=secret, user=UserOut.model_validate(user))
        uow.commit()
    return result


def logout(uow: UnitOfWork, actor: Actor, *, session_token: str) -> None:
    """End one browser session."""
    with uow:
        uow.session.execute(
            delete(BrowserSession).where(BrowserSession.token_hash == digest(session_token))
        )
        append_entry(
            uow.session,
            actor,
            action="session.logout",
            object_type="user",
            object_id=actor.user_id,
        )
        uow.commit()


def create_token(uow: UnitOfWork, actor: Actor, *, user_id: int, name: str) -> TokenCreated:
    """Create a named API token; the secret is in the result and never retrievable again.

    Users create tokens for themselves; admins for anyone.
    """
    if actor.user_id != user_id:
        require_admin(actor, action="creating tokens for other users")
    with uow:
        user = _get_user(uow.session, user_id)
        if user.disabled:
            raise Conflict(f"user {user.email} is disabled")
        secret = new_secret(TOKEN_PREFIX)
        token = ApiToken(
            user_id=user.id,
            name=name,
            token_hash=digest(secret),
            prefix=secret[:10],
            created_at=utcnow(),
            last_used_at=None,
            revoked_at=None,
        )
        uow.session.add(token)
        uow.session.flush()
        append_entry(
            uow.session,
            actor,
            action="token.create",
            object_type="api_token",
            object_id=token.id,
            summary={"user": user.email, "name": name},
        )
        out = TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)
        uow.commit()
    return out


def revoke_token(uow: UnitOfWork, actor: Actor, *, token_id: int) -> TokenOut:
    """Revoke a token (its owner or an admin); revoking twice is harmless."""
    with uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None or (token.user_id != actor.user_id and not actor.is_admin):
            raise NotFound(f"api token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            append_entry(
                uow.session,
                actor,
                action="token.revoke",
                object_type="api_token",
                object_id=token.id,
                summary={"name": token.name},
            )
        out = TokenOut.model_validate(token)
        uow.commit()
    return out


def authenticate_token(uow: UnitOfWork, *, secret: str) -> Actor:
    """The actor behind a bearer token; records when it was last used (to the minute).

    The lookup is a read; only a token whose last use is over a minute old costs a write, so
    busy API clients do not queue behind SQLite's single writer on every request.
    """
    found = find_token(uow.db, secret=secret)
    if found is None:
        raise AuthenticationRequired("the API token is not valid")
    actor, token_id, last_used_at = found
    now = utcnow()
    if last_used_at is None or now - last_used_at > _LAST_USED_RESOLUTION:
        with uow:
            uow.session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
            uow.commit()
    return actor


def parse_user_create(**fields: object) -> UserCreate:
    """Validate raw fields (from a form or the CLI) into a UserCreate, naming bad fields."""
    return parse_fields(UserCreate, fields, what="user")


def parse_user_update(**fields: object) -> UserUpdate:
    """Validate raw fields (from a form) into a UserUpdate, naming bad fields."""
    return parse_fields(UserUpdate, fields, what="change")


def _refuse_when_throttled(
    session: Session,
    account: str,
    client: str,
    since: datetime,
    max_per_account: int,
    max_per_client: int,
) -> None:
    counts = session.execute(
        select(
            func.count().filter(LoginFailure.account == account),
            func.count().filter(LoginFailure.client == client),
        ).where(
            LoginFailure.at >= since,
            or_(LoginFailure.account == account, LoginFailure.client == client),
        )
    ).one()
    if counts[0] >= max_per_account or counts[1] >= max_per_client:
        raise LimitExceeded("too many failed logins; wait a few minutes and try again")


def _record_failure(uow: UnitOfWork, account: str, client: str) -> None:
    # The failure must be kept although the login raises, so it commits before raising.
    uow.session.add(LoginFailure(account=account, client=client, at=utcnow()))
    append_entry(
        uow.session,
        Actor(user_id=None, label=account, role=Role.EXTERNAL),
        action="session.login_failed",
        object_type="user",
        object_id=account,
        summary={"client": client},
    )
    uow.commit()


def _refuse_duplicate_email(session: Session, email: str) -> None:
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(
            f"a user with e-mail {email} already exists",
            [FieldError("email", "already in use")],
        )


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id}")
    return user


def _get_user_by_email(session: Session, email: str) -> User:
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise InvalidInput(str(exc), [FieldError("email", str(exc))]) from exc
    user = session.scalars(select(User).where(User.email == address)).first()
    if user is None:
        raise NotFound(f"user {address}")
    return user
