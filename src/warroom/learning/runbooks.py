"""Runbooks: versioned Markdown per catalog service, and changes proposed from postmortems.

Every save is a new version (history is never rewritten). A proposal records the version it was
written against and its unified diff; the owning team (a member of the service's owner team, or
an administrator) approves it, which makes it the next version, or rejects it. A proposal whose
base is no longer current is refused on approval, so a reviewer never approves a stale diff.
"""

from __future__ import annotations

import difflib

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_staff, require_writer
from warroom.audit.service import append_entry
from warroom.catalog import queries as catalog_queries
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, NotFound, PermissionDenied
from warroom.learning.documents import Document, put_document, teams_by_service
from warroom.learning.models import Runbook, RunbookProposal, RunbookVersion
from warroom.learning.schemas import (
    DocKind,
    ProposalCreate,
    ProposalOut,
    ProposalStatus,
    RunbookOut,
    RunbookVersionOut,
    RunbookWrite,
)


def unified_diff(before: str, after: str, service: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/runbooks/{service}.md",
        tofile=f"b/runbooks/{service}.md",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def write_runbook(uow: UnitOfWork, actor: Actor, *, service: str, data: RunbookWrite) -> RunbookOut:
    """Create the service's runbook or save a new version of it."""
    require_writer(actor, action="writing runbooks")
    catalog_queries.get_service(uow.db, actor, name=service)  # NotFound for unknown services
    teams = teams_by_service(uow.db)
    with uow:
        row = _find(uow.session, service)
        if row is None:
            row = Runbook(
                service_name=service, title=data.title or f"{service} runbook", current_version=0
            )
            uow.session.add(row)
        elif data.title:
            row.title = data.title
        _add_version(uow.session, row, data.body, data.note, actor.label)
        _index(uow.session, row, data.body, teams)
        _audit(
            uow.session,
            actor,
            "runbook.write",
            row.id,
            {"service": service, "version": row.current_version},
        )
        out = runbook_out(uow.session, row)
        uow.commit()
    return out


def propose_change(
    uow: UnitOfWork, actor: Actor, *, service: str, data: ProposalCreate
) -> ProposalOut:
    require_writer(actor, action="proposing runbook changes")
    with uow:
        row = _get(uow.session, service)
        current = _version(uow.session, row, row.current_version)
        diff = unified_diff(current.body, data.body, service)
        if not diff:
            raise Conflict("the proposal does not change the runbook")
        proposal = RunbookProposal(
            runbook_id=row.id,
            postmortem_id=data.postmortem_id,
            base_version=row.current_version,
            body=data.body,
            diff=diff,
            rationale=data.rationale,
            status=ProposalStatus.PROPOSED.value,
            proposed_by=actor.label,
            decided_by="",
            created_at=utcnow(),
        )
        uow.session.add(proposal)
        uow.session.flush()
        _audit(uow.session, actor, "runbook.propose", row.id, {"proposal": proposal.id})
        out = proposal_out(proposal, service)
        uow.commit()
    return out


def decide_proposal(
    uow: UnitOfWork, actor: Actor, *, proposal_id: int, approve: bool
) -> ProposalOut:
    """The owning team approves (a new version) or rejects a proposed change."""
    require_writer(actor, action="deciding runbook changes")
    teams = teams_by_service(uow.db)
    with uow:
        proposal = uow.session.get(RunbookProposal, proposal_id)
        if proposal is None:
            raise NotFound(f"runbook proposal {proposal_id}")
        row = uow.session.get(Runbook, proposal.runbook_id)
        assert row is not None
        _require_owner(uow.db, actor, row.service_name)
        if proposal.status != ProposalStatus.PROPOSED.value:
            raise Conflict(f"proposal {proposal_id} is already {proposal.status}")
        if approve:
            if proposal.base_version != row.current_version:
                raise Conflict(
                    f"proposal {proposal_id} was written against version {proposal.base_version}"
                    f" but the runbook is at version {row.current_version}: propose it again"
                )
            note = f"approved proposal {proposal.id}: {proposal.rationale}".strip()
            _add_version(uow.session, row, proposal.body, note, proposal.proposed_by)
            _index(uow.session, row, proposal.body, teams)
        proposal.status = (ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED).value
        proposal.decided_by, proposal.decided_at = actor.label, utcnow()
        _audit(uow.session, actor, f"runbook.{proposal.status}", row.id, {"proposal": proposal.id})
        out = proposal_out(proposal, row.service_name)
        uow.commit()
    return out


def get_runbook(db: Database, actor: Actor, *, service: str) -> RunbookOut:
    require_staff(actor, action="reading runbooks")
    with db.read_session() as session:
        return runbook_out(session, _get(session, service))


def list_runbooks(db: Database, actor: Actor) -> list[RunbookOut]:
    require_staff(actor, action="reading runbooks")
    with db.read_session() as session:
        rows = session.scalars(select(Runbook).order_by(Runbook.service_name))
        return [runbook_out(session, row) for row in rows]


def runbook_out(session: Session, row: Runbook) -> RunbookOut:
    versions = session.scalars(
        select(RunbookVersion)
        .where(RunbookVersion.runbook_id == row.id)
        .order_by(RunbookVersion.version.desc())
    ).all()
    proposals = session.scalars(
        select(RunbookProposal)
        .where(RunbookProposal.runbook_id == row.id)
        .order_by(RunbookProposal.id.desc())
    )
    return RunbookOut(
        id=row.id,
        service=row.service_name,
        title=row.title,
        current_version=row.current_version,
        body=versions[0].body if versions else "",
        history=[
            RunbookVersionOut(
                version=v.version,
                body=v.body,
                note=v.note,
                author=v.author,
                created_at=v.created_at,
            )
            for v in versions
        ],
        proposals=[proposal_out(p, row.service_name) for p in proposals],
    )


def proposal_out(row: RunbookProposal, service: str) -> ProposalOut:
    return ProposalOut(
        id=row.id,
        service=service,
        postmortem_id=row.postmortem_id,
        base_version=row.base_version,
        diff=row.diff,
        rationale=row.rationale,
        status=ProposalStatus(row.status),
        proposed_by=row.proposed_by,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def _require_owner(db: Database, actor: Actor, service: str) -> None:
    if actor.is_admin:
        return
    owner = catalog_queries.get_service(db, actor, name=service).owner_team
    members = catalog_queries.get_team(db, actor, name=owner).members if owner else []
    if actor.label.lower() not in {m.lower() for m in members}:
        raise PermissionDenied(
            f"only the team that owns {service} ({owner or 'no owner'}) decides its runbook"
        )


def _add_version(session: Session, row: Runbook, body: str, note: str, author: str) -> None:
    row.current_version += 1
    row.updated_at = utcnow()
    session.flush()
    session.add(
        RunbookVersion(
            runbook_id=row.id,
            version=row.current_version,
            body=body,
            note=note,
            author=author,
            created_at=row.updated_at,
        )
    )
    session.flush()


def _index(session: Session, row: Runbook, body: str, teams: dict[str, str]) -> None:
    doc = Document(
        kind=DocKind.RUNBOOK,
        ref_id=row.id,
        title=row.title,
        body=body,
        services=(row.service_name,),
        occurred_at=row.updated_at,
    )
    put_document(session, doc, teams=teams, now=row.updated_at)


def _find(session: Session, service: str) -> Runbook | None:
    return session.scalars(select(Runbook).where(Runbook.service_name == service)).first()


def _get(session: Session, service: str) -> Runbook:
    row = _find(session, service)
    if row is None:
        raise NotFound(f"runbook for {service}")
    return row


def _version(session: Session, row: Runbook, version: int) -> RunbookVersion:
    found = session.scalars(
        select(RunbookVersion).where(
            RunbookVersion.runbook_id == row.id, RunbookVersion.version == version
        )
    ).first()
    if found is None:
        raise NotFound(f"version {version} of the {row.service_name} runbook")
    return found


def _audit(
    session: Session, actor: Actor, action: str, runbook_id: int, summary: dict[str, object]
) -> None:
    append_entry(
        session, actor, action=action, object_type="runbook", object_id=runbook_id, summary=summary
    )
