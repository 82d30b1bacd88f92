"""Values a transaction reads once and keeps until it ends (kept in `session.info`).

Why: some reads stay valid for a whole transaction because of a lock it holds (the open
alerts of keys it locked), or are state of the transaction itself (advisory locks taken,
writes held back for a batch). They belong to the transaction, never to the process: each
value is tagged with the session's transaction, so a later transaction of the same session
starts afresh.

`before_commit` registers writes that a transaction holds back until it commits (audit and
timeline entries, intake's repeat counts); `run_before_commit` is SQLAlchemy's `before_commit`
hook on every session `Database` makes, so no commit can leave them behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy.orm import Session

T = TypeVar("T")


def per_transaction(session: Session, key: str, make: Callable[[Session], T]) -> T:
    """The value kept under `key` for this transaction, made by `make(session)` on first use."""
    kept = session.info.get(key)
    # Begun here if nothing has begun it yet, so the value belongs to the transaction to come.
    transaction = session.get_transaction() or session.begin()
    if kept is not None and kept[0] is transaction:
        return cast(T, kept[1])
    value = make(session)
    session.info[key] = (transaction, value)
    return value


_BEFORE_COMMIT = "warroom.db.before_commit"


@dataclass
class _HeldWrites:
    first: dict[str, Callable[[Session], None]] = field(default_factory=dict)
    last: dict[str, Callable[[Session], None]] = field(default_factory=dict)


def before_commit(
    session: Session, key: str, write: Callable[[Session], None], *, last: bool = False
) -> None:
    """Have `write(session)` run just before this transaction commits (once per `key`).

    Writes run in the order they were registered, those registered with `last` after all
    others (the audit trail's, whose lock must come after every row lock). Begins the
    transaction if nothing has yet: a commit without one would skip the writes.
    """
    session.connection()
    held = per_transaction(session, _BEFORE_COMMIT, lambda _session: _HeldWrites())
    (held.last if last else held.first).setdefault(key, write)


def run_before_commit(session: Session) -> None:
    """Run the held-back writes, after a flush: they may refer to rows the ORM holds."""
    kept = session.info.get(_BEFORE_COMMIT)
    if kept is None or kept[0] is not session.get_transaction():
        return
    held: _HeldWrites = kept[1]
    if not held.first and not held.last:
        return
    session.flush()
    for writes in (held.first, held.last):
        while writes:
            write = writes.pop(next(iter(writes)))
            write(session)
