"""The incident as a Markdown document: the timeline export that goes into chat, tickets and
the postmortem. Pure rendering of `IncidentDetail`, escaped so that user text cannot break
the table layout.
"""

from __future__ import annotations

from datetime import datetime

from warroom.incidents.schemas import IncidentDetail


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def render(detail: IncidentDetail) -> str:
    lines = [
        f"# Incident #{detail.id}: {detail.title}",
        "",
        f"- **Severity:** {detail.severity.value} ({detail.severity_definition.name})",
        f"- **Status:** {detail.status.value}",
        f"- **Impacted services:** {', '.join(detail.services) or '—'}",
        f"- **Customer impact:** {detail.customer_impact or '—'}",
        "- **Roles:** "
        + (", ".join(f"{r.role} {r.email}" for r in detail.roles) or "none assigned"),
    ]
    for label, value in (
        ("Started", detail.started_at),
        ("Detected", detail.detected_at),
        ("Acknowledged", detail.acknowledged_at),
        ("Mitigated", detail.mitigated_at),
        ("Resolved", detail.resolved_at),
    ):
        lines.append(f"- **{label}:** {_when(value)}")
    if detail.summary:
        lines += ["", "## Summary", "", detail.summary]
    lines += ["", "## Timeline", "", "| Time (UTC) | Who | What |", "|---|---|---|"]
    lines += [
        f"| {e.at:%Y-%m-%d %H:%M:%S} | {_cell(e.actor)} | {_cell(e.text)} |"
        for e in detail.timeline
    ]
    if detail.decisions:
        lines += ["", "## Decisions", ""]
        for d in detail.decisions:
            alternatives = f" Alternatives: {'; '.join(d.alternatives)}." if d.alternatives else ""
            lines.append(
                f"- {_when(d.decided_at)}, {d.decided_by}: **{d.decision}** — "
                f"{d.rationale or 'no rationale given'}.{alternatives}"
            )
    return "\n".join(lines) + "\n"
