"""Live indexing of incidents: a pull-based catch-up, correct with many server processes.

The incidents domain must not import this one, so it cannot push its changes here. Instead
every change to an incident moves its `updated_at`, and learning pulls: it keeps a high-water
mark (the newest `updated_at` it has indexed) in `learning_cache`, asks
`incidents.queries.incident_versions_in` for incidents changed since shortly before the mark,
and rebuilds the documents whose recorded version (`SearchDocument.source_updated_at`) differs.

* It runs before every search, similar-incidents and problem-classes read (so an incident is
  searchable as soon as it is declared or changed, whichever process served the change), and
  from an optional periodic tick (`make_lifespan`, also refreshing the cached model).
* The check is a read; only when something differs does a write transaction start, which takes
  a database-side lock (`pg_advisory_xact_lock` on PostgreSQL; `BEGIN IMMEDIATE` through the
  unit of work on SQLite) and checks again, so concurrent catch-ups write each version once.
  The unique (kind, ref_id) constraint stays as the backstop. Nothing rests on process memory.
* Why "shortly before" the mark (`LAG`): `updated_at` is stamped before its transaction
  commits, so a change can become visible after a newer one was indexed. Rescanning a window is
  cheap and rewrites nothing, because versions are compared.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.http.periodic import Job, Lifespan, periodic_lifespan
from warroom.incidents import queries as incident_queries
from warroom.learning.documents import drop_document, put_document, teams_by_service
from warroom.learning.models import LearningCache, SearchDocument
from warroom.learning.postmortems import incident_document
from warroom.learning.schemas import DocKind

LAG = timedelta(minutes=2)
SCAN = 5000
BATCH = 200
TICK_SECONDS = 5.0
MARK = "incidents"
NAMESPACE = 0x4C524E  # "LRN": keeps learning's advisory locks apart from other domains'
_log = logging.getLogger("warroom.learning")

Version = tuple[int, datetime, bool]
_NEVER = object()


def xact_lock(session: Session, name: str) -> None:
    """Hold a database-wide lock named `name` until the transaction ends (PostgreSQL only:
    SQLite write transactions are already serialised by `BEGIN IMMEDIATE`)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
    session.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:key AS integer))"),
        {"ns": NAMESPACE, "key": key},
    )


def _stale(session: Session) -> tuple[list[Version], datetime | None]:
    """Incidents whose document is missing, outdated or should not exist; the newest version
    scanned (the next mark) when every stale one fits in a batch."""
    state = session.get(LearningCache, MARK)
    mark = state.mark if state is not None else None
    since = mark - LAG if mark is not None else None
    versions = incident_queries.incident_versions_in(session, since=since, limit=SCAN)
    if not versions:
        return [], mark
    rows = session.execute(
        select(SearchDocument.ref_id, SearchDocument.source_updated_at).where(
            SearchDocument.kind == DocKind.INCIDENT.value,
            SearchDocument.ref_id.in_([v[0] for v in versions]),
        )
    )
    indexed = {row.ref_id: row.source_updated_at for row in rows}
    stale = [
        v for v in versions if (v[0] in indexed if v[2] else indexed.get(v[0], _NEVER) != v[1])
    ]
    newest = stale[BATCH - 1][1] if len(stale) > BATCH else versions[-1][1]
    return stale[:BATCH], newest


def pending(db: Database) -> bool:
    """Whether a catch-up would write anything (a read: cheap enough for every page)."""
    with db.read_session() as session:
        stale, newest = _stale(session)
        state = session.get(LearningCache, MARK)
    known = state.mark if state is not None else None
    return bool(stale) or (newest is not None and (known is None or known < newest))


def catch_up(db: Database) -> int:
    """Bring incident documents up to date; the number of documents written or dropped."""
    if not pending(db):
        return 0
    teams = teams_by_service(db)
    uow = UnitOfWork(db)
    with uow:
        session = uow.session
        xact_lock(session, "index:incidents")
        stale, newest = _stale(session)
        _apply(session, stale, teams)
        _advance(session, newest)
        uow.commit()
    return len(stale)


def _apply(session: Session, stale: list[Version], teams: dict[str, str]) -> None:
    now = utcnow()
    versions = {v[0]: v[1] for v in stale}
    for incident_id, _at, workstream in stale:
        if workstream:
            drop_document(session, kind=DocKind.INCIDENT, ref_id=incident_id)
    wanted = [v[0] for v in stale if not v[2]]
    for detail in incident_queries.incident_details_in(session, wanted):
        row = put_document(session, incident_document(detail), teams=teams, now=now)
        row.source_updated_at = versions[detail.id]
    session.flush()


def _advance(session: Session, newest: datetime | None) -> None:
    if newest is None:
        return
    state = session.get(LearningCache, MARK)
    if state is None:
        state = LearningCache(name=MARK, fingerprint="", mark=newest, data={}, updated_at=utcnow())
        session.add(state)
    elif state.mark is None or state.mark < newest:
        state.mark, state.updated_at = newest, utcnow()


def make_lifespan(tick: Job) -> Lifespan:
    """A router lifespan running `tick` (the catch-up and the cache refresh) every
    `app.state.learning_tick_seconds` (`TICK_SECONDS` is the intended value) in each server
    process. Off unless set: reads catch up by themselves, and a background reader would make
    the incident page's fixed query count (a test) depend on timing."""
    return periodic_lifespan(
        "learning index tick", tick, interval_state="learning_tick_seconds", default=0.0
    )
