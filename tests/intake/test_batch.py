"""Group commit: several deliveries in one transaction, each with its own outcome."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from tests.intake.conftest import SYSTEM, am_alert, am_notification, at
from warroom.audit.service import verify_chain
from warroom.config import Settings
from warroom.db.engine import Database, open_database
from warroom.db.uow import UnitOfWork
from warroom.errors import AuthenticationRequired, InvalidInput, MalformedRequest
from warroom.incidents import queries as incident_queries
from warroom.intake import pipeline, queries, service
from warroom.intake.models import Alert, AlertEvent, AlertGroup, GroupingRuleSet
from warroom.intake.schemas import (
    DeliveryResult,
    IntegrationCreated,
    IntegrationUpdate,
    MaintenanceCreate,
)
from warroom.intake.service import Delivery, Endpoint


@pytest.fixture
def integration(make_integration: Callable[..., IntegrationCreated]) -> IntegrationCreated:
    return make_integration("alertmanager")


def am(credential: str, *alerts: dict[str, Any]) -> Delivery:
    body = json.dumps(am_notification(*alerts)).encode()
    return Delivery(Endpoint.ALERTMANAGER, body, credential)


def batch(
    new_uow: Callable[[], UnitOfWork], deliveries: list[Delivery], now: datetime
) -> list[DeliveryResult | Exception]:
    return service.receive_batch(new_uow(), deliveries, now=now)


def outcomes(result: DeliveryResult | Exception) -> list[str]:
    assert isinstance(result, DeliveryResult), result
    return [alert.outcome for alert in result.alerts]


def event_actions(db: Database) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(AlertEvent.action).order_by(AlertEvent.id)))


def test_each_delivery_in_a_batch_gets_its_own_outcome(
    new_uow: Callable[[], UnitOfWork],
    integration: IntegrationCreated,
    make_integration: Callable[..., IntegrationCreated],
    db: Database,
) -> None:
    pagerduty = make_integration("pagerduty")
    results = batch(
        new_uow,
        [
            am(integration.credential, am_alert("A")),
            am("wi_not-a-credential", am_alert("B")),
            Delivery(Endpoint.ALERTMANAGER, b"{not json", integration.credential),
            Delivery(Endpoint.PAGERDUTY, b'{"event_action": "trigger"}', None),
            am(integration.credential, am_alert("C")),
            Delivery(
                Endpoint.PAGERDUTY,
                json.dumps({"routing_key": pagerduty.credential, "event_action": "nope"}).encode(),
                None,
            ),
        ],
        at(0),
    )
    assert outcomes(results[0]) == ["created"]
    assert isinstance(results[1], AuthenticationRequired)
    assert isinstance(results[2], MalformedRequest)
    assert isinstance(results[3], MalformedRequest)  # no routing key: kept within its cap
    assert outcomes(results[4]) == ["created"]
    assert isinstance(results[5], InvalidInput) and "event_action" in str(results[5].errors)
    titles = sorted(alert.title for alert in queries.list_alerts(db, SYSTEM).items)
    assert titles == ["A on payments", "C on payments"]
    letters = queries.list_dead_letters(db, SYSTEM)
    assert sorted(letter.endpoint for letter in letters) == [
        "alertmanager",
        "pagerduty",
        "pagerduty",
    ]


def test_one_key_repeated_resolved_and_fired_again_within_one_batch(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    key = integration.credential
    [first] = batch(new_uow, [am(key, am_alert("A"))], at(0))
    results = batch(
        new_uow,
        [
            am(key, am_alert("A")),
            am(key, am_alert("A")),
            am(key, am_alert("A", status="resolved")),
            am(key, am_alert("A")),
            am(key, am_alert("A")),
        ],
        at(1),
    )
    assert [outcomes(r) for r in results] == [
        ["repeated"],
        ["repeated"],
        ["resolved"],
        ["created"],
        ["repeated"],
    ]
    alerts = sorted(queries.list_alerts(db, SYSTEM).items, key=lambda a: a.id)
    assert [(a.status, a.occurrences) for a in alerts] == [("resolved", 3), ("firing", 2)]
    assert event_actions(db) == ["trigger", "repeat", "repeat", "resolve", "trigger", "repeat"]
    assert isinstance(first, DeliveryResult)
    [incident_id] = {a.incident_id for a in first.alerts}
    assert incident_id is not None
    assert {a.incident_id for a in alerts} == {incident_id}
    with db.read_session() as session:
        group = session.scalars(select(AlertGroup)).one()
    assert (group.occurrences, group.firing) == (5, 1)  # triggers and repeats, not resolves


def test_events_keep_the_order_alerts_were_applied_in_across_fast_and_general_paths(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A"))], at(0))
    results = batch(
        new_uow,
        [
            am(key, am_alert("A", status="resolved")),  # fast path: its event is held back
            am(key, am_alert("Z", service_name="search")),  # general path: an ORM event
            am(key, am_alert("B")),  # fast path: joins A's open incident
            am(key, am_alert("Z", service_name="search")),  # fast path: a repeat
        ],
        at(1),
    )
    assert [outcomes(r) for r in results] == [["resolved"], ["created"], ["created"], ["repeated"]]
    with db.read_session() as session:
        events = session.execute(
            select(AlertEvent.action, Alert.title)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .order_by(AlertEvent.id)
        ).all()
    assert [tuple(event) for event in events] == [
        ("trigger", "A on payments"),
        ("resolve", "A on payments"),
        ("trigger", "Z on search"),
        ("trigger", "B on payments"),
        ("repeat", "Z on search"),
    ]


def test_held_repeats_keep_the_latest_time_when_a_later_resolve_is_written_first(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    # Each delivery takes its own time here. The repeats are written at the commit, after the
    # resolve that followed them, and must not move the alert's last time back.
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A")), am(key, am_alert("B"))], at(0))
    results = service.receive_batch(
        new_uow(),
        [
            am(key, am_alert("A")),
            am(key, am_alert("B")),
            am(key, am_alert("A", status="resolved")),
        ],
    )
    assert [outcomes(r) for r in results] == [["repeated"], ["repeated"], ["resolved"]]
    alerts = {a.title: a for a in queries.list_alerts(db, SYSTEM).items}
    resolved = alerts["A on payments"]
    assert (resolved.status, resolved.occurrences) == ("resolved", 2)
    assert resolved.resolved_at is not None
    assert resolved.last_seen_at == resolved.resolved_at
    assert alerts["B on payments"].occurrences == 2
    with db.read_session() as session:
        group = session.scalars(select(AlertGroup)).one()
    assert group.last_at >= resolved.resolved_at


def test_a_batch_keeps_its_groups_right_across_fast_paths_and_the_general_path(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    # One group for every service: new alerts on new services join it (and widen it),
    # resolves lower its firing count, and a silenced alert in the middle takes the general
    # path, before which the batch's changes to the group must be written.
    rules = "rules:\n  - name: everything\n    group_by: []\n"
    service.set_rules(new_uow(), SYSTEM, source=rules)
    window = MaintenanceCreate(
        name="db work", starts_at=at(0), ends_at=at(30), services=["ledger-db"]
    )
    service.create_maintenance(new_uow(), SYSTEM, data=window)
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A")), am(key, am_alert("B"))], at(1))
    results = batch(
        new_uow,
        [
            am(key, am_alert("A", status="resolved")),  # fast path: firing 2 -> 1
            am(key, am_alert("C", service_name="search")),  # fast path: joins, new service
            am(key, am_alert("B")),  # a repeat
            am(key, am_alert("S", service_name="ledger-db")),  # silenced: the general path
            am(key, am_alert("D", service_name="checkout")),  # fast path after it
            am(key, am_alert("C", service_name="search", status="resolved")),
        ],
        at(2),
    )
    assert [outcomes(r) for r in results] == [
        ["resolved"],
        ["created"],
        ["repeated"],
        ["created"],
        ["created"],
        ["resolved"],
    ]
    with db.read_session() as session:
        group = session.scalars(select(AlertGroup)).one()
        firing = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.status == "firing")
        )
    assert group.firing == 2  # B and D (the silenced S is in no group)
    assert firing == 3
    assert group.occurrences == 2 + 1 + 1 + 1  # A, B; then C, B's repeat, D
    assert sorted(group.services) == ["checkout", "payments", "search"]
    assert group.last_at == at(2)
    [incident] = incident_queries.list_incidents(db, SYSTEM).items
    assert sorted(incident.services) == ["checkout", "payments", "search"]


def test_new_alerts_follow_rules_another_process_changed_since_this_one_read_them(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    # A batch keys its new alerts' groups with the rules this process read last, a guess
    # checked against the rules read with the groups: rules changed elsewhere must win.
    service.set_rules(new_uow(), SYSTEM, source="rules:\n  - name: all\n    group_by: []\n")
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A"))], at(1))  # opens an incident for everything
    by_name = service.parse_rules_text("rules:\n  - name: by-name\n    group_by: [alertname]\n")
    with new_uow() as uow:  # as another process would, without this one knowing
        uow.session.execute(update(GroupingRuleSet).values(document=by_name))
        uow.commit()

    results = batch(new_uow, [am(key, am_alert("B")), am(key, am_alert("A"))], at(2))

    assert [outcomes(r) for r in results] == [["created"], ["repeated"]]
    with db.read_session() as session:
        groups = {g.group_key: g.incident_id for g in session.scalars(select(AlertGroup))}
        incidents = {a.title: a.incident_id for a in session.scalars(select(Alert))}
    assert len(groups) == 2 and any(k.startswith("by-name") for k in groups)
    assert incidents["B on payments"] != incidents["A on payments"]


def test_alerts_a_batch_creates_are_stored_under_the_ids_it_answers_with(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    # On PostgreSQL new alerts joining an open incident take ids the batch reserved and
    # their inserts travel with later statements; a batch resolving keys first, then firing
    # them again, and a second batch reserving afresh must all answer the stored ids.
    rules = "rules:\n  - name: everything\n    group_by: []\n"
    service.set_rules(new_uow(), SYSTEM, source=rules)
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A")), am(key, am_alert("B"))], at(1))
    answered: dict[int, str] = {}
    for minute, names in ((2, "CDEF"), (3, "GH")):
        deliveries = [am(key, am_alert(name, service_name=f"s{name}")) for name in names]
        if minute == 2:
            deliveries.insert(0, am(key, am_alert("A", status="resolved")))
            deliveries.append(am(key, am_alert("A")))
        for result in batch(new_uow, deliveries, at(minute)):
            assert isinstance(result, DeliveryResult), result
            for alert in result.alerts:
                if alert.outcome == "created":
                    assert alert.alert_id not in answered
                    answered[alert.alert_id] = alert.dedup_key
    with db.read_session() as session:
        stored = {row[0]: row[1] for row in session.execute(select(Alert.id, Alert.dedup_key))}
        events = [
            (row[0], row[1])
            for row in session.execute(select(AlertEvent.alert_id, AlertEvent.action))
        ]
    assert len(answered) == 7  # C to H, and A fired again
    assert {alert_id: stored[alert_id] for alert_id in answered} == answered
    assert sorted(alert_id for alert_id, action in events if action == "trigger") == sorted(
        [*answered, *(alert_id for alert_id in stored if alert_id not in answered)]
    )


def test_the_incident_hears_once_when_a_batch_resolves_its_last_alerts(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    key = integration.credential
    [first] = batch(new_uow, [am(key, am_alert("A"), am_alert("B"), am_alert("C"))], at(0))
    assert isinstance(first, DeliveryResult)
    [incident_id] = {a.incident_id for a in first.alerts}
    assert incident_id is not None

    def kinds() -> list[str]:
        entries = incident_queries.get_timeline(db, SYSTEM, incident_id=incident_id)
        return [entry.kind for entry in entries]

    def resolved_at_source() -> list[str]:
        entries = incident_queries.get_timeline(db, SYSTEM, incident_id=incident_id)
        return sorted(e.text for e in entries if e.text.startswith("Alert resolved at source"))

    batch(new_uow, [am(key, am_alert("A", status="resolved"))], at(1))
    assert "alerts_resolved" not in kinds()
    results = batch(
        new_uow,
        [
            am(key, am_alert("B", status="resolved")),
            am(key, am_alert("C")),  # a repeat, between the two resolves
            am(key, am_alert("C", status="resolved")),
        ],
        at(2),
    )
    assert [outcomes(r) for r in results] == [["resolved"], ["repeated"], ["resolved"]]
    assert kinds().count("alerts_resolved") == 1
    assert resolved_at_source() == [
        f"Alert resolved at source: {name} on payments" for name in ("A", "B", "C")
    ]
    alerts = {a.title: a for a in queries.list_alerts(db, SYSTEM).items}
    assert {a.status for a in alerts.values()} == {"resolved"}
    assert alerts["C on payments"].occurrences == 2
    assert alerts["C on payments"].resolved_at == at(2)


def test_repeat_counts_are_written_before_the_commit(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A")), am(key, am_alert("B"))], at(0))
    batch(new_uow, [am(key, am_alert("A")) for _ in range(5)], at(1))
    counts = {a.title: a.occurrences for a in queries.list_alerts(db, SYSTEM).items}
    assert counts == {"A on payments": 6, "B on payments": 1}
    with db.read_session() as session:
        repeats = session.scalar(
            select(func.count()).select_from(AlertEvent).where(AlertEvent.action == "repeat")
        )
    assert repeats == 5


def test_a_failing_delivery_rolls_the_batch_back_and_the_others_are_received_alone(
    new_uow: Callable[[], UnitOfWork],
    integration: IntegrationCreated,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_apply = pipeline.apply_alert

    def apply_failing_on_boom(ctx: pipeline.Context, signal: Any) -> Any:
        if signal.title.startswith("Boom"):
            raise RuntimeError("the grouping engine broke")
        return real_apply(ctx, signal)

    monkeypatch.setattr(pipeline, "apply_alert", apply_failing_on_boom)
    key = integration.credential
    results = batch(
        new_uow,
        [am(key, am_alert("A")), am(key, am_alert("Boom")), am(key, am_alert("C"))],
        at(0),
    )
    assert outcomes(results[0]) == ["created"]
    assert isinstance(results[1], RuntimeError)
    assert outcomes(results[2]) == ["created"]
    titles = sorted(alert.title for alert in queries.list_alerts(db, SYSTEM).items)
    assert titles == ["A on payments", "C on payments"]
    assert event_actions(db) == ["trigger", "trigger"]  # the rolled-back batch left nothing


def test_a_batch_writes_one_unbroken_audit_chain(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    key = integration.credential
    batch(new_uow, [am(key, am_alert(f"A{i}")) for i in range(6)], at(0))
    batch(new_uow, [am(key, am_alert(f"A{i}", status="resolved")) for i in range(6)], at(1))
    report = verify_chain(db, SYSTEM)
    assert report.intact and report.entries_checked > 12, report
    [incident] = incident_queries.list_incidents(db, SYSTEM).items
    texts = [e.text for e in incident_queries.get_timeline(db, SYSTEM, incident_id=incident.id)]
    assert sum(t.startswith("Alert resolved at source") for t in texts) == 6
    assert any(t.startswith("All 6 alert(s) of this incident have resolved") for t in texts)


def test_a_batch_never_trusts_an_integration_it_saw_before_without_reading_it(
    new_uow: Callable[[], UnitOfWork],
    make_integration: Callable[..., IntegrationCreated],
    db: Database,
) -> None:
    # Batches of one known integration read it and take their locks in one statement
    # (PostgreSQL); a rotated, changed or disabled integration must be seen at once.
    created = make_integration("generic", mapping={"title": "title"}, default_service="one")
    generic = Endpoint.GENERIC

    def send(credential: str, title: str) -> list[DeliveryResult | Exception]:
        body = json.dumps({"title": title}).encode()
        return batch(new_uow, [Delivery(generic, body, credential)] * 2, at(0))

    assert all(isinstance(r, DeliveryResult) for r in send(created.credential, "first"))
    service.update_integration(
        new_uow(), SYSTEM, name=created.name, data=IntegrationUpdate(default_service="two")
    )
    assert all(isinstance(r, DeliveryResult) for r in send(created.credential, "second"))
    services = {a.title: a.service for a in queries.list_alerts(db, SYSTEM).items}
    assert services == {"first": "one", "second": "two"}
    rotated = service.rotate_credential(new_uow(), SYSTEM, name=created.name)
    assert all(isinstance(r, AuthenticationRequired) for r in send(created.credential, "old"))
    assert all(isinstance(r, DeliveryResult) for r in send(rotated.credential, "third"))
    service.disable_integration(new_uow(), SYSTEM, name=created.name)
    assert all(isinstance(r, AuthenticationRequired) for r in send(rotated.credential, "late"))
    assert {a.title for a in queries.list_alerts(db, SYSTEM).items} == {"first", "second", "third"}


def test_two_processes_storming_the_same_groups_keep_every_count_true(
    integration: IntegrationCreated, db: Database, settings: Settings
) -> None:
    # Two database handles stand in for two server processes, each with two writers:
    # batches of triggers and resolves of overlapping keys, on groups they share, through
    # every fast path (group book, held resolves, held repeats) and the general one.
    key = integration.credential
    second = open_database(settings)
    names = [(f"A{i}", ("payments", "ledger", "search")[i % 3]) for i in range(12)]
    errors: list[BaseException] = []

    def storm(database: Database, seed: int) -> None:
        chooser = random.Random(seed)
        try:
            for _ in range(12):
                deliveries = []
                for _ in range(6):
                    name, service_name = chooser.choice(names)
                    status = "resolved" if chooser.random() < 0.3 else "firing"
                    alert = am_alert(name, service_name=service_name, status=status)
                    deliveries.append(am(key, alert))
                results = service.receive_batch(UnitOfWork(database), deliveries)
                errors.extend(r for r in results if isinstance(r, Exception))
        except BaseException as exc:  # noqa: BLE001 - reported below, with the others
            errors.append(exc)

    workers = [
        threading.Thread(target=storm, args=(database, seed))
        for seed, database in enumerate([db, db, second, second])
    ]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        second.dispose()
    assert errors == []
    with db.read_session() as session:
        alerts = session.scalars(select(Alert)).all()
        groups = session.scalars(select(AlertGroup)).all()
        triggers = dict(
            session.execute(
                select(AlertEvent.alert_id, func.count())
                .where(AlertEvent.action.in_(["trigger", "repeat"]))
                .group_by(AlertEvent.alert_id)
            ).all()
        )
    assert alerts and groups
    for alert in alerts:
        assert alert.occurrences == triggers[alert.id], alert.title
    open_keys = [a.open_key for a in alerts if a.open_key is not None]
    assert len(open_keys) == len(set(open_keys))
    for group in groups:
        members = [a for a in alerts if a.group_id == group.id]
        assert group.firing == sum(a.status == "firing" for a in members), group.group_key
        assert group.occurrences == sum(triggers[a.id] for a in members), group.group_key
        assert sorted(group.services) == sorted({a.service for a in members})


def test_a_batch_that_waited_for_a_key_counts_the_alert_created_meanwhile(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> None:
    # On PostgreSQL a batch from a known integration locks its keys and reads their open
    # alerts in one round trip: the read must see the alert created while the batch waited
    # for the lock, and count a repeat of it.
    key = integration.credential
    batch(new_uow, [am(key, am_alert("Z"))], at(0))  # the integration is known from here on
    holding, release = threading.Event(), threading.Event()

    class SlowCommit(UnitOfWork):
        def commit(self) -> None:
            holding.set()
            release.wait(10)
            super().commit()

    outcomes_of: dict[str, list[DeliveryResult | Exception]] = {}

    def deliver(name: str, uow: UnitOfWork) -> None:
        outcomes_of[name] = service.receive_batch(uow, [am(key, am_alert("A"))], now=at(1))

    first = threading.Thread(target=deliver, args=("first", SlowCommit(db)))
    second = threading.Thread(target=deliver, args=("second", new_uow()))
    first.start()
    assert holding.wait(10)
    second.start()
    second.join(0.5)  # waits for the first's identity lock (on SQLite, its write lock)
    release.set()
    first.join()
    second.join()
    assert [outcomes(r) for r in outcomes_of["first"]] == [["created"]]
    assert [outcomes(r) for r in outcomes_of["second"]] == [["repeated"]]
    counts = {a.title: a.occurrences for a in queries.list_alerts(db, SYSTEM).items}
    assert counts == {"Z on payments": 1, "A on payments": 2}


def test_a_batch_reading_its_alerts_does_not_block_the_tick_updating_them(
    new_uow: Callable[[], UnitOfWork],
    integration: IntegrationCreated,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The tick updates alerts of pending groups while holding the grouping lock, which a
    # batch that has read those alerts may want next: the batch's read must leave no lock
    # that stops the tick, or the two wait for each other until PostgreSQL aborts one.
    if db.dialect != "postgresql":
        pytest.skip("the locks and read of a known integration's batch are PostgreSQL's")
    service.set_rules(
        new_uow(), SYSTEM, source="rules:\n  - name: slow\n    open_after: {occurrences: 3}\n"
    )
    key = integration.credential
    batch(new_uow, [am(key, am_alert("A"))], at(0))  # pending group; the integration is known
    read, go = threading.Event(), threading.Event()
    real_prefetch = pipeline.prefetch_open_alerts

    def pausing(*args: Any, **kwargs: Any) -> None:
        read.set()  # the batch has taken its identity locks and read its alerts
        go.wait(10)
        real_prefetch(*args, **kwargs)

    monkeypatch.setattr(pipeline, "prefetch_open_alerts", pausing)
    outcomes_of: list[DeliveryResult | Exception] = []
    delivering = threading.Thread(
        target=lambda: outcomes_of.extend(batch(new_uow, [am(key, am_alert("A"))], at(1)))
    )
    delivering.start()
    try:
        assert read.wait(10)
        with new_uow() as uow:  # what the tick does to a group's alerts, under a short timeout
            uow.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            pipeline.grouping_lock(uow.session)
            uow.session.execute(update(Alert).values(labels={"touched": "by the tick"}))
            uow.commit()
    finally:
        go.set()
        delivering.join()
    assert [outcomes(r) for r in outcomes_of] == [["repeated"]]


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a batch reads its open alerts, counted from now on."""
    reads = [0]
    real = pipeline._OPEN_KNOWN_BATCH.rows

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline._OPEN_KNOWN_BATCH, "rows", counted)
    return reads


