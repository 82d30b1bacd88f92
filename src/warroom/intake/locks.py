"""Database-side locks for intake, so several server processes can share one database.

PostgreSQL: transaction-scoped advisory locks (`pg_advisory_xact_lock`) on a hash of a name,
released by commit or rollback. Two kinds are taken, always in this order:

* one per **alert identity** (integration + dedup key): concurrent deliveries of one key queue
  up and the second sees the alert the first created;
* one for **grouping** (correlation and opening), because an alert may join any group of a
  neighbouring service, so group decisions are serialised database-wide. Repeats of an alert
  whose incident is already open skip it, which keeps the common case concurrent.

The unique constraint on (integration, open key) stays as the backstop. SQLite needs no
advisory lock: write transactions start with `BEGIN IMMEDIATE`, which serialises writers
across processes.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

NAMESPACE = 0x494E54  # "INT": keeps intake locks apart from other two-key advisory locks
GROUPING = "grouping"


def lock_key(name: str) -> int:
    """A signed 32-bit key for `name` (the second half of a two-key advisory lock)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def xact_lock(session: Session, name: str) -> None:
    """Hold a lock named `name` until the transaction ends (no-op on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:key AS integer))"),
        {"ns": NAMESPACE, "key": lock_key(name)},
    )


def identity_lock(session: Session, integration_id: int, dedup_key: str) -> None:
    xact_lock(session, f"alert:{integration_id}:{dedup_key}")


def grouping_lock(session: Session) -> None:
    xact_lock(session, GROUPING)
