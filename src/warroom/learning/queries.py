"""Read side of the learning domain: output shapes, lists, reports and the taxonomy in force.

Postmortems and action items are visible to staff (the whole organisation learns from them);
external participants never see them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_staff
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.engines.blameless import check_text
from warroom.engines.taxonomy import (
    DEFAULT_TAXONOMY,
    Factor,
    FactorSuggestion,
    Taxonomy,
    merge_factors,
    suggest_factors,
)
from warroom.errors import NotFound
from warroom.learning.models import (
    ActionItem,
    OrgFactor,
    Postmortem,
    PostmortemComment,
    PostmortemReviewer,
)
from warroom.learning.schemas import (
    SECTION_KEYS,
    ActionKind,
    ActionOut,
    ActionStatus,
    CommentOut,
    FactorOut,
    LanguageFinding,
    PostmortemOut,
    PostmortemStatus,
    PostmortemSummary,
    Priority,
    ReviewerOut,
)

OPEN_ACTIONS = (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value)

# --- taxonomy ------------------------------------------------------------------------------


def taxonomy_in(session: Session) -> Taxonomy:
    """The default taxonomy extended with the organisation's own factors."""
    custom = [
        Factor(row.key, row.name, row.description, tuple(row.keywords or ()))
        for row in session.scalars(select(OrgFactor).order_by(OrgFactor.id))
    ]
    return merge_factors(DEFAULT_TAXONOMY, custom)


def list_factors(db: Database, actor: Actor) -> list[FactorOut]:
    require_staff(actor, action="reading the contributing-factor taxonomy")
    with db.read_session() as session:
        custom = set(session.scalars(select(OrgFactor.key)))
        taxonomy = taxonomy_in(session)
    return [
        FactorOut(
            key=f.key,
            name=f.name,
            description=f.description,
            keywords=list(f.keywords),
            custom=f.key in custom,
        )
        for f in taxonomy.factors
    ]


def suggest_factors_for(db: Database, sections: dict[str, str]) -> list[FactorSuggestion]:
    """Factors the write-up seems to describe, with the words behind each, for the editor."""
    with db.read_session() as session:
        taxonomy = taxonomy_in(session)
    return suggest_factors("\n".join(sections.values()), taxonomy)


# --- language check ------------------------------------------------------------------------


def language_findings(sections: dict[str, str]) -> list[LanguageFinding]:
    """Blame and hindsight phrasing in every section, in section order."""
    found: list[LanguageFinding] = []
    for key in SECTION_KEYS:
        for finding in check_text(sections.get(key, "")):
            found.append(
                LanguageFinding(
                    section=key,
                    start=finding.start,
                    end=finding.end,
                    phrase=finding.phrase,
                    category=finding.category,
                    explanation=finding.explanation,
                    suggestion=finding.suggestion,
                )
            )
    return found


# --- postmortems ---------------------------------------------------------------------------


def is_overdue(row: Postmortem, now: datetime) -> bool:
    return (
        row.status != PostmortemStatus.PUBLISHED.value
        and row.due_at is not None
        and (row.due_at < now)
    )


def postmortem_summary(row: Postmortem, now: datetime) -> PostmortemSummary:
    return PostmortemSummary(
        id=row.id,
        incident_id=row.incident_id,
        title=row.title,
        status=PostmortemStatus(row.status),
        severity=row.severity,
        services=list(row.services or []),
        factors=list(row.factors or []),
        occurred_at=row.occurred_at,
        due_at=row.due_at,
        overdue=is_overdue(row, now),
        source=row.source,
    )


def postmortem_out(session: Session, row: Postmortem) -> PostmortemOut:
    now = utcnow()
    reviewers = session.scalars(
        select(PostmortemReviewer)
        .where(PostmortemReviewer.postmortem_id == row.id)
        .order_by(PostmortemReviewer.id)
    )
    comments = session.scalars(
        select(PostmortemComment)
        .where(PostmortemComment.postmortem_id == row.id)
        .order_by(PostmortemComment.id)
    )
    actions = session.scalars(
        select(ActionItem).where(ActionItem.postmortem_id == row.id).order_by(ActionItem.id)
    )
    sections = {key: str(value) for key, value in (row.sections or {}).items()}
    return PostmortemOut(
        **postmortem_summary(row, now).model_dump(),
        sections=sections,
        published_at=row.published_at,
        external_url=row.external_url,
        created_by=row.created_by,
        reviewers=[ReviewerOut(email=r.email, approved_at=r.approved_at) for r in reviewers],
        comments=[
            CommentOut(
                id=c.id, section=c.section, body=c.body, author=c.author, created_at=c.created_at
            )
            for c in comments
        ],
        actions=[action_out(a, now.date()) for a in actions],
        findings=language_findings(sections),
    )


