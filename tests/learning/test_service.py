"""Learning use cases against a real database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.conftest import SYSTEM, Person
from tests.learning.helpers import UowFactory, resolved_incident, seed_catalog, written
from warroom.actors import Role
from warroom.audit.queries import list_entries
from warroom.db.engine import Database
from warroom.errors import Conflict, InvalidInput, PermissionDenied
from warroom.learning import actions, decisions, postmortems, queries, runbooks
from warroom.learning.markdown import postmortem_markdown
from warroom.learning.models import Postmortem
from warroom.learning.prefill import add_business_days
from warroom.learning.schemas import (
    ActionCreate,
    ActionStatus,
    ActionUpdate,
    AdrCreate,
    AdrStatus,
    FactorIn,
    PostmortemStatus,
    PostmortemUpdate,
    ProposalCreate,
    ProposalStatus,
    RunbookWrite,
)

# --- postmortems ---------------------------------------------------------------------------


def test_a_postmortem_from_an_incident_is_prefilled_from_its_record(
    db: Database, new_uow: UowFactory
) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow)
    pm = postmortems.create_from_incident(new_uow(), SYSTEM, incident_id=incident_id)
    assert pm.status is PostmortemStatus.DRAFT
    assert pm.services == ["checkout", "payments"]
    assert "Some customers could not pay" in pm.sections["impact"]
    assert "resolved" in pm.sections["timeline"].lower()
    assert "Roll back payments to v41" in pm.sections["response"]
    assert "times out under load" in pm.sections["response"]
    assert pm.due_at is not None and pm.due_at > pm.occurred_at


def test_a_postmortem_waits_for_the_incident_to_be_resolved(new_uow: UowFactory) -> None:
    seed_catalog(new_uow)
    incident_id = resolved_incident(new_uow)
    postmortems.create_from_incident(new_uow(), SYSTEM, incident_id=incident_id)
    with pytest.raises(Conflict, match="already has a postmortem"):
        postmortems.create_from_incident(new_uow(), SYSTEM, incident_id=incident_id)


def test_due_dates_count_business_days() -> None:
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert add_business_days(friday, 3) == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_the_review_workflow_goes_draft_review_published_and_warns_on_blame(
    new_uow: UowFactory, responder: Person, admin: Person
) -> None:
    pm = written(new_uow, "Checkout outage", "The engineer should have checked the config.")
    with pytest.raises(Conflict, match="send it to review"):
        postmortems.publish(new_uow(), responder.actor, postmortem_id=pm.id)
    postmortems.request_review(
        new_uow(), responder.actor, postmortem_id=pm.id, reviewers=[admin.email]
    )
    postmortems.add_comment(
        new_uow(), admin.actor, postmortem_id=pm.id, body="Add the timeline", section="timeline"
    )
    approved = postmortems.approve(new_uow(), admin.actor, postmortem_id=pm.id)
    assert approved.reviewers[0].approved_at is not None
    assert approved.comments[0].section == "timeline"
    result = postmortems.publish(new_uow(), responder.actor, postmortem_id=pm.id)
    assert result.postmortem.status is PostmortemStatus.PUBLISHED
    assert any("should have" in w.phrase.lower() for w in result.warnings)
    with pytest.raises(Conflict, match="no longer editable"):
        postmortems.update_postmortem(
            new_uow(), responder.actor, postmortem_id=pm.id, data=PostmortemUpdate(title="x")
        )


def test_only_named_reviewers_approve(new_uow: UowFactory, responder: Person) -> None:
    pm = written(new_uow, "Outage", "Something broke.")
    postmortems.request_review(new_uow(), SYSTEM, postmortem_id=pm.id, reviewers=["a@b.c"])
    with pytest.raises(Conflict, match="not a reviewer"):
        postmortems.approve(new_uow(), responder.actor, postmortem_id=pm.id)


def test_factors_come_from_the_taxonomy_which_the_organisation_extends(
    new_uow: UowFactory, db: Database
) -> None:
    pm = written(new_uow, "Outage", "Broke.", factors=["change", "detection"])
    assert pm.factors == ["change", "detection"]
    with pytest.raises(InvalidInput, match="unknown contributing factors"):
        written(new_uow, "Other", "Broke.", factors=["gremlins"])
    postmortems.add_factor(
        new_uow(), SYSTEM, data=FactorIn(key="gremlins", name="Gremlins", keywords=["gremlin"])
    )
    assert written(new_uow, "Other", "Broke.", factors=["gremlins"]).factors == ["gremlins"]
    keys = [f.key for f in queries.list_factors(db, SYSTEM)]
    assert "gremlins" in keys and "change" in keys


def test_overdue_postmortems_are_reported(new_uow: UowFactory, db: Database) -> None:
    late = written(new_uow, "Late", "x")
    written(new_uow, "On time", "y")
    with new_uow() as uow:
        uow.session.execute(
            update(Postmortem)
            .where(Postmortem.id == late.id)
            .values(due_at=datetime.now(UTC) - timedelta(days=1))
        )
        uow.commit()
    report = queries.list_postmortems(db, SYSTEM, overdue_only=True)
    assert [pm.title for pm in report] == ["Late"]


def test_markdown_export_and_import_round_trip(new_uow: UowFactory, db: Database) -> None:
    pm = written(new_uow, "Cache stampede", "The cache emptied.", factors=["capacity"])
    actions.create_action(
        new_uow(),
        SYSTEM,
        data=ActionCreate(
            title="Add jitter to expiry",
            owner="a@example.com",
            due_on=date(2027, 1, 5),
            success_metric="no stampede in a load test",
            postmortem_id=pm.id,
        ),
    )
    text = postmortem_markdown(queries.get_postmortem(db, SYSTEM, postmortem_id=pm.id))
    imported = postmortems.import_markdown(new_uow(), SYSTEM, text=text)
    assert imported.title == "Cache stampede"
    assert imported.factors == ["capacity"]
    assert imported.sections["summary"] == "The cache emptied."
    assert [a.title for a in imported.actions] == ["Add jitter to expiry"]
    assert imported.actions[0].due_on == date(2027, 1, 5)


# --- action items --------------------------------------------------------------------------


def test_work_cannot_start_without_a_success_metric(new_uow: UowFactory) -> None:
    item = actions.create_action(new_uow(), SYSTEM, data=ActionCreate(title="Alert on hit ratio"))
    with pytest.raises(InvalidInput, match="success metric"):
        actions.update_action(
            new_uow(), SYSTEM, action_id=item.id, data=ActionUpdate(status=ActionStatus.IN_PROGRESS)
        )
    started = actions.update_action(
        new_uow(),
        SYSTEM,
        action_id=item.id,
        data=ActionUpdate(success_metric="pages within 5 min", status=ActionStatus.IN_PROGRESS),
    )
    assert started.status is ActionStatus.IN_PROGRESS


def test_overdue_and_unowned_reports(new_uow: UowFactory, db: Database) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    late = actions.create_action(
        new_uow(), SYSTEM, data=ActionCreate(title="Late", owner="o@x.y", due_on=yesterday)
    )
    unowned = actions.create_action(new_uow(), SYSTEM, data=ActionCreate(title="Nobody's"))
    assert [a.id for a in queries.list_actions(db, SYSTEM, overdue_only=True)] == [late.id]
    assert [a.id for a in queries.list_actions(db, SYSTEM, unowned_only=True)] == [unowned.id]


def test_viewers_cannot_create_action_items(new_uow: UowFactory, viewer: Person) -> None:
    with pytest.raises(PermissionDenied):
        actions.create_action(new_uow(), viewer.actor, data=ActionCreate(title="x"))


# --- runbooks ------------------------------------------------------------------------------


def test_runbooks_keep_history_and_the_owning_team_decides_proposals(
    new_uow: UowFactory, make_person: object
) -> None:
    owner = make_person(Role.RESPONDER, "owner@example.com")  # type: ignore[operator]
    outsider = make_person(Role.RESPONDER, "outsider@example.com")  # type: ignore[operator]
    seed_catalog(new_uow, members={"payments": ["owner@example.com"]})
    runbooks.write_runbook(
        new_uow(), SYSTEM, service="payments", data=RunbookWrite(body="# Payments\n\nStep 1\n")
    )
    proposal = runbooks.propose_change(
        new_uow(),
        outsider.actor,
        service="payments",
        data=ProposalCreate(body="# Payments\n\nStep 1\nStep 2: check fraud-check\n"),
    )
    assert "+Step 2: check fraud-check" in proposal.diff
    with pytest.raises(PermissionDenied, match="payments"):
        runbooks.decide_proposal(new_uow(), outsider.actor, proposal_id=proposal.id, approve=True)
    decided = runbooks.decide_proposal(
        new_uow(), owner.actor, proposal_id=proposal.id, approve=True
    )
    assert decided.status is ProposalStatus.APPROVED
    book = runbooks.get_runbook(new_uow().db, SYSTEM, service="payments")
    assert book.current_version == 2 and "Step 2" in book.body
    assert [v.version for v in book.history] == [2, 1]


def test_a_stale_proposal_is_refused(new_uow: UowFactory) -> None:
    seed_catalog(new_uow)
    runbooks.write_runbook(new_uow(), SYSTEM, service="auth", data=RunbookWrite(body="v1\n"))
    proposal = runbooks.propose_change(
        new_uow(), SYSTEM, service="auth", data=ProposalCreate(body="v1\nmore\n")
    )
    runbooks.write_runbook(new_uow(), SYSTEM, service="auth", data=RunbookWrite(body="v2\n"))
    with pytest.raises(Conflict, match="propose it again"):
        runbooks.decide_proposal(new_uow(), SYSTEM, proposal_id=proposal.id, approve=True)


# --- decision records ----------------------------------------------------------------------


def test_accepting_a_superseding_adr_supersedes_the_old_one_and_exports_madr(
    new_uow: UowFactory, db: Database, tmp_path: object
) -> None:
    first = decisions.create_adr(
        new_uow(), SYSTEM, data=AdrCreate(title="Use Redis for sessions", status=AdrStatus.ACCEPTED)
    )
    second = decisions.create_adr(
        new_uow(),
        SYSTEM,
        data=AdrCreate(
            title="Move sessions to PostgreSQL",
            status=AdrStatus.ACCEPTED,
            options=["Keep Redis", "PostgreSQL"],
            supersedes=first.number,
        ),
    )
    assert decisions.get_adr(db, SYSTEM, number=first.number).status is AdrStatus.SUPERSEDED
    assert decisions.get_adr(db, SYSTEM, number=first.number).superseded_by == second.number
    files = decisions.adr_files(db, SYSTEM)
    assert sorted(files) == [
        "0001-use-redis-for-sessions.md",
        "0002-move-sessions-to-postgresql.md",
    ]
    text = files["0002-move-sessions-to-postgresql.md"]
    assert "status: accepted" in text and "## Considered Options" in text
    assert "0001-use-redis-for-sessions.md" in text


def test_every_learning_mutation_is_audited(new_uow: UowFactory, db: Database) -> None:
    before = len(list_entries(db, SYSTEM, limit=500).items)
    pm = written(new_uow, "Outage", "x")
    actions.create_action(new_uow(), SYSTEM, data=ActionCreate(title="y", postmortem_id=pm.id))
    decisions.create_adr(new_uow(), SYSTEM, data=AdrCreate(title="z"))
    assert len(list_entries(db, SYSTEM, limit=500).items) == before + 3