@pytest.fixture
def repeats(
    new_uow: Callable[[], UnitOfWork], integration: IntegrationCreated, db: Database
) -> list[Delivery]:
    """Deliveries of alerts A and B, both created (at minute 1) in one open incident."""
    if db.dialect != "postgresql":
        pytest.skip("guessing open alerts is PostgreSQL's")
    service.set_rules(new_uow(), SYSTEM, source="rules:\n  - name: all\n    group_by: []\n")
    key = integration.credential
    deliveries = [am(key, am_alert("A")), am(key, am_alert("B"))]
    batch(new_uow, deliveries, at(1))  # creates both: nothing seen open yet
    return deliveries


def test_a_batch_of_repeats_seen_open_skips_its_read_and_counts_true(
    new_uow: Callable[[], UnitOfWork],
    repeats: list[Delivery],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = _counting_reads(monkeypatch)
    for minute in (2, 3, 4):
        assert [outcomes(r) for r in batch(new_uow, repeats, at(minute))] == [["repeated"]] * 2
    assert reads == [1]  # only the first batch of repeats read; the others guessed
    with db.read_session() as session:
        counts = {a.title: a.occurrences for a in session.scalars(select(Alert))}
        group = session.scalars(select(AlertGroup)).one()
    assert counts == {"A on payments": 4, "B on payments": 4}
    assert group.occurrences == 8 and group.last_at == at(4)


def test_alerts_a_batch_adds_to_an_open_incident_are_guessed_by_the_next_batch(
    new_uow: Callable[[], UnitOfWork],
    repeats: list[Delivery],
    integration: IntegrationCreated,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch(new_uow, repeats, at(2))  # A and B seen open from here on
    joining = [am(integration.credential, am_alert(name)) for name in ("C", "D")]
    assert [outcomes(r) for r in batch(new_uow, joining, at(2))] == [["created"]] * 2
    reads = _counting_reads(monkeypatch)

    results = batch(new_uow, [*joining, *repeats], at(3))

    assert [outcomes(r) for r in results] == [["repeated"]] * 4
    assert reads == [0]  # the new alerts were remembered open, with their incident
    with db.read_session() as session:
        alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.title, a.occurrences) for a in alerts] == [
        ("A on payments", 3),
        ("B on payments", 3),
        ("C on payments", 2),
        ("D on payments", 2),
    ]
    assert len({a.incident_id for a in alerts}) == 1


