"""Read side of accounts: who is behind a session cookie, user and token listings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.accounts.models import ApiToken, BrowserSession, User
from warroom.accounts.passwords import digest
from warroom.accounts.schemas import PersonRef, TokenOut, UserOut
from warroom.actors import Actor, Role, require_admin
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.errors import NotFound


def find_session_actor(db: Database, *, session_token: str) -> Actor | None:
    """The actor of a live browser session, or None when expired, unknown or disabled."""
    with db.read_session() as session:
        row = session.execute(
            select(User)
            .join(BrowserSession, BrowserSession.user_id == User.id)
            .where(
                BrowserSession.token_hash == digest(session_token),
                BrowserSession.expires_at > utcnow(),
                User.disabled.is_(False),
            )
        ).scalar_one_or_none()
    if row is None:
        return None
    return Actor(user_id=row.id, label=row.email, role=Role(row.role))


def find_token(db: Database, *, secret: str) -> tuple[Actor, int, datetime | None] | None:
    """The actor, token id and last use behind a live bearer token, or None."""
    with db.read_session() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.last_used_at, User.id, User.email, User.role)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == digest(secret),
                ApiToken.revoked_at.is_(None),
                User.disabled.is_(False),
            )
        ).first()
    if row is None:
        return None
    token_id, last_used_at, user_id, email, role = row
    return Actor(user_id=user_id, label=email, role=Role(role)), token_id, last_used_at


def list_users(db: Database, actor: Actor) -> list[UserOut]:
    require_admin(actor, action="listing users")
    with db.read_session() as session:
        users = session.scalars(select(User).order_by(User.email)).all()
        return [UserOut.model_validate(user) for user in users]


def get_user(db: Database, actor: Actor, *, user_id: int) -> UserOut:
    if actor.user_id != user_id:
        require_admin(actor, action="reading other users")
    with db.read_session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id}")
        return UserOut.model_validate(user)


def find_user_by_email(db: Database, *, email: str) -> UserOut | None:
    with db.read_session() as session:
        user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
        return UserOut.model_validate(user) if user else None


def list_tokens(db: Database, actor: Actor, *, user_id: int | None = None) -> list[TokenOut]:
    """Tokens of one user (own tokens, or anyone's for admins); all tokens for admins."""
    if user_id is None or user_id != actor.user_id:
        require_admin(actor, action="listing other users' tokens")
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    with db.read_session() as session:
        return [TokenOut.model_validate(token) for token in session.scalars(query)]


def user_ids_by_email_in(session: Session, emails: Iterable[str]) -> dict[str, int]:
    """Ids of the users with these (normalised) e-mail addresses, inside a caller's session.

    Other domains use this instead of reading the users table themselves.
    """
    wanted = {email.strip().lower() for email in emails}
    if not wanted:
        return {}
    rows = session.execute(select(User.email, User.id).where(User.email.in_(wanted)))
    return dict(rows.all())


def user_emails_in(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """E-mail addresses of these users, inside a caller's session."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return dict(rows.all())


def _person(user: User) -> PersonRef:
    return PersonRef(user.id, user.email, user.display_name, Role(user.role), user.disabled)


def person_by_email_in(session: Session, email: str) -> PersonRef | None:
    """The user with this e-mail address, inside a caller's session."""
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    return _person(user) if user else None


def people_by_id_in(session: Session, user_ids: Iterable[int]) -> dict[int, PersonRef]:
    """These users by id, inside a caller's session."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    users = session.scalars(select(User).where(User.id.in_(wanted)))
    return {user.id: _person(user) for user in users}
