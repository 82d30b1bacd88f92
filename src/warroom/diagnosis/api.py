"""JSON API for log bundles: upload to an incident, list, status, and the JSON report.

The background worker (`diagnosis.worker`) starts with this router, as intake's ticker starts
with its receivers: whoever serves the API also processes the queue.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import APIRouter, File, UploadFile
from starlette.responses import Response

from warroom.diagnosis import queries, service, worker
from warroom.diagnosis.schemas import BundleOut
from warroom.http.deps import CurrentActor, DbDep, SettingsDep, UowDep

router = APIRouter(tags=["diagnosis"], lifespan=worker.lifespan)
ONE: Final = "/incidents/{incident_id}/log-bundles"
UPLOAD_PATHS: Final = re.compile(
    r"^(/api/v1/incidents/\d+/log-bundles|/incidents/\d+/log-bundles/upload)$"
)
"""Paths whose bodies may reach `max_bundle_bytes` (the app's body-size limit exempts them)."""
MULTIPART_SLACK: Final = 64 * 1024


@router.post(ONE, status_code=201)
def upload(
    uow: UowDep,
    actor: CurrentActor,
    settings: SettingsDep,
    incident_id: int,
    file: Annotated[UploadFile, File(description="A log file or archive (.gz, .tar.gz, .zip…)")],
) -> BundleOut:
    """Upload a log bundle; it is analysed in the background and joins the incident timeline."""
    return service.upload_bundle(
        uow,
        actor,
        incident_id=incident_id,
        filename=file.filename or "",
        stream=file.file,
        max_bytes=settings.max_bundle_bytes,
    )


@router.get(ONE)
def list_bundles(db: DbDep, actor: CurrentActor, incident_id: int) -> list[BundleOut]:
    return queries.list_bundles(db, actor, incident_id=incident_id)


@router.get(ONE + "/{bundle_id}")
def get_bundle(db: DbDep, actor: CurrentActor, incident_id: int, bundle_id: int) -> BundleOut:
    return queries.get_bundle(db, actor, incident_id=incident_id, bundle_id=bundle_id)


@router.get(ONE + "/{bundle_id}/report")
def get_report(db: DbDep, actor: CurrentActor, incident_id: int, bundle_id: int) -> Response:
    """The analysis as `warroom.analyze/1` JSON (events capped at 5,000)."""
    text = queries.get_report(db, actor, incident_id=incident_id, bundle_id=bundle_id, fmt="json")
    return Response(text, media_type="application/json")
