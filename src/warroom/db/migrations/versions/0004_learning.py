"""learning: postmortems, action items, runbooks, decision records, search documents

The ranked full-text index is created per dialect: an FTS5 table (porter stemming) keyed by
the search document id on SQLite, a weighted tsvector column with a GIN index on PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    _postmortems()
    _actions_and_factors()
    _runbooks()
    _decisions()
    _search()


def _postmortems() -> None:
    op.create_table(
        "postmortems",
        _id(),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("published_at", UTC, nullable=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(300), nullable=True),
        sa.Column("external_url", sa.String(2000), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_postmortems_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("incident_id", name=op.f("uq_postmortems_incident_id")),
        sa.UniqueConstraint("external_id", name=op.f("uq_postmortems_external_id")),
    )
    op.create_index(op.f("ix_postmortems_status"), "postmortems", ["status"])
    op.create_index(op.f("ix_postmortems_occurred_at"), "postmortems", ["occurred_at"])
    op.create_table(
        "postmortem_reviewers",
        _id(),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("approved_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_postmortem_reviewers_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "postmortem_id", "email", name=op.f("uq_postmortem_reviewers_postmortem_id")
        ),
    )
    op.create_index(
        op.f("ix_postmortem_reviewers_postmortem_id"), "postmortem_reviewers", ["postmortem_id"]
    )
    op.create_table(
        "postmortem_comments",
        _id(),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_postmortem_comments_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_postmortem_comments_postmortem_id"), "postmortem_comments", ["postmortem_id"]
    )


def _actions_and_factors() -> None:
    op.create_table(
        "learning_factors",
        _id(),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.UniqueConstraint("key", name=op.f("uq_learning_factors_key")),
    )
    op.create_table(
        "action_items",
        _id(),
        sa.Column("postmortem_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("success_metric", sa.Text(), nullable=False),
        sa.Column("external_key", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_action_items_postmortem_id_postmortems"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_action_items_incident_id_incidents"),
            ondelete="SET NULL",
        ),
    )
    for column in ("postmortem_id", "incident_id", "status"):
        op.create_index(op.f(f"ix_action_items_{column}"), "action_items", [column])


def _runbooks() -> None:
    op.create_table(
        "runbooks",
        _id(),
        sa.Column("service_name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("service_name", name=op.f("uq_runbooks_service_name")),
    )
    op.create_table(
        "runbook_versions",
        _id(),
        sa.Column("runbook_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["runbook_id"],
            ["runbooks.id"],
            name=op.f("fk_runbook_versions_runbook_id_runbooks"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("runbook_id", "version", name=op.f("uq_runbook_versions_runbook_id")),
    )
    op.create_index(op.f("ix_runbook_versions_runbook_id"), "runbook_versions", ["runbook_id"])
    op.create_table(
        "runbook_proposals",
        _id(),
        sa.Column("runbook_id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("proposed_by", sa.String(320), nullable=False),
        sa.Column("decided_by", sa.String(320), nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["runbook_id"],
            ["runbooks.id"],
            name=op.f("fk_runbook_proposals_runbook_id_runbooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_runbook_proposals_postmortem_id_postmortems"),
            ondelete="SET NULL",
        ),
    )
    for column in ("runbook_id", "postmortem_id", "status"):
        op.create_index(op.f(f"ix_runbook_proposals_{column}"), "runbook_proposals", [column])


def _decisions() -> None:
    op.create_table(
        "decision_records",
        _id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("deciders", sa.JSON(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("consequences", sa.Text(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("postmortem_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["decision_records.id"],
            name=op.f("fk_decision_records_supersedes_id_decision_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_decision_records_postmortem_id_postmortems"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("number", name=op.f("uq_decision_records_number")),
    )
    op.create_index(op.f("ix_decision_records_status"), "decision_records", ["status"])


def _search() -> None:
    op.create_table(
        "learning_search_documents",
        _id(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("teams", sa.Text(), nullable=False),
        sa.Column("factors", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_learning_search_documents_kind")),
    )
    op.create_index(
        op.f("ix_learning_search_documents_kind"), "learning_search_documents", ["kind"]
    )
    op.create_index(
        op.f("ix_learning_search_documents_occurred_at"),
        "learning_search_documents",
        ["occurred_at"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE learning_search_documents ADD COLUMN tsv tsvector")
        op.execute(
            "CREATE INDEX ix_learning_search_documents_tsv "
            "ON learning_search_documents USING GIN (tsv)"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE learning_search_fts USING fts5("
            "title, body, tokenize = 'porter unicode61')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS learning_search_fts")
    for table in (
        "learning_search_documents",
        "decision_records",
        "runbook_proposals",
        "runbook_versions",
        "runbooks",
        "action_items",
        "learning_factors",
        "postmortem_comments",
        "postmortem_reviewers",
        "postmortems",
    ):
        op.drop_table(table)
