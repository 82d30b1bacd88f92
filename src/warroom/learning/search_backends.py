"""Ranked full text behind one interface: SQLite FTS5 and PostgreSQL tsvector.

Why an adapter: the search documents table is portable, but ranking is not. On SQLite an FTS5
table (porter stemming, BM25 with the title weighted double) holds one row per document id; on
PostgreSQL a weighted tsvector column (title A, body B) with a GIN index is matched with
`websearch_to_tsquery` and ranked with `ts_rank`. Both accept the same query language (words,
"quoted phrases", `-excluded`, `or`), translated here for FTS5, so callers never see a dialect.
Indexing runs inside the caller's transaction, so the index never disagrees with the data.
"""

from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy import Float, Integer, Subquery, text
from sqlalchemy.orm import Session

_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([\w.@/-]+)', re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchBackend(Protocol):
    """Keeps the full-text index of `learning_search_documents` and ranks matches."""

    def index(self, session: Session, *, doc_id: int, title: str, body: str) -> None: ...

    def remove(self, session: Session, *, doc_id: int) -> None: ...

    def ranked(self, query: str) -> Subquery | None:
        """A subquery of (id, rank) for documents matching `query`, or None if it has no terms."""
        ...


class SqliteBackend:
    """FTS5: the virtual table's rowid is the search document id."""

    def index(self, session: Session, *, doc_id: int, title: str, body: str) -> None:
        self.remove(session, doc_id=doc_id)
        session.execute(
            text("INSERT INTO learning_search_fts (rowid, title, body) VALUES (:id, :t, :b)"),
            {"id": doc_id, "t": title, "b": body},
        )

    def remove(self, session: Session, *, doc_id: int) -> None:
        session.execute(text("DELETE FROM learning_search_fts WHERE rowid = :id"), {"id": doc_id})

    def ranked(self, query: str) -> Subquery | None:
        expression = fts5_query(query)
        if expression is None:
            return None
        statement = text(
            "SELECT rowid AS id, -bm25(learning_search_fts, 2.0, 1.0) AS rank "
            "FROM learning_search_fts WHERE learning_search_fts MATCH :q"
        ).bindparams(q=expression)
        return statement.columns(id=Integer, rank=Float).subquery("ranked")


class PostgresBackend:
    """tsvector column `tsv` on the documents table, English configuration."""

    def index(self, session: Session, *, doc_id: int, title: str, body: str) -> None:
        session.execute(
            text(
                "UPDATE learning_search_documents SET tsv = "
                "setweight(to_tsvector('english', :t), 'A') || "
                "setweight(to_tsvector('english', :b), 'B') WHERE id = :id"
            ),
            {"id": doc_id, "t": title, "b": body},
        )

    def remove(self, session: Session, *, doc_id: int) -> None:
        """Nothing to do: the vector lives on the row that is deleted."""
        del session, doc_id

    def ranked(self, query: str) -> Subquery | None:
        if not _WORD.search(query):
            return None
        statement = text(
            "SELECT d.id AS id, ts_rank(d.tsv, q) AS rank "
            "FROM learning_search_documents d, websearch_to_tsquery('english', :q) q "
            "WHERE d.tsv @@ q"
        ).bindparams(q=query)
        return statement.columns(id=Integer, rank=Float).subquery("ranked")


def backend_for(dialect: str) -> SearchBackend:
    """The backend for a SQLAlchemy dialect name."""
    if dialect == "postgresql":
        return PostgresBackend()
    return SqliteBackend()


def fts5_query(query: str) -> str | None:
    """Translate web-search syntax into a safe FTS5 expression (every term quoted).

    Words are ANDed, `a or b` is OR, `"a b"` is a phrase, `-word` excludes; FTS5's own operators
    and column filters in user input are neutralised by quoting.
    """
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    for match in _TOKEN.finditer(query):
        negated = bool(match.group(1) or match.group(3))
        raw = match.group(2) if match.group(2) is not None else match.group(4)
        if raw.lower() == "or" and match.group(4) is not None and not negated:
            groups.append([])
            continue
        words = _WORD.findall(raw)
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        (excluded if negated else groups[-1]).append(term)
    alternatives = [" AND ".join(g) for g in groups if g]
    if not alternatives:
        return None
    positive = " OR ".join(f"({a})" for a in alternatives)
    if excluded:
        return f"({positive}) NOT ({' OR '.join(excluded)})"
    return positive
