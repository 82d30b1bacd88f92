"""PostgreSQL statements sent several to a round trip, with libpq's pipeline mode.

Why: on the intake hot path a batch of alerts costs a few statements, and each statement sent
through a psycopg cursor is a round trip of its own, plus one for the `BEGIN` psycopg sends
before the first statement of a transaction and one for the `COMMIT`. On loopback a round trip
costs more than most of those statements do on the server: measured on the development
machine, `BEGIN`, a read, a write and `COMMIT` through a cursor took 470 µs (215 µs of client
CPU), the same four statements in two pipelined round trips 240 µs (85 µs).

What this module does, on the psycopg connection under a SQLAlchemy `Connection`:

- `rows` and `execute` run one statement and return its rows or row count. The statement is
  prepared once per connection under a name derived from its SQL (its Parse travels with its
  first execution). In the same round trip travel the `BEGIN`, when the connection has no
  transaction open yet, and the writes queued with `later`, in front of the statement.
- `later` queues a statement whose result nobody reads (an insert, an update). It is sent in
  front of the next statement on the connection, whoever sends it, or together with the
  `COMMIT`: `install` has SQLAlchemy send the queue before each statement of its own (ORM
  flushes, Core), send it with the `COMMIT` on commit, and drop it on rollback. So statements
  run in the order they were issued; an error of a queued statement is raised where the queue
  is sent, and fails the transaction as it would have.
- `read_later` queues a read the same way and returns a `Reading`, whose rows are there once
  its round trip is done: reads that do not depend on each other travel together
  (`Reading.rows` sends the queue if nothing has yet).
- `send_ahead` sends the queue now without waiting for its results, which are read with
  the next round trip's: the server works on those statements (taking locks, checking)
  while the application prepares the rest of the transaction. The round trip stays one.

The statements stay prepared for the connection's life: nothing may deallocate them, which
is why `warroom.db.engine` turns psycopg's own automatic preparation off (psycopg
deallocates all prepared statements of a connection after a rollback).

Parameters are sent as text, untyped, so the SQL must give their types where the context
does not (SQLAlchemy's PostgreSQL compiler casts every bind; hand-written SQL casts its
arrays). Values of other Python types than those `_text` knows go through a psycopg cursor
instead, after the queue. Rows are loaded with psycopg's own loaders, so they hold what a
psycopg cursor returns.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import select
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from psycopg import Connection as PsycopgConnection
from psycopg import OperationalError, errors, pq
from psycopg import abc as psycopg_abc
from psycopg.adapt import Transformer
from psycopg.types.json import Json, Jsonb
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError, StatementError

_IDLE = pq.TransactionStatus.IDLE
_EXEC = pq.ExecStatus
_WIRE = "warroom.db.wire"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


class Unsupported(Exception):
    """A parameter value this module does not send as text: use a psycopg cursor."""


@dataclass(frozen=True)
class WireStatement:
    """SQL in psycopg's `%(name)s` style, turned into libpq's `$1` style once."""

    name: bytes  # the prepared statement's name on every connection
    sql: bytes
    order: tuple[str, ...]  # the parameter name of `$1`, `$2`, ...

    @classmethod
    def of(cls, sql: str) -> WireStatement:
        order: list[str] = []

        def numbered(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        converted = _PLACEHOLDER.sub(numbered, sql)
        digest = hashlib.sha1(converted.encode(), usedforsecurity=False).hexdigest()[:20]
        return cls(f"warroom_{digest}".encode(), converted.encode(), tuple(order))

    def values(self, params: Mapping[str, Any]) -> list[bytes | None]:
        return [_text(params[name]) for name in self.order]


@functools.lru_cache(maxsize=1024)
def statement_of(sql: str) -> WireStatement:
    """`WireStatement.of(sql)`, made once per SQL text."""
    return WireStatement.of(sql)


class Reading:
    """The rows of a read queued with `read_later`, filled in when its round trip is done."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: list[tuple[Any, ...]] | None = None

    def rows(self) -> list[tuple[Any, ...]]:
        """The read's rows, sending the connection's queue first if it has not gone yet."""
        connection = self._connection
        if self._rows is None and not connection.closed and connection.in_transaction():
            send_queued(connection)
        if self._rows is None:  # dropped by a rollback, or its round trip failed
            raise RuntimeError("this read was not carried out: its transaction ended first")
        return self._rows


