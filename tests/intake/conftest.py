"""Intake fixtures: integrations with credentials, payload builders, a live uvicorn server."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient

from warroom.actors import Actor
from warroom.db.uow import UnitOfWork
from warroom.intake import service
from warroom.intake.schemas import IntegrationCreate, IntegrationCreated, IntegrationKind

SYSTEM = Actor.system("test")


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The app without the background ticker, so tests decide when time-based rules run."""
    app.state.intake_tick_seconds = 0
    return app


@pytest.fixture
def make_integration(
    new_uow: Callable[[], UnitOfWork],
) -> Callable[..., IntegrationCreated]:
    counter = iter(range(1, 1000))

    def make(kind: str = "alertmanager", **fields: Any) -> IntegrationCreated:
        data = IntegrationCreate(
            kind=IntegrationKind(kind), name=fields.pop("name", f"{kind}-{next(counter)}"), **fields
        )
        return service.create_integration(new_uow(), SYSTEM, data=data)

    return make


def am_alert(
    name: str = "HighLatency",
    service_name: str = "payments",
    status: str = "firing",
    fingerprint: str | None = None,
    severity: str = "critical",
    **labels: str,
) -> dict[str, Any]:
    """One Alertmanager alert as it appears in a webhook notification."""
    return {
        "status": status,
        "labels": {"alertname": name, "service": service_name, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on {service_name}"},
        "startsAt": "2026-11-26T22:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T22:30:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fingerprint or f"{name}-{service_name}",
    }


def am_notification(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    firing = any(alert["status"] == "firing" for alert in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "warroom",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": list(alerts),
    }


def at(minute: int, second: int = 0) -> datetime:
    """A fixed instant, so time-based rules are tested without sleeping."""
    return datetime(2026, 11, 26, 22, minute, second, tzinfo=UTC)


@pytest.fixture
def intake_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving the test app in a thread (real sockets, real concurrency)."""

    def __init__(self, app: FastAPI, **config: Any) -> None:
        self.port = free_port()
        scheme = "https" if "ssl_certfile" in config else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", **config)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_intake(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port; yields its base URL."""
    with LiveServer(app) as server:
        yield server.url


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url, json=body, headers=headers or {}, timeout=30)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (PagerDuty's client only speaks HTTPS)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
