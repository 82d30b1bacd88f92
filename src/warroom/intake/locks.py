"""Database-side locks for intake, so several server processes can share one database.

PostgreSQL: transaction-scoped advisory locks (`pg_advisory_xact_lock`) on a hash of a name,
released by commit or rollback. Two kinds are taken, always in this order:

* one per **alert identity** (integration + dedup key): concurrent deliveries of one key queue
  up and the second sees the alert the first created;
* one for **grouping** (correlation and opening), because an alert may join any group of a
  neighbouring service, so group decisions are serialised database-wide. Repeats of an alert
  whose incident is already open skip it, which keeps the common case concurrent.

A transaction that needs several identity locks takes them in one statement, ordered by key,
before the grouping lock. The unique constraint on (integration, open key) stays as the
backstop. SQLite needs no
advisory lock: write transactions start with `BEGIN IMMEDIATE`, which serialises writers
across processes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

from sqlalchemy import column, text
from sqlalchemy.orm import Session

from warroom.db.prepared import Prepared, postgres_array
from warroom.db.transaction import per_transaction

NAMESPACE = 0x494E54  # "INT": keeps intake locks apart from other two-key advisory locks
GROUPING = "grouping"


@functools.lru_cache(maxsize=8192)  # an alert storm locks the same keys batch after batch
def lock_key(name: str) -> int:
    """A signed 32-bit key for `name` (the second half of a two-key advisory lock)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def xact_lock(session: Session, name: str) -> None:
    """Hold a lock named `name` until the transaction ends (no-op on SQLite)."""
    xact_locks(session, [name])


def xact_locks(session: Session, names: Iterable[str]) -> None:
    """Hold the locks named `names` until the transaction ends, taken in the round trip of
    the transaction's next statement (`Prepared.later`).

    Locks are taken in the order of their keys, the same order in every process, so two
    transactions locking overlapping sets queue instead of deadlocking. Keys this
    transaction already holds are skipped (remembered in the session). No-op on SQLite.
    """
    held = _held(session)
    if held is None:
        return
    keys = sorted({lock_key(name) for name in names} - held)
    if not keys:
        return
    # Sent with the next statement: whatever the locks guard comes after them anyway.
    _LOCK_MANY.later(session.connection(), {"ns": NAMESPACE, "keys": postgres_array(keys)})
    held.update(keys)


_LOCK_MANY = Prepared(
    text(
        "SELECT pg_advisory_xact_lock(CAST(:ns AS integer), k) "
        "FROM unnest(CAST(:keys AS integer[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
    ).columns(column("pg_advisory_xact_lock"))
)


def _held(session: Session) -> set[int] | None:
    """The keys this transaction holds; None on SQLite, which takes no advisory locks."""
    return per_transaction(session, "warroom.intake.locks", _no_keys_held)


def _no_keys_held(session: Session) -> set[int] | None:
    return set() if session.get_bind().dialect.name == "postgresql" else None


def identity_name(integration_id: int, dedup_key: str) -> str:
    return f"alert:{integration_id}:{dedup_key}"


def identity_lock(session: Session, integration_id: int, dedup_key: str) -> None:
    xact_lock(session, identity_name(integration_id, dedup_key))


def grouping_lock(session: Session) -> None:
    xact_lock(session, GROUPING)
