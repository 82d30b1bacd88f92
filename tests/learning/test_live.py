"""Live indexing of incidents (pull-based catch-up) and the shared embeddings cache."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import SYSTEM
from tests.learning.helpers import UowFactory, resolved_incident, seed_catalog
from warroom.db.engine import Database
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import IncidentCreate, IncidentUpdate, Severity
from warroom.learning import embedcache, knowledge, live, problems
from warroom.learning.models import LearningCache, SearchDocument
from warroom.learning.schemas import DocKind


def _declare(new_uow: UowFactory, title: str) -> int:
    data = IncidentCreate(
        title=title,
        severity=Severity.SEV3,
        services=["search"],
        summary="Search results went stale after the indexer stalled.",
    )
    return incident_service.declare_incident(new_uow(), SYSTEM, data=data).id


def _incident_documents(db: Database, incident_id: int) -> int:
    with db.read_session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(SearchDocument)
                .where(
                    SearchDocument.kind == DocKind.INCIDENT.value,
                    SearchDocument.ref_id == incident_id,
                )
            )
            or 0
        )


def test_a_declared_incident_is_searchable_and_its_changes_follow(
    new_uow: UowFactory, db: Database
) -> None:
    seed_catalog(new_uow)
    incident_id = _declare(new_uow, "Quokka indexer stalled")
    hits = knowledge.search(db, SYSTEM, query="quokka").hits
    assert [h.ref_id for h in hits] == [incident_id]
    assert hits[0].services == ["search"]
    incident_service.update_incident(
        new_uow(), SYSTEM, incident_id=incident_id, data=IncidentUpdate(title="Wombat backlog")
    )
    # the old title stays in the body through the timeline entry that records the change
    hits = knowledge.search(db, SYSTEM, query="wombat").hits
    assert [(h.ref_id, h.title) for h in hits] == [(incident_id, f"#{incident_id} Wombat backlog")]
    assert _incident_documents(db, incident_id) == 1
    assert live.catch_up(db) == 0  # nothing left to do: reads do not write again
    assert not live.pending(db)


def test_concurrent_catch_ups_leave_one_document(new_uow: UowFactory, db: Database) -> None:
    seed_catalog(new_uow)
    incident_id = _declare(new_uow, "Concurrent catch-up")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            live.catch_up(db)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _incident_documents(db, incident_id) == 1
    with db.read_session() as session:
        state = session.get(LearningCache, live.MARK)
        assert state is not None and state.mark is not None


def test_classes_are_cached_by_fingerprint_and_recomputed_on_change(
    new_uow: UowFactory, db: Database
) -> None:
    seed_catalog(new_uow)
    for _ in range(2):
        resolved_incident(new_uow, title="Card payments failing at checkout")
    first = problems.list_classes(db, SYSTEM)
    with db.read_session() as session:
        row = session.get(LearningCache, embedcache.EVENTS)
        assert row is not None and row.vectors is not None
        key = row.fingerprint
    assert problems.list_classes(db, SYSTEM) == first
    assert not problems.warm(db)  # current: nothing refitted
    resolved_incident(new_uow, title="Card payments failing again at checkout")
    assert problems.warm(db)  # another process's change is seen through the database
    with db.read_session() as session:
        row = session.get(LearningCache, embedcache.EVENTS)
        assert row is not None and row.fingerprint != key
    members = sum(len(c.members) for c in problems.list_classes(db, SYSTEM))
    assert members >= sum(len(c.members) for c in first)


def test_similar_incidents_use_the_live_index(new_uow: UowFactory, db: Database) -> None:
    seed_catalog(new_uow)
    older = resolved_incident(new_uow, title="Card payments failing at checkout")
    newer = resolved_incident(new_uow, title="Card payments failing at checkout again")
    panel = problems.similar_to_incident(db, SYSTEM, incident_id=newer)
    assert [s.ref_id for s in panel.similar] == [older]
    assert any("shared service" in r for r in panel.similar[0].reasons)
    cached = problems.similar_to_incident(db, SYSTEM, incident_id=newer)
    assert cached == panel


def test_the_optional_tick_indexes_without_a_read(
    app: FastAPI, new_uow: UowFactory, db: Database
) -> None:
    seed_catalog(new_uow)
    incident_id = _declare(new_uow, "Ticked incident")
    app.state.learning_tick_seconds = 0.05
    with TestClient(app):
        for _ in range(100):
            if _incident_documents(db, incident_id):
                break
            time.sleep(0.05)
    assert _incident_documents(db, incident_id) == 1
