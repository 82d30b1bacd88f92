"""Appending to and verifying the hash-chained audit trail.

Each entry stores the SHA-256 of its own canonical content plus the previous entry's hash, and
a gap-free sequence number; editing, deleting or reordering any row breaks the chain at that
row. Appends are serialised in the database (PostgreSQL advisory transaction lock; SQLite's
write lock), so several server processes still build one linear chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import String, bindparam, column, insert, select, text
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_admin
from warroom.audit.models import AuditEntry
from warroom.audit.schemas import ChainReport
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.prepared import Prepared, execute_driver_sql, postgres_array, postgres_time
from warroom.db.transaction import before_commit, per_transaction

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 0x5741_5252  # "WARR": one advisory lock id for the chain head
_VERIFY_BATCH = 1000


def append_entry(
    session: Session,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: object,
    summary: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the caller's transaction; it is written when the transaction commits.

    Why at the commit: the chain lock (an advisory lock on PostgreSQL) is then taken after
    every row lock the use case holds, and held only for the moment of the commit. Taken at
    the first append, it made a use case that locks an incident and then appends wait in a
    cycle with an intake batch that had appended and then touched that incident, and
    PostgreSQL aborted one of them. Sequence numbers and hashes follow the order of the
    appends; a transaction's entries go in one multi-row statement.
    """
    held = per_transaction(session, "warroom.audit.held", _held_entries)
    held.append(
        {
            "at": utcnow(),
            "actor_user_id": actor.user_id,
            "actor_label": actor.label,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "summary": _json_native(summary or {}),
            "note": "",
        }
    )


def _held_entries(session: Session) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    before_commit(session, "warroom.audit", lambda s: _write_entries(s, entries), last=True)
    return entries


def _write_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Chain the held entries onto the head, under the chain lock, and insert them."""
    if not entries:
        return
    seq, previous = _locked_chain_head(session)
    for values in entries:
        seq += 1
        values["seq"], values["prev_hash"] = seq, previous
        values["hash"] = previous = content_hash(values)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        execute_driver_sql(
            connection,
            _INSERT_ENTRIES_POSTGRESQL,
            {
                **{name: postgres_array(e[name] for e in entries) for name in _TEXT_COLUMNS},
                "seq": postgres_array(e["seq"] for e in entries),
                "at": postgres_array(postgres_time(e["at"]) for e in entries),
                "actor_user_id": postgres_array(e["actor_user_id"] for e in entries),
                "summary": postgres_array(json.dumps(e["summary"]) for e in entries),
            },
            later=True,  # with the COMMIT
        )
    else:
        _INSERT_ENTRY.many(connection, entries)
    entries.clear()


_ENTRY_COLUMNS = (
    "seq", "at", "actor_user_id", "actor_label", "action", "object_type", "object_id",
    "summary", "prev_hash", "note", "hash",
)  # fmt: skip
_INSERT_ENTRY = Prepared(
    insert(AuditEntry).values({name: bindparam(name) for name in _ENTRY_COLUMNS})
)
# PostgreSQL: a transaction's entries in one statement over array parameters (an
# executemany costs a bound execution per row).
_TEXT_COLUMNS = ("actor_label", "action", "object_type", "object_id", "prev_hash", "note", "hash")
_INSERT_ENTRIES_POSTGRESQL = f"""
INSERT INTO {AuditEntry.__tablename__} ({", ".join(_ENTRY_COLUMNS)})
SELECT {", ".join("e.summary::json" if n == "summary" else f"e.{n}" for n in _ENTRY_COLUMNS)}
FROM unnest(%(seq)s::bigint[], %(at)s::text[]::timestamptz[], %(actor_user_id)s::integer[],
            %(summary)s::text[], {", ".join(f"%({name})s::text[]" for name in _TEXT_COLUMNS)})
     WITH ORDINALITY AS e(seq, at, actor_user_id, summary, {", ".join(_TEXT_COLUMNS)}, n)
ORDER BY e.n
"""
_LOCK_CHAIN = Prepared(text("SELECT pg_advisory_xact_lock(:key)").columns(column("locked", String)))
_READ_HEAD = Prepared(
    select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
)


def _locked_chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the last entry, after locking the chain until the transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _LOCK_CHAIN.later(connection, {"key": _CHAIN_LOCK_KEY})  # sent with the read below
    row = _READ_HEAD.first(connection)
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's canonical JSON content and the previous hash."""
    return content_hash({name: getattr(entry, name) for name in _HASHED})


_HASHED = (
    "seq", "at", "actor_user_id", "actor_label", "action", "object_type", "object_id",
    "summary", "prev_hash",
)  # fmt: skip


def content_hash(values: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's hashed fields (`_HASHED`)."""
    content = {name: values[name] for name in _HASHED}
    content["at"] = values["at"].isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def verify_chain(db: Database, actor: Actor) -> ChainReport:
    """Walk the whole chain in order and report the first entry that does not fit."""
    require_admin(actor, action="verifying the audit trail")
    with db.read_session() as session:
        checked = 0
        previous_hash = GENESIS_HASH
        for expected_seq, entry in enumerate(_entries_in_order(session), start=1):
            reason = _mismatch(entry, expected_seq, previous_hash)
            if reason:
                return ChainReport(
                    intact=False,
                    entries_checked=checked,
                    first_bad_seq=entry.seq,
                    first_bad_id=entry.id,
                    reason=reason,
                )
            checked += 1
            previous_hash = entry.hash
        return ChainReport(intact=True, entries_checked=checked)


def _mismatch(entry: AuditEntry, expected_seq: int, previous_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {entry.seq}: entries missing"
    if entry.prev_hash != previous_hash:
        return "previous-hash link broken: an entry before it was changed, removed or reordered"
    if entry_hash(entry) != entry.hash:
        return "content does not match its hash: the entry was edited"
    return None


def _entries_in_order(session: Session) -> Iterator[AuditEntry]:
    last_seq = 0
    while True:
        batch = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(_VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq
        session.expunge_all()


def _json_native(summary: dict[str, Any]) -> dict[str, Any]:
    # Store exactly what the hash covers: JSON round-trip turns dates, enums and tuples into
    # the values the database will hand back.
    native: dict[str, Any] = json.loads(json.dumps(summary, default=str, sort_keys=True))
    return native
