"""Incident use cases against a real database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.conftest import SYSTEM, Person
from tests.incidents.helpers import UowFactory, declare, seed_catalog
from warroom.actors import Role
from warroom.audit.queries import list_entries
from warroom.audit.service import verify_chain
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from warroom.incidents import advice, proposals, queries, records, roles, service, structure
from warroom.incidents.markdown import render as render_markdown
from warroom.incidents.models import Assumption, Incident
from warroom.incidents.schemas import (
    AssumptionCreate,
    Audience,
    DecisionCreate,
    HypothesisCreate,
    IncidentUpdate,
    ProposalVerdict,
    ResponderRole,
    ResponseMode,
    ResponseModeChoice,
    Risk,
    Severity,
    Status,
    UpdateCreate,
    WorkstreamCreate,
)


def _audit_count(db: Database) -> int:
    return len(list_entries(db, SYSTEM, limit=500).items)


# --- state machine ---------------------------------------------------------------------------


def test_an_incident_walks_the_whole_lifecycle_and_stamps_its_milestones(
    db: Database, new_uow: UowFactory
) -> None:
    incident = declare(new_uow)
    for status in (
        Status.INVESTIGATING,
        Status.MITIGATING,
        Status.MONITORING,
        Status.RESOLVED,
        Status.LEARNING,
        Status.CLOSED,
    ):
        out = service.change_status(new_uow(), SYSTEM, incident_id=incident.id, status=status)
        assert out.status is status
    assert out.acknowledged_at and out.mitigated_at and out.resolved_at and out.closed_at
    assert out.allowed_transitions == []


def test_an_invalid_transition_is_refused_naming_the_allowed_ones(new_uow: UowFactory) -> None:
    incident = declare(new_uow)
    with pytest.raises(Conflict, match="from triage to closed; allowed: investigating") as caught:
        service.change_status(new_uow(), SYSTEM, incident_id=incident.id, status=Status.CLOSED)
    assert caught.value.errors[0].field == "status"
    assert "declined" in caught.value.detail and "cancelled" in caught.value.detail


def test_an_ended_incident_says_no_transition_is_left(new_uow: UowFactory) -> None:
    incident = declare(new_uow)
    service.change_status(new_uow(), SYSTEM, incident_id=incident.id, status=Status.DECLINED)
    with pytest.raises(Conflict, match="none"):
        service.change_status(new_uow(), SYSTEM, incident_id=incident.id, status=Status.TRIAGE)


def test_declaring_with_an_unknown_service_names_the_field(new_uow: UowFactory) -> None:
    seed_catalog(new_uow)
    with pytest.raises(InvalidInput) as caught:
        declare(new_uow, services=["checkout", "nope"])
    assert [e.field for e in caught.value.errors] == ["services.1"]


# --- decision rights -----------------------------------------------------------------------


def test_only_the_commander_or_an_admin_changes_severity_status_and_scope(
    new_uow: UowFactory, make_person: Callable[..., Person], admin: Person
) -> None:
    commander, other = make_person(Role.RESPONDER), make_person(Role.RESPONDER)
    incident = declare(new_uow)
    roles.assign_role(
        new_uow(),
        other.actor,
        incident_id=incident.id,
        user_email=commander.email,
        role=ResponderRole.COMMANDER,
    )
    with pytest.raises(PermissionDenied, match="incident commander or an admin"):
        service.change_status(
            new_uow(), other.actor, incident_id=incident.id, status=Status.INVESTIGATING
        )
    with pytest.raises(PermissionDenied):
        service.update_incident(
            new_uow(),
            other.actor,
            incident_id=incident.id,
            data=IncidentUpdate(severity=Severity.SEV1),
        )
    with pytest.raises(PermissionDenied):
        service.update_incident(
            new_uow(), other.actor, incident_id=incident.id, data=IncidentUpdate(in_scope=["x"])
        )
    # Others may still edit the free fields and take notes.
    service.update_incident(
        new_uow(), other.actor, incident_id=incident.id, data=IncidentUpdate(eta="30 min")
    )
    out = service.update_incident(
        new_uow(),
        commander.actor,
        incident_id=incident.id,
        data=IncidentUpdate(severity=Severity.SEV1, in_scope=["EU checkout"]),
    )
    assert out.severity is Severity.SEV1 and out.in_scope == ["EU checkout"]
    out = service.change_status(
        new_uow(), admin.actor, incident_id=incident.id, status=Status.INVESTIGATING
    )
    assert out.status is Status.INVESTIGATING


def test_viewers_cannot_change_incidents(new_uow: UowFactory, viewer: Person) -> None:
    incident = declare(new_uow)
    with pytest.raises(PermissionDenied, match="requires one of the roles"):
        service.add_note(new_uow(), viewer.actor, incident_id=incident.id, text="hi")


def test_a_command_handoff_is_recorded_and_ends_the_old_command(
    db: Database, new_uow: UowFactory, make_person: Callable[..., Person]
) -> None:
    first, second = make_person(Role.RESPONDER), make_person(Role.RESPONDER)
    incident = declare(new_uow)
    roles.assign_role(
        new_uow(),
        first.actor,
        incident_id=incident.id,
        user_email=first.email,
        role=ResponderRole.COMMANDER,
    )
    with pytest.raises(PermissionDenied):
        roles.assign_role(
            new_uow(),
            second.actor,
            incident_id=incident.id,
            user_email=second.email,
            role=ResponderRole.COMMANDER,
        )
    out = roles.assign_role(
        new_uow(),
        first.actor,
        incident_id=incident.id,
        user_email=second.email,
        role=ResponderRole.COMMANDER,
    )
    assert [(r.role, r.email) for r in out.roles] == [(ResponderRole.COMMANDER, second.email)]
    last = queries.get_timeline(db, SYSTEM, incident_id=incident.id)[-1]
    assert last.kind == "handoff"
    assert last.text == f"Command handed over from {first.email} to {second.email}"


# --- external participants -------------------------------------------------------------------


def test_an_external_participant_sees_only_their_incident_and_is_audited(
    db: Database, new_uow: UowFactory, make_person: Callable[..., Person]
) -> None:
    vendor = make_person(Role.EXTERNAL)
    mine, other = declare(new_uow, title="CDN errors"), declare(new_uow, title="Secret")
    with pytest.raises(InvalidInput, match="external participants"):
        roles.assign_role(
            new_uow(),
            SYSTEM,
            incident_id=mine.id,
            user_email=vendor.email,
            role=ResponderRole.COMMANDER,
        )
    roles.assign_role(
        new_uow(), SYSTEM, incident_id=mine.id, user_email=vendor.email, role=ResponderRole.SME
    )
    listed = queries.list_incidents(db, vendor.actor).items
    assert [i.id for i in listed] == [mine.id]
    with pytest.raises(NotFound, match=f"incident {other.id}"):
        queries.get_incident(db, vendor.actor, incident_id=other.id)
    with pytest.raises(NotFound):
        service.add_note(new_uow(), vendor.actor, incident_id=other.id, text="peek")
    with pytest.raises(PermissionDenied, match="requires one of the roles: admin, responder"):
        service.change_status(
            new_uow(), vendor.actor, incident_id=mine.id, status=Status.INVESTIGATING
        )
    with pytest.raises(PermissionDenied):
        advice.suggest_responders(db, vendor.actor, incident_id=mine.id)
    service.add_note(new_uow(), vendor.actor, incident_id=mine.id, text="edge node 12 is sick")
    service.record_external_view(new_uow(), vendor.actor, incident_id=mine.id, what="incident")
    entries = [
        e for e in list_entries(db, SYSTEM, limit=500).items if e.actor_label == vendor.email
    ]
    assert {e.action for e in entries} == {"incident.note", "incident.external_view"}


# --- scope, assumptions, hypotheses, decisions ---------------------------------------------------


def test_assumptions_past_their_review_time_are_flagged_overdue(
    db: Database, new_uow: UowFactory
) -> None:
    incident = declare(new_uow)
    soon = records.add_assumption(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        data=AssumptionCreate(
            statement="Only EU is affected",
            evidence="dashboards",
            review_by=utcnow() + timedelta(minutes=10),
        ),
    )
    assert soon.overdue is False and soon.owner == SYSTEM.label
    with new_uow() as uow:
        uow.session.execute(
            update(Assumption)
            .where(Assumption.id == soon.id)
            .values(review_by=utcnow() - timedelta(minutes=1))
        )
        uow.commit()
    detail = queries.get_incident(db, SYSTEM, incident_id=incident.id)
    assert [a.overdue for a in detail.assumptions] == [True]
    records.update_assumption(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        assumption_id=soon.id,
        data=records.AssumptionUpdate(status="validated"),  # type: ignore[arg-type]
    )
    detail = queries.get_incident(db, SYSTEM, incident_id=incident.id)
    assert [(a.status.value, a.overdue) for a in detail.assumptions] == [("validated", False)]


def test_stakeholder_updates_are_due_per_severity_cadence(
    db: Database, new_uow: UowFactory
) -> None:
    incident = declare(new_uow, severity=Severity.SEV1)
    assert incident.next_update_due == incident.detected_at + timedelta(minutes=30)
    assert incident.update_overdue is False
    with new_uow() as uow:
        uow.session.execute(
            update(Incident)
            .where(Incident.id == incident.id)
            .values(detected_at=utcnow() - timedelta(minutes=31))
        )
        uow.commit()
    assert queries.get_incident(db, SYSTEM, incident_id=incident.id).update_overdue
    assert queries.list_incidents(db, SYSTEM).items[0].update_overdue
    records.post_update(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        data=UpdateCreate(audience=Audience.EXECUTIVE, body="We are on it."),
    )
    assert not queries.get_incident(db, SYSTEM, incident_id=incident.id).update_overdue


def test_decisions_and_hypotheses_are_logged_with_who_and_why(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    incident = declare(new_uow)
    records.add_decision(
        new_uow(),
        responder.actor,
        incident_id=incident.id,
        data=DecisionCreate(
            decision="Fail over to the secondary region",
            rationale="primary DB is degraded",
            alternatives=["wait", "restart primary"],
        ),
    )
    records.add_hypothesis(
        new_uow(),
        responder.actor,
        incident_id=incident.id,
        data=HypothesisCreate(
            statement="Connection pool exhausted",
            test_plan="raise pool size on one pod",
            production_risk=Risk.MEDIUM,
        ),
    )
    detail = queries.get_incident(db, SYSTEM, incident_id=incident.id)
    decision = detail.decisions[0]
    assert (decision.decided_by, decision.alternatives) == (
        responder.email,
        ["wait", "restart primary"],
    )
    assert detail.hypotheses[0].production_risk is Risk.MEDIUM
    assert [e.kind for e in detail.timeline][-2:] == ["decision", "hypothesis"]


def test_every_mutation_appends_an_audit_entry(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    incident = declare(new_uow)
    steps: list[Callable[[], object]] = [
        lambda: service.add_note(new_uow(), SYSTEM, incident_id=incident.id, text="n"),
        lambda: roles.assign_role(
            new_uow(),
            SYSTEM,
            incident_id=incident.id,
            user_email=responder.email,
            role=ResponderRole.SCRIBE,
        ),
        lambda: service.update_incident(
            new_uow(), SYSTEM, incident_id=incident.id, data=IncidentUpdate(eta="1h")
        ),
        lambda: service.change_status(
            new_uow(), SYSTEM, incident_id=incident.id, status=Status.INVESTIGATING
        ),
        lambda: records.add_decision(
            new_uow(), SYSTEM, incident_id=incident.id, data=DecisionCreate(decision="d")
        ),
        lambda: records.add_assumption(
            new_uow(), SYSTEM, incident_id=incident.id, data=AssumptionCreate(statement="a")
        ),
        lambda: records.add_hypothesis(
            new_uow(), SYSTEM, incident_id=incident.id, data=HypothesisCreate(statement="h")
        ),
        lambda: records.post_update(
            new_uow(),
            SYSTEM,
            incident_id=incident.id,
            data=UpdateCreate(audience=Audience.CUSTOMER, body="b"),
        ),
        lambda: structure.create_workstream(
            new_uow(), SYSTEM, incident_id=incident.id, data=WorkstreamCreate(title="w")
        ),
    ]
    for step in steps:
        before = _audit_count(db)
        step()
        assert _audit_count(db) > before, step


# --- suggestions ---------------------------------------------------------------------------


def test_contain_is_recommended_for_ongoing_impact_after_a_recent_change(
    db: Database, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident = declare(new_uow, services=["payments"], impact="Card payments fail", ongoing=True)
    with new_uow() as uow:
        service.record_change_in(
            uow.session,
            SYSTEM,
            service_name="payments",
            summary="Deploy payments v42",
            source="pagerduty",
            kind="code",
            happened_at=utcnow() - timedelta(minutes=20),
            details={},
        )
        uow.commit()
    advice_now = advice.recommend_response_mode(db, SYSTEM, incident_id=incident.id)
    assert advice_now.mode is ResponseMode.CONTAIN
    assert "Deploy payments v42" in advice_now.suggested_action
    assert any("affected right now" in r for r in advice_now.reasons)
    decision = structure.choose_response_mode(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        choice=ResponseModeChoice(mode=ResponseMode.CONTAIN, rationale="roll back v42"),
    )
    assert decision.kind == "response_mode" and decision.alternatives == ["investigate"]
    assert "follows Warroom's recommendation" in decision.rationale


def test_investigate_is_recommended_without_ongoing_impact(
    db: Database, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident = declare(new_uow, services=["search"])
    advice_now = advice.recommend_response_mode(db, SYSTEM, incident_id=incident.id)
    assert advice_now.mode is ResponseMode.INVESTIGATE
    assert any("No ongoing customer impact" in r for r in advice_now.reasons)


def test_the_split_follows_the_dependency_graph_and_the_ic_decides(
    db: Database, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident = declare(new_uow, services=["web", "checkout", "ledger", "search-index"])
    proposal = advice.propose_split(db, SYSTEM, incident_id=incident.id)
    origins = {w.origin: w.services for w in proposal.workstreams}
    # web and checkout depend on the impacted ledger: symptoms, not origins.
    assert origins == {
        "ledger": ["ledger", "checkout", "web"],
        "search-index": ["search-index", "web"],
    }
    assert any(
        "ledger is impacted and all its dependencies (ledger-db)" in r for r in proposal.reasoning
    )
    created = structure.decide_split(
        new_uow(), SYSTEM, incident_id=incident.id, verdict=ProposalVerdict(accept=True)
    )
    assert [w.title for w in created] == ["Restore ledger", "Restore search-index"]
    detail = queries.get_incident(db, SYSTEM, incident_id=incident.id)
    assert detail.decisions[-1].kind == "split" and "Accepted" in detail.decisions[-1].decision


def test_a_single_origin_gets_no_split_and_rejecting_is_logged(
    db: Database, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    single = declare(new_uow, services=["checkout", "payments"])
    assert advice.propose_split(db, SYSTEM, incident_id=single.id).workstreams == []
    with pytest.raises(Conflict, match="nothing to split"):
        structure.decide_split(
            new_uow(), SYSTEM, incident_id=single.id, verdict=ProposalVerdict(accept=True)
        )
    double = declare(new_uow, services=["ledger", "search"])
    structure.decide_split(
        new_uow(), SYSTEM, incident_id=double.id, verdict=ProposalVerdict(accept=False)
    )
    detail = queries.get_incident(db, SYSTEM, incident_id=double.id)
    assert detail.workstreams == [] and detail.decisions[-1].decision.startswith("Rejected")


def test_workstreams_roll_up_their_status_into_the_parent(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    parent = declare(new_uow)
    child = structure.create_workstream(
        new_uow(),
        SYSTEM,
        incident_id=parent.id,
        data=WorkstreamCreate(title="Database", lead=responder.email),
    )
    assert child.lead == responder.email and child.status is Status.TRIAGE
    service.change_status(
        new_uow(), responder.actor, incident_id=child.id, status=Status.MITIGATING
    )
    detail = queries.get_incident(db, SYSTEM, incident_id=parent.id)
    assert detail.workstreams[0].status is Status.MITIGATING
    assert "Workstream #" in detail.timeline[-1].text and "mitigating" in detail.timeline[-1].text
    assert [i.id for i in queries.list_incidents(db, SYSTEM).items] == [parent.id]


def test_merging_a_duplicate_closes_it_and_carries_its_services(
    db: Database, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    keep, dup = declare(new_uow, services=["web"]), declare(new_uow, services=["search"])
    out = structure.merge_incident(new_uow(), SYSTEM, incident_id=dup.id, into=keep.id)
    assert out.status is Status.MERGED and out.merged_into_id == keep.id
    assert queries.get_incident(db, SYSTEM, incident_id=keep.id).services == ["search", "web"]
    with pytest.raises(Conflict, match="only active incidents merge"):
        structure.merge_incident(new_uow(), SYSTEM, incident_id=keep.id, into=dup.id)


def test_responders_are_suggested_with_a_reason_each(
    db: Database, new_uow: UowFactory, make_person: Callable[..., Person]
) -> None:
    owner, veteran = make_person(Role.RESPONDER), make_person(Role.RESPONDER)
    seed_catalog(new_uow, members={"payments": [owner.email]})
    past = declare(new_uow, services=["payments"], title="Old payments outage")
    roles.assign_role(
        new_uow(),
        SYSTEM,
        incident_id=past.id,
        user_email=veteran.email,
        role=ResponderRole.COMMANDER,
    )
    service.resolve_incident(new_uow(), SYSTEM, incident_id=past.id)
    incident = declare(new_uow, services=["payments"])
    suggestions = {
        s.email: s.reasons for s in advice.suggest_responders(db, SYSTEM, incident_id=incident.id)
    }
    assert suggestions[owner.email] == ["member of payments, which owns payments"]
    assert suggestions[veteran.email] == [
        f"was commander on resolved #{past.id} (Old payments outage), which also hit payments"
    ]


def test_update_drafts_speak_to_each_audience(db: Database, new_uow: UowFactory) -> None:
    seed_catalog(new_uow)
    incident = declare(
        new_uow, services=["payments"], impact="Some card payments fail", ongoing=True
    )
    drafts = {d.audience: d.body for d in advice.update_drafts(db, SYSTEM, incident_id=incident.id)}
    assert "Decisions needed: Name an incident commander." in drafts[Audience.EXECUTIVE]
    assert "ETA: not known yet." in drafts[Audience.EXECUTIVE]
    assert "Some card payments fail" in drafts[Audience.CUSTOMER]
    assert "payments" not in drafts[Audience.CUSTOMER].replace("card payments", "")
    assert "Checkout failing" not in drafts[Audience.CUSTOMER]
    assert "Services: payments" in drafts[Audience.ENGINEERING]


def test_the_public_status_page_shows_only_customer_updates_of_active_incidents(
    db: Database, new_uow: UowFactory
) -> None:
    active, done = declare(new_uow), declare(new_uow)
    for incident, audience, body in (
        (active, Audience.CUSTOMER, "Checkout is slow for some customers."),
        (active, Audience.ENGINEERING, "payments pool exhausted"),
        (done, Audience.CUSTOMER, "Search was down."),
    ):
        records.post_update(
            new_uow(),
            SYSTEM,
            incident_id=incident.id,
            data=UpdateCreate(audience=audience, body=body),
        )
    service.resolve_incident(new_uow(), SYSTEM, incident_id=done.id)
    public = queries.public_status(db)
    assert [p.reference for p in public] == [f"#{active.id}"]
    assert [u.body for u in public[0].updates] == ["Checkout is slow for some customers."]


def test_the_markdown_export_has_the_header_timeline_and_decisions(
    db: Database, new_uow: UowFactory
) -> None:
    incident = declare(new_uow, title="Pipes | and | bars")
    records.add_decision(
        new_uow(),
        SYSTEM,
        incident_id=incident.id,
        data=DecisionCreate(decision="Roll back", rationale="bad deploy", alternatives=["wait"]),
    )
    text = render_markdown(queries.get_incident(db, SYSTEM, incident_id=incident.id))
    assert text.startswith(f"# Incident #{incident.id}: Pipes | and | bars\n")
    assert "- **Severity:** SEV2 (Major)" in text
    assert "| Time (UTC) | Who | What |" in text
    assert "Pipes \\| and \\| bars" in text
    assert "**Roll back** — bad deploy. Alternatives: wait." in text


def test_severity_definitions_can_be_overridden_by_admins(
    db: Database, new_uow: UowFactory, responder: Person
) -> None:
    data = service.SeverityDefinitionIn(
        name="Outage", description="Everything is down", update_every_minutes=15
    )
    with pytest.raises(PermissionDenied):
        service.set_severity_definition(
            new_uow(), responder.actor, severity=Severity.SEV1, data=data
        )
    service.set_severity_definition(new_uow(), SYSTEM, severity=Severity.SEV1, data=data)
    levels = {d.severity: d for d in queries.list_severities(db)}
    assert (levels[Severity.SEV1].name, levels[Severity.SEV1].update_every_minutes) == (
        "Outage",
        15,
    )
    assert levels[Severity.SEV2].customised is False
    incident = declare(new_uow, severity=Severity.SEV1)
    assert incident.next_update_due == incident.detected_at + timedelta(minutes=15)


def test_people_from_similar_past_incidents_are_suggested_even_on_other_services(
    db: Database, new_uow: UowFactory, make_person: Callable[..., Person]
) -> None:
    veteran = make_person(Role.RESPONDER)
    seed_catalog(new_uow)
    past = declare(new_uow, title="Ledger replication lag in eu-west", services=["ledger-db"])
    roles.assign_role(
        new_uow(),
        SYSTEM,
        incident_id=past.id,
        user_email=veteran.email,
        role=ResponderRole.OPERATIONS,
    )
    service.resolve_incident(new_uow(), SYSTEM, incident_id=past.id)
    incident = declare(new_uow, title="Replication lag in eu-west again", services=["search"])
    suggestions = {
        s.email: s.reasons for s in advice.suggest_responders(db, SYSTEM, incident_id=incident.id)
    }
    assert suggestions[veteran.email] == [
        f"was operations on resolved #{past.id} (Ledger replication lag in eu-west), "
        "a similar incident (eu-west, lag, replication)"
    ]


def test_generic_words_do_not_make_titles_similar() -> None:
    candidates = [
        (1, "Checkout errors"),
        (2, "Search slow and failing"),
        (3, "Checkout latency EU"),
    ]
    found = proposals.similar_titles("Checkout latency errors", candidates)
    assert [(i, shared) for i, _title, shared in found] == [(3, ["checkout", "latency"])]


# --- timeline entries added by other domains ----------------------------------------------------


def test_entries_added_in_a_transaction_are_written_at_its_commit_in_order(
    db: Database, new_uow: UowFactory
) -> None:
    incident = declare(new_uow)
    before = queries.get_timeline(db, SYSTEM, incident_id=incident.id)
    with db.read_session() as session:
        declared_at = session.get_one(Incident, incident.id).updated_at
    with new_uow() as uow:
        for text in ("first", "second"):
            service.add_timeline_entry_in(
                uow.session, SYSTEM, incident_id=incident.id, kind="alert", text=text
            )
        assert len(queries.get_timeline(db, SYSTEM, incident_id=incident.id)) == len(before)
        uow.commit()
    with new_uow() as uow:  # rolled back: nothing of it is written
        service.add_timeline_entry_in(
            uow.session, SYSTEM, incident_id=incident.id, kind="alert", text="dropped"
        )
    after = queries.get_timeline(db, SYSTEM, incident_id=incident.id)
    assert [e.text for e in after[len(before) :]] == ["first", "second"]
    with db.read_session() as session:
        touched = session.get_one(Incident, incident.id).updated_at
    assert touched > declared_at
    actions = [e.action for e in list_entries(db, SYSTEM, limit=3).items]
    assert actions[:2] == ["incident.alert", "incident.alert"]


def test_held_entries_store_every_character_and_value_as_given(
    db: Database, new_uow: UowFactory
) -> None:
    # On PostgreSQL they go in one statement over array literals: quoting must not show.
    incident = declare(new_uow)
    tricky = 'quote " backslash \\ braces {a,b} comma, NULL\nline two ünïcode 🚨'
    data = {"text": tricky, "nested": {"list": [1, None, "x"]}, "empty": ""}
    with new_uow() as uow:
        service.add_timeline_entry_in(
            uow.session, SYSTEM, incident_id=incident.id, kind="alert", text=tricky, data=data
        )
        service.add_timeline_entry_in(
            uow.session, SYSTEM, incident_id=incident.id, kind="note", text="", data={}
        )
        uow.commit()
    entries = queries.get_timeline(db, SYSTEM, incident_id=incident.id)[-2:]
    assert [(e.kind, e.text, e.data) for e in entries] == [
        ("alert", tricky, data),
        ("note", "", {}),
    ]
    assert verify_chain(db, SYSTEM).intact
