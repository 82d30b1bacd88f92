"""The audit trail's hash chain catches edits, deletions and reordering."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete, update

from tests.conftest import Person
from warroom.accounts import service as accounts_service
from warroom.audit.models import AuditEntry
from warroom.audit.queries import list_entries
from warroom.audit.service import verify_chain
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
