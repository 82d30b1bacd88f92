"""Prepared statements store and return exactly what `connection.execute` does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from warroom.audit.models import AuditEntry
from warroom.db.engine import Database
from warroom.db.prepared import Prepared, execute_driver_sql, in_binds, in_chunks, postgres_array
from warroom.db.uow import UnitOfWork
from warroom.intake.models import AlertGroup

ON_THE_SECOND = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)  # sqlite3's own adapter drops .000000
LATER = datetime(2026, 3, 1, 12, 31, 7, 250_000, tzinfo=UTC)

_INSERT_GROUP = (
    insert(AlertGroup)
    .values(
        rule=bindparam("rule"),
        group_key=bindparam("group_key"),
        services=bindparam("services", type_=AlertGroup.services.type),
        status="open",
        first_at=bindparam("first_at"),
        last_at=bindparam("first_at"),
        occurrences=bindparam("occurrences"),
        firing=1,
        not_before=bindparam("not_before"),
        reason="",
        incident_id=bindparam("incident_id"),
    )
    .returning(AlertGroup.id)
)
_COUNT_REPEAT = (
    update(AlertGroup)
    .where(AlertGroup.id == bindparam("group_id"))
    .values(occurrences=AlertGroup.occurrences + 1, last_at=bindparam("now"))
)
_GROUPS_OF_KEY = (
    select(
        AlertGroup.id,
        AlertGroup.services,
        AlertGroup.first_at,
        AlertGroup.not_before,
        AlertGroup.incident_id,
        AlertGroup.occurrences,
    )
    .where(AlertGroup.group_key == bindparam("group_key"))
    .order_by(AlertGroup.id)
)
_STORED = text(
    "SELECT rule, services, status, first_at, last_at, occurrences, firing, "
    "not_before, reason, incident_id FROM alert_groups WHERE id = :id"
)


def _group(key: str, **changes: Any) -> dict[str, Any]:
    values = {
        "rule": "default",
        "group_key": key,
        "services": ["checkout", "payments"],
        "first_at": ON_THE_SECOND,
        "occurrences": 3,
        "not_before": None,
        "incident_id": None,
    }
    return {**values, **changes}


def _stored(connection: Connection, group_id: int) -> dict[str, Any]:
    """The row as the database holds it, read without type processing (but for its key)."""
    return dict(connection.execute(_STORED, {"id": group_id}).one()._mapping)


def test_an_insert_returning_its_id_stores_what_sqlalchemy_stores(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    values = _group("k", not_before=LATER, incident_id=7)
    with new_uow() as uow:
        connection = uow.session.connection()
        through_sqlalchemy = connection.execute(_INSERT_GROUP, values).scalar_one()
        prepared = Prepared(_INSERT_GROUP).scalar(connection, values)

        assert prepared == through_sqlalchemy + 1
        assert _stored(connection, prepared) == _stored(connection, through_sqlalchemy)


def test_an_update_adds_in_the_database_and_stores_datetimes_as_sqlalchemy_does(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        connection = uow.session.connection()
        first, second = (
            connection.execute(_INSERT_GROUP, _group(key)).scalar_one() for key in "ab"
        )
        connection.execute(_COUNT_REPEAT, {"group_id": first, "now": ON_THE_SECOND})
        touched = Prepared(_COUNT_REPEAT).execute(
            connection, {"group_id": second, "now": ON_THE_SECOND}
        )

        assert touched == 1
        assert _stored(connection, second) == _stored(connection, first)
        assert _stored(connection, second)["occurrences"] == 4


def test_an_update_of_no_row_counts_none(new_uow: Callable[[], UnitOfWork]) -> None:
    with new_uow() as uow:
        touched = Prepared(_COUNT_REPEAT).execute(
            uow.session.connection(), {"group_id": 404, "now": LATER}
        )

    assert touched == 0


def test_selected_rows_equal_those_of_connection_execute(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    prepared = Prepared(_GROUPS_OF_KEY)
    with new_uow() as uow:
        connection = uow.session.connection()
        connection.execute(_INSERT_GROUP, _group("k"))
        connection.execute(_INSERT_GROUP, _group("k", not_before=LATER, incident_id=9))
        key = {"group_key": "k"}
        expected = [tuple(row) for row in connection.execute(_GROUPS_OF_KEY, key)]

        rows = prepared.rows(connection, key)
        first = prepared.first(connection, key)
        scalar = prepared.scalar(connection, key)
        none = prepared.first(connection, {"group_key": "missing"})

    assert rows == expected
    assert rows[1][1:] == (["checkout", "payments"], ON_THE_SECOND, LATER, 9, 3)
    assert rows[0][3] is None
    assert first == expected[0]
    assert scalar == expected[0][0]
    assert none is None


def test_many_runs_the_statement_once_per_parameter_set_in_order(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    repeats = [{"group_id": 0, "now": ON_THE_SECOND}, {"group_id": 0, "now": LATER}]
    with new_uow() as uow:
        connection = uow.session.connection()
        first, second = (
            connection.execute(_INSERT_GROUP, _group(key)).scalar_one() for key in "ab"
        )
        connection.execute(_COUNT_REPEAT, [{**one, "group_id": first} for one in repeats])
        Prepared(_COUNT_REPEAT).many(connection, [{**one, "group_id": second} for one in repeats])

        assert _stored(connection, second) == _stored(connection, first)
        assert _stored(connection, second)["occurrences"] == 5


def test_a_constraint_violation_raises_sqlalchemys_integrity_error(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    entry = Prepared(
        insert(AuditEntry).values(
            {name: bindparam(name) for name in ("seq", "at", "summary", "hash")}
            | {"actor_label": "test", "action": "test", "object_type": "test"}
            | {"object_id": "1", "prev_hash": "0", "note": ""}
        )
    )
    values = {"seq": 1, "at": LATER, "summary": {}, "hash": "h"}
    with new_uow() as uow:
        connection = uow.session.connection()
        entry.execute(connection, values)
        with pytest.raises(IntegrityError):
            entry.execute(connection, values)


def test_expanding_in_parameters_are_refused_when_built() -> None:
    with pytest.raises(ValueError, match="expanding IN parameters are not supported"):
        Prepared(select(AlertGroup.id).where(AlertGroup.status.in_(["open", "pending"])))


def test_columns_with_python_side_defaults_must_be_given(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    without_reason = Prepared(insert(AlertGroup).values(rule=bindparam("rule")))
    with new_uow() as uow, pytest.raises(ValueError, match="must be given explicitly: services"):
        without_reason.execute(uow.session.connection(), {"rule": "default"})


def test_a_missing_parameter_is_named(new_uow: Callable[[], UnitOfWork]) -> None:
    with new_uow() as uow, pytest.raises(ValueError, match="'now'"):
        Prepared(_COUNT_REPEAT).execute(uow.session.connection(), {"group_id": 1})


def test_a_prepared_statement_outside_a_transaction_is_refused(db: Database) -> None:
    with db.writer.connect() as connection, pytest.raises(RuntimeError, match="transaction"):
        Prepared(_GROUPS_OF_KEY).rows(connection, {"group_key": "k"})


def test_driver_sql_runs_in_the_transaction_and_raises_sqlalchemys_errors(
    new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    # The driver's own paramstyle: named for psycopg, qmark for sqlite3.
    sql = (
        "INSERT INTO audit_entries (seq, at, actor_label, action, object_type, object_id, "
        "summary, prev_hash, hash, note) VALUES ({0}, {1}, 'test', 'test', 'test', '1', '{{}}', "
        "'0', 'h', '')"
    )
    if db.dialect == "postgresql":
        sql, params = sql.format("%(seq)s", "%(at)s"), {"seq": 7, "at": LATER}
    else:
        sql, params = sql.format("?", "?"), (7, LATER.isoformat())
    with new_uow() as uow:
        connection = uow.session.connection()
        execute_driver_sql(connection, sql, params)
        with pytest.raises(IntegrityError):
            execute_driver_sql(connection, sql, params)
    with new_uow() as uow:  # rolled back with the unit of work it ran in
        assert uow.session.scalar(select(AuditEntry.seq).where(AuditEntry.seq == 7)) is None
    with db.writer.connect() as connection, pytest.raises(RuntimeError, match="transaction"):
        execute_driver_sql(connection, sql, params)


def test_a_postgres_array_literal_reads_back_as_the_values(db: Database) -> None:
    texts = ["plain", 'with "quotes"', "back\\slash", "comma, {brace}", "NULL", ""]
    assert postgres_array([1, -2, None]) == "{1,-2,NULL}"
    if db.dialect != "postgresql":
        pytest.skip("array literals are PostgreSQL's")
    with db.writer.connect() as connection:
        as_text = connection.exec_driver_sql(
            "SELECT %(v)s::text[]", {"v": postgres_array([*texts, None])}
        ).scalar()
        as_int = connection.exec_driver_sql(
            "SELECT %(v)s::integer[]", {"v": postgres_array([3, -1, 0])}
        ).scalar()
    assert as_text == [*texts, None]
    assert as_int == [3, -1, 0]


def test_in_chunks_fill_every_bind_and_repeat_the_last_value() -> None:
    chunks = list(in_chunks("key", 3, ["a", "b", "c", "d"]))
    assert chunks == [
        {"key_0": "a", "key_1": "b", "key_2": "c"},
        {"key_0": "d", "key_1": "d", "key_2": "d"},
    ]
    assert list(in_chunks("key", 3, [])) == []
    assert [bind.key for bind in in_binds("key", 3)] == ["key_0", "key_1", "key_2"]
