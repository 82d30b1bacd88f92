"""Action items in the shapes other trackers import, and their status read back.

Formats: Jira's REST create-issue bodies (`POST /rest/api/2/issue/bulk` takes `issueUpdates`),
Jira's CSV importer columns, and GitHub's create-issue bodies. Every exported item carries the
label `warroom-action-<id>`, which is how `sync` recognises it in a file exported back from the
tracker (a Jira search result, a GitHub issue list, or a CSV with Labels and Status columns).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from warroom.errors import FieldError, InvalidInput
from warroom.learning.schemas import ActionOut, ActionStatus

LABEL = re.compile(r"warroom-action-(\d+)")
JIRA_PRIORITY = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"}
CSV_COLUMNS = [
    "Summary",
    "Description",
    "Issue Type",
    "Priority",
    "Due Date",
    "Assignee",
    "Labels",
    "Labels",
    "Status",
]
_DONE = {"done", "closed", "resolved", "complete", "completed", "fixed"}
_WONT = {"won't do", "wont do", "won't fix", "declined", "rejected", "not_planned", "cancelled"}
_PROGRESS = {"in progress", "in review", "doing", "started"}


class ExportFormat(StrEnum):
    JIRA_JSON = "jira-json"
    JIRA_CSV = "jira-csv"
    GITHUB = "github"


def export_actions(
    items: Sequence[ActionOut], fmt: ExportFormat, *, project: str, base_url: str
) -> str:
    """The text of an action-item export in `fmt`."""
    if fmt is ExportFormat.JIRA_JSON:
        return jira_json(items, project=project, base_url=base_url)
    if fmt is ExportFormat.JIRA_CSV:
        return jira_csv(items, base_url=base_url)
    return github_json(items, base_url=base_url)


@dataclass(frozen=True)
class ExternalStatus:
    """One tracker item found in a synced file."""

    action_id: int
    status: ActionStatus
    key: str
    line: int


def label(item: ActionOut) -> str:
    return f"warroom-action-{item.id}"


def _description(item: ActionOut, base_url: str) -> str:
    parts = [item.description.strip()] if item.description.strip() else []
    parts.append(f"Success metric: {item.success_metric or '(not set yet)'}")
    parts.append(f"Type: {item.kind.value}")
    if item.postmortem_id is not None:
        parts.append(f"Postmortem: {base_url}/postmortems/{item.postmortem_id}")
    if item.incident_id is not None:
        parts.append(f"Incident: {base_url}/incidents/{item.incident_id}")
    return "\n\n".join(parts)


def jira_json(items: Sequence[ActionOut], *, project: str, base_url: str) -> str:
    """A bulk create body: `{"issueUpdates": [{"fields": {...}}, ...]}`."""
    updates = []
    for item in items:
        fields: dict[str, Any] = {
            "project": {"key": project},
            "summary": item.title,
            "description": _description(item, base_url),
            "issuetype": {"name": "Task"},
            "priority": {"name": JIRA_PRIORITY[item.priority.value]},
            "labels": ["warroom", label(item), f"action-{item.kind.value}"],
        }
        if item.due_on is not None:
            fields["duedate"] = item.due_on.isoformat()
        if item.owner:
            fields["assignee"] = {"name": item.owner}
        updates.append({"fields": fields})
    return json.dumps({"issueUpdates": updates}, indent=2) + "\n"


def jira_csv(items: Sequence[ActionOut], *, base_url: str) -> str:
    """Jira's CSV importer: repeated `Labels` columns become several labels."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.title,
                _description(item, base_url),
                "Task",
                JIRA_PRIORITY[item.priority.value],
                item.due_on.isoformat() if item.due_on else "",
                item.owner,
                "warroom",
                label(item),
                item.status.value.replace("_", " "),
            ]
        )
    return out.getvalue()


