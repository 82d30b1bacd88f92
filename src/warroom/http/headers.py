"""Security headers and the browser's CSRF cookie, as plain ASGI middleware.

Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs every request through an
extra task and stream copy; this wrapper only edits the response start message.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warroom.http.csrf import CSRF_COOKIE

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


ENCODED_SECURITY_HEADERS = [
    (name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
]


class BrowserHeaders:
    """Add security headers to every response, and the CSRF cookie when one was minted."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.cookie_flags = "; Path=/; HttpOnly; SameSite=lax" + (
            "; Secure" if secure_cookies else ""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # request.state lives in scope["state"]; sharing the dict lets us read what the
        # request handler minted (see csrf.browser_nonce).
        state: dict[str, object] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in ENCODED_SECURITY_HEADERS if h[0] not in present)
                nonce = state.get("new_csrf_nonce")
                if isinstance(nonce, str):
                    cookie = f"{CSRF_COOKIE}={nonce}{self.cookie_flags}"
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
