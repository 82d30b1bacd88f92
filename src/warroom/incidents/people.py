"""Who is who, for incidents: the one module that reads other domains' tables.

Incidents need a person's name, role and whether they are disabled (to assign roles and show
them), and which team members own a service (to suggest responders), inside the caller's
session. `accounts.queries` and `catalog.queries` expose ids and e-mails only, so these
lookups live here, behind small functions, until those domains offer session-level
equivalents; nothing else in `incidents` imports another domain's models.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.accounts.models import User
from warroom.actors import Role
from warroom.catalog.models import Service, Team, TeamMember


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    display_name: str
    role: Role
    disabled: bool


def _person(user: User) -> Person:
    return Person(user.id, user.email, user.display_name, Role(user.role), user.disabled)


def person_by_email_in(session: Session, email: str) -> Person | None:
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    return _person(user) if user else None


def people_by_id_in(session: Session, user_ids: Iterable[int]) -> dict[int, Person]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {u.id: _person(u) for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def owning_team_members_in(
    session: Session, service_names: Sequence[str]
) -> list[tuple[int, str, str]]:
    """(user id, team, service) for every member of a team owning one of the services."""
    if not service_names:
        return []
    rows = session.execute(
        select(TeamMember.user_id, Team.name, Service.name)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Service, Service.owner_team_id == Team.id)
        .where(Service.name.in_(list(service_names)))
        .order_by(Service.name, Team.name)
    ).all()
    return [(user_id, team, service) for user_id, team, service in rows]
