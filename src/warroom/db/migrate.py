"""Alembic, driven from code: one migration chain valid on SQLite and PostgreSQL.

`upgrade()` is idempotent; `check_schema()` is what the app runs before serving, refusing an
unmigrated database or one migrated by newer code, with the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from warroom.errors import SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to `revision`; returns (before, after). Running it twice changes nothing."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    return before, current_revision(engine) or ""


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at exactly the code's head revision."""
    current = current_revision(engine)
    head = head_revision(engine)
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(
            "the database has no Warroom schema yet: run `warroom db upgrade` first"
        )
    script = ScriptDirectory.from_config(alembic_config(engine))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaOutOfDate(
            f"the database is at revision {current}, which this version of Warroom does not "
            "know: it was migrated by a newer release. Upgrade Warroom."
        )
    raise SchemaOutOfDate(
        f"the database is at revision {current} but this code needs {head}: "
        "run `warroom db upgrade`"
    )
