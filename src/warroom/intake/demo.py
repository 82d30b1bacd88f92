"""Demo alert playback: realistic alerts sent through the real intake path.

Every alert goes through `service.receive_delivery`, the function the intake endpoints call,
with the bodies Alertmanager and Opsgenie would send, so grouping, incidents and timelines in
the demo come from the same code as in production. What it plays, oldest first:

* the demo grouping rules: a one-minute `group_wait`, so alerts that fire together open one
  incident (the wait is evaluated by `service.tick`, the function the server's ticker runs);
* two days ago, session-cache memory pressure and slow sign-ins (`auth` depends on
  `session-cache`, so the dependency graph joins them), resolved at the source 35 minutes later;
* yesterday, an event-bus consumer backlog from an Opsgenie-style monitor, closed by alias;
* now, a maintenance window on `ledger-db` silencing its replication-lag alert (recorded);
* the live SEV2: payments p99 latency, then checkout errors 40 seconds later, joined by the
  dependency graph (checkout depends on payments), re-notified as Alertmanager does.

The incident commander resolves the historical incidents (an IC decision, not intake's).
Playing again changes nothing: the demo integrations exist after the first run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from warroom.actors import Actor
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict
from warroom.incidents import service as incidents_service
from warroom.incidents.schemas import Status
from warroom.intake import service
from warroom.intake.schemas import IntegrationCreate, IntegrationKind, MaintenanceCreate
from warroom.intake.service import Delivery, Endpoint

SEED = Actor.system("demo-seed")
UowFactory = Callable[[], UnitOfWork]
ALERTMANAGER = "demo-alertmanager"
OPSGENIE = "demo-zabbix"
RULES = """# Demo grouping rules (docs/intake.md describes every field).
rules:
  - name: low-priority
    match: {labels: {severity: info}}
    open_after: {occurrences: 3, duration: 15m}
  - name: default
    group_by: [service]
    window: 30m
    group_wait: 1m
    dependency_window: 10m
    flapping: {starts: 4, window: 1h}
