"""Log bundles uploaded to an incident: storage, the background analysis, the timeline, limits."""

from __future__ import annotations

import io
import tarfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import CliResult, Person, csrf_from
from tests.diagnosis.simulated import simulate
from warroom.actors import Role
from warroom.app import create_app
from warroom.config import Settings
from warroom.db.base import utcnow
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork
from warroom.diagnosis import queries, service, worker
from warroom.diagnosis.api import UPLOAD_PATHS
from warroom.diagnosis.schemas import BundleStatus, Claim
from warroom.incidents.queries import get_timeline

SYSTEM_TIMEOUT = timedelta(minutes=30)


def bundle_bytes(tmp_path: Path) -> bytes:
    """Two hosts' logs (backend clock shifted by -600 s) as one .tar.gz."""
    (tmp_path / "logs").mkdir(exist_ok=True)
    sim = simulate(tmp_path / "logs", backend_offset_s=-600.0)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(sim.frontend, arcname="frontend.log")
        archive.add(sim.backend, arcname="backend.log")
    return buffer.getvalue()


def upload(client: TestClient, incident_id: int, data: bytes, name: str = "logs.tar.gz") -> Any:
    return client.post(
        f"/api/v1/incidents/{incident_id}/log-bundles",
        files={"file": (name, data, "application/gzip")},
    )


def test_an_uploaded_bundle_is_analysed_and_joins_the_timeline(
    db: Database,
    api_as: Callable[[Person], TestClient],
    responder: Person,
    make_incident: Callable[[], int],
    tmp_path: Path,
) -> None:
    incident_id = make_incident()
    client = api_as(responder)
    response = upload(client, incident_id, bundle_bytes(tmp_path))
    assert response.status_code == 201, response.text
    bundle = response.json()
    assert bundle["status"] == "queued" and bundle["uploaded_by"] == responder.email

    assert worker.work_once(db) == bundle["id"]
    assert worker.work_once(db) is None

    done = client.get(f"/api/v1/incidents/{incident_id}/log-bundles/{bundle['id']}").json()
    assert done["status"] == "done", done["error"]
    assert done["result"]["sources"] == 2 and done["result"]["onsets"] >= 1
    entries = get_timeline(db, responder.actor, incident_id=incident_id)
    kinds = [e.kind for e in entries]
    assert "log-onset" in kinds and "log-suspect" in kinds and "log-analysis" in kinds
    assert "log-event" in kinds
    onset = next(e for e in entries if e.kind == "log-onset" and "backend.log" in e.text)
    assert onset.text.startswith("Onset in backend.log at 2026-11-26 21:04")
    assert abs((onset.at - onset.at.replace(minute=4, second=40)).total_seconds()) < 30
    suspect = next(e for e in entries if e.kind == "log-suspect")
    assert "backend v2.3" in suspect.text and "precedes the onset by 40 s" in suspect.text
    summary = next(e for e in entries if e.kind == "log-analysis")
    assert "600.0" in summary.text and "interval" in summary.text
    report = client.get(f"/api/v1/incidents/{incident_id}/log-bundles/{bundle['id']}/report")
    assert report.json()["schema"] == "warroom.analyze/1"