def test_batches_resolving_and_firing_again_what_this_process_saw_skip_their_read(
    new_uow: Callable[[], UnitOfWork],
    repeats: list[Delivery],
    integration: IntegrationCreated,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = integration.credential
    batch(new_uow, repeats, at(2))  # A and B seen open from here on
    reads = _counting_reads(monkeypatch)

    resolved = batch(new_uow, [am(key, am_alert(n, status="resolved")) for n in "AB"], at(3))
    fired = batch(new_uow, [am(key, am_alert(n)) for n in "AB"], at(4))

    assert [outcomes(r) for r in resolved] == [["resolved"]] * 2
    assert [outcomes(r) for r in fired] == [["created"]] * 2
    assert reads == [0]  # seen open, then seen with no open alert: nothing to read
    with db.read_session() as session:
        alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.title, a.status) for a in alerts] == [
        ("A on payments", "resolved"),
        ("B on payments", "resolved"),
        ("A on payments", "firing"),
        ("B on payments", "firing"),
    ]
    assert len({a.incident_id for a in alerts}) == 1  # the incident was never resolved


def test_a_key_seen_resolved_that_fired_again_elsewhere_is_repeated_not_doubled(
    new_uow: Callable[[], UnitOfWork],
    repeats: list[Delivery],
    integration: IntegrationCreated,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = integration.credential
    batch(new_uow, repeats, at(2))
    batch(new_uow, [am(key, am_alert("A", status="resolved"))], at(3))  # A: no open alert
    with new_uow() as uow:  # as another process would, without this process knowing
        uow.session.execute(
            update(Alert)
            .where(Alert.title == "A on payments")
            .values(open_key=Alert.dedup_key, status="firing", resolved_at=None)
        )
        uow.commit()
    reads = _counting_reads(monkeypatch)

    results = batch(new_uow, [am(key, am_alert("A"))], at(4))

    assert [outcomes(r) for r in results] == [["repeated"]]
    assert reads == [1]  # the check failed: redone with its read
    with db.read_session() as session:
        alerts = session.scalars(select(Alert).where(Alert.title == "A on payments")).all()
    assert [(a.status, a.occurrences) for a in alerts] == [("firing", 3)]


def test_a_batch_whose_guess_went_stale_is_redone_without_guessing(
    new_uow: Callable[[], UnitOfWork],
    repeats: list[Delivery],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another process resolves an alert this one saw open: the check sent with the batch's
    # writes fails the transaction, and the batch is redone, reading what is there now.
    batch(new_uow, repeats, at(2))  # both seen open from here on
    with new_uow() as uow:  # as another process would, without this process knowing
        uow.session.execute(
            update(Alert)
            .where(Alert.title == "A on payments")
            .values(open_key=None, status="resolved", resolved_at=at(3))
        )
        uow.commit()
    reads = _counting_reads(monkeypatch)

    results = batch(new_uow, repeats, at(4))

    assert [outcomes(r) for r in results] == [["created"], ["repeated"]]
    assert reads == [1]  # the guess failed, and the batch was redone with its read
    with db.read_session() as session:
        alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.title, a.status, a.occurrences) for a in alerts] == [
        ("A on payments", "resolved", 2),
        ("B on payments", "firing", 3),
        ("A on payments", "firing", 1),
    ]


def test_a_guessing_batch_still_sees_its_integration_disabled(
    new_uow: Callable[[], UnitOfWork], repeats: list[Delivery], integration: IntegrationCreated
) -> None:
    batch(new_uow, repeats, at(2))
    service.disable_integration(new_uow(), SYSTEM, name=integration.name)

    results = batch(new_uow, repeats, at(3))

    assert all(isinstance(result, AuthenticationRequired) for result in results)
