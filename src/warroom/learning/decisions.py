"""Architecture decision records in MADR form, numbered in order, with supersedes links.

Accepting a record that supersedes another marks the older one superseded in the same
transaction, so the chain never shows two accepted answers to one question. Export writes the
`docs/decisions/NNNN-title.md` files a repository keeps.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_staff, require_writer
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, NotFound
from warroom.learning.documents import Document, put_document, teams_by_service
from warroom.learning.markdown import adr_filename, adr_markdown
from warroom.learning.models import DecisionRecord
from warroom.learning.schemas import AdrCreate, AdrOut, AdrStatus, DocKind


def create_adr(uow: UnitOfWork, actor: Actor, *, data: AdrCreate) -> AdrOut:
    require_writer(actor, action="recording decisions")
    teams = teams_by_service(uow.db)
    with uow:
        old = _by_number(uow.session, data.supersedes) if data.supersedes is not None else None
        number = (uow.session.scalar(select(func.max(DecisionRecord.number))) or 0) + 1
        now = utcnow()
        row = DecisionRecord(
            number=number,
            title=data.title,
            status=data.status.value,
            decided_on=data.decided_on or now.date(),
            deciders=list(data.deciders),
            context=data.context,
            options=list(data.options),
            outcome=data.outcome,
            consequences=data.consequences,
            services=list(data.services),
            supersedes_id=old.id if old else None,
            postmortem_id=data.postmortem_id,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        _supersede_if_accepted(uow.session, row, teams)
        _index(uow.session, row, teams)
        _audit(uow.session, actor, "adr.create", row, data.model_dump(mode="json"))
        out = adr_out(uow.session, row)
        uow.commit()
    return out


def set_adr_status(uow: UnitOfWork, actor: Actor, *, number: int, status: AdrStatus) -> AdrOut:
    require_writer(actor, action="changing decisions")
    teams = teams_by_service(uow.db)
    with uow:
        row = _by_number(uow.session, number)
        if row.status == AdrStatus.SUPERSEDED.value and status is not AdrStatus.SUPERSEDED:
            raise Conflict(f"ADR {number} is superseded; record a new decision instead")
        row.status, row.updated_at = status.value, utcnow()
        _supersede_if_accepted(uow.session, row, teams)
        _index(uow.session, row, teams)
        _audit(uow.session, actor, "adr.status", row, {"status": status.value})
        out = adr_out(uow.session, row)
        uow.commit()
    return out


def list_adrs(db: Database, actor: Actor) -> list[AdrOut]:
    require_staff(actor, action="reading decisions")
    with db.read_session() as session:
        rows = session.scalars(select(DecisionRecord).order_by(DecisionRecord.number))
        return [adr_out(session, row) for row in rows]


def get_adr(db: Database, actor: Actor, *, number: int) -> AdrOut:
    require_staff(actor, action="reading decisions")
    with db.read_session() as session:
        return adr_out(session, _by_number(session, number))


def adr_files(db: Database, actor: Actor) -> dict[str, str]:
    """File name → MADR Markdown for every record."""
    adrs = list_adrs(db, actor)
    titles = {adr.number: adr.title for adr in adrs}
    return {adr_filename(adr): adr_markdown(adr, titles) for adr in adrs}


def export_adrs(db: Database, actor: Actor, *, directory: Path) -> list[Path]:
    """Write `NNNN-title.md` files into `directory` (created if needed); returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in adr_files(db, actor).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def adr_out(session: Session, row: DecisionRecord) -> AdrOut:
    supersedes = session.get(DecisionRecord, row.supersedes_id) if row.supersedes_id else None
    successor = session.scalars(
        select(DecisionRecord.number).where(DecisionRecord.supersedes_id == row.id)
    ).first()
    return AdrOut(
        id=row.id,
        number=row.number,
        title=row.title,
        status=AdrStatus(row.status),
        decided_on=row.decided_on,
        deciders=list(row.deciders or []),
        context=row.context,
        options=list(row.options or []),
        outcome=row.outcome,
        consequences=row.consequences,
        services=list(row.services or []),
        supersedes=supersedes.number if supersedes else None,
        superseded_by=successor,
        postmortem_id=row.postmortem_id,
    )


def _supersede_if_accepted(session: Session, row: DecisionRecord, teams: dict[str, str]) -> None:
    if row.status != AdrStatus.ACCEPTED.value or row.supersedes_id is None:
        return
    old = session.get(DecisionRecord, row.supersedes_id)
    if old is not None and old.status != AdrStatus.SUPERSEDED.value:
        old.status, old.updated_at = AdrStatus.SUPERSEDED.value, utcnow()
        _index(session, old, teams)


def _by_number(session: Session, number: int) -> DecisionRecord:
    row = session.scalars(select(DecisionRecord).where(DecisionRecord.number == number)).first()
    if row is None:
        raise NotFound(f"decision record {number}")
    return row


def _index(session: Session, row: DecisionRecord, teams: dict[str, str]) -> None:
    body = "\n".join([row.context, *map(str, row.options or []), row.outcome, row.consequences])
    doc = Document(
        kind=DocKind.DECISION,
        ref_id=row.id,
        title=f"ADR-{row.number:04d} {row.title} ({row.status})",
        body=body,
        services=tuple(row.services or ()),
        occurred_at=row.created_at,
    )
    put_document(session, doc, teams=teams, now=utcnow())


def _audit(
    session: Session, actor: Actor, action: str, row: DecisionRecord, summary: dict[str, object]
) -> None:
    append_entry(
        session,
        actor,
        action=action,
        object_type="decision_record",
        object_id=row.number,
        summary=summary,
    )
