"""Demo data for learning: past incidents with published postmortems, action items in every
state, runbooks with a pending change, and decision records with a supersedes link.

Written for the demo (no corpus text). The incidents form three recurring failure modes across
unrelated systems (expired certificates; exhausted connection pools; risky changes), so search,
similar incidents and problem classes have something real to show. Idempotent: it does nothing
once its first postmortem exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from warroom.accounts.queries import find_user_by_email
from warroom.actors import Actor
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import IncidentCreate, Severity, Status
from warroom.learning import actions, decisions, knowledge, postmortems, queries, runbooks
from warroom.learning.schemas import (
    ActionCreate,
    ActionKind,
    ActionStatus,
    ActionUpdate,
    AdrCreate,
    AdrStatus,
    PostmortemCreate,
    PostmortemUpdate,
    Priority,
    ProposalCreate,
    RunbookWrite,
)

DOMAIN = "demo.warroom.dev"
SEED = Actor.system("demo-seed")
UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Past:
    title: str
    severity: Severity
    services: tuple[str, ...]
    days_ago: int
    author: str
    summary: str
    factors: tuple[str, ...]
    went_well: str
    went_badly: str
    lucky: str
    lessons: str


PAST = (
    Past(
        "Sign-in failing: TLS certificate on auth expired",
        Severity.SEV1,
        ("auth", "api-gateway"),
        160,
        "sam",
        "The TLS certificate of the auth service expired at 02:00 UTC. Clients refused the "
        "handshake, so every sign-in and token refresh failed for 48 minutes.",
        ("change", "detection", "process"),
        "The expiry was obvious in the gateway's TLS error logs once we looked there.",
        "No alert watched certificate expiry; renewal was a calendar reminder in one inbox.",
        "It happened at night, when sign-in traffic is lowest.",
        "Certificates expire on a schedule we know in advance: renewal and alerting belong in "
        "automation, not in a person's calendar.",
    ),
    Past(
        "Card payments rejected: expired client certificate to the payment provider",
        Severity.SEV2,
        ("payments", "payment-provider"),
        95,
        "priya",
        "The mutual-TLS client certificate we present to the card processor expired. The "
        "processor rejected the handshake and card payments failed for 35 minutes.",
        ("dependency", "detection", "process"),
        "The provider's support confirmed the cause within ten minutes.",
        "The certificate was not in the inventory that the auth incident produced.",
        "A customer-success engineer noticed the spike in failed payments quickly.",
        "The certificate inventory must include client certificates, not only server ones.",
    ),
    Past(
        "CDN origin errors after the origin certificate expired",
        Severity.SEV2,
        ("cdn", "web-frontend"),
        30,
        "maya",
        "The CDN could not reach the storefront origin because the origin's TLS certificate "
        "expired; visitors saw 502 errors for 20 minutes in the EU.",
        ("change", "detection"),
        "The vendor's dashboard showed TLS handshake failures to the origin right away.",
        "Again a certificate outside automated renewal; the expiry alert covered only auth.",
        "The US region served from a different origin with a fresh certificate.",
        "Third time an expired certificate hurt us: every certificate, every system, automated.",
    ),
    Past(
        "Checkout slow during the spring sale: orders database connection pool exhausted",
        Severity.SEV2,
        ("checkout", "orders", "orders-db"),
        120,
        "amara",
        "Peak sale traffic exhausted the connection pool between orders and its database. "
        "Checkout requests queued for connections and timed out for 25 minutes.",
        ("capacity", "detection"),
        "Scaling out the orders service was rehearsed and took five minutes.",
        "Pool saturation had no dashboard; we read it from thread dumps.",
        "The sale ended an hour later, so the queue drained on its own.",
        "Connection pools are capacity: size them from load tests and alert on saturation.",
    ),
    Past(
        "Product catalog timeouts at peak: catalog database connection pool exhausted",
        Severity.SEV3,
        ("catalog", "catalog-db", "search"),
        45,
        "kenji",
        "During the evening peak the catalog service used up its database connection pool; "
        "product pages and search results timed out for 15 minutes.",
        ("capacity", "dependency"),
        "The orders incident's pool-saturation alert pattern was easy to reuse.",
        "The pool size was copied from a template sized for a much smaller service.",
        "Search served stale results from its index instead of failing outright.",
        "Pool sizes need a load test per service, not a shared default.",
    ),
    Past(
        "Cart errors after a configuration push set the session cache TTL to zero",
        Severity.SEV3,
        ("cart", "session-cache"),
        75,
        "olga",
        "A configuration change meant for a test environment set the session cache TTL to zero "
        "in production; carts emptied on every request for 30 minutes.",
        ("change", "process"),
        "Rolling back the configuration was one command.",
        "Configuration for all environments lived in one file with no per-environment review.",
        "Most shoppers were browsing, not checking out, at that hour.",
        "Production configuration changes need the same review and canary as code.",
    ),
    Past(
        "Payments errors after deploying a new fraud-check client",
        Severity.SEV2,
        ("payments", "fraud-check"),
        20,
        "jonas",
        "A deploy of payments with a new fraud-check client shortened its timeout; under load "
        "the fraud check timed out and payments were declined for 18 minutes.",
        ("change", "dependency"),
        "The deploy marker on the dashboard pointed at the change immediately.",
        "The deploy went to all pods at once; there was no canary stage for payments.",
        "The rollback pipeline had been tested the week before.",
        "Changes to clients of critical dependencies roll out behind a canary.",
    ),
)


def _actor(new_uow: UowFactory, local: str) -> Actor:
    user = find_user_by_email(new_uow().db, email=f"{local}@{DOMAIN}")
    if user is None:
        return SEED
    return Actor(user_id=user.id, label=user.email, role=user.role)


def seed_learning(new_uow: UowFactory) -> None:
    """Seed learning data once; later runs only refresh the search index."""
    db = new_uow().db
    if not queries.list_postmortems(db, SEED, limit=1):
        ids = [_past(new_uow, past) for past in PAST]
        _actions(new_uow, ids)
        _runbooks(new_uow, ids)
        _decisions(new_uow, ids)
        _draft_with_blame(new_uow)
    knowledge.reindex(new_uow(), SEED)


def _past(new_uow: UowFactory, past: Past) -> int:
    author = _actor(new_uow, past.author)
    started = utcnow() - timedelta(days=past.days_ago)
    data = IncidentCreate(
        title=past.title,
        severity=past.severity,
        services=list(past.services),
        summary=past.summary,
        started_at=started,
        detected_at=started + timedelta(minutes=6),
    )
    incident = incident_service.declare_incident(new_uow(), SEED, data=data)
    for status in (Status.INVESTIGATING, Status.MITIGATING, Status.RESOLVED):
        incident_service.change_status(new_uow(), SEED, incident_id=incident.id, status=status)
    pm = postmortems.create_from_incident(new_uow(), SEED, incident_id=incident.id)
    sections = {
        "summary": past.summary,
        "factors_notes": "See the factors above; none of them alone would have caused this.",
        "went_well": past.went_well,
        "went_badly": past.went_badly,
        "lucky": past.lucky,
        "lessons": past.lessons,
    }
    update = PostmortemUpdate(factors=list(past.factors), sections=sections)
    postmortems.update_postmortem(new_uow(), author, postmortem_id=pm.id, data=update)
    reviewer = _actor(new_uow, "admin")
    postmortems.request_review(new_uow(), author, postmortem_id=pm.id, reviewers=[reviewer.label])
    postmortems.approve(new_uow(), reviewer, postmortem_id=pm.id)
    postmortems.publish(new_uow(), author, postmortem_id=pm.id)
    incident_service.change_status(new_uow(), SEED, incident_id=incident.id, status=Status.CLOSED)
    return pm.id


# (postmortem index, title, kind, owner, due in days, metric, final status)
ACTIONS = (
    (0, "Automate renewal of every TLS certificate with ACME", ActionKind.PREVENT, "sam", 30,
     "No certificate renewed by hand for a quarter", ActionStatus.IN_PROGRESS),
    (0, "Alert 21 days before any certificate expires", ActionKind.DETECT, "olga", -40,
     "Alert fires in a game day with a short-lived certificate", ActionStatus.DONE),
    (1, "Add client certificates to the certificate inventory", ActionKind.PROCESS, "priya", -5,
     "Inventory lists every mTLS client certificate", ActionStatus.OPEN),
    (2, "Move the CDN origin certificate to automated renewal", ActionKind.PREVENT, "", 14,
     "", ActionStatus.OPEN),
    (3, "Dashboard and alert for connection pool saturation", ActionKind.DETECT, "amara", -10,
     "Alert at 80% pool use for 5 minutes", ActionStatus.DONE),
    (4, "Load-test catalog and size its pool from the result", ActionKind.MITIGATE, "kenji", 21,
     "p99 under 300 ms at twice last peak", ActionStatus.IN_PROGRESS),
    (5, "Per-environment review for configuration changes", ActionKind.PROCESS, "", 10,
     "", ActionStatus.OPEN),
    (6, "Canary stage for payments deploys", ActionKind.PREVENT, "jonas", 28,
     "Canary catches an injected timeout regression", ActionStatus.OPEN),
    (6, "Tune fraud-check client timeouts per environment", ActionKind.MITIGATE, "priya", 7,
     "", ActionStatus.WONT_DO),
)  # fmt: skip


def _actions(new_uow: UowFactory, ids: list[int]) -> None:
    today = date.today()
    for index, title, kind, owner, due, metric, status in ACTIONS:
        created = actions.create_action(
            new_uow(),
            SEED,
            data=ActionCreate(
                title=title,
                kind=kind,
                owner=f"{owner}@{DOMAIN}" if owner else "",
                due_on=today + timedelta(days=due),
                priority=Priority.P2 if kind is ActionKind.PREVENT else Priority.P3,
                success_metric=metric,
                postmortem_id=ids[index],
            ),
        )
        if status is not ActionStatus.OPEN:
            actions.update_action(
                new_uow(), SEED, action_id=created.id, data=ActionUpdate(status=status)
            )


RUNBOOKS = {
    "auth": "# auth runbook\n\n## Sign-in failing\n\n1. Check the gateway's TLS error rate.\n"
    "2. Check certificate expiry: `openssl s_client -connect auth:443 | openssl x509 -enddate`.\n"
    "3. If expired, renew with the ACME job and restart the gateway.\n",
    "checkout": "# checkout runbook\n\n## Checkout slow\n\n1. Look at orders-db pool use.\n"
    "2. Scale out orders (`kubectl scale deploy/orders --replicas=+4`).\n",
    "payments": "# payments runbook\n\n## Payments declined\n\n1. Compare decline rate with "
    "the last deploy marker.\n2. Roll back: `deployctl rollback payments`.\n",
}


def _runbooks(new_uow: UowFactory, ids: list[int]) -> None:
    for service, body in RUNBOOKS.items():
        runbooks.write_runbook(
            new_uow(), SEED, service=service, data=RunbookWrite(body=body, note="first version")
        )
    proposal = RUNBOOKS["payments"] + (
        "3. Check the provider's mTLS handshake errors: an expired client certificate "
        "looks like a provider outage.\n"
    )
    runbooks.propose_change(
        new_uow(),
        _actor(new_uow, "priya"),
        service="payments",
        data=ProposalCreate(
            body=proposal, rationale="From the client-certificate postmortem", postmortem_id=ids[1]
        ),
    )


def _decisions(new_uow: UowFactory, ids: list[int]) -> None:
    decisions.create_adr(
        new_uow(),
        SEED,
        data=AdrCreate(
            title="Automate certificate renewal with ACME everywhere",
            status=AdrStatus.ACCEPTED,
            deciders=[f"sam@{DOMAIN}", f"olga@{DOMAIN}"],
            context="Three incidents in six months came from certificates renewed by hand.",
            options=["Calendar reminders per team", "Central ACME renewal for all certificates"],
            outcome="Central ACME renewal, because it removes the manual step entirely.",
            consequences="Every service must accept certificates rotated without a deploy.",
            services=["auth", "payments", "cdn"],
            postmortem_id=ids[2],
        ),
    )
    old = decisions.create_adr(
        new_uow(),
        SEED,
        data=AdrCreate(
            title="Raise database pool sizes during sales",
            status=AdrStatus.ACCEPTED,
            context="Pools ran out during the spring sale.",
            options=["Raise pools before sales", "Size pools from load tests"],
            outcome="Raise pools before known sales.",
            services=["orders"],
        ),
    )
    decisions.create_adr(
        new_uow(),
        SEED,
        data=AdrCreate(
            title="Size connection pools from load tests and alert on saturation",
            status=AdrStatus.ACCEPTED,
            deciders=[f"amara@{DOMAIN}", f"kenji@{DOMAIN}"],
            context="Catalog hit the same limit outside any sale, so raising pools before "
            "sales does not cover it.",
            options=["Raise pools before sales", "Size pools from load tests"],
            outcome="Every service sizes its pool from a load test; saturation alerts at 80%.",
            consequences="Load tests become part of each service's release checklist.",
            services=["orders", "catalog"],
            supersedes=old.number,
            postmortem_id=ids[4],
        ),
    )


def _draft_with_blame(new_uow: UowFactory) -> None:
    """A draft whose wording the language check flags, to show it in the editor."""
    author = _actor(new_uow, "li")
    data = PostmortemCreate(
        title="Notification backlog after queue failover",
        severity="SEV3",
        services=["notification", "event-bus"],
        factors=["dependency"],
        sections={
            "summary": "Li failed to check the consumer lag before the failover, and obviously "
            "the backlog grew. The operator should have paused the producers.",
        },
    )
    postmortems.create_postmortem(new_uow(), author, data=data)
