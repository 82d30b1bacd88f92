"""What every CLI sub-app shares: the lazily opened database, the operator actor, output.

The root `warroom` command puts a `CliState` on the Typer context; sub-commands ask it for
the database (checked to be migrated) and for the actor they act as.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field

import typer
from rich.console import Console

from warroom.actors import Actor
from warroom.config import Settings, load_settings
from warroom.db.engine import Database, open_database
from warroom.db.migrate import check_schema
from warroom.db.uow import UnitOfWork

# Piped output (scripts, tests) gets wide lines instead of tables folded at 80 columns.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 240)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class CliState:
    """Settings and the database, opened only when a command needs them."""

    settings_overrides: dict[str, object] = field(default_factory=dict)
    _settings: Settings | None = None
    _db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.settings_overrides)
        return self._settings

    def database(self, *, check: bool = True) -> Database:
        if self._db is None:
            self._db = open_database(self.settings)
        if check:
            check_schema(self._db.writer)
        return self._db

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database())

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
        ctx.find_root().obj = obj
    return obj


def operator() -> Actor:
    """The person at the server's shell: trusted as an administrator, audited by OS user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor.system(f"cli:{user}")
