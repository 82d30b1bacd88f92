"""Read side of log bundles: listings for the incident page and API, reports, stored bytes.

Every read goes through `incidents.queries.visible_incident` plus a staff check: external
participants never see bundles (raw logs may hold anything), not even on incidents they joined.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_staff
from warroom.db.engine import Database
from warroom.diagnosis.models import LogBundle, LogBundleChunk
from warroom.diagnosis.schemas import BundleOut, BundleStatus
from warroom.errors import NotFound
from warroom.incidents.queries import visible_incident


def bundle_out(row: LogBundle) -> BundleOut:
    return BundleOut(
        id=row.id,
        incident_id=row.incident_id,
        filename=row.filename,
        size_bytes=row.size_bytes,
        status=BundleStatus(row.status),
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
        attempts=row.attempts,
        finished_at=row.finished_at,
        error=row.error,
        result=row.result or {},
        has_report=row.report_html is not None,
    )


def _visible_bundle(session: Session, actor: Actor, incident_id: int, bundle_id: int) -> LogBundle:
    require_staff(actor, action="reading log bundles")
    visible_incident(session, actor, incident_id)
    row = session.get(LogBundle, bundle_id)
    if row is None or row.incident_id != incident_id:
        raise NotFound(f"log bundle {bundle_id} of incident {incident_id}")
    return row


def list_bundles(db: Database, actor: Actor, *, incident_id: int) -> list[BundleOut]:
    """The incident's bundles, newest first."""
    require_staff(actor, action="reading log bundles")
    with db.read_session() as session:
        visible_incident(session, actor, incident_id)
        rows = session.scalars(
            select(LogBundle)
            .where(LogBundle.incident_id == incident_id)
            .order_by(LogBundle.id.desc())
        )
        return [bundle_out(row) for row in rows]


def get_bundle(db: Database, actor: Actor, *, incident_id: int, bundle_id: int) -> BundleOut:
    with db.read_session() as session:
        return bundle_out(_visible_bundle(session, actor, incident_id, bundle_id))


def get_report(db: Database, actor: Actor, *, incident_id: int, bundle_id: int, fmt: str) -> str:
    """The stored report (`html` or `json`); NotFound until the analysis is done."""
    with db.read_session() as session:
        row = _visible_bundle(session, actor, incident_id, bundle_id)
        text = row.report_html if fmt == "html" else row.report_json
        if text is None:
            raise NotFound(f"report of log bundle {bundle_id} (status {row.status})")
        return text


def work_waiting(db: Database, *, now: datetime, timeout: timedelta) -> bool:
    """Whether a claim could find anything (lets idle workers skip a write transaction)."""
    with db.read_session() as session:
        found = session.scalars(
            select(LogBundle.id).where(claimable(now, timeout)).limit(1)
        ).first()
        return found is not None


def claimable(now: datetime, timeout: timedelta) -> ColumnElement[bool]:
    """Queued bundles, and running ones whose worker has been silent past the timeout."""
    return or_(
        LogBundle.status == BundleStatus.QUEUED.value,
        (LogBundle.status == BundleStatus.RUNNING.value) & (LogBundle.claimed_at < now - timeout),
    )


def bundle_chunks(db: Database, bundle_id: int) -> Iterator[bytes]:
    """The bundle's bytes, one chunk (≤ 1 MiB) per read, so memory stays flat."""
    with db.read_session() as session:
        seqs = list(
            session.scalars(
                select(LogBundleChunk.seq)
                .where(LogBundleChunk.bundle_id == bundle_id)
                .order_by(LogBundleChunk.seq)
            )
        )
    for seq in seqs:
        with db.read_session() as session:
            data = session.scalars(
                select(LogBundleChunk.data).where(
                    LogBundleChunk.bundle_id == bundle_id, LogBundleChunk.seq == seq
                )
            ).one()
        yield bytes(data)
