"""Shapes the audit trail returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    at: datetime
    actor_user_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    hash: str


class ChainReport(BaseModel):
    """The outcome of `warroom audit verify`."""

    intact: bool
    entries_checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str | None = None
