"""learning: live indexing of incidents and the shared embeddings cache

`learning_search_documents.source_updated_at` records the incident version a document was built
from; `learning_cache` holds the live-indexing high-water mark and the embeddings and problem
classes of the current document set, keyed by a fingerprint of that set.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("learning_search_documents") as batch:
        batch.add_column(sa.Column("source_updated_at", UTC, nullable=True))
    op.create_table(
        "learning_cache",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("mark", UTC, nullable=True),
        sa.Column("vectors", sa.LargeBinary(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_learning_cache")),
    )


def downgrade() -> None:
    op.drop_table("learning_cache")
    with op.batch_alter_table("learning_search_documents") as batch:
        batch.drop_column("source_updated_at")
