"""diagnosis: log bundles uploaded to incidents, their bytes in chunks, their analysis job

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "log_bundles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.String(320), nullable=False),
        sa.Column("uploaded_at", UTC, nullable=False),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("claim_token", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=True),
        sa.Column("report_html", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_log_bundles_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_bundles")),
    )
    op.create_index(op.f("ix_log_bundles_incident_id"), "log_bundles", ["incident_id"])
    op.create_index(op.f("ix_log_bundles_status"), "log_bundles", ["status"])
    op.create_table(
        "log_bundle_chunks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["log_bundles.id"],
            name=op.f("fk_log_bundle_chunks_bundle_id_log_bundles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_bundle_chunks")),
        sa.UniqueConstraint("bundle_id", "seq", name=op.f("uq_log_bundle_chunks_bundle_id")),
    )


def downgrade() -> None:
    op.drop_table("log_bundle_chunks")
    op.drop_index(op.f("ix_log_bundles_status"), table_name="log_bundles")
    op.drop_index(op.f("ix_log_bundles_incident_id"), table_name="log_bundles")
    op.drop_table("log_bundles")