def github_json(items: Sequence[ActionOut], *, base_url: str) -> str:
    """A list of `POST /repos/{owner}/{repo}/issues` bodies."""
    issues = []
    for item in items:
        body = _description(item, base_url)
        if item.due_on is not None:
            body += f"\n\nDue: {item.due_on.isoformat()}"
        issue: dict[str, Any] = {
            "title": item.title,
            "body": body,
            "labels": ["warroom", label(item), f"priority-{item.priority.value.lower()}"],
        }
        if item.owner:
            issue["assignees"] = [item.owner.split("@")[0]]
        issues.append(issue)
    return json.dumps(issues, indent=2) + "\n"


def map_status(raw: str) -> ActionStatus:
    value = raw.strip().lower().replace("_", " ")
    if value in _DONE:
        return ActionStatus.DONE
    if value in _WONT or value.replace(" ", "_") in _WONT:
        return ActionStatus.WONT_DO
    if value in _PROGRESS:
        return ActionStatus.IN_PROGRESS
    return ActionStatus.OPEN


def parse_status_file(text: str) -> tuple[list[ExternalStatus], list[str]]:
    """Tracker items that carry a Warroom label, and the problems met (with line numbers)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return _from_json(text)
    return _from_csv(text)


def _from_json(text: str) -> tuple[list[ExternalStatus], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("not valid JSON", [FieldError("file", exc.msg, exc.lineno)]) from exc
    records = data.get("issues", []) if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise InvalidInput("expected a list of issues", [FieldError("file", "no issue list")])
    found: list[ExternalStatus] = []
    problems: list[str] = []
    for position, record in enumerate(records, start=1):
        item = _json_item(record, position)
        if isinstance(item, str):
            problems.append(item)
        elif item is not None:
            found.append(item)
    return found, problems


def _json_item(record: object, position: int) -> ExternalStatus | str | None:
    if not isinstance(record, dict):
        return f"item {position}: not an object"
    fields = record.get("fields") if isinstance(record.get("fields"), dict) else None
    if fields is not None:  # a Jira issue
        labels = [str(v) for v in fields.get("labels", [])]
        status_field = fields.get("status") or {}
        raw = status_field.get("name", "") if isinstance(status_field, dict) else str(status_field)
        key = str(record.get("key", ""))
    else:  # a GitHub issue
        labels = [
            str(v.get("name", "")) if isinstance(v, dict) else str(v)
            for v in record.get("labels", [])
        ]
        state = str(record.get("state", "open"))
        raw = str(record.get("state_reason") or "") if state == "closed" else state
        raw = "not_planned" if raw == "not_planned" else ("closed" if state == "closed" else raw)
        key = f"#{record['number']}" if "number" in record else ""
    action_id = _action_id(labels)
    if action_id is None:
        return None
    return ExternalStatus(action_id, map_status(raw), key, position)


def _action_id(labels: Sequence[str]) -> int | None:
    for value in labels:
        match = LABEL.search(value)
        if match:
            return int(match.group(1))
    return None


def _from_csv(text: str) -> tuple[list[ExternalStatus], list[str]]:
    rows = _csv_rows(text)
    header = next(rows, None)
    if header is None:
        raise InvalidInput("empty file", [FieldError("file", "no header row", 1)])
    lowered = [h.strip().lower() for h in header[1]]
    if "status" not in lowered:
        raise InvalidInput("no Status column", [FieldError("file", "add a Status column", 1)])
    status_at = lowered.index("status")
    key_at = lowered.index("issue key") if "issue key" in lowered else None
    found: list[ExternalStatus] = []
    problems: list[str] = []
    for line, row in rows:
        labels = [
            cell for name, cell in zip(lowered, row, strict=False) if name.startswith("label")
        ]
        action_id = _action_id(labels)
        if action_id is None:
            problems.append(f"line {line}: no warroom-action label")
            continue
        raw = row[status_at] if status_at < len(row) else ""
        key = row[key_at] if key_at is not None and key_at < len(row) else ""
        found.append(ExternalStatus(action_id, map_status(raw), key, line))
    return found, problems


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, row
