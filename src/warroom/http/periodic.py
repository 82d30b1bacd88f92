"""Background jobs that run every few seconds in each server process, started with the app.

Intake's opening tick, the log-bundle worker and learning's index catch-up all work the same
way: a router lifespan starts a task that sleeps, runs the job in the thread pool, logs and
survives a failure, and is cancelled before the database is closed. Each is also safe to run
in several processes at once (their own locks see to that), so nothing here coordinates them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from warroom.db.engine import Database

Job = Callable[[Database], object]
Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]
_log = logging.getLogger("warroom.periodic")


def periodic_lifespan(name: str, job: Job, *, interval_state: str, default: float) -> Lifespan:
    """A router lifespan running `job(app.state.db)` every `app.state.<interval_state>` seconds.

    `default` applies when the app state does not set it; 0 turns the job off (tests do, to
    decide themselves when it runs). A failed run is logged and the next one still comes.
    """

    async def run(db: Database, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await run_in_threadpool(job, db)
            except Exception:  # keep going: one failed run must not stop the next ones
                _log.exception("%s failed", name)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        interval = float(getattr(app.state, interval_state, default))
        task = asyncio.create_task(run(app.state.db, interval)) if interval > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan
