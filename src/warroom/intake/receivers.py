"""The intake endpoints: open to the network, each authenticated by an integration credential.

They answer in the shape the original tool's clients expect (PagerDuty's `status`/`message`/
`dedup_key`, Opsgenie's `result`/`requestId`), so monitors can be repointed without edits.
Errors are RFC 9457 problems like everywhere else. Every endpoint reads the raw body itself
so that a malformed one can be kept byte for byte as a dead letter.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from warroom.db.uow import UnitOfWork
from warroom.intake import service, ticker
from warroom.intake.schemas import DeliveryResult
from warroom.intake.service import Delivery, Endpoint

router = APIRouter(prefix="/intake", tags=["intake"], lifespan=ticker.lifespan)


async def raw_body(request: Request) -> bytes:
    return await request.body()


async def intake_uow(request: Request) -> UnitOfWork:
    """A unit of work, built on the event loop (a sync dependency would cost a thread hop)."""
    return UnitOfWork(request.app.state.db)


RawBody = Annotated[bytes, Depends(raw_body)]
IntakeUow = Annotated[UnitOfWork, Depends(intake_uow)]


async def _receive(uow: UnitOfWork, delivery: Delivery) -> DeliveryResult:
    """Run the blocking delivery in the thread pool: one hop per request."""
    return await run_in_threadpool(service.receive_delivery, uow, delivery)


def _credential(request: Request, *schemes: str) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in schemes and value.strip():
        return value.strip()
    return request.query_params.get("apiKey") if "geniekey" in schemes else None


def _delivery(
    request: Request, endpoint: Endpoint, body: bytes, credential: str | None
) -> Delivery:
    return Delivery(
        endpoint=endpoint,
        body=body,
        credential=credential,
        content_type=request.headers.get("content-type", ""),
        params={**request.query_params, **request.path_params},
    )


@router.post("/alertmanager")
async def alertmanager(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    """Prometheus Alertmanager webhook (version 4), `Authorization: Bearer <credential>`."""
    delivery = _delivery(request, Endpoint.ALERTMANAGER, body, _credential(request, "bearer"))
    result = await _receive(uow, delivery)
    return {"status": "success", "alerts": [a.model_dump() for a in result.alerts]}


@router.post("/pagerduty/v2/enqueue", status_code=202)
async def pagerduty_enqueue(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    """PagerDuty Events API v2; the `routing_key` in the body is the credential."""
    result = await _receive(uow, _delivery(request, Endpoint.PAGERDUTY, body, None))
    return {"status": "success", "message": "Event processed", "dedup_key": _key(result)}


@router.post("/pagerduty/v2/change/enqueue", status_code=202)
async def pagerduty_change(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    """PagerDuty change events, stored as changes on the affected service."""
    delivery = _delivery(request, Endpoint.PAGERDUTY_CHANGE, body, None)
    await _receive(uow, delivery)
    return {"status": "success", "message": "Change event processed"}


def _key(result: DeliveryResult) -> str | None:
    return result.alerts[0].dedup_key if result.alerts else None


@router.post("/opsgenie/v2/alerts", status_code=202)
async def opsgenie_create(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    """Opsgenie-compatible alert create, `Authorization: GenieKey <credential>`."""
    return await _opsgenie(request, uow, Endpoint.OPSGENIE_CREATE, body)


@router.post("/opsgenie/v2/alerts/{identifier}/close", status_code=202)
async def opsgenie_close(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    """Close by alias (`?identifierType=alias`) or by Warroom alert id."""
    return await _opsgenie(request, uow, Endpoint.OPSGENIE_CLOSE, body)


@router.post("/opsgenie/v2/alerts/{identifier}/acknowledge", status_code=202)
async def opsgenie_acknowledge(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    return await _opsgenie(request, uow, Endpoint.OPSGENIE_ACK, body)


async def _opsgenie(
    request: Request, uow: UnitOfWork, endpoint: Endpoint, body: bytes
) -> dict[str, Any]:
    started = time.perf_counter()
    credential = _credential(request, "geniekey", "bearer")
    await _receive(uow, _delivery(request, endpoint, body, credential))
    return {
        "result": "Request will be processed",
        "took": round(time.perf_counter() - started, 3),
        "requestId": str(uuid.uuid4()),
    }


@router.post("/generic", status_code=202)
async def generic(request: Request, uow: IntakeUow, body: RawBody) -> dict[str, Any]:
    """Any JSON, read through the integration's field mapping."""
    delivery = _delivery(request, Endpoint.GENERIC, body, _credential(request, "bearer"))
    result = await _receive(uow, delivery)
    return {"status": "accepted", "alerts": [a.model_dump() for a in result.alerts]}
