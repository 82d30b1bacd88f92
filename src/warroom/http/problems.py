"""RFC 9457 problem details: every error from `/api` is `application/problem+json`.

One place turns `WarroomError`, request-validation errors and unexpected exceptions into a
problem response (API) or the error page (HTML), so no route builds error responses itself.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from warroom.errors import (
    ALL_ERRORS,
    AuthenticationRequired,
    FieldError,
    InvalidInput,
    MalformedRequest,
    WarroomError,
)
from warroom.http.templating import render_error_page

PROBLEM_BASE = "https://warroom.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger("warroom.http")

PROBLEM_TYPES = {cls.slug: cls.title for cls in ALL_ERRORS}


def problem_body(error: WarroomError, instance: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
    }
    if error.errors:
        body["errors"] = [_field_json(err) for err in error.errors]
    return body


def _field_json(err: FieldError) -> dict[str, Any]:
    item: dict[str, Any] = {"field": err.field, "message": err.message}
    if err.line is not None:
        item["line"] = err.line
    return item


def wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


def error_response(request: Request, error: WarroomError) -> Response:
    if wants_html(request):
        if isinstance(error, AuthenticationRequired) and request.method == "GET":
            return Response(
                status_code=303, headers={"Location": f"/login?next={request.url.path}"}
            )
        return render_error_page(request, error)
    return problem_response(error, request.url.path)


def problem_response(
    error: WarroomError, instance: str, headers: dict[str, str] | None = None
) -> Response:
    """The problem document for `error` as an API response (401s name the Bearer scheme)."""
    if error.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(
        problem_body(error, instance),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def log_unexpected(method: str, path: str) -> WarroomError:
    """Log the exception being handled; the error to answer with instead of its details."""
    _log.exception("unhandled error on %s %s", method, path)
    return WarroomError("an unexpected error occurred")


def validation_to_error(exc: RequestValidationError) -> InvalidInput:
    errors = []
    malformed = False
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        if item.get("type") == "json_invalid":
            malformed = True
        errors.append(FieldError(".".join(location) or "body", str(item.get("msg", "invalid"))))
    if malformed:
        return MalformedRequest("the request body is not valid JSON", errors)
    fields = ", ".join(err.field for err in errors[:5])
    return InvalidInput(f"invalid field(s): {fields}", errors)


_BY_STATUS = {cls.status: cls for cls in ALL_ERRORS if cls is not WarroomError}


def _from_status(status: int, detail: str) -> WarroomError:
    # Routing errors (404 for unknown paths, 405) come from Starlette, not from our code.
    error_class = _BY_STATUS.get(status, InvalidInput if 400 <= status < 500 else WarroomError)
    return error_class(detail)


def install_problem_handlers(app: FastAPI) -> None:
    """Register the one place where errors become responses."""

    async def on_warroom_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WarroomError)
        return error_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(request, validation_to_error(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(request, _from_status(exc.status_code, str(exc.detail)))

    async def on_unexpected(request: Request, _exc: Exception) -> Response:
        return error_response(request, log_unexpected(request.method, request.url.path))

    app.add_exception_handler(WarroomError, on_warroom_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
