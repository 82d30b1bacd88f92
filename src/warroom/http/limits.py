"""Request-body size limit as plain ASGI middleware (413 before the body is buffered)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warroom.errors import PayloadTooLarge
from warroom.http.problems import problem_body


class BodyTooLarge(HTTPException):
    """Raised inside `receive` once the streamed body passes the limit.

    An HTTPException, so FastAPI's body reader passes it on to the problem handler instead of
    reporting a generic parse error.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


class BodySizeLimit:
    """Reject bodies over `max_bytes`: by Content-Length up front, or while streaming.

    `path_limits` gives paths matching a pattern their own limit (log bundle uploads may be far
    larger than any other body).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        path_limits: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = tuple(path_limits)

    def _limit(self, path: str) -> int:
        return next((limit for p, limit in self.path_limits if p.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await self._reject(scope, send, max_bytes)
            return
        if declared is not None:
            # The HTTP server delivers exactly Content-Length bytes (h11 and httptools refuse
            # more), so a body within the declared length needs no counting.
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, max_bytes)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        """Pass a body of unknown length (chunked) through, refusing it past `max_bytes`."""
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._reject(scope, send, max_bytes)

    async def _reject(self, scope: Scope, send: Send, max_bytes: int) -> None:
        error = PayloadTooLarge(f"the request body is larger than {max_bytes} bytes")
        body = json.dumps(problem_body(error, scope.get("path", ""))).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