@dataclass
class _Queued:
    statement: WireStatement
    values: list[bytes | None]
    original: Mapping[str, Any]
    into: Reading | None = None  # a read's rows go there


class _Sent(NamedTuple):
    """What a round trip sent, in order, so that its results can be matched up."""

    kind: str  # begin, prepare, execute or commit
    statement: WireStatement | None = None
    original: Mapping[str, Any] | None = None
    into: Reading | None = None


@dataclass
class _ConnectionWire:
    """What this module keeps per DBAPI connection (in the pool's `info` for it)."""

    connection: Any  # the psycopg connection it is about: a reconnect starts afresh
    prepared: set[bytes] = field(default_factory=set)
    queued: list[_Queued] = field(default_factory=list)
    ahead: list[_Sent] = field(default_factory=list)  # sent by `send_ahead`, results unread
    transformer: psycopg_abc.Transformer | None = None


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def rows(
    connection: Connection, statement: WireStatement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows `statement` returns; queued writes (and `BEGIN` if needed) go first."""
    result, wire = _run(connection, statement, params)
    return _loaded(wire, result)


def _loaded(wire: _ConnectionWire, result: Any) -> list[tuple[Any, ...]]:
    transformer = wire.transformer
    if transformer is None:
        transformer = wire.transformer = Transformer(wire.connection)
    transformer.set_pgresult(result)
    loaded: list[tuple[Any, ...]] = transformer.load_rows(0, result.ntuples, tuple)
    return loaded


def execute(connection: Connection, statement: WireStatement, params: Mapping[str, Any]) -> int:
    """Run a statement that returns no rows; the number of rows it affected."""
    result, _ = _run(connection, statement, params)
    return result.command_tuples or 0


def later(connection: Connection, statement: WireStatement, *params: Mapping[str, Any]) -> None:
    """Queue a statement whose result nobody reads, sent with the connection's next one;
    once per parameter set, in order (none is queued if any raises `Unsupported`)."""
    wire, _ = _wire_of(connection)
    wire.queued.extend([_Queued(statement, statement.values(one), one) for one in params])


def read_later(
    connection: Connection, statement: WireStatement, params: Mapping[str, Any]
) -> Reading:
    """Queue a read, sent with the connection's next statement (as `later`); its rows are in
    the returned `Reading` once that round trip is done."""
    wire, _ = _wire_of(connection)
    reading = Reading(connection)
    wire.queued.append(_Queued(statement, statement.values(params), params, reading))
    return reading


def send_queued(connection: Connection) -> None:
    """Send the queued statements now (before a statement that does not go through here)."""
    wire, _ = _wire_of(connection)
    if wire.queued or wire.ahead:
        _exchange(connection, wire, None, commit=False)


def send_ahead(connection: Connection) -> None:
    """Send the queued statements (and the `BEGIN`, if due) now, and read their results
    with the connection's next round trip: the server runs them meanwhile. An error of
    theirs is raised there, as for queued statements."""
    if not connection.in_transaction():
        raise RuntimeError("pipelined statements run inside a transaction only")
    wire, psycopg_connection = _wire_of(connection)
    if not wire.queued:
        return
    try:
        _send_queue(psycopg_connection, wire, wire.ahead)
        _flush(psycopg_connection.pgconn)
    except OperationalError as error:
        connection.invalidate()
        raise _translated(error, "(statements sent ahead)", None, invalidated=True) from error


def install(engine: Engine) -> None:
    """Keep statement order with SQLAlchemy's own statements, and send the queue at commit."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(conn: Connection, *_args: Any) -> None:
        wire = conn.connection.info.get(_WIRE)
        if wire is not None and (wire.queued or wire.ahead):
            _exchange(conn, wire, None, commit=False)

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        wire = conn.connection.info.get(_WIRE)
        if wire is not None and (wire.queued or wire.ahead):
            # Sends COMMIT too: psycopg's own commit then finds no transaction and does nothing.
            _exchange(conn, wire, None, commit=True)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        if conn.invalidated:
            return  # its DBAPI connection, and the queue with it, is gone
        wire = conn.connection.info.get(_WIRE)
        if wire is not None and not _dropped(wire):
            conn.invalidate()

    @event.listens_for(engine, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        wire = record.info.get(_WIRE)
        if wire is not None and not _dropped(wire):
            record.invalidate()


def _dropped(wire: _ConnectionWire) -> bool:
    """Drop what is queued and read and drop the results of what was sent ahead (a rollback
    follows); False if the connection cannot be trusted any more."""
    wire.queued.clear()
    if not wire.ahead:
        return True
    pgconn = wire.connection.pgconn
    sent, wire.ahead = wire.ahead, []
    try:
        pgconn.pipeline_sync()
        _flush(pgconn)
        with contextlib.suppress(StatementError):  # its statements' errors: rolled back anyway
            _collect(wire.connection, wire, sent)  # notes what they prepared, too
        pgconn.exit_pipeline_mode()
    except OperationalError:
        return False
    return True


def _wire_of(connection: Connection) -> tuple[_ConnectionWire, Any]:
    proxied = connection.connection
    wire = proxied.info.get(_WIRE)
    if wire is None or wire.connection is not proxied.dbapi_connection:
        wire = proxied.info[_WIRE] = _ConnectionWire(proxied.dbapi_connection)
    return wire, wire.connection


def _run(
    connection: Connection, statement: WireStatement, params: Mapping[str, Any]
) -> tuple[Any, _ConnectionWire]:
    """The statement's result, and the connection's wire state."""
    if not connection.in_transaction():
        raise RuntimeError("pipelined statements run inside a transaction only")
    wire, _ = _wire_of(connection)
    values = statement.values(params)
    return _exchange(connection, wire, (statement, values, params), commit=False), wire


def _exchange(
    connection: Connection,
    wire: _ConnectionWire,
    last: tuple[WireStatement, list[bytes | None], Mapping[str, Any]] | None,
    *,
    commit: bool,
) -> Any:
    """One round trip: [BEGIN] queued... [last] [COMMIT], then Sync; the last one's result."""
    psycopg_connection: PsycopgConnection[Any] = wire.connection
    pgconn = psycopg_connection.pgconn
    sent, wire.ahead = wire.ahead, []  # whatever `send_ahead` sent: its results come first
    try:
        _send_queue(psycopg_connection, wire, sent)
        if last is not None:
            _send(pgconn, wire, last[0], last[1], sent, last[2], None)
        if commit:
            pgconn.send_query_params(b"COMMIT", None)
            sent.append(_Sent("commit"))
        pgconn.pipeline_sync()
        _flush(pgconn)
        outcome = _collect(psycopg_connection, wire, sent)
    except OperationalError as error:
        # The connection broke, or answered out of turn: it is not used again.
        connection.invalidate()
        raise _translated(error, "(a pipelined round trip)", None, invalidated=True) from error
    finally:
        if not connection.invalidated and pgconn.pipeline_status != pq.PipelineStatus.OFF:
            try:
                pgconn.exit_pipeline_mode()
            except OperationalError:
                # Results are still pending: the exchange was interrupted, or the connection
                # broke. What is on the wire is unknown (a statement prepared or not), so the
                # connection is dropped: SQLAlchemy's rollback then skips it and the pool
                # replaces it.
                connection.invalidate()
    return outcome


def _send_queue(
    psycopg_connection: PsycopgConnection[Any], wire: _ConnectionWire, sent: list[_Sent]
) -> None:
    """Into the connection's pipeline (entered if need be): `BEGIN`, unless a transaction is
    open or the pipeline has sent anything yet, then the queued statements (noted in `sent`)."""
    pgconn = psycopg_connection.pgconn
    if pgconn.pipeline_status == pq.PipelineStatus.OFF:
        pgconn.enter_pipeline_mode()
    if not sent and pgconn.transaction_status == _IDLE and not psycopg_connection.autocommit:
        pgconn.send_query_params(b"BEGIN", None)
        sent.append(_Sent("begin"))
    queued, wire.queued = wire.queued, []
    for item in queued:
        _send(pgconn, wire, item.statement, item.values, sent, item.original, item.into)


def _send(
    pgconn: Any,
    wire: _ConnectionWire,
    statement: WireStatement,
    values: list[bytes | None],
    sent: list[_Sent],
    original: Mapping[str, Any],
    into: Reading | None,
) -> None:
    if statement.name not in wire.prepared and not any(
        earlier.kind == "prepare" and earlier.statement is statement for earlier in sent
    ):
        pgconn.send_prepare(statement.name, statement.sql)
        sent.append(_Sent("prepare", statement, original))
    pgconn.send_query_prepared(statement.name, values)
    sent.append(_Sent("execute", statement, original, into))


def _collect(
    psycopg_connection: PsycopgConnection[Any],
    wire: _ConnectionWire,
    sent: list[_Sent],
) -> Any:
    pgconn = psycopg_connection.pgconn
    failure: tuple[Exception, WireStatement | None, Mapping[str, Any] | None] | None = None
    last_result = None
    for kind, statement, original, into in sent:
        result = _next_result(pgconn)
        status = result.status
        if status == _EXEC.FATAL_ERROR:
            error = errors.error_from_result(result, psycopg_connection.info.encoding)
            failure = failure or (error, statement, original)
        elif status != _EXEC.PIPELINE_ABORTED:
            if kind == "prepare" and statement is not None:
                wire.prepared.add(statement.name)
            elif kind == "execute":
                last_result = result
                if into is not None:
                    into._rows = _loaded(wire, result)
        _end_of_query(pgconn)
    sync = _next_result(pgconn)
    if sync.status != _EXEC.PIPELINE_SYNC:
        raise OperationalError(f"unexpected result in a pipeline: {sync.status}")
    if failure is not None:
        failed, statement, original = failure
        sql = statement.sql.decode() if statement is not None else "BEGIN/COMMIT"
        raise _translated(failed, sql, original)
    return last_result


def _next_result(pgconn: Any) -> Any:
    while True:
        _wait_readable(pgconn)
        result = pgconn.get_result()
        if result is not None:
            return result


def _end_of_query(pgconn: Any) -> None:
    _wait_readable(pgconn)
    if pgconn.get_result() is not None:
        raise OperationalError("a pipelined statement returned more than one result")


def _wait_readable(pgconn: Any) -> None:
    if not pgconn.is_busy():
        return
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    while pgconn.is_busy():
        poller.poll()
        pgconn.consume_input()


def _flush(pgconn: Any) -> None:
    if pgconn.flush() == 0:
        return
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLOUT)
    while pgconn.flush() != 0:
        for _fd, events in poller.poll():
            if events & select.POLLIN:
                pgconn.consume_input()


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text input format."""
    kind = value.__class__
    if kind is str:
        return value.encode()  # type: ignore[no-any-return]
    if kind is int:
        return str(value).encode()
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, int | Decimal | UUID):
        return str(value).encode()
    if isinstance(value, float):
        return repr(value).encode()
    if isinstance(value, datetime | date):
        return value.isoformat().encode()
    if isinstance(value, Json | Jsonb):
        dumped = (value.dumps or json.dumps)(value.obj)
        return dumped if isinstance(dumped, bytes) else dumped.encode()
    raise Unsupported(type(value).__name__)


def _translated(
    error: Exception, sql: str, params: Any, *, invalidated: bool = False
) -> StatementError:
    return DBAPIError.instance(sql, params, error, errors.Error, connection_invalidated=invalidated)
