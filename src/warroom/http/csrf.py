"""CSRF protection for cookie-authenticated requests (signed double-submit token).

Every browser gets a random `warroom_csrf` cookie; forms carry HMAC(secret, cookie) in a
hidden `csrf_token` field (or the `X-CSRF-Token` header for scripts). A cross-site page can
make the browser send the cookie but cannot read it, so it cannot produce the token. Bearer
token requests carry no ambient credentials and need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.datastructures import FormData

from warroom.errors import PermissionDenied

CSRF_COOKIE = "warroom_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def browser_nonce(request: Request) -> str:
    """The browser's CSRF cookie value, minted for this response when it has none yet."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.new_csrf_nonce = nonce
    return str(nonce)


def csrf_token_for(request: Request) -> str:
    secret: str = request.app.state.settings.secret_key
    nonce = browser_nonce(request)
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise PermissionDenied unless `submitted` is this browser's CSRF token."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        raise PermissionDenied("missing CSRF token: reload the page and try again")
    if not hmac.compare_digest(csrf_token_for(request), submitted):
        raise PermissionDenied("invalid CSRF token: reload the page and try again")


async def check_form_csrf(request: Request) -> FormData:
    """Read the submitted form and verify its CSRF token; returns the form."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    check_csrf(request, submitted if isinstance(submitted, str) else None)
    return form
