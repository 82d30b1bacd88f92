"""The demo organisation: believable teams, services, dependencies and users in every role.

Seeding goes through the same service functions as real use (so it is audited) and is
idempotent: running `warroom demo` again keeps the data and prints the same login.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warroom.accounts import service as accounts_service
from warroom.accounts.schemas import UserCreate
from warroom.actors import Actor, Role
from warroom.catalog import service as catalog_service
from warroom.catalog.schemas import CatalogSnapshot, ServiceCreate, TeamCreate
from warroom.config import stored_secret
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict
from warroom.incidents import demo as incidents_demo
from warroom.intake import demo as intake_demo
from warroom.learning import demo as learning_demo

DEMO_DOMAIN = "demo.warroom.dev"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"

# (email local part, display name, role, teams)
PEOPLE = [
    ("admin", "Ada Admin", Role.ADMIN, []),
    ("maya", "Maya Okafor", Role.RESPONDER, ["edge"]),
    ("li", "Li Wei", Role.RESPONDER, ["edge", "platform"]),
    ("sam", "Sam Rivera", Role.RESPONDER, ["identity"]),
    ("priya", "Priya Natarajan", Role.RESPONDER, ["payments"]),
    ("jonas", "Jonas Berg", Role.RESPONDER, ["payments"]),
    ("amara", "Amara Diallo", Role.RESPONDER, ["commerce"]),
    ("kenji", "Kenji Sato", Role.RESPONDER, ["discovery"]),
    ("olga", "Olga Petrova", Role.RESPONDER, ["platform"]),
    ("tom", "Tom Becker", Role.VIEWER, []),
    ("erin", "Erin Walsh", Role.VIEWER, []),
    ("vendor", "Casey (CDN vendor)", Role.EXTERNAL, []),
]

TEAMS = [
    ("edge", "Edge and traffic: CDN, load balancing, the API gateway.", "edge-oncall"),
    ("identity", "Sign-in, sessions and permissions.", "identity-oncall"),
    ("payments", "Charging cards, refunds, fraud checks and the ledger.", "payments-oncall"),
    ("commerce", "Cart, checkout, orders and the storefront.", "commerce-oncall"),
    ("discovery", "Search, the product catalog and recommendations.", "discovery-oncall"),
    ("platform", "Databases, queues, caches and notifications.", "platform-oncall"),
]

# (name, team, tier, kind, description, depends on)
SERVICES = [
    (
        "cdn",
        "edge",
        1,
        "component",
        "Content delivery network in front of everything.",
        ["web-frontend", "api-gateway"],
    ),
    ("web-frontend", "commerce", 1, "component", "Server-rendered storefront.", ["api-gateway"]),
    ("mobile-bff", "commerce", 2, "component", "Backend for the mobile apps.", ["api-gateway"]),
    (
        "api-gateway",
        "edge",
        1,
        "component",
        "Routing, rate limiting and authentication of API calls.",
        ["auth", "checkout", "search", "catalog", "cart", "orders", "recommendations"],
    ),
    (
        "auth",
        "identity",
        1,
        "component",
        "Sign-in, tokens and sessions.",
        ["users-db", "session-cache"],
    ),
    ("permissions", "identity", 2, "component", "Role and entitlement checks.", ["users-db"]),
    (
        "checkout",
        "commerce",
        1,
        "component",
        "Turns a cart into an order and a payment.",
        ["cart", "payments", "orders", "inventory", "permissions"],
    ),
    ("cart", "commerce", 2, "component", "Shopping carts.", ["session-cache", "catalog"]),
    ("orders", "commerce", 1, "component", "Order lifecycle.", ["orders-db", "event-bus"]),
    (
        "inventory",
        "commerce",
        2,
        "component",
        "Stock levels and reservations.",
        ["inventory-db", "event-bus"],
    ),
    (
        "payments",
        "payments",
        1,
        "component",
        "Card authorisation and capture.",
        ["fraud-check", "ledger", "payment-provider"],
    ),
    ("fraud-check", "payments", 2, "component", "Scores payments for fraud.", ["feature-store"]),
    (
        "ledger",
        "payments",
        1,
        "component",
        "Double-entry ledger of all money movements.",
        ["ledger-db"],
    ),
    ("payment-provider", "payments", 1, "api", "External card processor (third party).", []),
    (
        "refunds",
        "payments",
        3,
        "component",
        "Refund requests and payouts.",
        ["ledger", "payment-provider", "event-bus"],
    ),
    ("search", "discovery", 2, "component", "Product search.", ["search-index", "catalog"]),
    ("catalog", "discovery", 2, "component", "Product data.", ["catalog-db", "object-cache"]),
    (
        "recommendations",
        "discovery",
        3,
        "component",
        "Personalised suggestions.",
        ["feature-store", "catalog"],
    ),
    (
        "notification",
        "platform",
        3,
        "component",
        "E-mail, SMS and push notifications.",
        ["event-bus", "users-db"],
    ),
    ("event-bus", "platform", 1, "resource", "Kafka cluster carrying domain events.", []),
    ("session-cache", "platform", 1, "resource", "Redis cluster for sessions and carts.", []),
    ("object-cache", "platform", 2, "resource", "Memcached for hot product data.", []),
    ("users-db", "platform", 1, "resource", "PostgreSQL primary for accounts.", []),
    ("orders-db", "platform", 1, "resource", "PostgreSQL for orders.", []),
    ("inventory-db", "platform", 2, "resource", "PostgreSQL for stock levels.", []),
    ("ledger-db", "platform", 1, "resource", "PostgreSQL for the ledger, synchronous replica.", []),
    ("catalog-db", "platform", 2, "resource", "PostgreSQL for product data.", []),
    ("search-index", "discovery", 2, "resource", "OpenSearch cluster.", []),
    ("feature-store", "platform", 3, "resource", "Feature store for ML models.", []),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def seed(new_uow: Callable[[], UnitOfWork], data_dir: Path) -> DemoLogin:
    """Seed (or top up) the demo organisation and return the admin login."""
    actor = Actor.system("demo-seed")
    password = _demo_password(data_dir)
    for local, name, role, _teams in PEOPLE:
        data = UserCreate(
            email=f"{local}@{DEMO_DOMAIN}", display_name=name, role=role, password=password
        )
        try:
            accounts_service.create_user(new_uow(), actor, data=data)
        except Conflict:
            continue
    catalog_service.import_snapshot(new_uow(), actor, snapshot=demo_catalog())
    intake_demo.play_demo_alerts(new_uow)
    incidents_demo.enrich_demo(new_uow)
    learning_demo.seed_learning(new_uow)
    return DemoLogin(ADMIN_EMAIL, password)


def demo_catalog() -> CatalogSnapshot:
    members: dict[str, list[str]] = {}
    for local, _name, _role, team_names in PEOPLE:
        for team in team_names:
            members.setdefault(team, []).append(f"{local}@{DEMO_DOMAIN}")
    teams = [
        TeamCreate(
            name=name,
            description=description,
            escalation_contact=f"{pager}@{DEMO_DOMAIN}",
            members=members.get(name, []),
        )
        for name, description, pager in TEAMS
    ]
    services = [
        ServiceCreate.model_validate(
            {
                "name": name,
                "kind": kind,
                "owner_team": team,
                "tier": tier,
                "description": description,
                "depends_on": depends_on,
                "runbook_url": f"https://runbooks.{DEMO_DOMAIN}/{name}",
                "repository_url": f"https://git.{DEMO_DOMAIN}/{team}/{name}",
                "tags": [team, f"tier-{tier}"],
                "system": _system_of(team),
            }
        )
        for name, team, tier, kind, description, depends_on in SERVICES
    ]
    return CatalogSnapshot(teams=teams, services=services)


def _system_of(team: str) -> str:
    return {"payments": "money", "commerce": "storefront", "discovery": "storefront"}.get(team, "")


def _demo_password(data_dir: Path) -> str:
    """One random password for every demo account, kept beside the demo database."""
    return stored_secret(data_dir / "demo-password", lambda: f"demo-{secrets.token_urlsafe(9)}")
