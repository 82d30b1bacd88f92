"""warroom_append_audit: chain and insert a transaction's audit entries in the database

PostgreSQL only. The audit trail's hashes chain each entry to the one before it, so
appending needs the chain's head, read under the chain's lock. Read by the application, that
is a round trip of its own before the `COMMIT`; this function takes the lock, reads the head
and inserts the entries in the statement that travels with the `COMMIT`. The application
still computes each entry's canonical content (`warroom.audit.service.content_hash`): it
passes the UTF-8 bytes before the previous hash and after the sequence number, in hex, and
the function puts the previous hash and the sequence number between them, so the hashes are
the ones `verify_chain` recomputes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION warroom_append_audit(
                lock_key bigint, ats timestamptz[], actor_user_ids integer[],
                actor_labels text[], actions text[], object_types text[], object_ids text[],
                summaries text[], notes text[], heads text[], tails text[]
            ) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
            DECLARE
                head_seq bigint;
                last_hash text;
                prev_hashes text[] := '{}';
                hashes text[] := '{}';
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_key);
                SELECT seq, hash INTO head_seq, last_hash
                FROM audit_entries ORDER BY seq DESC LIMIT 1;
                IF NOT FOUND THEN
                    head_seq := 0;
                    last_hash := repeat('0', 64);
                END IF;
                FOR i IN 1 .. coalesce(cardinality(heads), 0) LOOP
                    prev_hashes := prev_hashes || last_hash;
                    last_hash := encode(sha256(
                        decode(heads[i], 'hex')
                        || convert_to(last_hash || '","seq":' || (head_seq + i)::text, 'UTF8')
                        || decode(tails[i], 'hex')
                    ), 'hex');
                    hashes := hashes || last_hash;
                END LOOP;
                -- One insert for all of them: an insert per entry cost an executor each.
                INSERT INTO audit_entries (
                    seq, at, actor_user_id, actor_label, action, object_type, object_id,
                    summary, prev_hash, note, hash
                )
                SELECT head_seq + e.n, e.at, e.actor_user_id, e.actor_label, e.action,
                       e.object_type, e.object_id, e.summary::json, e.prev_hash, e.note, e.hash
                FROM unnest(ats, actor_user_ids, actor_labels, actions, object_types,
                            object_ids, summaries, notes, prev_hashes, hashes)
                     WITH ORDINALITY AS e(at, actor_user_id, actor_label, action, object_type,
                                          object_id, summary, note, prev_hash, hash, n)
                ORDER BY e.n;
                RETURN coalesce(cardinality(heads), 0);
            END
            $$
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS warroom_append_audit(bigint, timestamptz[], integer[], "
            "text[], text[], text[], text[], text[], text[], text[], text[])"
        )
