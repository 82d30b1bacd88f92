"""A postmortem's first draft from what the incident already recorded.

Why: a review that starts from a blank page rarely gets finished. Everything responders wrote
while handling the incident (timeline, impact, roles, decision log, assumptions, hypotheses,
changes to the impacted services) goes into the draft, so authors edit rather than retype.
Also: review due dates counted in business days from resolution, per severity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from warroom.incidents.schemas import ChangeOut, IncidentDetail

# Business days to publish a postmortem after the incident is resolved.
DUE_BUSINESS_DAYS = {"SEV1": 3, "SEV2": 5, "SEV3": 10, "SEV4": 15}


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` working days (Monday to Friday), keeping the time of day."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def due_at(severity: str, resolved_at: datetime) -> datetime | None:
    days = DUE_BUSINESS_DAYS.get(severity)
    return add_business_days(resolved_at, days) if days else None


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "unknown"


def sections_from_incident(detail: IncidentDetail, changes: Sequence[ChangeOut]) -> dict[str, str]:
    """The prefilled sections; `response` holds roles, decisions, assumptions and hypotheses."""
    return {
        "summary": detail.summary,
        "impact": _impact(detail),
        "timeline": "\n".join(f"- {_when(entry.at)} · {entry.text}" for entry in detail.timeline),
        "response": _response(detail, changes),
        "factors_notes": "",
        "went_well": "",
        "went_badly": "",
        "lucky": "",
        "lessons": "",
    }


def _impact(detail: IncidentDetail) -> str:
    lines = [
        f"- Severity: {detail.severity.value}",
        f"- Services: {', '.join(detail.services) or 'none recorded'}",
        f"- Started: {_when(detail.started_at or detail.detected_at)}",
        f"- Detected: {_when(detail.detected_at)}",
        f"- Mitigated: {_when(detail.mitigated_at)}",
        f"- Resolved: {_when(detail.resolved_at)}",
    ]
    if detail.customer_impact:
        lines += ["", detail.customer_impact]
    return "\n".join(lines)


def _response(detail: IncidentDetail, changes: Sequence[ChangeOut]) -> str:
    parts = ["### Roles", *(f"- {r.role}: {r.display_name or r.email}" for r in detail.roles)]
    parts += ["", "### Decision log"]
    parts += [f"- {d.decision} (why: {d.rationale or 'not recorded'})" for d in detail.decisions]
    parts += ["", "### Assumptions"]
    parts += [f"- {a.statement} [{a.status.value}]" for a in detail.assumptions]
    parts += ["", "### Hypotheses"]
    parts += [f"- {h.statement} [{h.status.value}] {h.result}".rstrip() for h in detail.hypotheses]
    parts += ["", "### Linked changes"]
    parts += [f"- {_when(c.happened_at)} {c.service_name}: {c.summary}" for c in changes]
    return "\n".join(parts)
