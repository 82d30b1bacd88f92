"""Who is acting, and what their role allows. Every service function takes an `Actor`.

Role checks live here and are called from the service layer, so the API, the pages and the
CLI all get the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from warroom.errors import PermissionDenied


class Role(StrEnum):
    """Roles, from most to least powerful."""

    ADMIN = "admin"
    RESPONDER = "responder"
    VIEWER = "viewer"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Actor:
    """The authenticated principal behind a request or command."""

    user_id: int | None
    label: str
    role: Role

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """The CLI operator on the server machine or an internal job (full rights)."""
        return cls(user_id=None, label=label, role=Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


STAFF_ROLES = (Role.ADMIN, Role.RESPONDER, Role.VIEWER)
WRITER_ROLES = (Role.ADMIN, Role.RESPONDER)


def require_role(actor: Actor, *allowed: Role, action: str) -> None:
    """Raise PermissionDenied unless the actor holds one of `allowed`."""
    if actor.role not in allowed:
        names = ", ".join(role.value for role in allowed)
        raise PermissionDenied(f"{action} requires one of the roles: {names}")


def require_admin(actor: Actor, *, action: str) -> None:
    require_role(actor, Role.ADMIN, action=action)


def require_staff(actor: Actor, *, action: str) -> None:
    """Anyone but external participants (who only see what they were added to)."""
    require_role(actor, *STAFF_ROLES, action=action)


def require_writer(actor: Actor, *, action: str) -> None:
    require_role(actor, *WRITER_ROLES, action=action)
