"""Core statements compiled once and run on the DBAPI cursor: the intake hot path's executor.

Why: alert intake runs about two statements per alert, and SQLAlchemy's own per-execute work
(cache key, execution context, `construct_params`, result set-up) costs far more CPU than the
statements themselves. Measured on the development machine: `connection.execute(statement,
params)` of a prebuilt Core statement takes 55-90 µs of CPU, the same SQL on the DBAPI cursor
6-11 µs. `Prepared` keeps the parts of that work whose outcome never changes: it compiles the
statement once per dialect and keeps the SQL, the parameter order or names, SQLAlchemy's bind
processors (so values are stored exactly as SQLAlchemy stores them: SQLite DATETIME text with
its microseconds, JSON, `UTCDateTime`), the values of binds that carry literals, and the result
processors of the returned columns (so rows hold what `connection.execute` would return).

It runs on the SQLAlchemy `Connection` that the session's transaction holds
(`session.connection()`), so it is inside that transaction: on SQLite on its DBAPI cursor, on
PostgreSQL through `warroom.db.wire`, which prepares it on the server and sends it in one
round trip with the `BEGIN` before it or the writes queued with `later`. What it skips: SQLAlchemy's
connection events around statements (`before_cursor_execute`, `after_cursor_execute`, ...),
Python-side column defaults (statements that would need them are refused: give such columns
explicitly), implicit RETURNING of primary keys, and expanding IN parameters (refused, since
their SQL depends on the values). The events Warroom relies on (`connect` pragmas, SQLite's
`BEGIN IMMEDIATE` on `begin`) still run, because the connection is checked out and its
transaction begun by SQLAlchemy. DBAPI errors are raised as SQLAlchemy's exceptions
(`IntegrityError`, ...), as `connection.execute` raises them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Select, TextualSelect
from sqlalchemy.sql.visitors import iterate

from warroom.db import wire
from warroom.db.wire import WireStatement

Params = Mapping[str, Any]
# `TextualSelect`: `text(...).columns(...)`, for SQL the expression language cannot build.
Statement = Select[*tuple[Any, ...]] | TextualSelect | UpdateBase
_Processor = Callable[[Any], Any]
_NO_DEFAULT = object()


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for one dialect, with everything needed to run it on a cursor."""

    sql: str
    positional: bool
    binds: tuple[tuple[str, Any, _Processor | None], ...]  # name, default, processor
    results: tuple[tuple[int, _Processor], ...]  # column index, processor
    wire: WireStatement | None  # on PostgreSQL: the statement as `warroom.db.wire` sends it

    def parameters(self, params: Params) -> Any:
        """The DBAPI parameters: a list for positional paramstyles, a dict for named ones."""
        values: list[Any] = []
        for name, default, process in self.binds:
            value = params.get(name, default)
            if value is _NO_DEFAULT:
                raise ValueError(f"no value given for bind parameter {name!r}")
            values.append(process(value) if process is not None else value)
        if self.positional:
            return values
        return {name: value for (name, _, _), value in zip(self.binds, values, strict=True)}

    def processed(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The rows with result processors applied, as `connection.execute` returns them."""
        if not self.results:
            return [tuple(row) for row in rows]
        processed = []
        for row in rows:
            values = list(row)
            for index, process in self.results:
                values[index] = process(values[index])
            processed.append(tuple(values))
        return processed


class Prepared:
    """A Core statement compiled once per dialect and run straight on the DBAPI cursor.

    The statement is a select, insert, update or delete with `bindparam`s and possibly
    `.returning(...)`, or a textual select (`text(...).columns(...)`); the connection must be
    in a transaction. Build it once, at import
    (`_TOUCH = Prepared(update(...).where(...).values(...))`), then run it with
    `_TOUCH.execute(session.connection(), {...})`. Parameters are passed by bind name, as to
    `connection.execute`; rows come back as plain tuples.
    """

    def __init__(self, statement: Statement) -> None:
        if any(isinstance(e, BindParameter) and e.expanding for e in iterate(statement)):
            raise ValueError(
                "expanding IN parameters are not supported, since their SQL depends on the "
                "values: use `in_binds` and `in_chunks` instead"
            )
        if isinstance(statement, Insert) and not statement.exported_columns:
            # Without RETURNING, no implicit RETURNING of the primary key either.
            statement = statement.inline()
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def rows(self, connection: Connection, params: Params | None = None) -> list[tuple[Any, ...]]:
        """All rows the statement returns."""
        compiled, parameters = self._bound(connection, params)
        if compiled.wire is not None:
            with contextlib.suppress(wire.Unsupported):  # else a cursor sends it, after the queue
                return compiled.processed(wire.rows(connection, compiled.wire, parameters))
        return _fetched(connection, compiled, parameters)

    def first(self, connection: Connection, params: Params | None = None) -> tuple[Any, ...] | None:
        """The first row, or None when there is none."""
        found = self.rows(connection, params)
        return found[0] if found else None

    def scalar(self, connection: Connection, params: Params | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def soon(self, connection: Connection, params: Params | None = None) -> Soon:
        """A read whose rows are needed a little later: on PostgreSQL it travels with the
        connection's next statement, so reads that do not depend on each other share a round
        trip (`Soon.rows` sends it if nothing else has); elsewhere it runs now."""
        compiled, parameters = self._bound(connection, params)
        if compiled.wire is not None:
            with contextlib.suppress(wire.Unsupported):  # else a cursor runs it now
                return Soon(compiled, wire.read_later(connection, compiled.wire, parameters))
        return Soon(compiled, None, _fetched(connection, compiled, parameters))

    def execute(self, connection: Connection, params: Params | None = None) -> int:
        """Run a statement that returns no rows; returns the number of rows it affected."""
        compiled, parameters = self._bound(connection, params)
        if compiled.wire is not None:
            with contextlib.suppress(wire.Unsupported):  # else a cursor sends it, after the queue
                return wire.execute(connection, compiled.wire, parameters)
        cursor = _executed(connection, compiled.sql, parameters)
        try:
            count: int = cursor.rowcount
        finally:
            cursor.close()
        return count

    def later(self, connection: Connection, params: Params | None = None) -> None:
        """Run a statement whose result nobody reads, on PostgreSQL with the next one.

        On PostgreSQL it travels in the round trip of the connection's next statement, or of
        the `COMMIT` (`warroom.db.wire`), and an error it raises is raised there; elsewhere it
        runs now.
        """
        compiled, parameters = self._bound(connection, params)
        if compiled.wire is not None:
            with contextlib.suppress(wire.Unsupported):  # else a cursor sends it, after the queue
                wire.later(connection, compiled.wire, parameters)
                return
        _executed(connection, compiled.sql, parameters).close()

    def many(
        self, connection: Connection, params: Sequence[Params], *, later: bool = False
    ) -> None:
        """Run a statement that returns no rows once per parameter set, in order.

        On PostgreSQL all of them travel in one round trip, with `later` as `Prepared.later`
        (in the round trip of the connection's next statement or of the `COMMIT`);
        elsewhere they run now (`executemany`).
        """
        if not params:
            return
        compiled = self._compiled(connection)
        converted = [compiled.parameters(one) for one in params]
        if compiled.wire is not None:
            try:
                wire.later(connection, compiled.wire, *converted)
            except wire.Unsupported:
                wire.send_queued(connection)  # a cursor sends them all, after the queue
            else:
                if not later:
                    wire.send_queued(connection)
                return
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(compiled.sql, converted)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _translated(error, connection.dialect, compiled.sql, converted) from error
        finally:
            cursor.close()

    def _bound(self, connection: Connection, params: Params | None) -> tuple[_Compiled, Any]:
        """The statement compiled for the connection, and `params` as its driver takes them."""
        compiled = self._compiled(connection)
        return compiled, compiled.parameters(params or {})

    def _compiled(self, connection: Connection) -> _Compiled:
        if not connection.in_transaction():
            # The raw cursor would bypass SQLAlchemy's begin (and SQLite's BEGIN IMMEDIATE).
            raise RuntimeError("a prepared statement runs inside a transaction only")
        dialect = connection.dialect
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:  # two threads may both compile: harmless, the results are equal
            compiled = self._by_dialect[dialect.name] = _compile(self.statement, dialect)
        return compiled


class Soon:
    """The rows of a `Prepared.soon` read."""

    def __init__(
        self,
        compiled: _Compiled,
        reading: wire.Reading | None,
        rows: list[tuple[Any, ...]] | None = None,
    ) -> None:
        self._compiled = compiled
        self._reading = reading
        self._rows = rows

    def rows(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            assert self._reading is not None
            self._rows = self._compiled.processed(self._reading.rows())
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        found = self.rows()
        return found[0] if found else None

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]


def in_binds(name: str, size: int) -> list[BindParameter[Any]]:
    """`size` bind parameters `name_0`, `name_1`, ... for `column.in_(...)` in a `Prepared`.

    An expanding IN cannot be prepared (its SQL depends on the number of values), so a list
    of values goes in chunks of a fixed size, `in_chunks`.
    """
    return [bindparam(f"{name}_{index}") for index in range(size)]


def in_chunks(name: str, size: int, values: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """The parameters of `in_binds(name, size)` for each chunk of `values` (none if empty).

    A short chunk repeats its last value, which matches nothing more.
    """
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield {f"{name}_{index}": chunk[min(index, len(chunk) - 1)] for index in range(size)}


def execute_driver_sql(
    connection: Connection, sql: str, params: Params | Sequence[Any], *, later: bool = False
) -> None:
    """Run SQL written for the connection's driver (its paramstyle) on the DBAPI cursor.

    For a dialect-specific statement that SQLAlchemy's expression language cannot build
    once and for all (PostgreSQL's `unnest` over array parameters); errors are raised as
    SQLAlchemy's, as from `Prepared`. Values go to the driver as they are, unprocessed.
    On PostgreSQL, named parameters go through `warroom.db.wire`, with `later` as
    `Prepared.later` (sent with the next statement or the `COMMIT`).
    """
    if not connection.in_transaction():
        raise RuntimeError("driver SQL runs inside a transaction only")
    if wire.is_postgresql(connection) and isinstance(params, Mapping):
        with contextlib.suppress(wire.Unsupported):  # else a cursor sends it, after the queue
            (wire.later if later else wire.execute)(connection, wire.statement_of(sql), params)
            return
    _executed(connection, sql, params).close()


def send_ahead(connection: Connection) -> None:
    """On PostgreSQL, send what is queued with `later` now, without waiting for it: the
    server runs it while the caller goes on, and its results are read with the next round
    trip (`warroom.db.wire.send_ahead`). Elsewhere nothing is queued."""
    if wire.is_postgresql(connection):
        wire.send_ahead(connection)


def _fetched(connection: Connection, compiled: _Compiled, parameters: Any) -> list[tuple[Any, ...]]:
    """The rows of `compiled` run on a DBAPI cursor (after any queued statements)."""
    cursor = _executed(connection, compiled.sql, parameters)
    try:
        return compiled.processed(cursor.fetchall())
    finally:
        cursor.close()


def _executed(connection: Connection, sql: str, params: Any) -> Any:
    """A DBAPI cursor that has run `sql` (after any queued statements); errors raised as
    SQLAlchemy's."""
    if wire.is_postgresql(connection):
        wire.send_queued(connection)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
    except BaseException as error:
        cursor.close()
        if isinstance(error, connection.dialect.loaded_dbapi.Error):
            raise _translated(error, connection.dialect, sql, params) from error
        raise
    return cursor


def postgres_array(values: Iterable[int | str | None]) -> str:
    """A PostgreSQL array literal (`{1,2}`, `{"a","b"}`), to pass as text and cast in the SQL.

    Why: psycopg adapts a Python list element by element in Python, and on intake's hot path
    that cost more than the statement it was for; a literal is one string. Strings are
    quoted and escaped; None is NULL.
    """
    items = values if isinstance(values, list) else list(values)
    if all(value.__class__ is int for value in items):  # ids and counts, the usual case
        return "{" + ",".join(map(str, items)) + "}"
    return "{" + ",".join(map(_array_element, items)) + "}"


def _array_element(value: int | str | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(int(value))
    if "\\" in value or '"' in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return '"' + value + '"'


def postgres_time(at: datetime) -> str:
    """An aware datetime as ISO 8601 text, for an array literal cast to `timestamptz[]`."""
    if at.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return at.isoformat()


def _compile(statement: Statement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if compiled.escaped_bind_names:
        raise ValueError("bind names that the dialect must escape are not supported")
    prefetched = [*compiled.insert_prefetch, *compiled.update_prefetch]
    if prefetched:
        columns = ", ".join(column.name for column in prefetched)
        raise ValueError(f"columns with Python-side defaults must be given explicitly: {columns}")
    if any(bind.callable is not None for bind in compiled.binds.values()):
        raise ValueError("bind parameters with a callable value are not supported")
    defaults = compiled.construct_params(_check=False)
    processors = compiled._bind_processors  # what SQLAlchemy applies; it has no public name
    positional = compiled.positiontup is not None
    names = compiled.positiontup if positional else list(defaults)
    binds = tuple(
        (
            name,
            _NO_DEFAULT if compiled.binds[name].required else defaults[name],
            _processor(processors, name),
        )
        for name in names or ()
    )
    results = tuple(
        (index, process)
        for index, column in enumerate(statement.exported_columns)
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        is not None
    )
    sql = str(compiled)
    on_wire = wire.statement_of(sql) if dialect.name == "postgresql" and not positional else None
    return _Compiled(sql, positional, binds, results, on_wire)


def _processor(processors: Mapping[str, Any], name: str) -> _Processor | None:
    process = processors.get(name)
    if process is not None and not callable(process):
        raise ValueError(f"tuple bind parameters are not supported: {name!r}")
    return process


def _translated(error: Exception, dialect: Dialect, sql: str, parameters: Any) -> StatementError:
    """A DBAPI error as SQLAlchemy's (IntegrityError, ...), as `connection.execute` raises it."""
    return DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect)
