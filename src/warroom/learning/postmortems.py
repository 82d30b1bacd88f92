"""Postmortem use cases: create (from an incident or from scratch), edit, review, publish,
import from Markdown, and extend the contributing-factor taxonomy.

Workflow: draft → in review (reviewers named) → published. Publishing runs the blameless
language check and returns its findings as warnings: it never refuses, because a check based on
phrasing has false positives and the authors, not the tool, own the wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_writer
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, FieldError, InvalidInput
from warroom.incidents import queries as incident_queries
from warroom.incidents.schemas import IncidentDetail, Status
from warroom.learning import actions
from warroom.learning.documents import Document, put_document, teams_by_service
from warroom.learning.markdown import parse_postmortem_markdown
from warroom.learning.models import OrgFactor, Postmortem, PostmortemComment, PostmortemReviewer
from warroom.learning.prefill import due_at, sections_from_incident
from warroom.learning.queries import (
    get_postmortem_in,
    language_findings,
    postmortem_out,
    taxonomy_in,
)
from warroom.learning.schemas import (
    SECTION_KEYS,
    DocKind,
    FactorIn,
    FactorOut,
    PostmortemCreate,
    PostmortemOut,
    PostmortemStatus,
    PostmortemUpdate,
    PublishResult,
)

RESOLVED = {Status.RESOLVED, Status.LEARNING, Status.CLOSED}
NARRATIVE_SECTIONS = ("summary", "went_badly", "lessons")


def incident_document(detail: IncidentDetail) -> Document:
    body = "\n".join(
        [detail.summary, detail.customer_impact, *(entry.text for entry in detail.timeline)]
    )
    notes = [entry.text for entry in detail.timeline if entry.kind == "note"]
    return Document(
        kind=DocKind.INCIDENT,
        ref_id=detail.id,
        title=f"#{detail.id} {detail.title}",
        body=body,
        narrative="\n".join([detail.title, detail.summary, detail.customer_impact, *notes]),
        services=tuple(detail.services),
        severity=detail.severity.value,
        occurred_at=detail.started_at or detail.detected_at,
    )


def postmortem_document(row: Postmortem) -> Document:
    sections = row.sections or {}
    return Document(
        kind=DocKind.POSTMORTEM,
        ref_id=row.id,
        title=row.title,
        body="\n".join(str(sections.get(key, "")) for key in SECTION_KEYS),
        narrative="\n".join(
            [row.title, *(str(sections.get(key, ""))[:600] for key in NARRATIVE_SECTIONS)]
        ),
        services=tuple(row.services or ()),
        factors=tuple(row.factors or ()),
        severity=row.severity,
        occurred_at=row.occurred_at,
    )


def index_postmortem(session: Session, row: Postmortem, teams: dict[str, str]) -> None:
    put_document(session, postmortem_document(row), teams=teams, now=utcnow())


def create_from_incident(uow: UnitOfWork, actor: Actor, *, incident_id: int) -> PostmortemOut:
    """Draft a postmortem prefilled from a resolved incident's record."""
    require_writer(actor, action="writing postmortems")
    detail = incident_queries.get_incident(uow.db, actor, incident_id=incident_id)
    if detail.status not in RESOLVED:
        raise Conflict(f"incident {incident_id} is {detail.status.value}: resolve it first")
    since = (detail.started_at or detail.detected_at) - timedelta(hours=24)
    changes = incident_queries.recent_changes(
        uow.db, actor, services=detail.services or None, since=since
    )
    changes = [
        c for c in changes if detail.resolved_at is None or c.happened_at <= detail.resolved_at
    ]
    teams = teams_by_service(uow.db)
    now = utcnow()
    with uow:
        if uow.session.scalars(
            select(Postmortem.id).where(Postmortem.incident_id == incident_id)
        ).first():
            raise Conflict(f"incident {incident_id} already has a postmortem")
        row = Postmortem(
            incident_id=incident_id,
            title=detail.title,
            status=PostmortemStatus.DRAFT.value,
            severity=detail.severity.value,
            services=list(detail.services),
            factors=[],
            sections=sections_from_incident(detail, changes),
            occurred_at=detail.started_at or detail.detected_at,
            due_at=due_at(detail.severity.value, detail.resolved_at or now),
            source="warroom",
            external_url="",
            created_by=actor.label,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        index_postmortem(uow.session, row, teams)
        put_document(uow.session, incident_document(detail), teams=teams, now=now)
        _audit(uow.session, actor, "postmortem.create", row, {"incident_id": incident_id})
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def create_postmortem(uow: UnitOfWork, actor: Actor, *, data: PostmortemCreate) -> PostmortemOut:
    """A postmortem not tied to an incident in Warroom (a past outage, another tool's)."""
    require_writer(actor, action="writing postmortems")
    teams = teams_by_service(uow.db)
    with uow:
        row = new_postmortem_in(uow.session, actor, data=data, teams=teams)
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def new_postmortem_in(
    session: Session,
    actor: Actor,
    *,
    data: PostmortemCreate,
    teams: dict[str, str],
    source: str = "warroom",
    external_id: str | None = None,
    external_url: str = "",
) -> Postmortem:
    _check_factors(session, data.factors)
    _check_sections(data.sections)
    now = utcnow()
    row = Postmortem(
        incident_id=None,
        title=data.title,
        status=PostmortemStatus.DRAFT.value,
        severity=data.severity,
        services=list(data.services),
        factors=list(dict.fromkeys(data.factors)),
        sections={key: data.sections.get(key, "") for key in SECTION_KEYS},
        occurred_at=data.occurred_at or now,
        due_at=None,
        source=source,
        external_id=external_id,
        external_url=external_url,
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    index_postmortem(session, row, teams)
    _audit(session, actor, "postmortem.create", row, {"title": data.title, "source": source})
    return row


def update_postmortem(
    uow: UnitOfWork, actor: Actor, *, postmortem_id: int, data: PostmortemUpdate
) -> PostmortemOut:
    require_writer(actor, action="editing postmortems")
    teams = teams_by_service(uow.db)
    with uow:
        row = get_postmortem_in(uow.session, postmortem_id)
        if row.status == PostmortemStatus.PUBLISHED.value:
            raise Conflict(f"postmortem {postmortem_id} is published and no longer editable")
        apply_update(uow.session, row, data)
        index_postmortem(uow.session, row, teams)
        _audit(uow.session, actor, "postmortem.update", row, data.model_dump(exclude_none=True))
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def apply_update(session: Session, row: Postmortem, data: PostmortemUpdate) -> None:
    if data.title is not None:
        row.title = data.title
    if data.services is not None:
        row.services = list(data.services)
    if data.factors is not None:
        _check_factors(session, data.factors)
        row.factors = list(dict.fromkeys(data.factors))
    if data.sections is not None:
        _check_sections(data.sections)
        row.sections = {**(row.sections or {}), **data.sections}
    row.updated_at = utcnow()


def request_review(
    uow: UnitOfWork, actor: Actor, *, postmortem_id: int, reviewers: Sequence[str]
) -> PostmortemOut:
    """Name reviewers and move a draft to review."""
    require_writer(actor, action="requesting postmortem reviews")
    emails = list(dict.fromkeys(e.strip().lower() for e in reviewers if e.strip()))
    if not emails:
        raise InvalidInput(
            "a review needs reviewers", [FieldError("reviewers", "name at least one")]
        )
    with uow:
        row = get_postmortem_in(uow.session, postmortem_id)
        if row.status != PostmortemStatus.DRAFT.value:
            raise Conflict(f"postmortem {postmortem_id} is {row.status}, not a draft")
        known = set(
            uow.session.scalars(
                select(PostmortemReviewer.email).where(PostmortemReviewer.postmortem_id == row.id)
            )
        )
        for email in emails:
            if email not in known:
                uow.session.add(PostmortemReviewer(postmortem_id=row.id, email=email))
        row.status = PostmortemStatus.IN_REVIEW.value
        row.updated_at = utcnow()
        _audit(uow.session, actor, "postmortem.review", row, {"reviewers": emails})
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def add_comment(
    uow: UnitOfWork, actor: Actor, *, postmortem_id: int, body: str, section: str = ""
) -> PostmortemOut:
    require_writer(actor, action="commenting on postmortems")
    if not body.strip():
        raise InvalidInput("empty comment", [FieldError("body", "write something")])
    if section and section not in SECTION_KEYS:
        raise InvalidInput("unknown section", [FieldError("section", f"not one of {SECTION_KEYS}")])
    with uow:
        row = get_postmortem_in(uow.session, postmortem_id)
        uow.session.add(
            PostmortemComment(
                postmortem_id=row.id,
                section=section,
                body=body.strip(),
                author=actor.label,
                created_at=utcnow(),
            )
        )
        _audit(uow.session, actor, "postmortem.comment", row, {"section": section})
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def approve(uow: UnitOfWork, actor: Actor, *, postmortem_id: int) -> PostmortemOut:
    """A named reviewer signs off."""
    require_writer(actor, action="approving postmortems")
    with uow:
        row = get_postmortem_in(uow.session, postmortem_id)
        reviewer = uow.session.scalars(
            select(PostmortemReviewer).where(
                PostmortemReviewer.postmortem_id == row.id,
                PostmortemReviewer.email == actor.label.lower(),
            )
        ).first()
        if reviewer is None:
            raise Conflict(f"{actor.label} is not a reviewer of postmortem {postmortem_id}")
        reviewer.approved_at = utcnow()
        _audit(uow.session, actor, "postmortem.approve", row, {})
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def publish(uow: UnitOfWork, actor: Actor, *, postmortem_id: int) -> PublishResult:
    """Publish a reviewed postmortem; language findings come back as warnings, not a refusal."""
    require_writer(actor, action="publishing postmortems")
    teams = teams_by_service(uow.db)
    with uow:
        row = get_postmortem_in(uow.session, postmortem_id)
        if row.status != PostmortemStatus.IN_REVIEW.value:
            raise Conflict(
                f"postmortem {postmortem_id} is {row.status}: send it to review before publishing"
            )
        warnings = language_findings({k: str(v) for k, v in (row.sections or {}).items()})
        row.status = PostmortemStatus.PUBLISHED.value
        row.published_at = row.updated_at = utcnow()
        index_postmortem(uow.session, row, teams)
        _audit(uow.session, actor, "postmortem.publish", row, {"warnings": len(warnings)})
        out = postmortem_out(uow.session, row)
        uow.commit()
    return PublishResult(postmortem=out, warnings=warnings)


def import_markdown(uow: UnitOfWork, actor: Actor, *, text: str) -> PostmortemOut:
    """Create a draft postmortem, with its action items, from the Markdown export format."""
    require_writer(actor, action="importing postmortems")
    data, items = parse_postmortem_markdown(text)
    teams = teams_by_service(uow.db)
    with uow:
        row = new_postmortem_in(uow.session, actor, data=data, teams=teams)
        for item in items:
            actions.add_action_in(
                uow.session, actor, data=item.model_copy(update={"postmortem_id": row.id})
            )
        out = postmortem_out(uow.session, row)
        uow.commit()
    return out


def add_factor(uow: UnitOfWork, actor: Actor, *, data: FactorIn) -> FactorOut:
    """Extend the taxonomy (a new key) or refine a default factor (an existing key)."""
    require_writer(actor, action="extending the contributing-factor taxonomy")
    with uow:
        row = uow.session.scalars(select(OrgFactor).where(OrgFactor.key == data.key)).first()
        if row is None:
            row = OrgFactor(key=data.key)
            uow.session.add(row)
        row.name, row.description = data.name, data.description
        row.keywords = [k.lower().strip() for k in data.keywords if k.strip()]
        uow.session.flush()
        append_entry(
            uow.session,
            actor,
            action="factor.put",
            object_type="factor",
            object_id=row.id,
            summary=data.model_dump(mode="json"),
        )
        factor = taxonomy_in(uow.session).get(data.key)
        uow.commit()
    return FactorOut(
        key=factor.key,
        name=factor.name,
        description=factor.description,
        keywords=list(factor.keywords),
        custom=True,
    )


def _check_factors(session: Session, factors: Sequence[str]) -> None:
    taxonomy = taxonomy_in(session)
    unknown = [f for f in factors if f not in taxonomy]
    if unknown:
        raise InvalidInput(
            "unknown contributing factors",
            [FieldError("factors", f"{f!r} is not in the taxonomy") for f in unknown],
        )


def _check_sections(sections: dict[str, str]) -> None:
    unknown = [key for key in sections if key not in SECTION_KEYS]
    if unknown:
        raise InvalidInput(
            "unknown sections",
            [FieldError(f"sections.{key}", "unknown section") for key in unknown],
        )


def _audit(
    session: Session, actor: Actor, action: str, row: Postmortem, summary: dict[str, object]
) -> None:
    append_entry(
        session, actor, action=action, object_type="postmortem", object_id=row.id, summary=summary
    )
