"""`GET /api/v1/health`: the one endpoint open without credentials (for load balancers)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from warroom import __version__
from warroom.http.deps import DbDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DbDep) -> dict[str, str]:
    """Liveness plus a database round-trip."""
    with db.read_session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__, "database": db.dialect}
