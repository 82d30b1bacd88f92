"""The intake endpoints: open to the network, each authenticated by an integration credential.

They answer in the shape the original tool's clients expect (PagerDuty's `status`/`message`/
`dedup_key`, Opsgenie's `result`/`requestId`), so monitors can be repointed without edits.
Errors are RFC 9457 problems like everywhere else. Every endpoint reads the raw body itself
so that a malformed one can be kept byte for byte as a dead letter.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from warroom.db.uow import UnitOfWork
from warroom.intake import ticker
from warroom.intake.batching import WRITERS, DeliveryWriter
from warroom.intake.schemas import DeliveryResult
from warroom.intake.service import Delivery, Endpoint


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The ticker runs with the app; the delivery writer finishes its queue before shutdown."""
    async with ticker.lifespan(app):
        yield
    writer = getattr(app.state, "intake_writer", None)
    if writer is not None:
        await run_in_threadpool(writer.close)


router = APIRouter(prefix="/intake", tags=["intake"], lifespan=lifespan)


def _writer(request: Request) -> DeliveryWriter:
    state = request.app.state
    writer: DeliveryWriter | None = getattr(state, "intake_writer", None)
    if writer is None:
        db = state.db
        threads = WRITERS.get(db.dialect, 1)
        writer = state.intake_writer = DeliveryWriter(lambda: UnitOfWork(db), threads=threads)
    return writer


async def _receive(request: Request, delivery: Delivery) -> DeliveryResult:
    """Hand the delivery to this process's writer; returns after its batch committed."""
    return await _writer(request).receive(delivery)


def _credential(request: Request, *schemes: str) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in schemes and value.strip():
        return value.strip()
    return request.query_params.get("apiKey") if "geniekey" in schemes else None


async def _delivery(request: Request, endpoint: Endpoint, credential: str | None) -> Delivery:
    return Delivery(
        endpoint=endpoint,
        body=await request.body(),
        credential=credential,
        content_type=request.headers.get("content-type", ""),
        params={**request.query_params, **request.path_params},
    )


@router.post("/alertmanager")
async def alertmanager(request: Request) -> JSONResponse:
    """Prometheus Alertmanager webhook (version 4), `Authorization: Bearer <credential>`."""
    delivery = await _delivery(request, Endpoint.ALERTMANAGER, _credential(request, "bearer"))
    result = await _receive(request, delivery)
    return JSONResponse({"status": "success", "alerts": _alerts(result)})


@router.post("/pagerduty/v2/enqueue", status_code=202)
async def pagerduty_enqueue(request: Request) -> JSONResponse:
    """PagerDuty Events API v2; the `routing_key` in the body is the credential."""
    result = await _receive(request, await _delivery(request, Endpoint.PAGERDUTY, None))
    body = {"status": "success", "message": "Event processed", "dedup_key": _key(result)}
    return JSONResponse(body, status_code=202)


@router.post("/pagerduty/v2/change/enqueue", status_code=202)
async def pagerduty_change(request: Request) -> JSONResponse:
    """PagerDuty change events, stored as changes on the affected service."""
    delivery = await _delivery(request, Endpoint.PAGERDUTY_CHANGE, None)
    await _receive(request, delivery)
    return JSONResponse({"status": "success", "message": "Change event processed"}, 202)


def _alerts(result: DeliveryResult) -> list[dict[str, Any]]:
    return [alert.model_dump(mode="json") for alert in result.alerts]


def _key(result: DeliveryResult) -> str | None:
    return result.alerts[0].dedup_key if result.alerts else None


@router.post("/opsgenie/v2/alerts", status_code=202)
async def opsgenie_create(request: Request) -> JSONResponse:
    """Opsgenie-compatible alert create, `Authorization: GenieKey <credential>`."""
    return await _opsgenie(request, Endpoint.OPSGENIE_CREATE)


@router.post("/opsgenie/v2/alerts/{identifier}/close", status_code=202)
async def opsgenie_close(request: Request) -> JSONResponse:
    """Close by alias (`?identifierType=alias`) or by Warroom alert id."""
    return await _opsgenie(request, Endpoint.OPSGENIE_CLOSE)


@router.post("/opsgenie/v2/alerts/{identifier}/acknowledge", status_code=202)
async def opsgenie_acknowledge(request: Request) -> JSONResponse:
    return await _opsgenie(request, Endpoint.OPSGENIE_ACK)


async def _opsgenie(request: Request, endpoint: Endpoint) -> JSONResponse:
    started = time.perf_counter()
    credential = _credential(request, "geniekey", "bearer")
    await _receive(request, await _delivery(request, endpoint, credential))
    took = round(time.perf_counter() - started, 3)
    body = {"result": "Request will be processed", "took": took, "requestId": str(uuid.uuid4())}
    return JSONResponse(body, status_code=202)


@router.post("/generic", status_code=202)
async def generic(request: Request) -> JSONResponse:
    """Any JSON, read through the integration's field mapping."""
    delivery = await _delivery(request, Endpoint.GENERIC, _credential(request, "bearer"))
    result = await _receive(request, delivery)
    return JSONResponse({"status": "accepted", "alerts": _alerts(result)}, status_code=202)
