"""Embeddings and problem classes kept in the database, keyed by a fingerprint of the set.

Fitting the similarity engine on a few thousand narratives takes seconds, and its result only
changes when the set of past incidents and postmortems does. So the vectors (float32) and the
derived classes are stored in the `learning_cache` row `events` with a SHA-256 of everything
they were computed from; a reader whose fingerprint matches decodes them, any other recomputes
and replaces the row. The fingerprint lives in the database, so a change made through one
server process invalidates the cache for all of them, and a reader never trusts a row computed
for another set: a race costs a duplicate computation, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.learning.live import xact_lock
from warroom.learning.models import LearningCache

FloatArray = npt.NDArray[np.float64]
EVENTS = "events"
# Bump when the engine or the cached shapes change, so old rows are recomputed.
VERSION = "1"

Computed = tuple[FloatArray, dict[str, Any]]


def fingerprint(parts: Iterable[Iterable[object]]) -> str:
    """A digest of the records (each a sequence of fields) a computation depends on."""
    digest = hashlib.sha256(VERSION.encode())
    for record in parts:
        for field in record:
            digest.update(str(field).encode())
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    return digest.hexdigest()


def cached(db: Database, key: str, compute: Callable[[], Computed]) -> Computed:
    """The vectors and data stored for fingerprint `key`, computed (and stored) if missing."""
    with db.read_session() as session:
        row = session.get(LearningCache, EVENTS)
        if row is not None and row.fingerprint == key and row.vectors is not None:
            return _decode(row.vectors), dict(row.data)
    fresh, data = compute()
    blob = _encode(fresh)
    _store(db, key, blob, data)
    return _decode(blob), data  # the stored precision, so a recomputation ranks the same


def is_current(db: Database, key: str) -> bool:
    with db.read_session() as session:
        row = session.get(LearningCache, EVENTS)
        return row is not None and row.fingerprint == key


def _decode(blob: bytes) -> FloatArray:
    loaded = np.load(io.BytesIO(blob), allow_pickle=False)
    return np.asarray(loaded, dtype=np.float64)


def _encode(vectors: FloatArray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


def _store(db: Database, key: str, blob: bytes, data: dict[str, Any]) -> None:
    uow = UnitOfWork(db)
    with uow:
        xact_lock(uow.session, "cache:events")
        row = uow.session.get(LearningCache, EVENTS)
        if row is None:
            row = LearningCache(name=EVENTS)
            uow.session.add(row)
        row.fingerprint, row.vectors, row.data = key, blob, data
        row.updated_at = utcnow()
        uow.commit()
