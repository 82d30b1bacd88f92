"""warroom_require: a statement that fails its transaction unless a condition holds

PostgreSQL only. `SELECT warroom_require(<condition>, <reason>)` raises an error with
SQLSTATE `WR001` when the condition is not true. Intake uses it to check, in the same round
trip as a batch's writes and `COMMIT`, that what the process guessed about the batch's alerts
still holds: the error aborts the rest of the pipeline, the `COMMIT` included, and the batch
is redone the usual way. Plain SQL cannot do this safely: PostgreSQL may fold a constant
error such as `1/0` in a `CASE` branch while planning, whichever branch runs; a volatile
function is never folded.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 13:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION warroom_require(ok boolean, reason text)
            RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF ok IS NOT TRUE THEN
                    RAISE EXCEPTION USING ERRCODE = 'WR001', MESSAGE = reason;
                END IF;
                RETURN true;
            END
            $$
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS warroom_require(boolean, text)")
