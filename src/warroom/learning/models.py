"""Tables for learning from incidents: postmortems, action items, runbooks, decision records,
the organisation's extra contributing factors, and the search documents of the knowledge base.

Cross-domain references (incidents, services) are plain ids and names: the learning record
outlives an incident that is deleted and a service that leaves the catalog.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from warroom.db.base import Base, UTCDateTime


class Postmortem(Base):
    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), unique=True
    )
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    severity: Mapped[str] = mapped_column(String(10), default="")
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    factors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100), default="warroom")
    external_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    external_url: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostmortemReviewer(Base):
    __tablename__ = "postmortem_reviewers"
    __table_args__ = (UniqueConstraint("postmortem_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(
        ForeignKey("postmortems.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PostmortemComment(Base):
    __tablename__ = "postmortem_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(
        ForeignKey("postmortems.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(40), default="")
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrgFactor(Base):
    """A contributing factor the organisation added to (or refined in) the default taxonomy."""

    __tablename__ = "learning_factors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    postmortem_id: Mapped[int | None] = mapped_column(
        ForeignKey("postmortems.id", ondelete="SET NULL"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(320), default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    success_metric: Mapped[str] = mapped_column(Text, default="")
    external_key: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Runbook(Base):
    __tablename__ = "runbooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    current_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunbookVersion(Base):
    __tablename__ = "runbook_versions"
    __table_args__ = (UniqueConstraint("runbook_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runbook_id: Mapped[int] = mapped_column(
        ForeignKey("runbooks.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunbookProposal(Base):
    """A change to a runbook proposed from a postmortem, decided by the owning team."""

    __tablename__ = "runbook_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runbook_id: Mapped[int] = mapped_column(
        ForeignKey("runbooks.id", ondelete="CASCADE"), index=True
    )
    postmortem_id: Mapped[int | None] = mapped_column(
        ForeignKey("postmortems.id", ondelete="SET NULL"), index=True
    )
    base_version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    proposed_by: Mapped[str] = mapped_column(String(320))
    decided_by: Mapped[str] = mapped_column(String(320), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRecord(Base):
    """An architecture decision record in MADR form."""

    __tablename__ = "decision_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    decided_on: Mapped[date] = mapped_column(Date)
    deciders: Mapped[list[Any]] = mapped_column(JSON, default=list)
    context: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(Text, default="")
    consequences: Mapped[str] = mapped_column(Text, default="")
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision_records.id", ondelete="SET NULL")
    )
    postmortem_id: Mapped[int | None] = mapped_column(
        ForeignKey("postmortems.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SearchDocument(Base):
    """One searchable thing. Facets are `|a|b|` strings so a LIKE filter works on both dialects.

    `narrative` is the part that says what happened (no prefilled headings, roles or status
    changes): similarity and problem classes compare narratives, so that template text shared
    by every postmortem does not make them all look alike.

    The ranked full-text index beside it is dialect-specific (an FTS5 table on SQLite, a
    tsvector column on PostgreSQL), created by the migration and kept by `search_backends`.
    """

    __tablename__ = "learning_search_documents"
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    ref_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    narrative: Mapped[str] = mapped_column(Text, default="")
    services: Mapped[str] = mapped_column(Text, default="")
    teams: Mapped[str] = mapped_column(Text, default="")
    factors: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # incidents only: the incident's `updated_at` this document was built from (live indexing)
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LearningCache(Base):
    """Derived state shared by every server process, keyed by name.

    `incidents`: the live-indexing high-water mark (`mark`, the newest incident `updated_at`
    indexed). `events`: the embeddings (`vectors`, float32) and problem classes (`data`) of the
    current set of past incidents and postmortems, valid while `fingerprint` (a digest of that
    set) matches; any process that sees another fingerprint recomputes and replaces the row.
    """

    __tablename__ = "learning_cache"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    mark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vectors: Mapped[bytes | None] = mapped_column(LargeBinary)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
