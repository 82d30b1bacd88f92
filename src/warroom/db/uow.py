"""The unit of work: one public service function, one transaction.

`with UnitOfWork(db, actor) as uow: ...; uow.commit()` rolls back unless committed, refuses to
nest (a use case never calls another use case), serialises SQLite writers, and runs callbacks
registered with `on_commit` only after the transaction is durable (notifications, webhooks).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session

from warroom.db.engine import Database


class UnitOfWork:
    """A write transaction; the only place `commit()` is called."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._session: Session | None = None
        self._committed = False
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `with uow:`")
        return self._session

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work does not nest: one use case, one transaction")
        if self.db.write_lock is not None:
            self.db.write_lock.acquire()
        self._session = self.db.write_session()
        self._committed = False
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                session.rollback()
            session.close()
        finally:
            self._session = None
            if self.db.write_lock is not None:
                self.db.write_lock.release()
        if self._committed and exc is None:
            callbacks, self._after_commit = self._after_commit, []
            for callback in callbacks:
                callback()

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never on rollback)."""
        self._after_commit.append(callback)
