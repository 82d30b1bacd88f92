"""Markdown forms of postmortems (export and import) and of decision records (MADR).

The postmortem format is plain Markdown a person can edit in any editor: a `# Postmortem:`
title, a bullet list of metadata, one `##` heading per section, and the action items as a
task list. Import reads the same format back, so export → edit → import round-trips.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from warroom.errors import FieldError, InvalidInput
from warroom.learning.schemas import (
    SECTIONS,
    ActionCreate,
    AdrOut,
    PostmortemCreate,
    PostmortemOut,
)

_LABEL_TO_KEY = {label.lower(): key for key, label in SECTIONS}
_META = re.compile(r"^- \*{0,2}([A-Za-z ]+?)\*{0,2}:\s*(.*)$")
_TASK = re.compile(r"^- \[( |x|X)\] (.+)$")
_TASK_FIELD = re.compile(r"(owner|due|priority|type|metric):\s*([^;)]*)")


def postmortem_markdown(pm: PostmortemOut) -> str:
    lines = [f"# Postmortem: {pm.title}", ""]
    lines += [
        f"- Status: {pm.status.value}",
        f"- Severity: {pm.severity or 'unknown'}",
        f"- Services: {', '.join(pm.services)}",
        f"- Contributing factors: {', '.join(pm.factors)}",
        f"- Occurred: {pm.occurred_at.isoformat()}",
    ]
    if pm.incident_id is not None:
        lines.append(f"- Incident: #{pm.incident_id}")
    if pm.reviewers:
        lines.append(f"- Reviewers: {', '.join(r.email for r in pm.reviewers)}")
    for key, label in SECTIONS:
        lines += ["", f"## {label}", "", pm.sections.get(key, "").strip()]
    lines += ["", "## Action items", ""]
    for item in pm.actions:
        done = "x" if item.status.value == "done" else " "
        fields = [
            f"owner: {item.owner}",
            f"due: {item.due_on.isoformat() if item.due_on else ''}",
            f"priority: {item.priority.value}",
            f"type: {item.kind.value}",
            f"metric: {item.success_metric}",
        ]
        lines.append(f"- [{done}] {item.title} ({'; '.join(fields)})")
    return "\n".join(lines).rstrip() + "\n"


def parse_postmortem_markdown(text: str) -> tuple[PostmortemCreate, list[ActionCreate]]:
    """Read the export format back; raises InvalidInput naming the offending line."""
    lines = text.splitlines()
    title_line = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if title_line is None:
        raise InvalidInput("not a postmortem", [FieldError("title", "no `# ` title line", 1)])
    title = lines[title_line][2:].strip().removeprefix("Postmortem:").strip()
    meta: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    actions: list[ActionCreate] = []
    current: str | None = None
    for number, line in enumerate(lines[title_line + 1 :], start=title_line + 2):
        if line.startswith("## "):
            label = line[3:].strip().lower()
            current = _LABEL_TO_KEY.get(label, "actions" if label == "action items" else None)
            if current is None:
                raise InvalidInput(
                    "unknown section", [FieldError("section", f"unknown heading {label!r}", number)]
                )
            continue
        if current is None:
            if match := _META.match(line):
                meta[match.group(1).strip().lower()] = match.group(2).strip()
            continue
        if current == "actions":
            if match := _TASK.match(line.strip()):
                actions.append(_action_from_task(match.group(2), number))
            continue
        sections.setdefault(current, []).append(line)
    return _postmortem_create(title, meta, sections), actions


def _postmortem_create(
    title: str, meta: dict[str, str], sections: dict[str, list[str]]
) -> PostmortemCreate:
    severity = meta.get("severity", "")
    occurred = meta.get("occurred", "")
    try:
        occurred_at = datetime.fromisoformat(occurred) if occurred else None
    except ValueError as exc:
        raise InvalidInput("bad date", [FieldError("occurred", str(exc))]) from exc
    return PostmortemCreate(
        title=title or "Untitled",
        severity="" if severity == "unknown" else severity,
        services=_split(meta.get("services", "")),
        factors=_split(meta.get("contributing factors", "")),
        occurred_at=occurred_at,
        sections={key: "\n".join(body).strip() for key, body in sections.items()},
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _action_from_task(text: str, line: int) -> ActionCreate:
    title, _, rest = text.partition(" (")
    fields = {key: value.strip() for key, value in _TASK_FIELD.findall(rest)}
    try:
        return ActionCreate.model_validate(
            {
                "title": title.strip(),
                "owner": fields.get("owner", ""),
                "due_on": date.fromisoformat(fields["due"]) if fields.get("due") else None,
                "priority": fields.get("priority") or "P3",
                "kind": fields.get("type") or "prevent",
                "success_metric": fields.get("metric", ""),
            }
        )
    except ValueError as exc:
        raise InvalidInput("bad action item", [FieldError("action", str(exc), line)]) from exc


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "decision"


def adr_filename(adr: AdrOut) -> str:
    """`NNNN-title.md`, as in `docs/decisions/` of the MADR convention."""
    return f"{adr.number:04d}-{slugify(adr.title)}.md"


def adr_markdown(adr: AdrOut, titles: dict[int, str]) -> str:
    """MADR 3 layout: front matter (status, date, deciders), then the sections."""
    lines = [
        "---",
        f"status: {adr.status.value}",
        f"date: {adr.decided_on.isoformat()}",
        f"deciders: {', '.join(adr.deciders)}",
        "---",
        "",
        f"# {adr.title}",
        "",
    ]
    if adr.supersedes is not None:
        lines += [f"Supersedes [ADR-{adr.supersedes:04d}]({_link(adr.supersedes, titles)})", ""]
    if adr.superseded_by is not None:
        lines += [
            f"Superseded by [ADR-{adr.superseded_by:04d}]({_link(adr.superseded_by, titles)})",
            "",
        ]
    lines += ["## Context and Problem Statement", "", adr.context.strip(), ""]
    lines += ["## Considered Options", ""]
    lines += [f"* {option}" for option in adr.options] or ["* (none recorded)"]
    lines += ["", "## Decision Outcome", "", adr.outcome.strip(), ""]
    lines += ["### Consequences", "", adr.consequences.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _link(number: int, titles: dict[int, str]) -> str:
    return f"{number:04d}-{slugify(titles.get(number, 'decision'))}.md"
