"""Use cases for what responders write down: decisions, stakeholders, assumptions, hypotheses,
stakeholder updates and escalations. Each is one transaction, lands on the timeline and is
audited (through `service.record`), so the timeline is the complete story of the response.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from warroom.actors import Actor, require_writer
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import NotFound
from warroom.incidents.models import (
    Assumption,
    Decision,
    Hypothesis,
    Incident,
    Stakeholder,
    StatusUpdate,
)
from warroom.incidents.schemas import (
    AssumptionCreate,
    AssumptionOut,
    AssumptionUpdate,
    DecisionCreate,
    DecisionOut,
    EscalationCreate,
    HypothesisCreate,
    HypothesisOut,
    HypothesisUpdate,
    StakeholderCreate,
    StakeholderOut,
    UpdateCreate,
    UpdateOut,
)
from warroom.incidents.shapes import assumption_out, decision_out, hypothesis_out, update_out
from warroom.incidents.steps import record, require_command, writable_incident


def add_decision(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: DecisionCreate
) -> DecisionOut:
    """Log a decision with its rationale and the alternatives that were considered."""
    require_writer(actor, action="logging decisions")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        row = log_decision_in(uow.session, actor, incident, data, kind="general")
        out = decision_out(row)
        uow.commit()
    return out


def log_decision_in(
    session: Session, actor: Actor, incident: Incident, data: DecisionCreate, *, kind: str
) -> Decision:
    row = Decision(
        incident_id=incident.id,
        kind=kind,
        decision=data.decision,
        rationale=data.rationale,
        alternatives=[a for a in data.alternatives if a.strip()],
        decided_by=actor.label,
        decided_at=utcnow(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        incident,
        action="decision",
        text=f"Decision: {data.decision}"
        + (f" (because {data.rationale})" if data.rationale else ""),
        data={"decision_id": row.id, "kind": kind, "alternatives": row.alternatives},
    )
    return row


def add_stakeholder(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: StakeholderCreate
) -> StakeholderOut:
    """Record a stakeholder group and what success means to them (part of scope: IC's call)."""
    require_writer(actor, action="changing stakeholders")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        require_command(uow.session, actor, incident, action="changing scope")
        row = Stakeholder(incident_id=incident.id, name=data.name, success=data.success)
        uow.session.add(row)
        uow.session.flush()
        record(
            uow.session,
            actor,
            incident,
            action="stakeholder",
            text=f"Stakeholder {data.name}: success means {data.success}",
            data={"stakeholder_id": row.id},
        )
        out = StakeholderOut(id=row.id, name=row.name, success=row.success)
        uow.commit()
    return out


def add_assumption(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: AssumptionCreate
) -> AssumptionOut:
    require_writer(actor, action="logging assumptions")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        now = utcnow()
        row = Assumption(
            incident_id=incident.id,
            statement=data.statement,
            evidence=data.evidence,
            confidence=data.confidence.value,
            owner=data.owner.strip() or actor.label,
            status="open",
            review_by=data.review_by,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        record(
            uow.session,
            actor,
            incident,
            action="assumption",
            text=f"Assumption ({data.confidence.value} confidence): {data.statement}",
            data={"assumption_id": row.id, "owner": row.owner},
        )
        out = assumption_out(row, now)
        uow.commit()
    return out


def update_assumption(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, assumption_id: int, data: AssumptionUpdate
) -> AssumptionOut:
    require_writer(actor, action="updating assumptions")
    changes = data.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        row = uow.session.get(Assumption, assumption_id)
        if row is None or row.incident_id != incident.id:
            raise NotFound(f"assumption {assumption_id} of incident {incident_id}")
        for name in ("status", "evidence", "confidence"):
            if name in changes:
                setattr(row, name, changes[name])
        if data.review_by is not None:
            row.review_by = data.review_by
        row.updated_at = utcnow()
        record(
            uow.session,
            actor,
            incident,
            action="assumption_update",
            text=f"Assumption {row.status}: {row.statement}",
            data={"assumption_id": row.id, **changes},
        )
        out = assumption_out(row, utcnow())
        uow.commit()
    return out


def add_hypothesis(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: HypothesisCreate
) -> HypothesisOut:
    require_writer(actor, action="logging hypotheses")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        now = utcnow()
        row = Hypothesis(
            incident_id=incident.id,
            statement=data.statement,
            test_plan=data.test_plan,
            production_risk=data.production_risk.value,
            status="open",
            result="",
            created_by=actor.label,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        record(
            uow.session,
            actor,
            incident,
            action="hypothesis",
            text=f"Hypothesis ({data.production_risk.value} risk to test): {data.statement}",
            data={"hypothesis_id": row.id},
        )
        out = hypothesis_out(row)
        uow.commit()
    return out


def update_hypothesis(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, hypothesis_id: int, data: HypothesisUpdate
) -> HypothesisOut:
    require_writer(actor, action="updating hypotheses")
    changes = data.model_dump(exclude_none=True, mode="json")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        row = uow.session.get(Hypothesis, hypothesis_id)
        if row is None or row.incident_id != incident.id:
            raise NotFound(f"hypothesis {hypothesis_id} of incident {incident_id}")
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        result = f" — {row.result}" if row.result else ""
        record(
            uow.session,
            actor,
            incident,
            action="hypothesis_update",
            text=f"Hypothesis {row.status}: {row.statement}{result}",
            data={"hypothesis_id": row.id, **changes},
        )
        out = hypothesis_out(row)
        uow.commit()
    return out


def post_update(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: UpdateCreate
) -> UpdateOut:
    """Publish a stakeholder update; it restarts the update clock for the incident."""
    require_writer(actor, action="posting updates")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        now = utcnow()
        row = StatusUpdate(
            incident_id=incident.id,
            audience=data.audience.value,
            body=data.body.strip(),
            author=actor.label,
            published_at=now,
        )
        uow.session.add(row)
        incident.last_update_at = now
        uow.session.flush()
        record(
            uow.session,
            actor,
            incident,
            action="update",
            text=f"{data.audience.value.capitalize()} update posted",
            data={"update_id": row.id, "audience": data.audience.value},
        )
        out = update_out(row)
        uow.commit()
    return out


def escalate(uow: UnitOfWork, actor: Actor, *, incident_id: int, data: EscalationCreate) -> None:
    """Record an escalation to another team or a manager, with its reason."""
    require_writer(actor, action="escalating")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        record(
            uow.session,
            actor,
            incident,
            action="escalation",
            text=f"Escalated to {data.team}: {data.reason}",
            data={"to": data.team, "reason": data.reason},
        )
        uow.commit()
