"""Diagnosis fixtures: the app without its background worker, an incident with a change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from warroom.actors import Actor
from warroom.db.uow import UnitOfWork
from warroom.incidents.service import open_incident_in, record_change_in

SYSTEM = Actor.system("test")
DEPLOY_AT = datetime(2026, 11, 26, 21, 4, 0, tzinfo=UTC)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The app without the background worker, so tests decide when bundles are analysed."""
    app.state.diagnosis_work_seconds = 0
    app.state.intake_tick_seconds = 0
    return app


@pytest.fixture
def make_incident(new_uow: Callable[[], UnitOfWork]) -> Callable[[], int]:
    """An incident on `backend` and `frontend`, with a deploy of backend before the onset."""

    def make() -> int:
        with new_uow() as uow:
            incident_id = open_incident_in(
                uow.session,
                SYSTEM,
                title="Cart checkout failing",
                severity="SEV2",
                summary="",
                service_names=["backend", "frontend"],
                detected_at=datetime(2026, 11, 26, 21, 6, 0, tzinfo=UTC),
                source="manual",
            )
            record_change_in(
                uow.session,
                SYSTEM,
                service_name="backend",
                summary="backend v2.3 (new pool size)",
                source="ci",
                kind="code",
                happened_at=DEPLOY_AT,
                details={},
            )
            uow.commit()
        return incident_id

    return make
