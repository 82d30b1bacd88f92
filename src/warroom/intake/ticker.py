"""The periodic opening check for time-based rules, run inside every server process.

Rules such as "open after 10 minutes of firing" or a `group_wait` must fire when no delivery
arrives, so each server process runs `service.tick` every `TICK_SECONDS` (first a cheap read:
is any pending group due?). Several processes may tick at once: the tick takes the grouping
advisory lock (PostgreSQL) or the SQLite write lock, and an opened group is no longer
pending, so each group opens exactly once. `warroom intake tick` does the same from cron.
Set `app.state.intake_tick_seconds = 0` before startup to turn it off (tests do).
"""

from __future__ import annotations

import logging

from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.http.periodic import periodic_lifespan
from warroom.intake import queries, service

TICK_SECONDS = 15.0
_log = logging.getLogger("warroom.intake")


def tick_once(db: Database) -> None:
    now = utcnow()
    if queries.pending_groups_due(db, now=now):
        report = service.tick(UnitOfWork(db), now=now)
        if report.opened:
            _log.info("intake tick opened incidents %s", report.opened)


lifespan = periodic_lifespan(
    "intake tick", tick_once, interval_state="intake_tick_seconds", default=TICK_SECONDS
)
"""Start the ticker with the app and stop it before the database is closed."""
