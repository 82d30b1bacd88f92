"""Use cases that change how the response is organised: workstreams, merging duplicates, and
the IC's verdicts on Warroom's suggestions (response mode, split). A verdict is always a logged
decision, with the suggestion's reasoning kept beside it for the postmortem.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, require_writer
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.errors import Conflict, FieldError
from warroom.incidents import policy
from warroom.incidents.advice import recommendation_in, split_proposal_in
from warroom.incidents.models import Incident, IncidentService
from warroom.incidents.queries import incident_out, workstreams_of
from warroom.incidents.records import log_decision_in
from warroom.incidents.roles import assign_role_in
from warroom.incidents.schemas import (
    DecisionCreate,
    DecisionOut,
    IncidentOut,
    ProposalVerdict,
    ResponderRole,
    ResponseMode,
    ResponseModeChoice,
    Status,
    WorkstreamCreate,
    WorkstreamOut,
)
from warroom.incidents.service import open_incident_in
from warroom.incidents.shapes import decision_out
from warroom.incidents.steps import record, require_command, user_by_email, writable_incident


def create_workstream(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, data: WorkstreamCreate
) -> WorkstreamOut:
    """Split off a child workstream with its own lead, status and timeline (IC's call)."""
    require_writer(actor, action="creating workstreams")
    with uow:
        parent = writable_incident(uow.session, actor, incident_id)
        require_command(uow.session, actor, parent, action="splitting the incident")
        child_id = create_workstream_in(uow.session, actor, parent, data)
        out = next(w for w in workstreams_of(uow.session, parent.id) if w.id == child_id)
        uow.commit()
    return out


def create_workstream_in(
    session: Session, actor: Actor, parent: Incident, data: WorkstreamCreate
) -> int:
    if parent.parent_id is not None:
        raise Conflict("a workstream cannot be split again; split its parent instead")
    if not policy.is_active(parent.status):
        raise Conflict(f"incident {parent.id} is {parent.status}: no new workstreams")
    child_id = open_incident_in(
        session,
        actor,
        title=data.title,
        severity=parent.severity,
        summary=f"Workstream of #{parent.id}: {parent.title}",
        service_names=data.services,
        detected_at=utcnow(),
        source=f"workstream of #{parent.id}",
    )
    child = session.get(Incident, child_id)
    assert child is not None
    child.parent_id = parent.id
    if data.lead:
        lead = user_by_email(session, data.lead, field="lead")
        assign_role_in(session, actor, child, lead, ResponderRole.COMMANDER)
    record(
        session,
        actor,
        parent,
        action="workstream",
        text=f"Workstream #{child.id} created: {data.title}"
        + (f" (lead {data.lead})" if data.lead else ""),
        data={"workstream_id": child.id, "lead": data.lead, "services": data.services},
    )
    return child_id


def merge_incident(uow: UnitOfWork, actor: Actor, *, incident_id: int, into: int) -> IncidentOut:
    """Close a duplicate as merged into another active incident, carrying its services over."""
    require_writer(actor, action="merging incidents")
    with uow:
        duplicate = writable_incident(uow.session, actor, incident_id)
        target = writable_incident(uow.session, actor, into)
        require_command(uow.session, actor, duplicate, action="merging")
        _check_mergeable(duplicate, target)
        _copy_services(uow.session, duplicate, target)
        duplicate.status = Status.MERGED.value
        duplicate.merged_into_id = target.id
        duplicate.closed_at = utcnow()
        record(
            uow.session,
            actor,
            duplicate,
            action="merged",
            text=f"Merged into #{target.id} ({target.title})",
            data={"into": target.id},
        )
        record(
            uow.session,
            actor,
            target,
            action="merge",
            text=f"#{duplicate.id} ({duplicate.title}) merged into this incident",
            data={"duplicate": duplicate.id},
        )
        out = incident_out(uow.session, duplicate)
        uow.commit()
    return out


def _check_mergeable(duplicate: Incident, target: Incident) -> None:
    if duplicate.id == target.id:
        raise Conflict("an incident cannot be merged into itself", [FieldError("into", "same")])
    for incident, field in ((duplicate, "incident"), (target, "into")):
        if incident.status not in policy.MERGEABLE:
            raise Conflict(
                f"incident {incident.id} is {incident.status}: only active incidents merge",
                [FieldError(field, f"incident {incident.id} is {incident.status}")],
            )


def _copy_services(session: Session, duplicate: Incident, target: Incident) -> None:
    names = set(
        session.scalars(
            select(IncidentService.service_name).where(IncidentService.incident_id == duplicate.id)
        )
    )
    have = set(
        session.scalars(
            select(IncidentService.service_name).where(IncidentService.incident_id == target.id)
        )
    )
    session.add_all(
        IncidentService(incident_id=target.id, service_name=n) for n in sorted(names - have)
    )


def choose_response_mode(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, choice: ResponseModeChoice
) -> DecisionOut:
    """The IC picks contain or investigate; logged as a decision next to the recommendation."""
    require_writer(actor, action="choosing the response mode")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        require_command(uow.session, actor, incident, action="choosing the response mode")
        advice = recommendation_in(uow.session, incident)
        incident.response_mode = choice.mode.value
        other = next(m for m in ResponseMode if m is not choice.mode)
        followed = "follows" if advice.mode is choice.mode else "overrides"
        rationale = choice.rationale or advice.suggested_action
        decision = DecisionCreate(
            decision=f"Response mode: {choice.mode.value}",
            rationale=f"{rationale} ({followed} Warroom's recommendation: {advice.mode.value})",
            alternatives=[other.value],
        )
        row = log_decision_in(uow.session, actor, incident, decision, kind="response_mode")
        out = decision_out(row)
        uow.commit()
    return out


def decide_split(
    uow: UnitOfWork, actor: Actor, *, incident_id: int, verdict: ProposalVerdict
) -> list[WorkstreamOut]:
    """Accept (create the proposed workstreams) or reject Warroom's split; either is logged."""
    require_writer(actor, action="deciding on the split")
    with uow:
        incident = writable_incident(uow.session, actor, incident_id)
        require_command(uow.session, actor, incident, action="deciding on the split")
        proposal = split_proposal_in(uow.session, incident)
        if not proposal.workstreams:
            raise Conflict(f"nothing to split on incident {incident_id}: {proposal.reasoning[-1]}")
        titles = [w.title for w in proposal.workstreams]
        if verdict.accept:
            for item in proposal.workstreams:
                create_workstream_in(
                    uow.session,
                    actor,
                    incident,
                    WorkstreamCreate(title=item.title, services=item.services),
                )
        decision = DecisionCreate(
            decision=("Accepted" if verdict.accept else "Rejected")
            + f" the proposed split: {', '.join(titles)}",
            rationale=verdict.rationale or " ".join(proposal.reasoning),
            alternatives=["keep one workstream" if verdict.accept else "split as proposed"],
        )
        log_decision_in(uow.session, actor, incident, decision, kind="split")
        out = workstreams_of(uow.session, incident.id)
        uow.commit()
    return out