"""


def _alert(
    name: str, service_name: str, summary: str, started: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "status": extra.pop("status", "firing"),
        "labels": {
            "alertname": name,
            "service": service_name,
            "severity": extra.pop("severity", "critical"),
            "team": extra.pop("team", ""),
            "cluster": "eu-west-1",
        },
        "annotations": {"summary": summary, "runbook_url": f"https://runbooks.example/{name}"},
        "startsAt": started.isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"https://prometheus.example/graph?g0.expr={name}",
        "fingerprint": f"demo-{name}-{service_name}",
    }


def _notify(
    new_uow: UowFactory, credential: str, alerts: list[dict[str, Any]], at: datetime
) -> list[int]:
    firing = any(a["status"] == "firing" for a in alerts)
    body = {
        "version": "4",
        "groupKey": '{}:{service="' + alerts[0]["labels"]["service"] + '"}',
        "status": "firing" if firing else "resolved",
        "receiver": "warroom",
        "groupLabels": {"service": alerts[0]["labels"]["service"]},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "https://alertmanager.example",
        "alerts": alerts,
    }
    delivery = Delivery(Endpoint.ALERTMANAGER, json.dumps(body).encode(), credential)
    result = service.receive_delivery(new_uow(), delivery, now=at)
    return [a.incident_id for a in result.alerts if a.incident_id is not None]


def _resolved(alert: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {**alert, "status": "resolved", "endsAt": at.isoformat()}


def _integration(new_uow: UowFactory, kind: IntegrationKind, name: str, **extra: str) -> str | None:
    data = IntegrationCreate(kind=kind, name=name, **extra)
    try:
        return service.create_integration(new_uow(), SEED, data=data).credential
    except Conflict:
        return None


def play_demo_alerts(new_uow: UowFactory) -> list[int]:
    """Play the demo alerts once; returns the incidents they opened (live one last)."""
    am = _integration(new_uow, IntegrationKind.ALERTMANAGER, ALERTMANAGER)
    og = _integration(new_uow, IntegrationKind.OPSGENIE, OPSGENIE, default_service="event-bus")
    if am is None or og is None:
        return []
    service.set_rules(new_uow(), SEED, source=RULES)
    now = utcnow()
    opened = _session_cache_history(new_uow, am, now - timedelta(days=2))
    opened += _event_bus_history(new_uow, og, now - timedelta(days=1))
    _ledger_maintenance(new_uow, am, now)
    for incident_id in sorted(set(opened)):
        incidents_service.change_status(
            new_uow(),
            SEED,
            incident_id=incident_id,
            status=Status.RESOLVED,
            note="Alerts cleared at the source; resolved after checking dashboards.",
        )
    return sorted(set(opened)) + _live_payments(new_uow, am, now)


def _session_cache_history(new_uow: UowFactory, credential: str, start: datetime) -> list[int]:
    memory = _alert(
        "RedisMemoryHigh",
        "session-cache",
        "Session cache memory above 90 %",
        start,
        team="platform",
    )
    slow = _alert(
        "SignInLatencyHigh",
        "auth",
        "Sign-in p99 above 1.5 s",
        start + timedelta(seconds=20),
        team="identity",
    )
    _notify(new_uow, credential, [memory], start + timedelta(seconds=10))
    _notify(new_uow, credential, [slow], start + timedelta(seconds=40))
    opened = service.tick(new_uow(), now=start + timedelta(minutes=1, seconds=10)).opened
    _notify(new_uow, credential, [memory, slow], start + timedelta(minutes=5))
    end = start + timedelta(minutes=35)
    _notify(new_uow, credential, [_resolved(memory, end), _resolved(slow, end)], end)
    return opened


def _event_bus_history(new_uow: UowFactory, credential: str, start: datetime) -> list[int]:
    alert = {
        "message": "Kafka consumer lag above 100k on orders-events",
        "alias": "event-bus-consumer-lag",
        "description": "orders consumer group is falling behind",
        "priority": "P2",
        "tags": ["service:event-bus", "kafka"],
        "details": {"consumer_group": "orders", "lag": "143210"},
        "entity": "kafka-eu-1",
        "source": "zabbix",
    }
    body = json.dumps(alert).encode()
    service.receive_delivery(
        new_uow(), Delivery(Endpoint.OPSGENIE_CREATE, body, credential), now=start
    )
    opened = service.tick(new_uow(), now=start + timedelta(minutes=1, seconds=10)).opened
    close = Delivery(
        Endpoint.OPSGENIE_CLOSE,
        b"{}",
        credential,
        params={"identifier": "event-bus-consumer-lag", "identifierType": "alias"},
    )
    service.receive_delivery(new_uow(), close, now=start + timedelta(minutes=22))
    return opened


def _ledger_maintenance(new_uow: UowFactory, credential: str, now: datetime) -> None:
    window = MaintenanceCreate(
        name="ledger-db minor version upgrade",
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=50),
        services=["ledger-db"],
    )
    service.create_maintenance(new_uow(), SEED, data=window)
    lag = _alert(
        "ReplicationLag",
        "ledger-db",
        "Ledger replica lag above 30 s",
        now - timedelta(minutes=6),
        severity="warning",
    )
    _notify(new_uow, credential, [lag], now - timedelta(minutes=5))


def _live_payments(new_uow: UowFactory, credential: str, now: datetime) -> list[int]:
    start = now - timedelta(minutes=18)
    latency = _alert(
        "PaymentsLatencyHigh", "payments", "Payments p99 latency above 2 s", start, team="payments"
    )
    errors = _alert(
        "CheckoutErrorRateHigh",
        "checkout",
        "Checkout 5xx rate above 4 %",
        start + timedelta(seconds=40),
        team="commerce",
    )
    _notify(new_uow, credential, [latency], start + timedelta(seconds=10))
    _notify(new_uow, credential, [errors], start + timedelta(seconds=50))
    opened = service.tick(new_uow(), now=start + timedelta(minutes=1, seconds=10)).opened
    for minutes in (6, 10, 14):
        _notify(new_uow, credential, [latency, errors], start + timedelta(minutes=minutes))
    return opened
