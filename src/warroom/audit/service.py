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

from sqlalchemy import bindparam, insert, select
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
    """Chain the held entries onto the head, under the chain lock, and insert them.

    On PostgreSQL the database does it (`warroom_append_audit`, migration 0009), in the
    statement that travels with the `COMMIT`: reading the head first would cost a round trip.
    """
    if not entries:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        parts = [_canonical_parts(e) for e in entries]
        execute_driver_sql(
            connection,
            _APPEND_POSTGRESQL,
            {
                "lock_key": _CHAIN_LOCK_KEY,
                "at": postgres_array(postgres_time(e["at"]) for e in entries),
                "actor_user_id": postgres_array(e["actor_user_id"] for e in entries),
                **{name: postgres_array(e[name] for e in entries) for name in _TEXT_COLUMNS},
                "summary": postgres_array(json.dumps(e["summary"]) for e in entries),
                "head": postgres_array(head.encode().hex() for head, _ in parts),
                "tail": postgres_array(tail.encode().hex() for _, tail in parts),
            },
            later=True,  # with the COMMIT
        )
    else:
        seq, previous = _locked_chain_head(session)
        for values in entries:
            seq += 1
            values["seq"], values["prev_hash"] = seq, previous
            values["hash"] = previous = content_hash(values)
        _INSERT_ENTRY.many(connection, entries)
    entries.clear()


_ENTRY_COLUMNS = (
    "seq", "at", "actor_user_id", "actor_label", "action", "object_type", "object_id",
    "summary", "prev_hash", "note", "hash",
)  # fmt: skip
_INSERT_ENTRY = Prepared(
    insert(AuditEntry).values({name: bindparam(name) for name in _ENTRY_COLUMNS})
)
_TEXT_COLUMNS = ("actor_label", "action", "object_type", "object_id", "note")
_APPEND_POSTGRESQL = """
SELECT warroom_append_audit(
    %(lock_key)s::bigint, %(at)s::text[]::timestamptz[], %(actor_user_id)s::integer[],
    %(actor_label)s::text[], %(action)s::text[], %(object_type)s::text[], %(object_id)s::text[],
    %(summary)s::text[], %(note)s::text[], %(head)s::text[], %(tail)s::text[]
)
"""
_READ_HEAD = Prepared(
    select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
)


def _locked_chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the last entry; SQLite's write lock, which every writing transaction
    takes at its start, keeps it the head until the transaction ends."""
    row = _READ_HEAD.first(session.connection())
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's canonical JSON content and the previous hash."""
    return content_hash({name: getattr(entry, name) for name in _HASHED})


_HASHED = (  # sorted, as in the canonical JSON
    "action", "actor_label", "actor_user_id", "at", "object_id", "object_type", "prev_hash",
    "seq", "summary",
)  # fmt: skip


def content_hash(values: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's hashed fields (`_HASHED`): keys sorted,
    no spaces, UTF-8."""
    head, tail = _canonical_parts(values)
    canonical = f"{head}{values['prev_hash']}{_BETWEEN}{int(values['seq'])}{tail}"
    return hashlib.sha256(canonical.encode()).hexdigest()


# In key order `prev_hash` and `seq` come last but for `summary`, so the canonical JSON is
# `_canonical_parts`' head, the previous hash, this, the sequence number and its tail. So
# PostgreSQL can chain entries whose parts the application made (`warroom_append_audit`).
_BETWEEN = '","seq":'


def _canonical_parts(values: dict[str, Any]) -> tuple[str, str]:
    """The canonical JSON of an entry before its previous hash and after its sequence number."""
    content = {name: values[name] for name in _HASHED[:-3]}  # up to prev_hash, seq, summary
    content["at"] = values["at"].isoformat(timespec="microseconds")
    head = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    summary = json.dumps(
        values["summary"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return f'{head[:-1]},"prev_hash":"', f',"summary":{summary}}}'


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
