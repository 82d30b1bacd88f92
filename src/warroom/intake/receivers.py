"""The intake endpoints: open to the network, each authenticated by an integration credential.

They answer in the shape the original tool's clients expect (PagerDuty's `status`/`message`/
`dedup_key`, Opsgenie's `result`/`requestId`), so monitors can be repointed without edits.
Errors are RFC 9457 problems like everywhere else. Every endpoint reads the raw body itself
so that a malformed one can be kept byte for byte as a dead letter.

Each endpoint is described once (`Receiver`: which delivery it makes, where its credential
is, what it answers) and served two ways. `IntakeLane`, in front of the whole application
(`app.WarroomApp`), serves the common case, a POST with a declared body length within the
limit to a fixed path, straight from the ASGI scope: deliveries are the hottest path, and
routing, dependency solving and seven layers of middleware cost about as much CPU as
grouping an alert (measured with bench/intake.py). Everything else (chunked bodies,
oversized ones, the Opsgenie paths that carry an identifier) goes through the routes below,
which use the same descriptions.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warroom.db.uow import UnitOfWork
from warroom.errors import WarroomError
from warroom.http.headers import ENCODED_SECURITY_HEADERS, SECURITY_HEADERS
from warroom.http.problems import log_unexpected, problem_response
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


PREFIX = "/api/v1/intake"
router = APIRouter(prefix="/intake", tags=["intake"], lifespan=lifespan)


@dataclass(frozen=True)
class Receiver:
    """One intake endpoint: the delivery it makes and the answer its clients expect."""

    endpoint: Endpoint
    # Authorization schemes that carry the credential; none: it is in the body (PagerDuty).
    schemes: tuple[str, ...]
    status: int
    answer: Callable[[DeliveryResult, float], dict[str, Any]]


def _alerts(result: DeliveryResult) -> list[dict[str, Any]]:
    # What `model_dump(mode="json")` gives (every field is JSON-native), for a fraction of it.
    return [
        {
            "alert_id": alert.alert_id,
            "dedup_key": alert.dedup_key,
            "outcome": alert.outcome,
            "incident_id": alert.incident_id,
        }
        for alert in result.alerts
    ]


def _pagerduty_answer(result: DeliveryResult, _took: float) -> dict[str, Any]:
    dedup_key = result.alerts[0].dedup_key if result.alerts else None
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def _opsgenie_answer(_result: DeliveryResult, took: float) -> dict[str, Any]:
    return {"result": "Request will be processed", "took": took, "requestId": str(uuid.uuid4())}


ALERTMANAGER = Receiver(
    Endpoint.ALERTMANAGER,
    ("bearer",),
    200,
    lambda result, _: {"status": "success", "alerts": _alerts(result)},
)
PAGERDUTY = Receiver(Endpoint.PAGERDUTY, (), 202, _pagerduty_answer)
PAGERDUTY_CHANGE = Receiver(
    Endpoint.PAGERDUTY_CHANGE,
    (),
    202,
    lambda _result, _took: {"status": "success", "message": "Change event processed"},
)
OPSGENIE_SCHEMES = ("geniekey", "bearer")
OPSGENIE_CREATE = Receiver(Endpoint.OPSGENIE_CREATE, OPSGENIE_SCHEMES, 202, _opsgenie_answer)
OPSGENIE_CLOSE = Receiver(Endpoint.OPSGENIE_CLOSE, OPSGENIE_SCHEMES, 202, _opsgenie_answer)
OPSGENIE_ACK = Receiver(Endpoint.OPSGENIE_ACK, OPSGENIE_SCHEMES, 202, _opsgenie_answer)
GENERIC = Receiver(
    Endpoint.GENERIC,
    ("bearer",),
    202,
    lambda result, _: {"status": "accepted", "alerts": _alerts(result)},
)


def writer_of(app: FastAPI) -> DeliveryWriter:
    """This process's delivery writer, created on first use."""
    state = app.state
    writer: DeliveryWriter | None = getattr(state, "intake_writer", None)
    if writer is None:
        db = state.db
        threads = WRITERS.get(db.dialect, 1)
        writer = state.intake_writer = DeliveryWriter(lambda: UnitOfWork(db), threads=threads)
    return writer


def credential_from(receiver: Receiver, authorization: str, query: Mapping[str, str]) -> str | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in receiver.schemes and value.strip():
        return value.strip()
    return query.get("apiKey") if "geniekey" in receiver.schemes else None


