"""Engines per dialect and the `Database` handle built once by each composition root.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys on, a busy
timeout, and write transactions opened with `BEGIN IMMEDIATE` under one process-wide lock, so
concurrent requests queue for the write lock instead of failing with "database is locked"
(the write-lock upgrade of a deferred transaction is what produces that error).
PostgreSQL (psycopg 3) is the production store; several processes share it and every
correctness-relevant lock is taken in the database, never in process memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from warroom.config import Settings
from warroom.db import wire
from warroom.db.transaction import run_before_commit


def make_engine(url: str, *, busy_timeout_ms: int = 30_000, immediate: bool = False) -> Engine:
    """Create an engine for `url` with the pragmas and pooling its dialect needs."""
    if url.startswith("sqlite"):
        return _make_sqlite_engine(url, busy_timeout_ms=busy_timeout_ms, immediate=immediate)
    # psycopg's automatic preparation is off: after a rollback it deallocates every prepared
    # statement of the connection, `warroom.db.wire`'s too, which prepares the hot ones.
    engine = create_engine(
        url, pool_size=10, max_overflow=20, connect_args={"prepare_threshold": None}
    )
    _ping_when_idle(engine)
    wire.install(engine)
    return engine


PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection on checkout if it sat idle, replacing it if it is dead.

    Why not `pool_pre_ping`: that pings on every checkout, a round trip per transaction,
    which under an alert storm is one more statement per batch for nothing (the connection
    was in use a millisecond ago). A connection idle for a second or more is checked as
    `pool_pre_ping` would; one that dies while busy fails its transaction either way, and
    SQLAlchemy then invalidates the pool, so the next checkouts connect afresh.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:
            raise DisconnectionError(str(error)) from error


def _make_sqlite_engine(url: str, *, busy_timeout_ms: int, immediate: bool) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin_statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_statement)

    return engine


@dataclass
class Database:
    """The storage handle: a writer for use cases, a reader for queries.

    On PostgreSQL both are the same engine; on SQLite the writer opens `BEGIN IMMEDIATE`
    transactions under `write_lock`, and the reader runs deferred transactions concurrently.
    """

    url: str
    writer: Engine
    reader: Engine
    write_lock: threading.Lock | None
    _write_sessions: sessionmaker[Session] = field(init=False)
    _read_sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        for sessions in (self._write_sessions, self._read_sessions):
            event.listen(sessions, "before_commit", run_before_commit)

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    def write_session(self) -> Session:
        return self._write_sessions()

    def read_session(self) -> Session:
        return self._read_sessions()

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def open_database(settings: Settings) -> Database:
    """Build the Database for `settings` (no connection is made until first use)."""
    url = settings.database_url
    if url.startswith("sqlite"):
        _ensure_sqlite_parent(url)
        writer = make_engine(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, immediate=True)
        reader = make_engine(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        return Database(url=url, writer=writer, reader=reader, write_lock=threading.Lock())
    engine = make_engine(url)
    return Database(url=url, writer=engine, reader=engine, write_lock=None)


def _ensure_sqlite_parent(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
