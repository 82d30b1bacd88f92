"""Grouping against a real database: identity, correlation, opening, silences, recurrences."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.intake.conftest import SYSTEM, am_alert, am_notification, at
from warroom import demo
from warroom.actors import Actor, Role
from warroom.catalog import service as catalog_service
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.engines.alertgrouping import Rules, parse_rules
from warroom.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from warroom.incidents import queries as incident_queries
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import Status
from warroom.intake import queries, service
from warroom.intake.schemas import (
    DeliveryResult,
    IntegrationCreate,
    IntegrationCreated,
    MaintenanceCreate,
)
from warroom.intake.service import Delivery, Endpoint

Deliver = Callable[..., DeliveryResult]


@pytest.fixture
def integration(make_integration: Callable[..., IntegrationCreated]) -> IntegrationCreated:
    return make_integration("alertmanager")


@pytest.fixture
def deliver(new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated) -> Deliver:
    def send(*alerts: dict[str, Any], now: datetime) -> DeliveryResult:
        body = json.dumps(am_notification(*alerts)).encode()
        delivery = Delivery(Endpoint.ALERTMANAGER, body, integration.credential)
        return service.receive_delivery(new_uow(), delivery, now=now)

    return send


def set_rules(new_uow: Callable[[], UnitOfWork], text: str) -> None:
    service.set_rules(new_uow(), SYSTEM, source=text)


def incident_ids(result: DeliveryResult) -> set[int | None]:
    return {alert.incident_id for alert in result.alerts}


def test_repeats_of_one_fingerprint_are_one_alert_with_a_count(
    deliver: Deliver, db: Database
) -> None:
    first = deliver(am_alert(), now=at(0))
    second = deliver(am_alert(), now=at(1))
    assert [a.outcome for a in first.alerts + second.alerts] == ["created", "repeated"]
    [alert] = queries.list_alerts(db, SYSTEM).items
    assert alert.occurrences == 2
    assert incident_ids(first) == incident_ids(second) != {None}


def test_alerts_on_one_service_within_the_window_share_an_incident(deliver: Deliver) -> None:
    first = deliver(am_alert("HighLatency"), now=at(0))
    second = deliver(am_alert("ErrorRate"), now=at(5))
    assert incident_ids(first) == incident_ids(second)


def test_alerts_on_unrelated_services_open_separate_incidents(deliver: Deliver) -> None:
    first = deliver(am_alert(service_name="payments"), now=at(0))
    second = deliver(am_alert(service_name="search"), now=at(1))
    assert incident_ids(first) != incident_ids(second)


def test_a_dependency_joins_the_incident_of_the_service_that_needs_it(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    import_catalog(new_uow)
    checkout = deliver(am_alert("ErrorRate", service_name="checkout"), now=at(0))
    payments = deliver(am_alert("HighLatency", service_name="payments"), now=at(3))
    assert incident_ids(checkout) == incident_ids(payments)
    [incident_id] = incident_ids(checkout)
    assert incident_id is not None
    incident = incident_queries.get_incident(db, SYSTEM, incident_id=incident_id)
    assert any("Alert joined" in entry.text for entry in incident.timeline)
    assert incident.services == ["checkout", "payments"]
    assert any("Impacted service added: payments" in entry.text for entry in incident.timeline)


def test_an_occurrence_threshold_holds_the_incident_back(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork]
) -> None:
    set_rules(new_uow, "rules:\n  - name: noisy\n    open_after: {occurrences: 3}\n")
    assert incident_ids(deliver(am_alert(), now=at(0))) == {None}
    assert incident_ids(deliver(am_alert(), now=at(1))) == {None}
    assert incident_ids(deliver(am_alert(), now=at(2))) != {None}


def test_a_duration_rule_opens_on_the_tick_once_due(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork]
) -> None:
    set_rules(new_uow, "rules:\n  - name: slow\n    open_after: {duration: 5m}\n")
    assert incident_ids(deliver(am_alert(), now=at(0))) == {None}
    assert service.tick(new_uow(), now=at(4)).opened == []
    report = service.tick(new_uow(), now=at(5))
    assert len(report.opened) == 1
    assert service.tick(new_uow(), now=at(6)).opened == []


def test_group_wait_collects_alerts_into_one_incident(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    set_rules(new_uow, "rules:\n  - name: wait\n    group_wait: 30s\n")
    deliver(am_alert("HighLatency"), now=at(0, 0))
    deliver(am_alert("ErrorRate"), now=at(0, 10))
    [incident_id] = service.tick(new_uow(), now=at(0, 30)).opened
    alerts = queries.list_alerts(db, SYSTEM, incident_id=incident_id).items
    assert len(alerts) == 2


def test_an_alert_resolving_before_the_rule_is_met_opens_nothing(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork]
) -> None:
    set_rules(new_uow, "rules:\n  - name: slow\n    open_after: {duration: 5m}\n")
    deliver(am_alert(), now=at(0))
    deliver(am_alert(status="resolved"), now=at(2))
    report = service.tick(new_uow(), now=at(10))
    assert report.opened == []


def test_a_flapping_alert_is_recorded_but_opens_nothing(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    rules = "rules:\n  - name: r\n    window: 1m\n    flapping: {starts: 3, window: 1h}\n"
    set_rules(new_uow, rules)
    opened = set()
    for cycle in range(3):
        result = deliver(am_alert(), now=at(cycle * 10))
        opened |= incident_ids(result)
        deliver(am_alert(status="resolved"), now=at(cycle * 10 + 1))
    assert len(opened - {None}) == 2
    newest = queries.list_alerts(db, SYSTEM).items[0]
    assert newest.suppressed == "flapping"
    assert newest.incident_id is None


def test_a_maintenance_window_silences_matching_alerts_and_keeps_them(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    window = service.create_maintenance(
        new_uow(),
        SYSTEM,
        data=MaintenanceCreate(
            name="db upgrade", starts_at=at(0), ends_at=at(30), services=["payments"]
        ),
    )
    result = deliver(am_alert(), now=at(1))
    assert incident_ids(result) == {None}
    [alert] = queries.list_alerts(db, SYSTEM).items
    assert alert.silenced_by == window.id
    after = deliver(am_alert(), now=at(31))
    assert incident_ids(after) != {None}


def test_a_resolved_incident_never_absorbs_new_alerts(
    deliver: Deliver, new_uow: Callable[[], UnitOfWork], db: Database
) -> None:
    [first] = incident_ids(deliver(am_alert(), now=at(0)))
    assert first is not None
    incident_service.change_status(new_uow(), SYSTEM, incident_id=first, status=Status.RESOLVED)
    [second] = incident_ids(deliver(am_alert("ErrorRate"), now=at(2)))
    assert second is not None and second != first
    assert incident_queries.get_incident(db, SYSTEM, incident_id=second).recurrence_of_id == first


def test_resolved_alerts_are_recorded_on_the_timeline(deliver: Deliver, db: Database) -> None:
    [incident_id] = incident_ids(deliver(am_alert("A"), am_alert("B"), now=at(0)))
    assert incident_id is not None
    deliver(am_alert("A", status="resolved"), now=at(5))
    texts = [e.text for e in incident_queries.get_timeline(db, SYSTEM, incident_id=incident_id)]
    assert any("Alert resolved at source: A on payments" in t for t in texts)
    assert not any(t.startswith("All ") for t in texts)
    deliver(am_alert("B", status="resolved"), now=at(6))
    texts = [e.text for e in incident_queries.get_timeline(db, SYSTEM, incident_id=incident_id)]
    assert any(t.startswith("All 2 alert(s) of this incident have resolved") for t in texts)
    detail = incident_queries.get_incident(db, SYSTEM, incident_id=incident_id)
    assert detail.status == Status.TRIAGE  # the IC decides when it is resolved


def test_a_malformed_body_is_refused_and_kept(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    delivery = Delivery(
        Endpoint.ALERTMANAGER, b'{"version": "4", "alerts": "no"}', integration.credential
    )
    with pytest.raises(InvalidInput, match="not an Alertmanager webhook"):
        service.receive_delivery(new_uow(), delivery)
    [letter] = queries.list_dead_letters(db, SYSTEM)
    assert letter.integration_id == integration.id
    assert letter.endpoint == "alertmanager"
    detail = queries.get_dead_letter(db, SYSTEM, dead_letter_id=letter.id)
    assert detail.body == '{"version": "4", "alerts": "no"}'


def test_a_wrong_credential_keeps_nothing(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    delivery = Delivery(Endpoint.ALERTMANAGER, b"not json", "wi_wrong")
    with pytest.raises(AuthenticationRequired):
        service.receive_delivery(new_uow(), delivery)
    assert queries.list_dead_letters(db, SYSTEM) == []


def test_a_credential_only_works_on_its_own_endpoint(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated
) -> None:
    delivery = Delivery(Endpoint.GENERIC, b"{}", integration.credential)
    with pytest.raises(AuthenticationRequired, match="alertmanager integration"):
        service.receive_delivery(new_uow(), delivery)


def test_a_rotated_credential_stops_working(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated
) -> None:
    service.rotate_credential(new_uow(), SYSTEM, name=integration.name)
    body = json.dumps(am_notification(am_alert())).encode()
    with pytest.raises(AuthenticationRequired):
        service.receive_delivery(
            new_uow(), Delivery(Endpoint.ALERTMANAGER, body, integration.credential)
        )


def test_only_admins_create_integrations(new_uow: Callable[[], UnitOfWork]) -> None:
    responder = Actor(user_id=1, label="r@example.com", role=Role.RESPONDER)
    data = IntegrationCreate(kind="pagerduty", name="pd")
    with pytest.raises(PermissionDenied):
        service.create_integration(new_uow(), responder, data=data)


def test_replay_shows_what_other_rules_would_have_done(
    deliver: Deliver, db: Database, new_uow: Callable[[], UnitOfWork]
) -> None:
    now = datetime.now(tz=at(0).tzinfo)
    deliver(am_alert("A", service_name="payments"), now=now - timedelta(minutes=10))
    deliver(am_alert("B", service_name="search"), now=now - timedelta(minutes=9))
    same = queries.replay(db, SYSTEM, rules=_rules(""), since=now - timedelta(hours=1))
    assert [line.change for line in same.incidents] == ["same", "same"]
    one_group = _rules("rules:\n  - name: all\n    group_by: []\n")
    report = queries.replay(db, SYSTEM, rules=one_group, since=now - timedelta(hours=1))
    assert sorted(line.change for line in report.incidents) == ["changed", "gone"]


def _rules(text: str) -> Rules:
    return parse_rules(service.parse_rules_text(text) if text else {})


def import_catalog(new_uow: Callable[[], UnitOfWork]) -> None:
    """The demo organisation's services and dependencies (teams without members)."""
    snapshot = demo.demo_catalog()
    teams = [team.model_copy(update={"members": []}) for team in snapshot.teams]
    snapshot = snapshot.model_copy(update={"teams": teams})
    catalog_service.import_snapshot(new_uow(), SYSTEM, snapshot=snapshot)
