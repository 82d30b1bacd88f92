"""The knowledge base: one ranked search over every kind of record, with facets, plus the
import of historical postmortems and the refresh of incident documents.

Ranking comes from the dialect's full-text engine (`search_backends`); filters (kind, service,
team, factor, severity, dates) are applied in the same SQL, so a filtered search is exact and
not a filtered top-N. Facet counts are computed over the best 500 matches (the ones a person
refines), which keeps a broad query on 10,000 documents fast; the total counts every match.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, Select, Subquery, func, literal, select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_staff, require_writer
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.engines.taxonomy import suggest_factors
from warroom.incidents import queries as incident_queries
from warroom.learning import live
from warroom.learning.documents import (
    drop_document,
    facet_values,
    put_document,
    teams_by_service,
)
from warroom.learning.models import Postmortem, SearchDocument
from warroom.learning.postmortems import (
    incident_document,
    index_postmortem,
    new_postmortem_in,
)
from warroom.learning.queries import taxonomy_in
from warroom.learning.schemas import (
    DocKind,
    ImportReport,
    PostmortemCreate,
    PostmortemStatus,
    SearchFilters,
    SearchHit,
    SearchResult,
)
from warroom.learning.search_backends import backend_for

FACET_SCAN = 500
SNIPPET = 220
URLS = {
    DocKind.INCIDENT: "/incidents/{}",
    DocKind.POSTMORTEM: "/postmortems/{}",
    DocKind.RUNBOOK: "/runbooks/by-id/{}",
    DocKind.DECISION: "/decisions/by-id/{}",
    DocKind.ACTION: "/actions/{}",
}


def url_of(kind: DocKind, ref_id: int) -> str:
    return URLS[kind].format(ref_id)


def search(
    db: Database,
    actor: Actor,
    *,
    query: str = "",
    filters: SearchFilters | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Ranked matches of `query` (all documents, newest first, when it is empty)."""
    require_staff(actor, action="searching the knowledge base")
    live.catch_up(db)
    filters = filters or SearchFilters()
    ranked = backend_for(db.dialect).ranked(query) if query.strip() else None
    if query.strip() and ranked is None:
        return SearchResult(query=query, total=0, hits=[], facets={})
    statement = _filtered(_base(ranked), filters)
    with db.read_session() as session:
        rows = session.execute(statement.limit(FACET_SCAN)).all()
        total = len(rows)
        if total == FACET_SCAN:
            counted = statement.order_by(None).subquery()
            total = session.scalar(select(func.count()).select_from(counted)) or total
        page = rows[offset : offset + limit]
        docs = {
            doc.id: doc
            for doc in session.scalars(
                select(SearchDocument).where(SearchDocument.id.in_([row.id for row in page]))
            )
        }
    hits = [_hit(docs[row.id], float(row.rank), query) for row in page]
    return SearchResult(query=query, total=total, hits=hits, facets=_facets(rows))


Light = Select[int, str, str, str, str, str, datetime, float]
_LIGHT = (
    SearchDocument.id,
    SearchDocument.kind,
    SearchDocument.services,
    SearchDocument.teams,
    SearchDocument.factors,
    SearchDocument.severity,
    SearchDocument.occurred_at,
)


def _base(ranked: Subquery | None) -> Light:
    """Only the facet columns: bodies are read for the page of hits alone."""
    if ranked is None:
        return select(*_LIGHT, literal(0.0).label("rank")).order_by(
            SearchDocument.occurred_at.desc(), SearchDocument.id.desc()
        )
    return (
        select(*_LIGHT, ranked.c.rank.label("rank"))
        .join(ranked, ranked.c.id == SearchDocument.id)
        .order_by(ranked.c.rank.desc(), SearchDocument.id.desc())
    )


