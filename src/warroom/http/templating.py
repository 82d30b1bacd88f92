"""Server-rendered pages: one Jinja environment over the shared and per-domain templates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from warroom import __version__
from warroom.errors import WarroomError
from warroom.http.csrf import csrf_token_for

SHARED_TEMPLATES = Path(__file__).parent / "templates"

NAVIGATION = (
    ("Incidents", "/incidents"),
    ("Catalog", "/catalog"),
    ("Teams", "/teams"),
    ("Alerts", "/alerts"),
    ("Learning", "/learning"),
    ("Search", "/search"),
    ("API tokens", "/tokens"),
)
ADMIN_NAVIGATION = (
    ("Users", "/admin/users"),
    ("Integrations", "/admin/integrations"),
    ("Audit log", "/admin/audit"),
)


def build_environment(template_dirs: Sequence[Path]) -> Environment:
    env = Environment(
        loader=FileSystemLoader([SHARED_TEMPLATES, *template_dirs]),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page with the request's actor, CSRF token and navigation filled in."""
    env: Environment = request.app.state.templates
    actor = getattr(request.state, "actor", None)
    values = {
        "request": request,
        "actor": actor,
        "csrf_token": csrf_token_for(request),
        "navigation": NAVIGATION,
        "admin_navigation": ADMIN_NAVIGATION if actor is not None and actor.is_admin else (),
        "current_path": request.url.path,
        **(context or {}),
    }
    html = env.get_template(name).render(values)
    return HTMLResponse(html, status_code=status)


def render_error_page(request: Request, error: WarroomError) -> HTMLResponse:
    return render(
        request, "error.html", {"error": error, "title": error.title}, status=error.status
    )
