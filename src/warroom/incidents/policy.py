"""The rules of incident handling, as data: the status machine, severities and update cadence.

Kept apart from storage so the service, the queries and the pages all agree on one table, and
so an organisation's severity overrides (stored in `incident_severity_levels`) only replace the
wording and cadence, never the set of levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from warroom.incidents.schemas import ResponderRole, Severity, SeverityDefinition, Status

# Forward moves plus the few backward ones real incidents need (a fix that did not hold sends
# "monitoring" back to "mitigating"). Merging has its own use case because it needs a target.
TRANSITIONS: Mapping[Status, tuple[Status, ...]] = {
    Status.TRIAGE: (
        Status.INVESTIGATING,
        Status.MITIGATING,
        Status.RESOLVED,
        Status.DECLINED,
        Status.CANCELLED,
    ),
    Status.INVESTIGATING: (
        Status.MITIGATING,
        Status.MONITORING,
        Status.RESOLVED,
        Status.CANCELLED,
    ),
    Status.MITIGATING: (Status.INVESTIGATING, Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.MITIGATING, Status.INVESTIGATING, Status.RESOLVED),
    Status.RESOLVED: (Status.LEARNING, Status.CLOSED),
    Status.LEARNING: (Status.CLOSED,),
    Status.CLOSED: (),
    Status.DECLINED: (),
    Status.MERGED: (),
    Status.CANCELLED: (),
}

ACTIVE = frozenset({Status.TRIAGE, Status.INVESTIGATING, Status.MITIGATING, Status.MONITORING})
MERGEABLE = ACTIVE
ENDED = frozenset({Status.CLOSED, Status.DECLINED, Status.MERGED, Status.CANCELLED})

DEFAULT_SEVERITIES: Mapping[Severity, SeverityDefinition] = {
    Severity.SEV1: SeverityDefinition(
        severity=Severity.SEV1,
        name="Critical",
        description="A core customer journey (sign-in, checkout, payments) is down or "
        "losing data for many customers, or a security breach is under way.",
        update_every_minutes=30,
    ),
    Severity.SEV2: SeverityDefinition(
        severity=Severity.SEV2,
        name="Major",
        description="A core journey is badly degraded, or an important feature is down, "
        "for a significant share of customers.",
        update_every_minutes=60,
    ),
    Severity.SEV3: SeverityDefinition(
        severity=Severity.SEV3,
        name="Minor",
        description="A non-critical feature is degraded or a small share of customers is "
        "affected; a workaround exists.",
        update_every_minutes=240,
    ),
    Severity.SEV4: SeverityDefinition(
        severity=Severity.SEV4,
        name="Low",
        description="Little or no customer impact: internal tooling, a risk to follow up, "
        "a near miss.",
        update_every_minutes=1440,
    ),
}

# Roles whose holders are "in" the incident: everyone but observers speaks for it.
COMMAND_ROLE = ResponderRole.COMMANDER

STATUS_PHRASES: Mapping[Status, str] = {
    Status.TRIAGE: "We are looking into reports of a problem.",
    Status.INVESTIGATING: "We are investigating the cause of the problem.",
    Status.MITIGATING: "We have identified the problem and are working on a fix.",
    Status.MONITORING: "A fix is in place and we are watching to confirm it holds.",
    Status.RESOLVED: "The problem is resolved.",
    Status.LEARNING: "The problem is resolved.",
    Status.CLOSED: "The problem is resolved.",
    Status.DECLINED: "This was not an incident.",
    Status.MERGED: "This is tracked under another incident.",
    Status.CANCELLED: "This was cancelled.",
}


def allowed_transitions(status: Status) -> tuple[Status, ...]:
    return TRANSITIONS[status]


def is_active(status: str) -> bool:
    return status in ACTIVE


def next_update_due(
    *, status: str, last_update_at: datetime | None, detected_at: datetime, every_minutes: int
) -> datetime | None:
    """When the next stakeholder update is due; None once the incident is no longer active."""
    if not is_active(status):
        return None
    return (last_update_at or detected_at) + timedelta(minutes=every_minutes)


def update_overdue(due: datetime | None, now: datetime) -> bool:
    return due is not None and now > due
