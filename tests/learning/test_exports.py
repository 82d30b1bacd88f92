"""Tracker formats: Jira JSON and CSV, GitHub issues, and reading statuses back."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from warroom.learning.exports import github_json, jira_csv, parse_status_file
from warroom.learning.schemas import ActionKind, ActionOut, ActionStatus, Priority

ITEM = ActionOut(
    id=3,
    title="Alert on cache hit ratio",
    description="",
    owner="sam@example.com",
    due_on=date(2027, 2, 1),
    priority=Priority.P1,
    kind=ActionKind.DETECT,
    status=ActionStatus.OPEN,
    success_metric="alert fires in a game day",
    external_key="",
    postmortem_id=2,
    incident_id=9,
    overdue=False,
)


def test_jira_csv_has_the_importer_columns_and_the_warroom_label() -> None:
    rows = list(csv.reader(io.StringIO(jira_csv([ITEM], base_url="https://w"))))
    assert rows[0][:5] == ["Summary", "Description", "Issue Type", "Priority", "Due Date"]
    assert rows[1][0] == "Alert on cache hit ratio" and rows[1][3] == "Highest"
    assert "warroom-action-3" in rows[1]
    assert "https://w/incidents/9" in rows[1][1]


def test_github_issues_carry_labels_and_assignees() -> None:
    issue = json.loads(github_json([ITEM], base_url=""))[0]
    assert issue["labels"] == ["warroom", "warroom-action-3", "priority-p1"]
    assert issue["assignees"] == ["sam"] and "Due: 2027-02-01" in issue["body"]


def test_statuses_are_read_from_github_and_csv_exports() -> None:
    github = [
        {
            "number": 12,
            "state": "closed",
            "state_reason": "completed",
            "labels": [{"name": "warroom-action-3"}],
        },
        {
            "number": 13,
            "state": "closed",
            "state_reason": "not_planned",
            "labels": ["warroom-action-4"],
        },
        {"number": 14, "state": "open", "labels": []},
    ]
    found, problems = parse_status_file(json.dumps(github))
    assert [(f.action_id, f.status, f.key) for f in found] == [
        (3, ActionStatus.DONE, "#12"),
        (4, ActionStatus.WONT_DO, "#13"),
    ]
    assert problems == []
    text = (
        "Issue key,Summary,Labels,Labels,Status\n"
        "OPS-1,x,warroom,warroom-action-3,In Progress\n"
        "OPS-2,y,,,Done\n"
    )
    found, problems = parse_status_file(text)
    assert [(f.action_id, f.status, f.key) for f in found] == [
        (3, ActionStatus.IN_PROGRESS, "OPS-1")
    ]
    assert problems == ["line 3: no warroom-action label"]