def _filtered(statement: Light, filters: SearchFilters) -> Light:
    if filters.kind:
        statement = statement.where(SearchDocument.kind == filters.kind.value)
    for column, value in (
        (SearchDocument.services, filters.service),
        (SearchDocument.teams, filters.team),
        (SearchDocument.factors, filters.factor),
    ):
        if value:
            statement = statement.where(column.like(f"%|{value}|%"))
    if filters.severity:
        statement = statement.where(SearchDocument.severity == filters.severity)
    if filters.since:
        start = datetime.combine(filters.since, time.min, tzinfo=UTC)
        statement = statement.where(SearchDocument.occurred_at >= start)
    if filters.until:
        end = datetime.combine(filters.until, time.max, tzinfo=UTC)
        statement = statement.where(SearchDocument.occurred_at <= end)
    return statement


def _hit(doc: SearchDocument, rank: float, query: str) -> SearchHit:
    kind = DocKind(doc.kind)
    return SearchHit(
        kind=kind,
        ref_id=doc.ref_id,
        title=doc.title,
        snippet=snippet(doc.body, query),
        url=url_of(kind, doc.ref_id),
        services=facet_values(doc.services),
        factors=facet_values(doc.factors),
        severity=doc.severity,
        occurred_at=doc.occurred_at,
        rank=round(rank, 6),
    )


def snippet(body: str, query: str) -> str:
    """The stretch of `body` around the first query word it contains."""
    flat = " ".join(body.split())
    lowered = flat.lower()
    positions = [lowered.find(w.lower()) for w in query.split() if len(w) > 2]
    found = [p for p in positions if p >= 0]
    start = max(0, min(found) - 60) if found else 0
    text = flat[start : start + SNIPPET]
    return ("…" if start else "") + text + ("…" if start + SNIPPET < len(flat) else "")


def _facets(
    docs: Sequence[Row[int, str, str, str, str, str, datetime, float]],
) -> dict[str, dict[str, int]]:
    counters: dict[str, Counter[str]] = {
        name: Counter() for name in ("kind", "service", "team", "factor", "severity", "year")
    }
    for doc in docs:
        counters["kind"][doc.kind] += 1
        counters["service"].update(facet_values(doc.services))
        counters["team"].update(facet_values(doc.teams))
        counters["factor"].update(facet_values(doc.factors))
        if doc.severity:
            counters["severity"][doc.severity] += 1
        counters["year"][str(doc.occurred_at.year)] += 1
    return {name: dict(counter.most_common(15)) for name, counter in counters.items()}


def reindex(uow: UnitOfWork, actor: Actor) -> int:
    """Refresh incident (not workstream) and postmortem documents: incidents change elsewhere."""
    require_writer(actor, action="reindexing the knowledge base")
    details = [
        incident_queries.get_incident(uow.db, actor, incident_id=summary.id)
        for summary in _all_incidents(uow.db, actor)
    ]
    teams = teams_by_service(uow.db)
    now = utcnow()
    with uow:
        for detail in details:
            put_document(uow.session, incident_document(detail), teams=teams, now=now)
        _drop_stale_incidents(uow.session, {detail.id for detail in details})
        for row in uow.session.scalars(select(Postmortem)):
            index_postmortem(uow.session, row, teams)
        append_entry(
            uow.session,
            actor,
            action="kb.reindex",
            object_type="knowledge_base",
            object_id=0,
            summary={"incidents": len(details)},
        )
        uow.commit()
    return len(details)


def _drop_stale_incidents(session: Session, current: set[int]) -> None:
    """Documents of incidents that were deleted or became workstreams leave the index."""
    stale = session.scalars(
        select(SearchDocument.ref_id).where(SearchDocument.kind == DocKind.INCIDENT.value)
    ).all()
    for ref_id in set(stale) - current:
        drop_document(session, kind=DocKind.INCIDENT, ref_id=ref_id)


def _all_incidents(db: Database, actor: Actor) -> Iterator[Any]:
    cursor: str | None = None
    while True:
        page = incident_queries.list_incidents(db, actor, cursor=cursor, limit=500)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- import --------------------------------------------------------------------------------


