"""The in-transaction API intake codes against: incidents open, link and record in its session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import SYSTEM
from warroom.audit.queries import list_entries
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.errors import InvalidInput
from warroom.incidents import queries, service
from warroom.incidents.schemas import Severity, Status

UowFactory = Callable[[], UnitOfWork]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _open(new_uow: UowFactory, title: str = "Checkout errors") -> int:
    with new_uow() as uow:
        incident_id = service.open_incident_in(
            uow.session,
            SYSTEM,
            title=title,
            severity="SEV2",
            summary="5xx on checkout",
            service_names=["checkout", "payments"],
            detected_at=T0,
            source="alertmanager",
        )
        uow.commit()
    return incident_id


def test_intake_opens_an_incident_in_triage_with_timeline_and_audit(
    db: Database, new_uow: UowFactory
) -> None:
    incident_id = _open(new_uow)
    detail = queries.get_incident(db, SYSTEM, incident_id=incident_id)
    assert detail.status is Status.TRIAGE and detail.severity is Severity.SEV2
    assert detail.services == ["checkout", "payments"]
    assert detail.detected_at == T0
    assert detail.timeline[0].kind == "open" and "alertmanager" in detail.timeline[0].text
    actions = [e.action for e in list_entries(db, SYSTEM).items]
    assert "incident.open" in actions


def test_timeline_entries_from_intake_keep_their_time_and_data(
    db: Database, new_uow: UowFactory
) -> None:
    incident_id = _open(new_uow)
    with new_uow() as uow:
        service.add_timeline_entry_in(
            uow.session,
            SYSTEM,
            incident_id=incident_id,
            kind="alert",
            text="HighErrorRate firing",
            data={"fingerprint": "abc"},
            at=T0 + timedelta(minutes=1),
        )
        uow.commit()
    entry = queries.get_timeline(db, SYSTEM, incident_id=incident_id)[-1]
    assert (entry.kind, entry.data, entry.at) == (
        "alert",
        {"fingerprint": "abc"},
        T0 + timedelta(minutes=1),
    )


def test_a_resolved_incident_no_longer_accepts_alerts_and_links_a_recurrence(
    db: Database, new_uow: UowFactory
) -> None:
    first = _open(new_uow)
    with new_uow() as uow:
        assert service.incident_accepts_alerts_in(uow.session, first)
    service.resolve_incident(new_uow(), SYSTEM, incident_id=first)
    with new_uow() as uow:
        assert not service.incident_accepts_alerts_in(uow.session, first)
        assert not service.incident_accepts_alerts_in(uow.session, 999_999)
    second = _open(new_uow)
    with new_uow() as uow:
        service.link_recurrence_in(
            uow.session, SYSTEM, incident_id=second, previous_incident_id=first
        )
        uow.commit()
    assert queries.get_incident(db, SYSTEM, incident_id=second).recurrence_of_id == first
    assert "Recurred as" in queries.get_timeline(db, SYSTEM, incident_id=first)[-1].text


def test_changes_are_recorded_and_found_by_service_and_time(
    db: Database, new_uow: UowFactory
) -> None:
    with new_uow() as uow:
        change_id = service.record_change_in(
            uow.session,
            SYSTEM,
            service_name="payments",
            summary="Deploy payments v42",
            source="pagerduty",
            kind="code",
            happened_at=T0,
            details={"version": "42"},
        )
        uow.commit()
    with new_uow() as uow:
        found = service.recent_changes_in(uow.session, ["payments"], T0 - timedelta(hours=1))
        assert [c.id for c in found] == [change_id]
        assert service.recent_changes_in(uow.session, ["payments"], T0 + timedelta(hours=1)) == []
        with pytest.raises(InvalidInput, match="unknown change kind"):
            service.record_change_in(
                uow.session,
                SYSTEM,
                service_name="x",
                summary="?",
                source="s",
                kind="vibes",
                happened_at=T0,
                details={},
            )
