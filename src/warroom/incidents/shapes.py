"""Rows to output schemas: one mapping per table, shared by queries and use cases."""

from __future__ import annotations

from datetime import datetime

from warroom.incidents.models import (
    Assumption,
    Change,
    Decision,
    Hypothesis,
    StatusUpdate,
    TimelineEntry,
)
from warroom.incidents.schemas import (
    AssumptionOut,
    AssumptionStatus,
    Audience,
    ChangeKind,
    ChangeOut,
    Confidence,
    DecisionOut,
    HypothesisOut,
    HypothesisStatus,
    Risk,
    TimelineOut,
    UpdateOut,
)


def timeline_out(entry: TimelineEntry) -> TimelineOut:
    return TimelineOut(
        id=entry.id,
        at=entry.at,
        kind=entry.kind,
        text=entry.text,
        data=dict(entry.data or {}),
        actor=entry.actor_label,
    )


def decision_out(row: Decision) -> DecisionOut:
    return DecisionOut(
        id=row.id,
        kind=row.kind,
        decision=row.decision,
        rationale=row.rationale,
        alternatives=[str(a) for a in row.alternatives or []],
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def assumption_out(row: Assumption, now: datetime) -> AssumptionOut:
    overdue = (
        row.status == AssumptionStatus.OPEN and row.review_by is not None and row.review_by < now
    )
    return AssumptionOut(
        id=row.id,
        statement=row.statement,
        evidence=row.evidence,
        confidence=Confidence(row.confidence),
        owner=row.owner,
        status=AssumptionStatus(row.status),
        review_by=row.review_by,
        overdue=overdue,
    )


def hypothesis_out(row: Hypothesis) -> HypothesisOut:
    return HypothesisOut(
        id=row.id,
        statement=row.statement,
        test_plan=row.test_plan,
        production_risk=Risk(row.production_risk),
        status=HypothesisStatus(row.status),
        result=row.result,
        created_by=row.created_by,
    )


def update_out(row: StatusUpdate) -> UpdateOut:
    return UpdateOut(
        id=row.id,
        audience=Audience(row.audience),
        body=row.body,
        author=row.author,
        published_at=row.published_at,
    )


def change_out(row: Change) -> ChangeOut:
    return ChangeOut(
        id=row.id,
        service_name=row.service_name,
        summary=row.summary,
        source=row.source,
        kind=ChangeKind(row.kind),
        happened_at=row.happened_at,
        details=dict(row.details or {}),
    )
