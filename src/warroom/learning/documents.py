"""The knowledge base's search documents, written in the same transaction as the change.

Every learning service that changes a postmortem, action item, runbook or decision record calls
`put_document` before it commits, so search never shows a record that a rollback undid nor
misses one that committed. Incidents belong to another domain (which must not import this
one), so their documents are refreshed from here: when a postmortem is created from an incident,
on `warroom kb reindex`, and by the demo.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor
from warroom.catalog import queries as catalog_queries
from warroom.db.engine import Database
from warroom.learning.models import SearchDocument
from warroom.learning.schemas import DocKind
from warroom.learning.search_backends import backend_for

MAX_BODY = 100_000
# Similarity is computed on demand over many narratives: a summary-sized text is what it needs.
MAX_NARRATIVE = 2_000


@dataclass(frozen=True)
class Document:
    """What is indexed about one record."""

    kind: DocKind
    ref_id: int
    title: str
    body: str
    narrative: str = ""
    services: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    severity: str = ""
    occurred_at: datetime | None = None


def facet_text(values: Iterable[str]) -> str:
    """`|a|b|`: a LIKE '%|a|%' filter then matches whole values on every dialect."""
    cleaned = sorted({v.strip() for v in values if v and v.strip()})
    return "|" + "|".join(cleaned) + "|" if cleaned else ""


def facet_values(stored: str) -> list[str]:
    return [v for v in stored.split("|") if v]


def teams_by_service(db: Database) -> dict[str, str]:
    """Owning team per catalog service, read once per indexing run."""
    owners: dict[str, str] = {}
    for team in catalog_queries.list_teams(db, Actor.system("learning-index")):
        for name in team.services:
            owners[name] = team.name
    return owners


def put_document(
    session: Session, doc: Document, *, teams: dict[str, str], now: datetime
) -> SearchDocument:
    """Insert or replace the search document of `doc.kind`/`doc.ref_id` and its full text."""
    row = session.scalars(
        select(SearchDocument).where(
            SearchDocument.kind == doc.kind.value, SearchDocument.ref_id == doc.ref_id
        )
    ).first()
    if row is None:
        row = SearchDocument(kind=doc.kind.value, ref_id=doc.ref_id)
        session.add(row)
    row.title = doc.title[:300]
    row.body = doc.body[:MAX_BODY]
    row.narrative = (doc.narrative or f"{doc.title}\n{doc.body}")[:MAX_NARRATIVE]
    row.services = facet_text(doc.services)
    row.teams = facet_text(teams[s] for s in doc.services if s in teams)
    row.factors = facet_text(doc.factors)
    row.severity = doc.severity
    row.occurred_at = doc.occurred_at or now
    session.flush()
    backend = backend_for(session.get_bind().dialect.name)
    backend.index(session, doc_id=row.id, title=row.title, body=row.body)
    return row


def drop_document(session: Session, *, kind: DocKind, ref_id: int) -> None:
    row = session.scalars(
        select(SearchDocument).where(
            SearchDocument.kind == kind.value, SearchDocument.ref_id == ref_id
        )
    ).first()
    if row is not None:
        backend_for(session.get_bind().dialect.name).remove(session, doc_id=row.id)
        session.delete(row)
