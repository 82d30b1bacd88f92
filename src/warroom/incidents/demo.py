"""Demo data for incidents: a live SEV2 with a full response around it, plus resolved history.

Intake's alert playback opens the live incident through the real intake path; this module only
adds what people would do next (roles, decisions, assumptions, a hypothesis, a workstream,
updates), acting as the demo people themselves so the timeline reads naturally. If playback
did not open an incident, one is declared here, so the demo never lacks it. Running it again
changes nothing: an incident that already has a commander counts as enriched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from warroom.accounts.queries import find_user_by_email
from warroom.actors import Actor
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.incidents import queries, records, roles, service, structure
from warroom.incidents.schemas import (
    AssumptionCreate,
    AssumptionStatus,
    AssumptionUpdate,
    Audience,
    Confidence,
    DecisionCreate,
    HypothesisCreate,
    IncidentCreate,
    IncidentUpdate,
    ResponderRole,
    ResponseMode,
    ResponseModeChoice,
    Risk,
    Severity,
    StakeholderCreate,
    Status,
    UpdateCreate,
    WorkstreamCreate,
)

DOMAIN = "demo.warroom.dev"
SEED = Actor.system("demo-seed")
UowFactory = Callable[[], UnitOfWork]

LIVE = IncidentCreate(
    title="Card payments failing at checkout",
    severity=Severity.SEV2,
    summary="Checkout returns errors for a share of card payments since the last deploy.",
    services=["checkout", "payments"],
    customer_impact="Some customers cannot pay by card; retrying sometimes works.",
    impact_ongoing=True,
)

# (title, severity, services, commander, external SME, note)
HISTORY = [
    (
        "Search results stale for two hours",
        Severity.SEV3,
        ["search", "search-index"],
        "kenji",
        None,
        "Index refresh job was stuck behind a long merge; restarted it.",
    ),
    (
        "CDN 503s for EU visitors",
        Severity.SEV2,
        ["cdn", "web-frontend"],
        "maya",
        "vendor",
        "Vendor drained a faulty edge location.",
    ),
    (
        "Sign-in slow after session cache failover",
        Severity.SEV3,
        ["auth", "session-cache"],
        "sam",
        None,
        "Cache warmed up again; added an alert on the hit ratio.",
    ),
]


def _person(new_uow: UowFactory, local: str) -> Actor:
    user = find_user_by_email(new_uow().db, email=f"{local}@{DOMAIN}")
    if user is None:
        return SEED
    return Actor(user_id=user.id, label=user.email, role=user.role)


def enrich_demo(new_uow: UowFactory) -> None:
    """Give the newest active incident a full response, and add resolved history once."""
    db = new_uow().db
    active = queries.list_incidents(db, SEED, active_only=True, limit=1).items
    if active:
        incident_id = active[0].id
    else:
        incident_id = service.declare_incident(new_uow(), SEED, data=LIVE).id
    if not queries.get_incident(db, SEED, incident_id=incident_id).roles:
        _respond(new_uow, incident_id)
    if not queries.list_incidents(db, SEED, status=Status.CLOSED, limit=1).items:
        for item in HISTORY:
            _history(new_uow, *item)


def _respond(new_uow: UowFactory, incident_id: int) -> None:
    maya, priya, jonas = (_person(new_uow, n) for n in ("maya", "priya", "jonas"))
    for local, role in (
        ("maya", ResponderRole.COMMANDER),
        ("amara", ResponderRole.COMMUNICATIONS),
        ("jonas", ResponderRole.OPERATIONS),
        ("li", ResponderRole.SCRIBE),
        ("priya", ResponderRole.SME),
    ):
        roles.assign_role(
            new_uow(), maya, incident_id=incident_id, user_email=f"{local}@{DOMAIN}", role=role
        )
    _record_deploy(new_uow)
    service.update_incident(
        new_uow(),
        maya,
        incident_id=incident_id,
        data=IncidentUpdate(
            customer_impact=LIVE.customer_impact,
            impact_ongoing=True,
            eta="Within the hour if the rollback holds",
            in_scope=["Card payments at checkout", "Payment retries"],
            out_of_scope=["Refunds (not affected)", "Mobile app release"],
        ),
    )
    _advance(new_uow, maya, incident_id, Status.INVESTIGATING)
    records.add_stakeholder(
        new_uow(),
        maya,
        incident_id=incident_id,
        data=StakeholderCreate(
            name="product", success="Card conversion back to its usual rate for an hour"
        ),
    )
    _log(new_uow, incident_id, maya, priya, jonas)
    _advance(new_uow, maya, incident_id, Status.MITIGATING)


def _advance(new_uow: UowFactory, actor: Actor, incident_id: int, status: Status) -> None:
    """Move on only when the move is allowed: playback may already have moved the incident."""
    current = queries.get_incident(new_uow().db, SEED, incident_id=incident_id)
    if status in current.allowed_transitions:
        service.change_status(new_uow(), actor, incident_id=incident_id, status=status)


def _record_deploy(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        service.record_change_in(
            uow.session,
            SEED,
            service_name="payments",
            summary="Deploy payments v42 (new fraud-check client)",
            source="demo",
            kind="code",
            happened_at=utcnow() - timedelta(minutes=25),
            details={"version": "v42", "author": "jonas"},
        )
        uow.commit()


def _log(new_uow: UowFactory, incident_id: int, maya: Actor, priya: Actor, jonas: Actor) -> None:
    structure.choose_response_mode(
        new_uow(),
        maya,
        incident_id=incident_id,
        choice=ResponseModeChoice(
            mode=ResponseMode.CONTAIN, rationale="Customers are failing to pay: roll back v42"
        ),
    )
    records.add_decision(
        new_uow(),
        maya,
        incident_id=incident_id,
        data=DecisionCreate(
            decision="Freeze payments deploys until the incident is closed",
            rationale="Another change would muddy the signal while we roll back",
            alternatives=["Keep deploying behind a flag"],
        ),
    )
    # Left open and past its review time, so the page shows an overdue assumption.
    records.add_assumption(
        new_uow(),
        priya,
        incident_id=incident_id,
        data=AssumptionCreate(
            statement="Only card payments are affected, not wallets",
            evidence="Wallet success rate is flat on the payments dashboard",
            confidence=Confidence.MEDIUM,
            review_by=utcnow() - timedelta(minutes=5),
        ),
    )
    checked = records.add_assumption(
        new_uow(),
        jonas,
        incident_id=incident_id,
        data=AssumptionCreate(
            statement="The payment provider itself is healthy",
            evidence="Provider status page green; direct test charge succeeded",
            confidence=Confidence.HIGH,
            review_by=utcnow() + timedelta(minutes=30),
        ),
    )
    records.update_assumption(
        new_uow(),
        jonas,
        incident_id=incident_id,
        assumption_id=checked.id,
        data=AssumptionUpdate(status=AssumptionStatus.VALIDATED),
    )
    records.add_hypothesis(
        new_uow(),
        priya,
        incident_id=incident_id,
        data=HypothesisCreate(
            statement="The v42 fraud-check client times out under load and fails the payment",
            test_plan="Compare fraud-check latency for v41 and v42 pods",
            production_risk=Risk.LOW,
        ),
    )
    structure.create_workstream(
        new_uow(),
        maya,
        incident_id=incident_id,
        data=WorkstreamCreate(
            title="Roll back payments to v41",
            lead=f"jonas@{DOMAIN}",
            services=["payments"],
        ),
    )
    for audience, body in (
        (
            Audience.CUSTOMER,
            "Some card payments are failing at checkout. We have found a likely cause and "
            "are rolling back a recent change. Retrying may work.",
        ),
        (
            Audience.EXECUTIVE,
            "SEV2: a share of card payments fail since a deploy 25 minutes ago. Rolling back; "
            "ETA within the hour. No decision needed from you yet.",
        ),
    ):
        records.post_update(
            new_uow(),
            _person(new_uow, "amara"),
            incident_id=incident_id,
            data=UpdateCreate(audience=audience, body=body),
        )


def _history(
    new_uow: UowFactory,
    title: str,
    severity: Severity,
    services: list[str],
    commander: str,
    external: str | None,
    note: str,
) -> None:
    ic = _person(new_uow, commander)
    out = service.declare_incident(
        new_uow(), ic, data=IncidentCreate(title=title, severity=severity, services=services)
    )
    roles.assign_role(
        new_uow(),
        ic,
        incident_id=out.id,
        user_email=f"{commander}@{DOMAIN}",
        role=ResponderRole.COMMANDER,
    )
    if external:
        roles.assign_role(
            new_uow(),
            ic,
            incident_id=out.id,
            user_email=f"{external}@{DOMAIN}",
            role=ResponderRole.SME,
        )
    for status in (Status.INVESTIGATING, Status.MITIGATING, Status.RESOLVED):
        service.change_status(new_uow(), ic, incident_id=out.id, status=status)
    service.add_note(new_uow(), ic, incident_id=out.id, text=note)
    service.change_status(new_uow(), ic, incident_id=out.id, status=Status.CLOSED)
