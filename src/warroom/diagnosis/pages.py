"""HTML for log bundles: the incident page's "Log bundles" panel, its upload form, the report.

The incident page belongs to the incidents domain, which must not import this one. So the panel
is a template include that the incident page pulls in with `ignore missing`, and its data comes
from a Jinja global that `install_template_hooks` registers when the app is composed (the same
arrangement as learning's similar-incidents panel).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from jinja2 import Environment
from starlette.datastructures import FormData, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from warroom.actors import WRITER_ROLES, Actor, Role
from warroom.diagnosis import queries, service
from warroom.diagnosis.schemas import BundlesPanel
from warroom.errors import FieldError, InvalidInput, WarroomError
from warroom.http.csrf import CSRF_FIELD, check_csrf
from warroom.http.deps import CurrentActor, DbDep, SettingsDep, UowDep

router = APIRouter()
logger = logging.getLogger(__name__)
REPORT_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)
"""The stored report is one self-contained page with an inline style and no script."""


async def upload_csrf(request: Request) -> AsyncIterator[FormData]:
    """`FormCsrf` for a multipart form: also closes the spooled upload, even when refused."""
    form = await request.form()
    try:
        submitted = form.get(CSRF_FIELD)
        check_csrf(request, submitted if isinstance(submitted, str) else None)
        yield form
    finally:
        await form.close()


UploadCsrf = Annotated[FormData, Depends(upload_csrf)]


@router.post("/incidents/{incident_id}/log-bundles/upload")
def upload_form(
    form: UploadCsrf, uow: UowDep, actor: CurrentActor, settings: SettingsDep, incident_id: int
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("no file was chosen", [FieldError("file", "choose a log file")])
    service.upload_bundle(
        uow,
        actor,
        incident_id=incident_id,
        filename=upload.filename,
        stream=upload.file,
        max_bytes=settings.max_bundle_bytes,
    )
    return RedirectResponse(f"/incidents/{incident_id}#log-bundles", status_code=303)


@router.get("/incidents/{incident_id}/log-bundles/{bundle_id}/report")
def report_page(db: DbDep, actor: CurrentActor, incident_id: int, bundle_id: int) -> Response:
    text = queries.get_report(db, actor, incident_id=incident_id, bundle_id=bundle_id, fmt="html")
    return HTMLResponse(text, headers={"content-security-policy": REPORT_CSP})


def bundles_panel(request: Request, incident_id: int) -> BundlesPanel | None:
    """The panel's data for the incident page; None for those who may not see it."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None or actor.role is Role.EXTERNAL:
        return None
    try:
        bundles = queries.list_bundles(request.app.state.db, actor, incident_id=incident_id)
    except WarroomError:
        # The incident page must render even if this optional panel cannot.
        logger.exception("log bundles panel failed for incident %s", incident_id)
        return None
    return BundlesPanel(
        incident_id=incident_id,
        bundles=bundles,
        can_upload=actor.role in WRITER_ROLES,
        max_bytes=request.app.state.settings.max_bundle_bytes,
    )


def install_template_hooks(env: Environment) -> None:
    """Let `diagnosis/bundles_panel.html` fetch its data when the incident page includes it."""
    env.globals["diagnosis_bundles_panel"] = bundles_panel
