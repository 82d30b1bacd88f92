"""`create_app(settings)`: the web composition root. Every domain's routes are mounted here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from warroom import __version__
from warroom.accounts import api as accounts_api
from warroom.accounts import pages as accounts_pages
from warroom.audit import api as audit_api
from warroom.audit import pages as audit_pages
from warroom.catalog import api as catalog_api
from warroom.catalog import pages as catalog_pages
from warroom.config import Settings
from warroom.db.engine import Database, open_database
from warroom.db.migrate import check_schema
from warroom.diagnosis import api as diagnosis_api
from warroom.diagnosis import pages as diagnosis_pages
from warroom.http import health, home
from warroom.http.headers import BrowserHeaders
from warroom.http.limits import BodySizeLimit
from warroom.http.problems import install_problem_handlers
from warroom.http.templating import build_environment
from warroom.incidents import api as incidents_api
from warroom.incidents import pages as incidents_pages
from warroom.intake import api as intake_api
from warroom.intake import pages as intake_pages
from warroom.intake import receivers as intake_receivers
from warroom.learning import api as learning_api
from warroom.learning import kbpages as learning_kbpages
from warroom.learning import pages as learning_pages

STATIC_DIR = Path(__file__).parent / "http" / "static"
DOMAIN_TEMPLATE_DIRS = [
    Path(__file__).parent / domain / "templates"
    for domain in ("accounts", "audit", "catalog", "diagnosis", "incidents", "intake", "learning")
]


class WarroomApp(FastAPI):
    """FastAPI, with the intake lane in front of everything else.

    Why: FastAPI wraps the application's middleware in layers of its own (server errors,
    exception telemetry, a body limit) and checks whether telemetry is on for every request;
    on the intake benchmark that was a twentieth of the server's work per delivery. In
    front of them, the lane serves deliveries itself (answering every error itself, as a
    problem) and hands everything else to FastAPI unchanged.
    """

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self.front(scope, receive, send)

    async def behind_front(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """Build the application for `settings`; refuses a database that is not migrated."""
    db = database or open_database(settings)
    check_schema(db.writer)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if database is None:
            db.dispose()

    app = WarroomApp(
        title="Warroom",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.templates = build_environment(DOMAIN_TEMPLATE_DIRS)
    learning_kbpages.install_template_hooks(app.state.templates)
    diagnosis_pages.install_template_hooks(app.state.templates)
    install_problem_handlers(app)
    app.add_middleware(BrowserHeaders, secure_cookies=settings.secure_cookies)
    bundle_limit = settings.max_bundle_bytes + diagnosis_api.MULTIPART_SLACK
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        path_limits=[(diagnosis_api.UPLOAD_PATHS, bundle_limit)],
    )
    # In front of everything: serves the common intake delivery before the layers above and
    # FastAPI's own (it adds the security headers and problem responses itself).
    app.front = intake_receivers.IntakeLane(
        app.behind_front, max_body_bytes=settings.max_body_bytes
    )
    # Intake first: routes are matched in order, and the deliveries the lane leaves are next.
    app.include_router(intake_receivers.router, prefix="/api/v1")
    for router in (health.router, accounts_api.router, catalog_api.router, audit_api.router):
        app.include_router(router, prefix="/api/v1")
    for router in (home.router, accounts_pages.router, catalog_pages.router, audit_pages.router):
        app.include_router(router, include_in_schema=False)
    app.include_router(intake_api.router, prefix="/api/v1")
    app.include_router(intake_pages.router, include_in_schema=False)
    app.include_router(incidents_api.router, prefix="/api/v1")
    app.include_router(incidents_pages.router, include_in_schema=False)
    app.include_router(learning_api.router, prefix="/api/v1")
    app.include_router(learning_pages.router, include_in_schema=False)
    app.include_router(learning_kbpages.router, include_in_schema=False)
    app.include_router(diagnosis_api.router, prefix="/api/v1")
    app.include_router(diagnosis_pages.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
