"""Statements sent later and several to a round trip keep their order, their transaction
and their errors (`warroom.db.wire`; on SQLite `later` simply runs at once)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, column, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.types import Integer

from warroom.db import wire
from warroom.db.engine import Database
from warroom.db.prepared import Prepared, execute_driver_sql, send_ahead
from warroom.db.uow import UnitOfWork
from warroom.intake.models import AlertGroup

AT = datetime(2026, 3, 1, 12, 30, 5, 250_000, tzinfo=UTC)

_INSERT_GROUP = Prepared(
    insert(AlertGroup).values(
        id=bindparam("id"),
        rule="default",
        group_key=bindparam("group_key"),
        services=[],
        status="open",
        first_at=AT,
        last_at=AT,
        occurrences=1,
        firing=1,
        reason="",
    )
)
_COUNT_REPEAT = Prepared(
    update(AlertGroup)
    .where(AlertGroup.group_key == bindparam("group_key"))
    .values(occurrences=AlertGroup.occurrences + 1)
)
_OCCURRENCES = Prepared(
    select(AlertGroup.occurrences).where(AlertGroup.group_key == bindparam("group_key"))
)
_ids = iter(range(1000, 10**6))


def _group(key: str, group_id: int | None = None) -> dict[str, object]:
    """An alert group's insert parameters; a new id unless `group_id` is given."""
    return {"group_key": key, "id": next(_ids) if group_id is None else group_id}


def _occurrences(new_uow: Callable[[], UnitOfWork], key: str) -> list[int]:
    with new_uow() as uow:
        return [row[0] for row in _OCCURRENCES.rows(uow.session.connection(), {"group_key": key})]


