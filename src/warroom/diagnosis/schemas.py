"""Output shapes of log bundles (API, pages, CLI)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class BundleStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BundleOut(BaseModel):
    id: int
    incident_id: int
    filename: str
    size_bytes: int
    status: BundleStatus
    uploaded_by: str
    uploaded_at: datetime
    attempts: int
    finished_at: datetime | None
    error: str
    result: dict[str, Any]
    has_report: bool


class Claim(BaseModel):
    """A bundle a worker took: the token proves the claim is still its own when it finishes."""

    bundle_id: int
    incident_id: int
    filename: str
    token: str


class BundlesPanel(BaseModel):
    """What the incident page's "Log bundles" section shows."""

    incident_id: int
    bundles: list[BundleOut]
    can_upload: bool
    max_bytes: int
