"""One exception tree for the whole application, rendered in one place.

Services raise these; the web layer turns them into RFC 9457 problem responses (or the HTML
error page) and the CLI into a clear message with a non-zero exit code::

    WarroomError
    ├── InvalidInput        400/422  the request or file is malformed; names the field
    ├── AuthenticationRequired  401  no or bad credentials
    ├── PermissionDenied    403      authenticated, but the role does not allow it
    ├── NotFound            404
    ├── MethodNotAllowed    405
    ├── Conflict            409      duplicate names, cycles, stale state
    ├── PayloadTooLarge     413
    ├── LimitExceeded       429      rate limits
    ├── SchemaOutOfDate     503      the database is not migrated to the code's revision
    └── UpstreamError       502      an external system failed
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One offending field: a dotted location and what is wrong with it."""

    field: str
    message: str
    line: int | None = None


@dataclass
class WarroomError(Exception):
    """Base of every error Warroom raises on purpose."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __str__(self) -> str:
        return self.detail


class InvalidInput(WarroomError):
    """The input is malformed or breaks a validation rule."""

    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class MalformedRequest(InvalidInput):
    """The request body cannot be parsed at all."""

    status = 400
    slug = "malformed-request"
    title = "Malformed request"


class MethodNotAllowed(WarroomError):
    """The path exists but not with this HTTP method."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class AuthenticationRequired(WarroomError):
    """No valid credentials came with the request."""

    status = 401
    slug = "authentication-required"
    title = "Authentication required"


class PermissionDenied(WarroomError):
    """The actor's role does not allow this action."""

    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class NotFound(WarroomError):
    """The object does not exist, or the actor may not know it exists."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(WarroomError):
    """The change conflicts with existing state (duplicate, cycle, stale)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(WarroomError):
    """The request body is larger than the configured limit."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class LimitExceeded(WarroomError):
    """A rate limit was hit; retry later."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class UpstreamError(WarroomError):
    """An external system Warroom talks to failed."""

    status = 502
    slug = "upstream-error"
    title = "Upstream error"


class SchemaOutOfDate(WarroomError):
    """The database schema does not match the code; a migration is needed."""

    status = 503
    slug = "schema-out-of-date"
    title = "Database schema out of date"


ALL_ERRORS: tuple[type[WarroomError], ...] = (
    WarroomError,
    InvalidInput,
    MalformedRequest,
    AuthenticationRequired,
    PermissionDenied,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    LimitExceeded,
    UpstreamError,
    SchemaOutOfDate,
)
