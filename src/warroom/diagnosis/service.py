"""Log bundle use cases: upload, claim for analysis, finish (done or failed).

Why jobs live in the database: several server processes (and `warroom diagnosis work` from
cron) share one database and no local disk, so the queue is the `log_bundles` table. A claim is
one transaction: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` lets concurrent workers take
different bundles; on SQLite the unit of work's `BEGIN IMMEDIATE` serialises claims. A claim
sets a random token; finishing checks it, so a worker that was presumed dead (running longer
than the timeout, then re-queued and claimed by another) cannot overwrite the newer result.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import BinaryIO, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_writer
from warroom.audit.service import append_entry
from warroom.catalog.queries import dependency_graph
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.diagnosis.findings import Findings
from warroom.diagnosis.models import LogBundle, LogBundleChunk
from warroom.diagnosis.queries import bundle_out, claimable
from warroom.diagnosis.schemas import BundleOut, BundleStatus, Claim
from warroom.engines.suspects import Change
from warroom.errors import FieldError, InvalidInput, PayloadTooLarge
from warroom.incidents.queries import services_of, visible_incident
from warroom.incidents.service import add_timeline_entry_in, recent_changes_in

CHUNK_BYTES: Final = 1 << 20
MAX_ATTEMPTS: Final = 3
CHANGES_BEFORE: Final = timedelta(hours=48)
ANALYST: Final = Actor.system("log analysis")


def _audit(session: Session, actor: Actor, bundle: LogBundle, action: str, **extra: object) -> None:
    summary = {"incident_id": bundle.incident_id, "filename": bundle.filename, **extra}
    append_entry(
        session,
        actor,
        action=f"log_bundle.{action}",
        object_type="log_bundle",
        object_id=bundle.id,
        summary=summary,
    )


def _store_chunks(session: Session, bundle_id: int, stream: BinaryIO, max_bytes: int) -> int:
    size = 0
    seq = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the log bundle is larger than {max_bytes} bytes")
        # Core inserts: the chunk is not kept in the session's identity map.
        session.execute(insert(LogBundleChunk), {"bundle_id": bundle_id, "seq": seq, "data": chunk})
        seq += 1
    return size


def upload_bundle(
    uow: UnitOfWork,
    actor: Actor,
    *,
    incident_id: int,
    filename: str,
    stream: BinaryIO,
    max_bytes: int,
) -> BundleOut:
    """Store a bundle (bytes in ≤ 1 MiB chunks) and queue it for analysis."""
    require_writer(actor, action="uploading log bundles")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name:
        raise InvalidInput("the upload has no file name", [FieldError("file", "choose a file")])
    with uow:
        session = uow.session
        visible_incident(session, actor, incident_id)
        bundle = LogBundle(
            incident_id=incident_id,
            filename=name,
            size_bytes=0,
            status=BundleStatus.QUEUED.value,
            uploaded_by_id=actor.user_id,
            uploaded_by=actor.label,
            uploaded_at=utcnow(),
            attempts=0,
            error="",
            result={},
        )
        session.add(bundle)
        session.flush()
        bundle.size_bytes = _store_chunks(session, bundle.id, stream, max_bytes)
        if bundle.size_bytes == 0:
            raise InvalidInput("the file is empty", [FieldError("file", "the file is empty")])
        _audit(session, actor, bundle, "upload", size_bytes=bundle.size_bytes)
        out = bundle_out(bundle)
        uow.commit()
    return out


def _candidates(session: Session, now: datetime, timeout: timedelta) -> LogBundle | None:
    query = select(LogBundle).where(claimable(now, timeout)).order_by(LogBundle.id).limit(1)
    return session.scalars(query.with_for_update(skip_locked=True)).first()


def claim_next(uow: UnitOfWork, *, timeout: timedelta, now: datetime | None = None) -> Claim | None:
    """Take the oldest queued bundle (or one whose worker died) for analysis; None if idle.

    A bundle that already crashed or timed out `MAX_ATTEMPTS` times is failed instead of
    claimed again, so one poisonous bundle cannot occupy the workers forever.
    """
    now = now or utcnow()
    with uow:
        session = uow.session
        while (bundle := _candidates(session, now, timeout)) is not None:
            if bundle.status == BundleStatus.RUNNING.value:
                _audit(session, ANALYST, bundle, "requeue", attempts=bundle.attempts)
                if bundle.attempts >= MAX_ATTEMPTS:
                    why = f"gave up after {bundle.attempts} attempts that crashed or timed out"
                    _finish(session, bundle, BundleStatus.FAILED, now, error=why)
                    continue
            bundle.status = BundleStatus.RUNNING.value
            bundle.claimed_at = now
            bundle.claim_token = secrets.token_hex(16)
            bundle.attempts += 1
            _audit(session, ANALYST, bundle, "claim", attempt=bundle.attempts)
            claim = Claim(
                bundle_id=bundle.id,
                incident_id=bundle.incident_id,
                filename=bundle.filename,
                token=bundle.claim_token,
            )
            uow.commit()
            return claim
        uow.commit()
    return None


def _finish(
    session: Session, bundle: LogBundle, status: BundleStatus, now: datetime, *, error: str = ""
) -> None:
    bundle.status = status.value
    bundle.finished_at = now
    bundle.claim_token = None
    bundle.error = error[:2000]
    _audit(session, ANALYST, bundle, status.value, error=bundle.error)


def _claimed(session: Session, claim: Claim) -> LogBundle | None:
    bundle = session.scalars(
        select(LogBundle).where(LogBundle.id == claim.bundle_id).with_for_update()
    ).first()
    if bundle is None or bundle.claim_token != claim.token:
        return None  # deleted with its incident, or re-queued and taken by another worker
    return bundle


def complete(uow: UnitOfWork, claim: Claim, found: Findings) -> bool:
    """Add the findings to the incident timeline and mark the bundle done, in one transaction.

    Returns False (and changes nothing) when the claim is no longer this worker's.
    """
    with uow:
        session = uow.session
        bundle = _claimed(session, claim)
        if bundle is None:
            return False
        for entry in found.entries:
            add_timeline_entry_in(
                session,
                ANALYST,
                incident_id=bundle.incident_id,
                kind=entry.kind,
                text=entry.text,
                data=entry.data,
                at=entry.at,
            )
        bundle.result = found.result
        bundle.report_json = found.report_json
        bundle.report_html = found.report_html
        _finish(session, bundle, BundleStatus.DONE, utcnow())
        uow.commit()
    return True


def fail(uow: UnitOfWork, claim: Claim, reason: str) -> bool:
    """Mark the claimed bundle failed with `reason`; False when the claim was lost."""
    with uow:
        bundle = _claimed(uow.session, claim)
        if bundle is None:
            return False
        _finish(uow.session, bundle, BundleStatus.FAILED, utcnow(), error=reason)
        uow.commit()
    return True


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def change_events(db: Database, incident_id: int) -> tuple[list[Change], dict[str, list[str]]]:
    """Recent changes of the incident's services, as suspect candidates, and the dependencies."""
    with db.read_session() as session:
        incident = visible_incident(session, ANALYST, incident_id)
        services = services_of(session, [incident_id]).get(incident_id, [])
        since = (incident.started_at or incident.detected_at) - CHANGES_BEFORE
        changes = recent_changes_in(session, services, since)
        graph = dependency_graph(session)
    events = [
        Change(f"change-{c.id}", c.kind.value, c.service_name, _ns(c.happened_at), c.summary)
        for c in changes
    ]
    return events, graph