def test_the_report_page_and_the_panel_show_the_analysis(
    db: Database,
    browser_login: Callable[[Person], TestClient],
    responder: Person,
    make_incident: Callable[[], int],
    tmp_path: Path,
) -> None:
    incident_id = make_incident()
    browser = browser_login(responder)
    page = browser.get(f"/incidents/{incident_id}")
    assert "Log bundles" in page.text and "No log bundle uploaded yet" in page.text
    response = browser.post(
        f"/incidents/{incident_id}/log-bundles/upload",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("logs.tar.gz", bundle_bytes(tmp_path), "application/gzip")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    bundle_id = worker.work_once(db)
    assert bundle_id is not None
    page = browser.get(f"/incidents/{incident_id}")
    link = f"/incidents/{incident_id}/log-bundles/{bundle_id}/report"
    assert link in page.text and "done" in page.text
    report = browser.get(link)
    assert report.status_code == 200 and "Cross-system diagnosis" in report.text
    assert "script-src" not in report.headers["content-security-policy"]


def test_viewers_see_the_panel_without_the_upload_form(
    browser_login: Callable[[Person], TestClient],
    viewer: Person,
    make_incident: Callable[[], int],
) -> None:
    page = login_page(browser_login(viewer), make_incident())
    assert "Log bundles" in page and "Upload and analyse" not in page


def login_page(browser: TestClient, incident_id: int) -> str:
    return browser.get(f"/incidents/{incident_id}").text


def test_upload_paths_alone_get_the_bundle_body_limit() -> None:
    assert UPLOAD_PATHS.match("/api/v1/incidents/7/log-bundles")
    assert UPLOAD_PATHS.match("/incidents/7/log-bundles/upload")
    assert not UPLOAD_PATHS.match("/incidents/7/log-bundles")
    assert not UPLOAD_PATHS.match("/api/v1/incidents/7/notes")


def test_the_upload_form_needs_the_csrf_token(
    browser_login: Callable[[Person], TestClient],
    responder: Person,
    make_incident: Callable[[], int],
    db: Database,
) -> None:
    incident_id = make_incident()
    browser = browser_login(responder)
    response = browser.post(
        f"/incidents/{incident_id}/log-bundles/upload",
        files={"file": ("a.log", b"2026-11-26T21:00:00Z hello\n", "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert queries.list_bundles(db, responder.actor, incident_id=incident_id) == []


def test_external_users_and_viewers_cannot_upload_or_read(
    api_as: Callable[[Person], TestClient],
    make_person: Callable[..., Person],
    make_incident: Callable[[], int],
) -> None:
    incident_id = make_incident()
    for role in (Role.EXTERNAL, Role.VIEWER):
        client = api_as(make_person(role))
        assert upload(client, incident_id, b"x\n").status_code == 403
    external = api_as(make_person(Role.EXTERNAL))
    assert external.get(f"/api/v1/incidents/{incident_id}/log-bundles").status_code == 403


def test_a_bundle_over_the_limit_gets_a_413_problem(
    settings: Settings,
    db: Database,
    responder: Person,
    token_for: Callable[[Person], str],
    make_incident: Callable[[], int],
) -> None:
    incident_id = make_incident()
    small = create_app(settings.model_copy(update={"max_bundle_bytes": 2048}), database=db)
    small.state.diagnosis_work_seconds = 0
    headers = {"Authorization": f"Bearer {token_for(responder)}"}
    with TestClient(small, base_url="http://testserver", headers=headers) as client:
        over_service = upload(client, incident_id, b"x" * 5000)  # passes the middleware slack
        over_middleware = upload(client, incident_id, b"x" * 200_000)
    for response in (over_service, over_middleware):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
    assert queries.list_bundles(db, responder.actor, incident_id=incident_id) == []


def test_bundles_may_exceed_the_global_body_limit_and_are_chunked(
    db: Database,
    api_as: Callable[[Person], TestClient],
    responder: Person,
    make_incident: Callable[[], int],
) -> None:
    incident_id = make_incident()
    data = b"2026-11-26T21:00:00Z INFO all good\n" * 70_000  # about 2.4 MB > max_body_bytes
    response = upload(api_as(responder), incident_id, data, name="big.log")
    assert response.status_code == 201, response.text
    bundle_id = response.json()["id"]
    chunks = list(queries.bundle_chunks(db, bundle_id))
    assert len(chunks) == 3 and max(len(c) for c in chunks) <= 1 << 20
    assert b"".join(chunks) == data


def _queued(new_uow: Callable[[], UnitOfWork], responder: Person, incident_id: int) -> int:
    out = service.upload_bundle(
        new_uow(),
        responder.actor,
        incident_id=incident_id,
        filename="app.log",
        stream=io.BytesIO(b"2026-11-26T21:00:00Z ERROR boom\n"),
        max_bytes=10_000,
    )
    return out.id


def test_a_crashed_job_is_requeued_and_its_late_result_dropped(
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    responder: Person,
    make_incident: Callable[[], int],
) -> None:
    bundle_id = _queued(new_uow, responder, make_incident())
    start = utcnow()
    first = service.claim_next(new_uow(), timeout=SYSTEM_TIMEOUT, now=start)
    assert first is not None and first.bundle_id == bundle_id
    assert service.claim_next(new_uow(), timeout=SYSTEM_TIMEOUT, now=start) is None
    later = start + SYSTEM_TIMEOUT + timedelta(seconds=1)
    second = service.claim_next(new_uow(), timeout=SYSTEM_TIMEOUT, now=later)
    assert second is not None and second.bundle_id == bundle_id and second.token != first.token
    assert not service.fail(new_uow(), first, "the presumed-dead worker finished late")
    assert service.fail(new_uow(), second, "boom")
    bundle = queries.get_bundle(db, responder.actor, incident_id=second.incident_id,
                                bundle_id=bundle_id)  # fmt: skip
    assert bundle.status is BundleStatus.FAILED and bundle.attempts == 2 and bundle.error == "boom"


def test_a_job_that_keeps_crashing_is_failed_after_three_attempts(
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    responder: Person,
    make_incident: Callable[[], int],
) -> None:
    incident_id = make_incident()
    bundle_id = _queued(new_uow, responder, incident_id)
    moment = utcnow()
    for _ in range(service.MAX_ATTEMPTS):
        assert service.claim_next(new_uow(), timeout=SYSTEM_TIMEOUT, now=moment) is not None
        moment += SYSTEM_TIMEOUT + timedelta(seconds=1)
    assert service.claim_next(new_uow(), timeout=SYSTEM_TIMEOUT, now=moment) is None
    bundle = queries.get_bundle(db, responder.actor, incident_id=incident_id, bundle_id=bundle_id)
    assert bundle.status is BundleStatus.FAILED and "3 attempts" in bundle.error


def test_two_workers_never_claim_the_same_job(
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    responder: Person,
    make_incident: Callable[[], int],
) -> None:
    _queued(new_uow, responder, make_incident())
    barrier = threading.Barrier(2)
    claims: list[Claim | None] = []

    def claim() -> None:
        barrier.wait()
        claims.append(service.claim_next(new_uow(), timeout=SYSTEM_TIMEOUT))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(claims) == 2 and sum(c is not None for c in claims) == 1


def test_a_failing_analysis_marks_the_bundle_failed_and_the_worker_goes_on(
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    responder: Person,
    make_incident: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident_id = make_incident()
    bundle_id = _queued(new_uow, responder, incident_id)

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("analysis exploded")

    monkeypatch.setattr(worker, "analyze", explode)
    assert worker.drain(db) == [bundle_id]
    bundle = queries.get_bundle(db, responder.actor, incident_id=incident_id, bundle_id=bundle_id)
    assert bundle.status is BundleStatus.FAILED and "analysis exploded" in bundle.error


def test_the_cli_worker_processes_waiting_bundles_once(
    run_cli: Callable[..., CliResult],
    new_uow: Callable[[], UnitOfWork],
    responder: Person,
    make_incident: Callable[[], int],
    db: Database,
) -> None:
    incident_id = make_incident()
    bundle_id = _queued(new_uow, responder, incident_id)
    result = run_cli("diagnosis", "work", "--once")
    assert result.code == 0 and f"#{bundle_id}" in result.out
    bundle = queries.get_bundle(db, responder.actor, incident_id=incident_id, bundle_id=bundle_id)
    assert bundle.status is BundleStatus.DONE
    assert "no log bundle waiting" in run_cli("diagnosis", "work", "--once").out


def test_the_server_analyses_bundles_in_the_background(
    app: FastAPI,
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    responder: Person,
    make_incident: Callable[[], int],
) -> None:
    incident_id = make_incident()
    bundle_id = _queued(new_uow, responder, incident_id)
    app.state.diagnosis_work_seconds = 0.05
    with TestClient(app, base_url="http://testserver"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            bundle = queries.get_bundle(
                db, responder.actor, incident_id=incident_id, bundle_id=bundle_id
            )
            if bundle.status in (BundleStatus.DONE, BundleStatus.FAILED):
                break
            time.sleep(0.05)
    assert bundle.status is BundleStatus.DONE, bundle.error


def test_stored_file_names_cannot_leave_the_temporary_directory() -> None:
    assert worker.safe_name("../../etc/passwd") == "passwd"
    assert worker.safe_name("..") == "bundle.log"
    assert worker.safe_name("logs 1.tar.gz") == "logs_1.tar.gz"