def get_postmortem_in(session: Session, postmortem_id: int) -> Postmortem:
    row = session.get(Postmortem, postmortem_id)
    if row is None:
        raise NotFound(f"postmortem {postmortem_id}")
    return row


def get_postmortem(db: Database, actor: Actor, *, postmortem_id: int) -> PostmortemOut:
    require_staff(actor, action="reading postmortems")
    with db.read_session() as session:
        return postmortem_out(session, get_postmortem_in(session, postmortem_id))


def find_postmortem_for_incident(db: Database, actor: Actor, *, incident_id: int) -> int | None:
    require_staff(actor, action="reading postmortems")
    with db.read_session() as session:
        return session.scalars(
            select(Postmortem.id).where(Postmortem.incident_id == incident_id)
        ).first()


def list_postmortems(
    db: Database,
    actor: Actor,
    *,
    status: PostmortemStatus | None = None,
    overdue_only: bool = False,
    limit: int = 200,
) -> list[PostmortemSummary]:
    """Newest first; `overdue_only` is the overdue report (unpublished past the due date)."""
    require_staff(actor, action="reading postmortems")
    now = utcnow()
    query = select(Postmortem).order_by(Postmortem.occurred_at.desc(), Postmortem.id.desc())
    if status:
        query = query.where(Postmortem.status == status.value)
    if overdue_only:
        query = query.where(
            Postmortem.status != PostmortemStatus.PUBLISHED.value,
            Postmortem.due_at.is_not(None),
            Postmortem.due_at < now,
        )
    with db.read_session() as session:
        rows = session.scalars(query.limit(limit)).all()
        return [postmortem_summary(row, now) for row in rows]


# --- action items --------------------------------------------------------------------------


def action_out(row: ActionItem, today: date) -> ActionOut:
    return ActionOut(
        id=row.id,
        title=row.title,
        description=row.description,
        owner=row.owner,
        due_on=row.due_on,
        priority=Priority(row.priority),
        kind=ActionKind(row.kind),
        status=ActionStatus(row.status),
        success_metric=row.success_metric,
        external_key=row.external_key,
        postmortem_id=row.postmortem_id,
        incident_id=row.incident_id,
        overdue=row.status in OPEN_ACTIONS and row.due_on is not None and row.due_on < today,
    )


def get_action(db: Database, actor: Actor, *, action_id: int) -> ActionOut:
    require_staff(actor, action="reading action items")
    with db.read_session() as session:
        row = session.get(ActionItem, action_id)
        if row is None:
            raise NotFound(f"action item {action_id}")
        return action_out(row, utcnow().date())


def list_actions(
    db: Database,
    actor: Actor,
    *,
    status: ActionStatus | None = None,
    owner: str | None = None,
    overdue_only: bool = False,
    unowned_only: bool = False,
    postmortem_id: int | None = None,
) -> list[ActionOut]:
    """Action items by id; the overdue and unowned reports are filters over open items."""
    require_staff(actor, action="reading action items")
    today = utcnow().date()
    query = select(ActionItem).order_by(ActionItem.id)
    if status:
        query = query.where(ActionItem.status == status.value)
    if owner:
        query = query.where(ActionItem.owner == owner)
    if postmortem_id is not None:
        query = query.where(ActionItem.postmortem_id == postmortem_id)
    if overdue_only:
        query = query.where(
            ActionItem.status.in_(OPEN_ACTIONS),
            ActionItem.due_on.is_not(None),
            ActionItem.due_on < today,
        )
    if unowned_only:
        query = query.where(ActionItem.status.in_(OPEN_ACTIONS), ActionItem.owner == "")
    with db.read_session() as session:
        return [action_out(row, today) for row in session.scalars(query)]
