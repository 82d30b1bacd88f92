"""The audit trail's hash chain catches edits, deletions and reordering."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Update, delete, func, select, update

from tests.conftest import Person
from warroom.accounts import service as accounts_service
from warroom.accounts.models import User
from warroom.actors import Actor
from warroom.audit.models import AuditEntry
from warroom.audit.queries import list_entries
from warroom.audit.service import append_entry, content_hash, entry_hash, verify_chain
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import PermissionDenied


@pytest.fixture
def history(new_uow: Callable[[], UnitOfWork], admin: Person, responder: Person) -> Person:
    for name in ("one", "two", "three"):
        accounts_service.create_token(new_uow(), admin.actor, user_id=responder.id, name=name)
    return admin


def _tamper(db: Database, statement: object) -> None:
    with db.writer.begin() as connection:
        connection.execute(statement)  # type: ignore[call-overload]


def test_an_untouched_chain_verifies(db: Database, history: Person) -> None:
    report = verify_chain(db, history.actor)
    assert report.intact and report.entries_checked == 5


def test_editing_an_entry_is_caught_at_that_entry(db: Database, history: Person) -> None:
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 3).values(actor_label="mallory"))
    report = verify_chain(db, history.actor)
    assert not report.intact
    assert report.first_bad_seq == 3 and "edited" in (report.reason or "")


def test_editing_the_summary_json_is_caught(db: Database, history: Person) -> None:
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 4).values(summary={"name": "evil"}))
    assert verify_chain(db, history.actor).first_bad_seq == 4


def test_deleting_an_entry_is_caught(db: Database, history: Person) -> None:
    _tamper(db, delete(AuditEntry).where(AuditEntry.seq == 2))
    report = verify_chain(db, history.actor)
    assert not report.intact and report.first_bad_seq == 3 and "missing" in (report.reason or "")


def test_reordering_entries_is_caught(db: Database, history: Person) -> None:
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 2).values(seq=-2))
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 3).values(seq=2))
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == -2).values(seq=3))
    report = verify_chain(db, history.actor)
    assert not report.intact and report.first_bad_seq == 2


def test_rehashing_an_edited_entry_still_breaks_the_next_link(
    db: Database, history: Person
) -> None:
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 3).values(hash="f" * 64))
    report = verify_chain(db, history.actor)
    assert report.first_bad_seq == 3


def test_only_admins_read_or_verify_the_trail(db: Database, responder: Person) -> None:
    with pytest.raises(PermissionDenied):
        verify_chain(db, responder.actor)
    with pytest.raises(PermissionDenied):
        list_entries(db, responder.actor)


def test_listing_filters_and_pages_newest_first(db: Database, history: Person) -> None:
    first = list_entries(db, history.actor, action="token.create", limit=2)
    assert [e.summary["name"] for e in first.items] == ["three", "two"]
    assert first.next_cursor is not None
    rest = list_entries(db, history.actor, action="token.create", cursor=first.next_cursor)
    assert [e.summary["name"] for e in rest.items] == ["one"] and rest.next_cursor is None


def _append(uow: UnitOfWork, label: str) -> None:
    append_entry(
        uow.session, Actor.system(label), action="test.append", object_type="t", object_id=1
    )


def test_entries_are_written_at_the_commit_in_append_order_and_dropped_on_rollback(
    db: Database, new_uow: Callable[[], UnitOfWork], admin: Person
) -> None:
    def written() -> int | None:
        with db.read_session() as reader:
            return reader.scalar(select(func.count()).select_from(AuditEntry))

    before = written()
    with new_uow() as uow:
        for label in ("first", "second", "third"):
            _append(uow, label)
        assert written() == before  # nothing is written before the commit
        uow.commit()
    with new_uow() as uow:
        _append(uow, "rolled back")
    labels = [e.actor_label for e in list_entries(db, admin.actor, limit=10).items]
    assert labels[:3] == ["third", "second", "first"]
    assert "rolled back" not in labels
    assert verify_chain(db, admin.actor).intact


def rename(user_id: int, name: str) -> Update:
    return update(User).where(User.id == user_id).values(display_name=name)


def test_a_use_case_holding_a_row_lock_and_a_batch_that_appended_first_do_not_deadlock(
    db: Database, new_uow: Callable[[], UnitOfWork], admin: Person
) -> None:
    """The batch appends, then waits for a row the use case locked; the use case appends.

    With the chain lock taken at the first append, the two waited for each other until
    PostgreSQL aborted one (SQLite serialises whole write transactions, so it cannot happen
    there, and the test shows both commit).
    """
    if db.dialect != "postgresql":
        pytest.skip("row locks and the chain's advisory lock interleave on PostgreSQL only")
    person_id = admin.id
    use_case_locked = threading.Event()
    failures: list[BaseException] = []

    def use_case() -> None:
        try:
            with new_uow() as uow:
                uow.session.execute(
                    update(User).where(User.id == person_id).values(display_name="a")
                )
                use_case_locked.set()
                time.sleep(0.5)  # the batch is now waiting for this row
                _append(uow, "use case")
                uow.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    def batch() -> None:
        try:
            with new_uow() as uow:
                _append(uow, "batch")
                assert use_case_locked.wait(10)
                uow.session.execute(
                    update(User).where(User.id == person_id).values(display_name="b")
                )
                uow.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=use_case), threading.Thread(target=batch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert verify_chain(db, admin.actor).intact


def test_content_hash_is_the_sha256_of_the_whole_entry_as_canonical_json() -> None:
    """The chain's format: what earlier versions stored and what `warroom_append_audit`
    computes from the parts must both be this."""
    entry = {
        "seq": 12,
        "at": datetime(2026, 11, 27, 15, 4, 5, 60, tzinfo=UTC),
        "actor_user_id": None,
        "actor_label": 'Zoë "ops" \\ 運用',
        "action": "incident.note",
        "object_type": "incident",
        "object_id": "7",
        "summary": {"text": "ünïcode ✓", "nested": {"b": 1, "a": [1.5, None, True]}},
        "prev_hash": "ab" * 32,
    }
    content = {**entry, "at": "2026-11-27T15:04:05.000060+00:00"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert content_hash(entry) == hashlib.sha256(canonical.encode()).hexdigest()


def test_entries_chained_by_the_database_verify_whatever_their_text(
    db: Database, new_uow: Callable[[], UnitOfWork], admin: Person
) -> None:
    odd = ['Zoë "ops" \\ 運用', "tab\there", "emoji 🚨", "{not json}", ""]
    for first in (0, 2):  # two transactions: the second chains onto the first's head
        with new_uow() as uow:
            for label in odd[first:]:
                actor = Actor(user_id=None, label=label, role=admin.actor.role)
                summary = {"text": label, "list": [label, 1, None], "é": {"z": 1, "a": 2}}
                append_entry(
                    uow.session, actor, action="test.odd", object_type="x", object_id=label,
                    summary=summary,
                )  # fmt: skip
            uow.commit()

    report = verify_chain(db, admin.actor)
    with db.read_session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [e.actor_label for e in entries[-8:]] == odd + odd[2:]
        assert all(entry_hash(e) == e.hash for e in entries)
    assert report.intact and report.entries_checked == len(entries)