def test_a_later_write_is_seen_by_the_next_statement_whoever_sends_it(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.later(connection, _group("k"))
        by_sqlalchemy = connection.execute(
            select(AlertGroup.occurrences).where(AlertGroup.group_key == "k")
        ).scalar_one()
        _COUNT_REPEAT.later(connection, {"group_key": "k"})
        by_prepared = _OCCURRENCES.scalar(connection, {"group_key": "k"})
        _COUNT_REPEAT.later(connection, {"group_key": "k"})
        by_orm = uow.session.scalars(
            select(AlertGroup.occurrences).where(AlertGroup.group_key == "k")
        ).one()

    assert (by_sqlalchemy, by_prepared, by_orm) == (1, 2, 3)


def test_later_writes_commit_with_the_transaction_in_the_order_they_were_queued(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.later(connection, _group("k"))
        for _ in range(3):
            _COUNT_REPEAT.later(connection, {"group_key": "k"})
        uow.commit()

    assert _occurrences(new_uow, "k") == [4]


def test_later_writes_are_dropped_on_rollback_and_do_not_reach_the_next_transaction(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        _INSERT_GROUP.later(uow.session.connection(), _group("dropped"))
    with new_uow() as uow:
        _INSERT_GROUP.later(uow.session.connection(), _group("kept"))
        uow.commit()

    assert _occurrences(new_uow, "dropped") == []
    assert _occurrences(new_uow, "kept") == [1]


def test_an_error_of_a_later_write_fails_the_commit_and_nothing_of_it_is_kept(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow, pytest.raises(IntegrityError):
        connection = uow.session.connection()
        _INSERT_GROUP.execute(connection, _group("first"))
        _INSERT_GROUP.later(connection, _group("twice", group_id=7))
        _INSERT_GROUP.later(connection, _group("twice", group_id=7))
        uow.commit()

    assert _occurrences(new_uow, "first") == []
    assert _occurrences(new_uow, "twice") == []
    with new_uow() as uow:  # the connection is fine afterwards
        _INSERT_GROUP.later(uow.session.connection(), _group("after"))
        uow.commit()
    assert _occurrences(new_uow, "after") == [1]


def test_an_error_is_raised_as_sqlalchemys_with_the_failing_statement(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        _INSERT_GROUP.execute(uow.session.connection(), _group("k", group_id=7))
        uow.commit()
    with new_uow() as uow, pytest.raises(IntegrityError) as raised:
        connection = uow.session.connection()
        _COUNT_REPEAT.later(connection, {"group_key": "k"})
        _INSERT_GROUP.execute(connection, _group("k", group_id=7))

    assert "INSERT INTO alert_groups" in str(raised.value)
    assert _occurrences(new_uow, "k") == [1]  # the update before it was rolled back with it


def test_driver_sql_sent_later_runs_with_the_commit(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the driver SQL below is PostgreSQL's")
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.execute(connection, _group("k"))
        execute_driver_sql(
            connection,
            "UPDATE alert_groups SET occurrences = occurrences + n "
            "FROM unnest(%(n)s::integer[]) AS n WHERE group_key = %(key)s",
            {"n": "{2,3}", "key": "k"},
            later=True,
        )
        uow.commit()

    assert _occurrences(new_uow, "k") == [3]


def test_soon_reads_see_the_writes_before_them_and_share_one_round_trip(
    new_uow: Callable[[], UnitOfWork], monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = _count_round_trips(monkeypatch)
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.later(connection, _group("a"))
        before_repeat = _OCCURRENCES.soon(connection, {"group_key": "a"})
        _COUNT_REPEAT.later(connection, {"group_key": "a"})
        after_repeat = _OCCURRENCES.soon(connection, {"group_key": "a"})
        missing = _OCCURRENCES.soon(connection, {"group_key": "none"})
        assert after_repeat.scalar() == 2  # sends the queue: every read there is answered
        assert (before_repeat.rows(), missing.first()) == ([(1,)], None)
        assert len(trips) == (1 if wire.is_postgresql(connection) else 0)


def test_a_soon_read_whose_transaction_rolled_back_first_says_so(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.execute(connection, _group("b"))
        pending = _OCCURRENCES.soon(connection, {"group_key": "b"})
        # rolled back on leaving
    if wire.is_postgresql(connection):
        with pytest.raises(RuntimeError, match="not carried out"):
            pending.rows()
    else:  # run at once
        assert pending.rows() == [(1,)]


def _count_round_trips(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A list that gets an item for every round trip `warroom.db.wire` makes from now on."""
    trips: list[object] = []
    exchange = wire._exchange

    def counted(*args: Any, **kwargs: Any) -> Any:
        trips.append(args[2])
        return exchange(*args, **kwargs)

    monkeypatch.setattr(wire, "_exchange", counted)
    return trips


def test_the_first_statement_of_a_transaction_opens_it(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    """`BEGIN` travels with the first statement: without it, the pipeline's implicit
    transaction would commit the insert at once."""
    with new_uow() as uow:
        _INSERT_GROUP.execute(uow.session.connection(), _group("rolled back"))
        # rolled back on leaving

    assert _occurrences(new_uow, "rolled back") == []


def test_prepared_statements_outlive_a_failed_transaction_on_the_same_connection(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    """psycopg deallocates every prepared statement of a connection after a rollback when
    it prepares statements itself; its automatic preparation is off so ours survive."""
    with new_uow() as uow:
        _INSERT_GROUP.execute(uow.session.connection(), _group("k"))
        uow.commit()
    with db.writer.connect() as connection:
        backend = (
            connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            if (db.dialect == "postgresql")
            else None
        )
    with new_uow() as uow, pytest.raises(DBAPIError):
        connection = uow.session.connection()
        assert _OCCURRENCES.scalar(connection, {"group_key": "k"}) == 1
        for _ in range(6):  # psycopg would prepare this one itself on its fifth run
            connection.execute(select(AlertGroup.id)).all()
        connection.exec_driver_sql("SELECT * FROM no_such_table")
    with new_uow() as uow:
        connection = uow.session.connection()
        if backend is not None:
            same = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            assert same == backend  # the pool gave the same connection back
        assert _OCCURRENCES.scalar(connection, {"group_key": "k"}) == 1


def test_values_the_wire_does_not_send_as_text_go_through_a_cursor_after_the_queue(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    listed = Prepared(
        text("SELECT count(*) FROM alert_groups WHERE occurrences = ANY(:counts)").columns(
            column("n", Integer)
        )
    )
    counts = [1, 2] if db.dialect == "postgresql" else None
    if counts is None:
        pytest.skip("list parameters are PostgreSQL's")
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.later(connection, _group("k"))
        assert listed.scalar(connection, {"counts": counts}) == 1
        assert connection.execute(select(func.count()).select_from(AlertGroup)).scalar() == 1


def test_many_later_queues_every_parameter_set_in_order(new_uow: Callable[[], UnitOfWork]) -> None:
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.many(connection, [_group("a"), _group("b")], later=True)
        _COUNT_REPEAT.many(connection, [{"group_key": "a"}] * 3, later=True)
        _COUNT_REPEAT.many(connection, [{"group_key": "b"}])
        read_back = [_OCCURRENCES.scalar(connection, {"group_key": key}) for key in "ab"]
        uow.commit()

    assert read_back == [4, 2]
    assert (_occurrences(new_uow, "a"), _occurrences(new_uow, "b")) == ([4], [2])


def test_after_an_exchange_interrupted_midway_the_transaction_rolls_back_cleanly(
    db: Database, new_uow: Callable[[], UnitOfWork], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection with results pending on the wire is never used again."""
    _needs_the_wire(db)

    class Interrupted(Exception):
        pass

    def interrupted(*_args: object) -> None:
        raise Interrupted

    with new_uow() as uow, pytest.raises(Interrupted):
        connection = uow.session.connection()
        monkeypatch.setattr(wire, "_collect", interrupted)
        _INSERT_GROUP.execute(connection, _group("lost"))
    monkeypatch.undo()

    with new_uow() as uow:
        _INSERT_GROUP.later(uow.session.connection(), _group("kept"))
        uow.commit()
    assert _occurrences(new_uow, "lost") == []
    assert _occurrences(new_uow, "kept") == [1]


def test_a_connection_lost_mid_transaction_fails_it_as_sqlalchemy_says_and_is_replaced(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    _needs_the_wire(db)
    with new_uow() as uow, pytest.raises(DBAPIError) as raised:
        connection = uow.session.connection()
        _INSERT_GROUP.execute(connection, _group("lost"))
        with db.writer.connect() as other:
            backend = connection.connection.dbapi_connection.info.backend_pid
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
        _OCCURRENCES.scalar(connection, {"group_key": "lost"})
    assert isinstance(raised.value, OperationalError) and raised.value.connection_invalidated

    with new_uow() as uow:
        _INSERT_GROUP.later(uow.session.connection(), _group("kept"))
        uow.commit()
    assert _occurrences(new_uow, "lost") == []
    assert _occurrences(new_uow, "kept") == [1]


_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(:key)").columns(column("locked", Integer)))
_AHEAD_LOCK_KEY = 0x5741_0001


def test_statements_sent_ahead_run_while_the_caller_goes_on_in_the_same_round_trip(
    db: Database, new_uow: Callable[[], UnitOfWork], monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_the_wire(db)
    trips = _count_round_trips(monkeypatch)
    with new_uow() as uow, db.writer.connect() as other:
        connection = uow.session.connection()
        _LOCK.later(connection, {"key": _AHEAD_LOCK_KEY})
        _INSERT_GROUP.later(connection, _group("ahead"))
        send_ahead(connection)
        # Nothing has waited for the server, yet it holds the lock soon after.
        assert _taken_by_someone_else(other, _AHEAD_LOCK_KEY)
        _COUNT_REPEAT.later(connection, {"group_key": "ahead"})
        seen = _OCCURRENCES.scalar(connection, {"group_key": "ahead"})  # the round trip
        uow.commit()
        other.rollback()

    assert (seen, len(trips)) == (2, 1)  # the read's round trip took what was sent ahead too
    assert _occurrences(new_uow, "ahead") == [2]


def test_an_error_of_a_statement_sent_ahead_fails_the_commit(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    _needs_the_wire(db)
    with new_uow() as uow, pytest.raises(IntegrityError):
        connection = uow.session.connection()
        _INSERT_GROUP.later(connection, _group("twice ahead", group_id=11))
        _INSERT_GROUP.later(connection, _group("twice ahead", group_id=11))
        send_ahead(connection)
        _INSERT_GROUP.later(connection, _group("after the error"))
        uow.commit()

    assert _occurrences(new_uow, "twice ahead") == []
    assert _occurrences(new_uow, "after the error") == []


def test_a_rollback_after_sending_ahead_drops_it_and_leaves_the_connection_usable(
    db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    _needs_the_wire(db)
    with new_uow() as uow:
        connection = uow.session.connection()
        _INSERT_GROUP.later(connection, _group("sent, rolled back"))
        send_ahead(connection)
        # rolled back on leaving, with the results still unread
    with new_uow() as uow:
        _INSERT_GROUP.later(uow.session.connection(), _group("next"))
        uow.commit()

    assert _occurrences(new_uow, "sent, rolled back") == []
    assert _occurrences(new_uow, "next") == [1]


def _taken_by_someone_else(other: Any, key: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        free = other.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({key})").scalar()
        if not free:
            return True
        other.rollback()  # releases the lock it just took
        time.sleep(0.005)
    return False


def _needs_the_wire(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the wire is PostgreSQL's")
