"""Knowledge base: ranked search with facets, import, similar incidents and problem classes,
on SQLite (FTS5) and PostgreSQL (tsvector) alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SYSTEM
from tests.learning.helpers import UowFactory, resolved_incident, seed_catalog, written
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.learning import actions, decisions, knowledge, postmortems, problems, runbooks
from warroom.learning.documents import Document, put_document
from warroom.learning.schemas import (
    ActionCreate,
    AdrCreate,
    DocKind,
    PostmortemUpdate,
    RunbookWrite,
    SearchFilters,
)
from warroom.learning.search_backends import fts5_query

CERTS = [
    (
        "Login down: expired TLS certificate",
        "The TLS certificate for the login API expired overnight and clients failed the handshake.",
        ["auth"],
    ),
    (
        "Payments API rejected: certificate expired",
        "An expired certificate on the payments gateway broke TLS for card processing.",
        ["payments"],
    ),
    (
        "Search unreachable after certificate expiry",
        "The search cluster certificate expired; TLS connections were refused.",
        ["search"],
    ),
]
OTHER = [
    (
        "Checkout slow during sale",
        "Database connection pool exhausted under peak traffic at checkout.",
        ["checkout"],
    ),
    (
        "Cart errors after config push",
        "A bad configuration push set the cache size to zero.",
        ["checkout"],
    ),
]


def _seed(new_uow: UowFactory) -> None:
    seed_catalog(new_uow)
    for title, summary, services in CERTS + OTHER:
        written(new_uow, title, summary, services=services, factors=["change"])


def test_search_ranks_matches_and_filters_by_facets(new_uow: UowFactory, db: Database) -> None:
    _seed(new_uow)
    result = knowledge.search(db, SYSTEM, query="certificate expired")
    assert result.total == 3
    assert {hit.kind for hit in result.hits} == {DocKind.POSTMORTEM}
    assert all("certificate" in (h.title + h.snippet).lower() for h in result.hits)
    assert result.facets["service"] == {"auth": 1, "payments": 1, "search": 1}
    assert result.facets["team"]["identity"] == 1
    only = knowledge.search(
        db, SYSTEM, query="certificate", filters=SearchFilters(service="payments")
    )
    assert [h.title for h in only.hits] == ["Payments API rejected: certificate expired"]
    by_team = knowledge.search(
        db, SYSTEM, query="certificate", filters=SearchFilters(team="identity")
    )
    assert by_team.total == 1


def test_search_understands_phrases_exclusions_and_or(new_uow: UowFactory, db: Database) -> None:
    _seed(new_uow)
    assert knowledge.search(db, SYSTEM, query='"connection pool"').total == 1
    assert knowledge.search(db, SYSTEM, query="certificate -payments").total == 2
    assert knowledge.search(db, SYSTEM, query="pool or cache").total == 2
    assert knowledge.search(db, SYSTEM, query="***").total == 0


def test_every_kind_of_record_is_searchable(new_uow: UowFactory, db: Database) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow)
    postmortems.create_from_incident(new_uow(), SYSTEM, incident_id=incident_id)
    runbooks.write_runbook(
        new_uow(), SYSTEM, service="payments", data=RunbookWrite(body="Restart the fraudcheck pods")
    )
    decisions.create_adr(new_uow(), SYSTEM, data=AdrCreate(title="Fraudcheck timeouts at 2s"))
    actions.create_action(new_uow(), SYSTEM, data=ActionCreate(title="Load test fraudcheck"))
    kinds = {h.kind for h in knowledge.search(db, SYSTEM, query="fraudcheck").hits}
    assert kinds == {DocKind.RUNBOOK, DocKind.DECISION, DocKind.ACTION}
    found = knowledge.search(
        db, SYSTEM, query="card payments", filters=SearchFilters(kind=DocKind.INCIDENT)
    )
    assert [h.ref_id for h in found.hits] == [incident_id]


def test_a_rolled_back_change_leaves_no_search_document(new_uow: UowFactory, db: Database) -> None:
    pm = written(new_uow, "Quiet", "nothing here")
    with pytest.raises(Exception, match="unknown contributing factors"):
        postmortems.update_postmortem(
            new_uow(),
            SYSTEM,
            postmortem_id=pm.id,
            data=PostmortemUpdate(title="Zebra", factors=["nope"]),
        )
    assert knowledge.search(db, SYSTEM, query="zebra").total == 0


def test_fts5_queries_are_quoted_so_user_input_cannot_inject_syntax() -> None:
    assert fts5_query('title:x NEAR(a b) "tls cert" -dns') == (
        '(("title" AND "x" AND "NEAR" AND "a" AND "b" AND "tls cert")) NOT ("dns")'
    )
    assert fts5_query("a or b") == '("a") OR ("b")'
    assert fts5_query("-only") is None


def test_import_keeps_good_records_reports_bad_ones_and_is_idempotent(
    new_uow: UowFactory, db: Database
) -> None:
    lines = [
        json.dumps(
            {"id": "x-1", "summary": "A leap second made the kernel spin.", "company": "Acme"}
        ),
        "{not json",
        json.dumps({"id": "x-2"}),
        json.dumps(
            {"id": "x-3", "summary": "Disk full on the primary database.", "services": ["db"]}
        ),
        json.dumps({"id": "x-1", "summary": "duplicate"}),
    ]
    text = "\n".join(lines) + "\n"
    report = knowledge.import_jsonl(new_uow(), SYSTEM, text=text)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [e.split(":")[0] for e in report.errors] == ["line 2", "line 3", "line 5"]
    again = knowledge.import_jsonl(new_uow(), SYSTEM, text=text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    hit = knowledge.search(db, SYSTEM, query="leap second").hits[0]
    assert hit.title.startswith("Acme:")
    assert "time" in hit.factors


def test_the_shared_public_corpus_imports_cleanly(
    new_uow: UowFactory, db: Database, shared_dir: Path
) -> None:
    text = (shared_dir / "data" / "postmortems" / "public.jsonl").read_text(encoding="utf-8")
    report = knowledge.import_jsonl(new_uow(), SYSTEM, text=text)
    assert report.errors == []
    assert report.created == len(text.splitlines())
    assert knowledge.search(db, SYSTEM, query="certificate expired").total > 0
    assert len(problems.list_classes(db, SYSTEM)) > 5


def test_similar_incidents_come_with_reasons_and_a_known_class(
    new_uow: UowFactory, db: Database
) -> None:
    _seed(new_uow)
    incident_id = resolved_incident(
        new_uow,
        title="Checkout TLS handshake failures: certificate expired",
        services=("checkout",),
    )
    panel = problems.similar_to_incident(db, SYSTEM, incident_id=incident_id)
    top = panel.similar[0]
    assert "certificate" in top.title.lower()
    assert any("certificate" in r or "tls" in r.lower() for r in top.reasons)
    assert panel.known_class is not None
    assert len(panel.known_class.problem_class.members) == 3
    assert panel.known_class.evidence


def test_problem_classes_group_one_failure_mode_across_systems(
    new_uow: UowFactory, db: Database
) -> None:
    _seed(new_uow)
    classes = problems.list_classes(db, SYSTEM)
    certs = next(c for c in classes if len(c.members) == 3)
    assert sorted(certs.services) == ["auth", "payments", "search"]
    assert sum(certs.trend.values()) == 3
    catalog = problems.failure_mode_catalog(db, SYSTEM, service="auth")
    assert catalog.startswith("# Failure modes of auth")
    assert "Login down: expired TLS certificate" in catalog
    experiment = json.loads(problems.chaos_experiment(db, SYSTEM, class_id=certs.id))
    assert experiment["steady-state-hypothesis"]["probes"]
    assert experiment["method"]


def test_reindex_picks_up_incidents_and_drops_deleted_ones(
    new_uow: UowFactory, db: Database
) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow, title="Ledger drift after clock step")
    # indexed live: found before any reindex
    assert knowledge.search(db, SYSTEM, query="ledger drift").total == 1
    assert knowledge.reindex(new_uow(), SYSTEM) == 1
    assert knowledge.search(db, SYSTEM, query="ledger drift").hits[0].ref_id == incident_id
    with new_uow() as uow:
        put_document(
            uow.session,
            Document(kind=DocKind.INCIDENT, ref_id=999, title="Ghost ledger", body="gone"),
            teams={},
            now=utcnow(),
        )
        uow.commit()
    assert knowledge.search(db, SYSTEM, query="ghost").total == 1
    knowledge.reindex(new_uow(), SYSTEM)
    assert knowledge.search(db, SYSTEM, query="ghost").total == 0
