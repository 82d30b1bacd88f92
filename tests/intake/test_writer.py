"""The delivery writer: what it takes into one batch, how long it lingers, and shutdown."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.conftest import run_coroutine
from tests.intake.conftest import am_alert, am_notification
from warroom.db.uow import UnitOfWork
from warroom.intake import batching, service
from warroom.intake.schemas import DeliveryResult, IntegrationCreated
from warroom.intake.service import Delivery, Endpoint


class RecordingBatches:
    """The real `receive_batch`, recording each batch's size; the first batch can be held."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.release_first = threading.Event()
        self.first_started = threading.Event()
        self._real = service.receive_batch

    def __call__(
        self, uow: UnitOfWork, deliveries: Sequence[Delivery], **options: Any
    ) -> list[Any]:
        if options:  # a batch redone after a stale guess: the same batch, not a new one
            return self._real(uow, deliveries, **options)
        self.sizes.append(len(deliveries))
        if len(self.sizes) == 1:
            self.first_started.set()
            assert self.release_first.wait(10)
        return self._real(uow, deliveries)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingBatches:
    recorder = RecordingBatches()
    monkeypatch.setattr(service, "receive_batch", recorder)
    return recorder


def delivery(credential: str, number: int) -> Delivery:
    alert = am_alert(f"Alert{number}", fingerprint=f"fp-{number}")
    return Delivery(Endpoint.ALERTMANAGER, json.dumps(am_notification(alert)).encode(), credential)


async def _sent_apart(
    writer: batching.DeliveryWriter, deliveries: list[Delivery], gap_s: float
) -> list[DeliveryResult]:
    async def send(index: int, item: Delivery) -> DeliveryResult:
        await asyncio.sleep(index * gap_s)
        return await writer.receive(item)

    return list(await asyncio.gather(*(send(i, d) for i, d in enumerate(deliveries))))


def test_the_writer_lingers_for_as_many_as_its_last_batch_held_and_not_after_a_single_one(
    new_uow: Callable[[], UnitOfWork],
    make_integration: Callable[..., IntegrationCreated],
    recording: RecordingBatches,
) -> None:
    credential = make_integration("alertmanager").credential
    writer = batching.DeliveryWriter(new_uow, linger_s=0.5)

    async def scenario() -> float:
        # The first delivery is held in its batch while four more queue up: they form the
        # next batch together, so the writer now expects four.
        first = asyncio.ensure_future(writer.receive(delivery(credential, 0)))
        assert await asyncio.to_thread(recording.first_started.wait, 10)
        queued = [
            asyncio.ensure_future(writer.receive(delivery(credential, n))) for n in (1, 2, 3, 4)
        ]
        await asyncio.sleep(0.05)
        recording.release_first.set()
        await asyncio.gather(first, *queued)
        # Four arriving 20 ms apart are waited for and written as one batch.
        results = await _sent_apart(writer, [delivery(credential, n) for n in (5, 6, 7, 8)], 0.02)
        assert all(r.alerts[0].outcome == "created" for r in results)
        # A lone delivery waits out the linger once, then the next is written at once.
        await writer.receive(delivery(credential, 9))
        started = time.monotonic()
        await writer.receive(delivery(credential, 10))
        return time.monotonic() - started

    try:
        alone = run_coroutine(scenario())
    finally:
        writer.close()
    assert recording.sizes == [1, 4, 4, 1, 1]
    assert alone < 0.25


def test_closing_the_writer_finishes_what_is_queued(
    new_uow: Callable[[], UnitOfWork],
    make_integration: Callable[..., IntegrationCreated],
    recording: RecordingBatches,
) -> None:
    credential = make_integration("alertmanager").credential
    writer = batching.DeliveryWriter(new_uow)

    async def scenario() -> list[DeliveryResult]:
        first = asyncio.ensure_future(writer.receive(delivery(credential, 0)))
        assert await asyncio.to_thread(recording.first_started.wait, 10)
        queued = [asyncio.ensure_future(writer.receive(delivery(credential, n))) for n in (1, 2)]
        await asyncio.sleep(0.05)
        closing = asyncio.ensure_future(asyncio.to_thread(writer.close))
        await asyncio.sleep(0.05)
        recording.release_first.set()
        await closing
        return list(await asyncio.gather(first, *queued))

    results = run_coroutine(scenario())
    assert [r.alerts[0].outcome for r in results] == ["created"] * 3
    assert sum(recording.sizes) == 3
