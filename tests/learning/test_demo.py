"""The demo organisation has learning data that makes search, similarity and classes real."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SYSTEM
from tests.learning.helpers import UowFactory
from warroom import demo
from warroom.db.engine import Database
from warroom.incidents import queries as incident_queries
from warroom.learning import decisions, knowledge, problems, queries, runbooks
from warroom.learning.schemas import ActionStatus, DocKind, PostmortemStatus, SearchFilters


def test_the_demo_shows_published_postmortems_classes_and_similar_incidents(
    db: Database, new_uow: UowFactory, tmp_path: Path
) -> None:
    demo.seed(new_uow, tmp_path)
    published = queries.list_postmortems(db, SYSTEM, status=PostmortemStatus.PUBLISHED)
    assert len(published) == 7 and all(pm.factors for pm in published)
    statuses = {a.status for a in queries.list_actions(db, SYSTEM)}
    assert statuses == set(ActionStatus)
    assert queries.list_actions(db, SYSTEM, overdue_only=True)
    assert queries.list_actions(db, SYSTEM, unowned_only=True)
    assert len(runbooks.list_runbooks(db, SYSTEM)) == 3
    assert any(adr.superseded_by for adr in decisions.list_adrs(db, SYSTEM))
    hits = knowledge.search(db, SYSTEM, query="certificate expired")
    assert hits.total >= 3
    assert knowledge.search(db, SYSTEM, filters=SearchFilters(kind=DocKind.INCIDENT)).total > 7
    sizes = sorted(len(c.members) for c in problems.list_classes(db, SYSTEM))
    assert sizes and sizes[-1] >= 2
    live = incident_queries.list_incidents(db, SYSTEM, active_only=True, limit=1).items[0]
    panel = problems.similar_to_incident(db, SYSTEM, incident_id=live.id)
    assert panel.similar and panel.similar[0].reasons
    demo.seed(new_uow, tmp_path)
    assert len(queries.list_postmortems(db, SYSTEM)) == 8
