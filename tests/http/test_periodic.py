"""The shared background-job lifespan: runs the job, survives its failures, stops cleanly."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from tests.conftest import run_coroutine
from warroom.db.engine import Database
from warroom.http.periodic import periodic_lifespan


def test_a_periodic_job_keeps_running_after_a_failure_and_stops_with_the_app() -> None:
    calls: list[object] = []
    two_more = threading.Event()

    def job(db: Database) -> None:
        calls.append(db)
        if len(calls) == 1:
            raise RuntimeError("the database hiccupped")
        if len(calls) >= 3:
            two_more.set()

    database = object()
    app = SimpleNamespace(state=SimpleNamespace(db=database, job_seconds=0.01))
    lifespan = periodic_lifespan("test job", job, interval_state="job_seconds", default=60.0)

    async def serve() -> int:
        async with lifespan(app):
            await asyncio.to_thread(two_more.wait, 5)
        after_shutdown = len(calls)
        await asyncio.sleep(0.05)
        return after_shutdown

    after_shutdown = run_coroutine(serve())
    assert len(calls) >= 3 and all(db is database for db in calls)
    assert len(calls) == after_shutdown  # nothing runs once the app has stopped


def test_an_interval_of_zero_turns_the_job_off() -> None:
    calls: list[object] = []
    app = SimpleNamespace(state=SimpleNamespace(db=object(), job_seconds=0))
    lifespan = periodic_lifespan("test job", calls.append, interval_state="job_seconds", default=1)

    async def serve() -> None:
        async with lifespan(app):
            await asyncio.sleep(0.05)

    run_coroutine(serve())
    assert calls == []