def import_jsonl(uow: UnitOfWork, actor: Actor, *, text: str) -> ImportReport:
    """Import historical postmortems, one JSON object a line; idempotent by record `id`.

    Good records are kept and bad ones reported with their line numbers. Each record needs an
    `id` and a `summary` (or `description`); `title`, `company`, `url`, `services`, `severity`,
    `factors`, `occurred_at`/`start_time`, `tags` and `categories` are used when present.
    """
    require_writer(actor, action="importing postmortems")
    parsed, errors = _parse_lines(text)
    teams = teams_by_service(uow.db)
    counts = Counter[str]()
    with uow:
        taxonomy = taxonomy_in(uow.session)
        for _line, external_id, data, url in parsed:
            known = [f for f in data.factors if f in taxonomy]
            if not known:
                known = [s.key for s in suggest_factors(_text(data), taxonomy)[:3]]
            data = data.model_copy(update={"factors": known})
            counts[_upsert(uow.session, actor, external_id, data, url, teams)] += 1
        append_entry(
            uow.session,
            actor,
            action="kb.import",
            object_type="knowledge_base",
            object_id=0,
            summary={**counts, "errors": len(errors)},
        )
        uow.commit()
    return ImportReport(
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        errors=errors,
    )


def _text(data: PostmortemCreate) -> str:
    return f"{data.title}\n" + "\n".join(data.sections.values())


def _upsert(
    session: Session,
    actor: Actor,
    external_id: str,
    data: PostmortemCreate,
    url: str,
    teams: dict[str, str],
) -> str:
    row = session.scalars(select(Postmortem).where(Postmortem.external_id == external_id)).first()
    if row is None:
        row = new_postmortem_in(
            session,
            actor,
            data=data,
            teams=teams,
            source="import",
            external_id=external_id,
            external_url=url,
        )
        row.status = PostmortemStatus.PUBLISHED.value
        row.published_at = row.occurred_at
        return "created"
    sections = {**(row.sections or {}), **data.sections}
    fresh = (data.title, list(data.services), list(data.factors), sections, data.severity)
    if fresh == (row.title, row.services, row.factors, row.sections, row.severity):
        return "unchanged"
    row.title, row.services, row.factors, row.sections, row.severity = fresh
    row.updated_at = utcnow()
    index_postmortem(session, row, teams)
    return "updated"


def _parse_lines(text: str) -> tuple[list[tuple[int, str, PostmortemCreate, str]], list[str]]:
    parsed: list[tuple[int, str, PostmortemCreate, str]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            external_id, data, url = _record(record)
        except (json.JSONDecodeError, ValueError, ValidationError) as exc:
            errors.append(f"line {number}: {_reason(exc)}")
            continue
        if external_id in seen:
            errors.append(f"line {number}: duplicate id {external_id!r} in the file")
            continue
        seen.add(external_id)
        parsed.append((number, external_id, data, url))
    return parsed, errors


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg})"
    return str(exc)


def _record(record: object) -> tuple[str, PostmortemCreate, str]:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    external_id = record.get("id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise ValueError("id: a non-empty string is required")
    summary = record.get("summary") or record.get("description")
    if not isinstance(summary, str) or not summary.strip():
        raise ValueError("summary: a non-empty string is required")
    title = record.get("title") or _title_from(summary, record.get("company"))
    details = record.get("description") if record.get("summary") else None
    data = PostmortemCreate.model_validate(
        {
            "title": str(title)[:300],
            "severity": record.get("severity") or "",
            "services": record.get("services") or [],
            "factors": record.get("factors") or [],
            "occurred_at": record.get("occurred_at") or record.get("start_time") or None,
            "sections": {
                "summary": summary.strip(),
                "factors_notes": _labels(record),
                "timeline": details.strip() if isinstance(details, str) else "",
            },
        }
    )
    url = record.get("url") if isinstance(record.get("url"), str) else ""
    return external_id.strip(), data, str(url)[:2000]


def _title_from(summary: str, company: object) -> str:
    first = summary.strip().split(". ")[0][:120]
    return f"{company}: {first}" if isinstance(company, str) and company else first


def _labels(record: dict[str, Any]) -> str:
    values = [*(record.get("categories") or []), *(record.get("tags") or [])]
    return ", ".join(str(v) for v in values if v)