async def answer(app: FastAPI, receiver: Receiver, delivery: Delivery) -> dict[str, Any]:
    """Hand `delivery` to the writer; its answer once the batch holding it has committed."""
    started = time.perf_counter()
    result = await writer_of(app).receive(delivery)
    return receiver.answer(result, round(time.perf_counter() - started, 3))


async def _routed(request: Request, receiver: Receiver) -> Response:
    query = dict(request.query_params)
    delivery = Delivery(
        endpoint=receiver.endpoint,
        body=await request.body(),
        credential=credential_from(receiver, request.headers.get("authorization", ""), query),
        content_type=request.headers.get("content-type", ""),
        params={**query, **request.path_params},
    )
    return JSONResponse(await answer(request.app, receiver, delivery), receiver.status)


@router.post("/alertmanager")
async def alertmanager(request: Request) -> Response:
    """Prometheus Alertmanager webhook (version 4), `Authorization: Bearer <credential>`."""
    return await _routed(request, ALERTMANAGER)


@router.post("/pagerduty/v2/enqueue", status_code=202)
async def pagerduty_enqueue(request: Request) -> Response:
    """PagerDuty Events API v2; the `routing_key` in the body is the credential."""
    return await _routed(request, PAGERDUTY)


@router.post("/pagerduty/v2/change/enqueue", status_code=202)
async def pagerduty_change(request: Request) -> Response:
    """PagerDuty change events, stored as changes on the affected service."""
    return await _routed(request, PAGERDUTY_CHANGE)


@router.post("/opsgenie/v2/alerts", status_code=202)
async def opsgenie_create(request: Request) -> Response:
    """Opsgenie-compatible alert create, `Authorization: GenieKey <credential>`."""
    return await _routed(request, OPSGENIE_CREATE)


@router.post("/opsgenie/v2/alerts/{identifier}/close", status_code=202)
async def opsgenie_close(request: Request) -> Response:
    """Close by alias (`?identifierType=alias`) or by Warroom alert id."""
    return await _routed(request, OPSGENIE_CLOSE)


@router.post("/opsgenie/v2/alerts/{identifier}/acknowledge", status_code=202)
async def opsgenie_acknowledge(request: Request) -> Response:
    return await _routed(request, OPSGENIE_ACK)


@router.post("/generic", status_code=202)
async def generic(request: Request) -> Response:
    """Any JSON, read through the integration's field mapping."""
    return await _routed(request, GENERIC)


LANE_RECEIVERS = {
    PREFIX + "/alertmanager": ALERTMANAGER,
    PREFIX + "/pagerduty/v2/enqueue": PAGERDUTY,
    PREFIX + "/pagerduty/v2/change/enqueue": PAGERDUTY_CHANGE,
    PREFIX + "/opsgenie/v2/alerts": OPSGENIE_CREATE,
    PREFIX + "/generic": GENERIC,
}


class IntakeLane:
    """Serves deliveries to the fixed intake paths before routing (see the module docstring).

    Installed in front of the whole application; what it does not take passes on unchanged.
    Its responses match the routes': the same answers, problems and security headers.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        receiver = LANE_RECEIVERS.get(scope["path"]) if scope["type"] == "http" else None
        if receiver is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if not declared.isdigit() or int(declared) > self.max_body_bytes:
            await self.app(scope, receive, send)  # chunked or too large: the routes decide
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its body
        raw_query = scope.get("query_string", b"")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        delivery = Delivery(
            endpoint=receiver.endpoint,
            body=body,
            credential=credential_from(receiver, authorization, query),
            content_type=headers.get(b"content-type", b"").decode("latin-1"),
            params=query,
        )
        try:
            content = await answer(scope["app"], receiver, delivery)
        except WarroomError as exc:
            problem = problem_response(exc, scope["path"], SECURITY_HEADERS)
        except Exception:  # noqa: BLE001 - answered like every unexpected error
            error = log_unexpected("POST", scope["path"])
            problem = problem_response(error, scope["path"], SECURITY_HEADERS)
        else:
            await _send_json(send, receiver.status, content)
            return
        await problem(scope, receive, send)


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    """What `JSONResponse(content, status)` sends, plus the security headers, built directly."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    encoded = body.encode()
    headers = [
        (b"content-length", str(len(encoded)).encode()),
        (b"content-type", b"application/json"),
        *ENCODED_SECURITY_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
