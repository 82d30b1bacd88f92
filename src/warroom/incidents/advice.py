"""Read-side suggestions for one incident: response mode, split, responders, update drafts.

Each gathers what it needs in a handful of queries and hands it to the pure rules in
`proposals`. The `*_in(session, incident)` forms let the service record the suggestion it acted
on inside the same transaction as the IC's decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.actors import Actor, Role, require_staff
from warroom.catalog.queries import dependency_graph
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.incidents import policy, proposals
from warroom.incidents.models import Change, Incident, IncidentRole, IncidentService
from warroom.incidents.people import owning_team_members_in, people_by_id_in
from warroom.incidents.queries import incident_detail, services_of, visible_incident
from warroom.incidents.schemas import (
    ChangeOut,
    IncidentDetail,
    Recommendation,
    ResponderRole,
    ResponseMode,
    SplitProposal,
    Status,
    SuggestedResponder,
    UpdateDraft,
)
from warroom.incidents.shapes import change_out

CHANGE_LOOKBACK = timedelta(hours=24)
PAST_INCIDENTS = 20
SIMILARITY_WINDOW = 500
_PAST_ROLES = (ResponderRole.COMMANDER.value, ResponderRole.OPERATIONS.value, "sme")
_RESOLVED = (Status.RESOLVED.value, Status.LEARNING.value, Status.CLOSED.value)


class IncidentPage(BaseModel):
    """Everything the incident page shows, read in one session."""

    incident: IncidentDetail
    drafts: list[UpdateDraft]
    recommendation: Recommendation
    proposal: SplitProposal
    responders: list[SuggestedResponder]


def incident_page(db: Database, actor: Actor, *, incident_id: int) -> IncidentPage:
    """The incident and all suggestions about it, sharing one session and one graph read."""
    require_staff(actor, action="reading recommendations")
    with db.read_session() as session:
        incident = visible_incident(session, actor, incident_id)
        detail = incident_detail(session, incident)
        graph = dependency_graph(session)
        return IncidentPage(
            incident=detail,
            drafts=proposals.draft_updates(detail, utcnow()),
            recommendation=recommendation_in(session, incident, graph),
            proposal=split_proposal_in(session, incident, graph),
            responders=_responders_in(session, incident),
        )


def recommendation_in(
    session: Session, incident: Incident, graph: Mapping[str, Sequence[str]] | None = None
) -> Recommendation:
    impacted = services_of(session, [incident.id]).get(incident.id, [])
    graph = graph if graph is not None else dependency_graph(session)
    direct_deps = sorted({d for name in impacted for d in graph.get(name, [])} - set(impacted))
    since = (incident.started_at or incident.detected_at) - CHANGE_LOOKBACK
    changes = _changes(session, [*impacted, *direct_deps], since)
    return proposals.recommend_mode(
        impact_ongoing=incident.impact_ongoing,
        status=Status(incident.status),
        direct=[c for c in changes if c.service_name in impacted],
        upstream=[c for c in changes if c.service_name not in impacted],
        chosen=ResponseMode(incident.response_mode) if incident.response_mode else None,
    )


def _changes(session: Session, names: list[str], since: datetime) -> list[ChangeOut]:
    if not names:
        return []
    rows = session.scalars(
        select(Change)
        .where(Change.service_name.in_(names), Change.happened_at >= since)
        .order_by(Change.happened_at.desc(), Change.id.desc())
        .limit(50)
    )
    return [change_out(row) for row in rows]


def split_proposal_in(
    session: Session, incident: Incident, graph: Mapping[str, Sequence[str]] | None = None
) -> SplitProposal:
    impacted = services_of(session, [incident.id]).get(incident.id, [])
    others = session.scalars(
        select(IncidentService.service_name)
        .join(Incident, Incident.id == IncidentService.incident_id)
        .where(
            Incident.id != incident.id,
            Incident.parent_id.is_distinct_from(incident.id),
            Incident.status.in_([s.value for s in policy.ACTIVE]),
        )
    )
    graph = graph if graph is not None else dependency_graph(session)
    return proposals.propose_split(graph, impacted, set(others))


def recommend_response_mode(db: Database, actor: Actor, *, incident_id: int) -> Recommendation:
    require_staff(actor, action="reading recommendations")
    with db.read_session() as session:
        return recommendation_in(session, visible_incident(session, actor, incident_id))


def propose_split(db: Database, actor: Actor, *, incident_id: int) -> SplitProposal:
    require_staff(actor, action="reading recommendations")
    with db.read_session() as session:
        return split_proposal_in(session, visible_incident(session, actor, incident_id))


def update_drafts(db: Database, actor: Actor, *, incident_id: int) -> list[UpdateDraft]:
    require_staff(actor, action="drafting updates")
    with db.read_session() as session:
        detail = incident_detail(session, visible_incident(session, actor, incident_id))
    return proposals.draft_updates(detail, utcnow())


def suggest_responders(db: Database, actor: Actor, *, incident_id: int) -> list[SuggestedResponder]:
    """Owning-team members of impacted services and people who resolved similar incidents."""
    require_staff(actor, action="reading suggestions")
    with db.read_session() as session:
        return _responders_in(session, visible_incident(session, actor, incident_id))


def _responders_in(session: Session, incident: Incident) -> list[SuggestedResponder]:
    impacted = services_of(session, [incident.id]).get(incident.id, [])
    reasons: dict[int, list[str]] = defaultdict(list)
    _owners(session, impacted, reasons)
    _past_responders(session, incident, impacted, reasons)
    taken = set(
        session.scalars(
            select(IncidentRole.user_id).where(
                IncidentRole.incident_id == incident.id, IncidentRole.ended_at.is_(None)
            )
        )
    )
    people = people_by_id_in(session, reasons)
    found = [
        SuggestedResponder(email=p.email, display_name=p.display_name, reasons=reasons[p.id])
        for p in people.values()
        if p.id not in taken and not p.disabled and p.role is not Role.EXTERNAL
    ]
    return sorted(found, key=lambda s: (-len(s.reasons), s.email))


def _owners(session: Session, impacted: list[str], reasons: dict[int, list[str]]) -> None:
    for user_id, team, service in owning_team_members_in(session, impacted):
        reasons[user_id].append(f"member of {team}, which owns {service}")


def _past_responders(
    session: Session, incident: Incident, impacted: list[str], reasons: dict[int, list[str]]
) -> None:
    """People in charge on resolved incidents that hit the same services or read alike."""
    past = session.execute(
        select(Incident.id, Incident.title, IncidentService.service_name)
        .join(IncidentService, IncidentService.incident_id == Incident.id)
        .where(
            Incident.id != incident.id,
            Incident.status.in_(_RESOLVED),
            IncidentService.service_name.in_(impacted),
        )
        .order_by(Incident.id.desc())
        .limit(PAST_INCIDENTS)
    )
    why = {pid: f"#{pid} ({title}), which also hit {service}" for pid, title, service in past}
    recent = session.execute(
        select(Incident.id, Incident.title)
        .where(Incident.id != incident.id, Incident.status.in_(_RESOLVED))
        .order_by(Incident.id.desc())
        .limit(SIMILARITY_WINDOW)
    ).all()
    for pid, title, shared in proposals.similar_titles(incident.title, recent)[:PAST_INCIDENTS]:
        why.setdefault(pid, f"#{pid} ({title}), a similar incident ({', '.join(shared)})")
    if not why:
        return
    rows = session.execute(
        select(IncidentRole.user_id, IncidentRole.role, IncidentRole.incident_id)
        .where(IncidentRole.incident_id.in_(list(why)), IncidentRole.role.in_(_PAST_ROLES))
        .order_by(IncidentRole.incident_id.desc())
    )
    for user_id, role, pid in rows:
        reasons[user_id].append(f"was {role} on resolved {why[pid]}")
