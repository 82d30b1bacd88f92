"""Values a transaction reads once and keeps until it ends (kept in `session.info`).

Why: some reads stay valid for a whole transaction because of a lock it holds (the audit chain
head under the chain lock), or are state of the transaction itself (advisory locks taken,
writes held back for a batch). They belong to the transaction, never to the process: each
value is tagged with the session's transaction, so a later transaction of the same session
starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy.orm import Session

T = TypeVar("T")


def per_transaction(session: Session, key: str, make: Callable[[Session], T]) -> T:
    """The value kept under `key` for this transaction, made by `make(session)` on first use."""
    kept = session.info.get(key)
    transaction = session.get_transaction()
    if kept is not None and kept[0] is transaction:
        return cast(T, kept[1])
    value = make(session)
    session.info[key] = (transaction, value)
    return value
