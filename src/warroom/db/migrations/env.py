"""Alembic environment: runs migrations on the engine handed over by warroom.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from warroom.models import metadata

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
