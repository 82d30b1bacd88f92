"""The background analysis of uploaded log bundles, run inside every server process and by cron.

Each server process polls every `POLL_SECONDS` (first a cheap read: is anything claimable?),
claims one bundle at a time from the database (see `diagnosis.service`), writes its chunks to a
temporary directory, runs the `warroom analyze` pipeline with the incident's recent changes as
suspect candidates, and stores the findings. Any failure marks that bundle failed with the
reason and the worker goes on; a worker that dies mid-analysis leaves its bundle running, and
after `JOB_TIMEOUT` another worker re-queues it. `warroom diagnosis work --once` does the same
from cron. Set `app.state.diagnosis_work_seconds = 0` before startup to turn it off (tests do).
"""

from __future__ import annotations

import logging
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Final

from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.diagnosis import queries, service
from warroom.diagnosis.analyze import AnalyzeOptions, analyze
from warroom.diagnosis.findings import findings
from warroom.diagnosis.schemas import Claim
from warroom.http.periodic import periodic_lifespan

POLL_SECONDS: Final = 5.0
JOB_TIMEOUT: Final = timedelta(minutes=30)
MAX_EVENTS: Final = 100_000
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_log = logging.getLogger("warroom.diagnosis")


def safe_name(filename: str) -> str:
    """A file name that cannot leave the temporary directory; keeps the archive suffix."""
    name = _UNSAFE.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")
    return name[-200:] or "bundle.log"


def _analyse(db: Database, claim: Claim) -> None:
    changes, dependencies = service.change_events(db, claim.incident_id)
    options = AnalyzeOptions(changes=changes, dependencies=dependencies, max_events=MAX_EVENTS)
    with tempfile.TemporaryDirectory(prefix="warroom-bundle-") as directory:
        path = Path(directory) / safe_name(claim.filename)
        with path.open("wb") as handle:
            for chunk in queries.bundle_chunks(db, claim.bundle_id):
                handle.write(chunk)
        report = analyze([path], options=options)
    found = findings(report, bundle_id=claim.bundle_id, filename=claim.filename)
    if not service.complete(UnitOfWork(db), claim, found):
        _log.warning("log bundle %s was re-queued while analysed: result dropped", claim.bundle_id)


def work_once(db: Database, *, timeout: timedelta = JOB_TIMEOUT) -> int | None:
    """Analyse at most one bundle; returns its id, or None when nothing was waiting."""
    if not queries.work_waiting(db, now=utcnow(), timeout=timeout):
        return None
    claim = service.claim_next(UnitOfWork(db), timeout=timeout)
    if claim is None:
        return None
    try:
        _analyse(db, claim)
    except Exception as exc:  # one bad bundle must never stop the worker
        _log.exception("log bundle %s failed", claim.bundle_id)
        service.fail(UnitOfWork(db), claim, f"{type(exc).__name__}: {exc}")
    return claim.bundle_id


def drain(db: Database, *, timeout: timedelta = JOB_TIMEOUT) -> list[int]:
    """Analyse bundles until none is waiting; returns the ids processed."""
    done: list[int] = []
    while (bundle_id := work_once(db, timeout=timeout)) is not None:
        done.append(bundle_id)
    return done


lifespan = periodic_lifespan(
    "log bundle worker", drain, interval_state="diagnosis_work_seconds", default=POLL_SECONDS
)
"""Start the worker with the app and stop it before the database is closed."""
