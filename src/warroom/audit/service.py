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

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_admin
from warroom.audit.models import AuditEntry
from warroom.audit.schemas import ChainReport
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.prepared import Prepared
from warroom.db.transaction import per_transaction

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
    """Append one entry inside the caller's transaction (never commits on its own).

    Written with one prepared INSERT on the transaction's connection, at once (no ORM object
    waiting for a flush): every mutation pays for this, alert intake included. The chain
    head is read once per transaction, under the chain lock, and then kept in the session:
    nobody else can append until this transaction ends, so later appends in it (an incident
    opened with its timeline, a batch of deliveries) need no query.
    """
    head = per_transaction(session, "warroom.audit.head", _locked_chain_head)
    values: dict[str, Any] = {
        "seq": head[0] + 1,
        "at": utcnow(),
        "actor_user_id": actor.user_id,
        "actor_label": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "summary": _json_native(summary or {}),
        "prev_hash": head[1],
        "note": "",
    }
    values["hash"] = content_hash(values)
    _INSERT_ENTRY.execute(session.connection(), values)
    head[:] = [values["seq"], values["hash"]]


_ENTRY_COLUMNS = (
    "seq", "at", "actor_user_id", "actor_label", "action", "object_type", "object_id",
    "summary", "prev_hash", "note", "hash",
)  # fmt: skip
_INSERT_ENTRY = Prepared(
    insert(AuditEntry).values({name: bindparam(name) for name in _ENTRY_COLUMNS})
)
_READ_HEAD = Prepared(
    select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
)


def _locked_chain_head(session: Session) -> list[Any]:
    """[seq, hash] of the last entry, after locking the chain until the transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    row = _READ_HEAD.first(connection)
    return [row[0], row[1]] if row else [0, GENESIS_HASH]


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
