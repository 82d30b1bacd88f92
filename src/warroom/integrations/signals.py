"""The normalised shapes every adapter produces, and the severity vocabulary they share."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError


class Action(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class AlertSignal:
    """One alert-level instruction from a source.

    `dedup_key` None means "always a new alert" (PagerDuty triggers without a key);
    `service` empty means "use the integration's default service".
    """

    action: Action
    dedup_key: str | None
    title: str = ""
    severity: str = "SEV3"
    service: str = ""
    source: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[Mapping[str, Any], ...] = ()
    started_at: datetime | None = None


@dataclass(frozen=True)
class ChangeSignal:
    """A change to a service (PagerDuty change events)."""

    summary: str
    source: str
    service: str
    kind: str
    happened_at: datetime | None
    details: Mapping[str, Any] = field(default_factory=dict)


class PayloadError(ValueError):
    """The payload does not follow its format; `problems` are (field, message) pairs."""

    def __init__(self, detail: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


SEVERITY_WORDS: Mapping[str, str] = {
    "sev1": "SEV1",
    "sev2": "SEV2",
    "sev3": "SEV3",
    "sev4": "SEV4",
    "p1": "SEV1",
    "p2": "SEV2",
    "p3": "SEV3",
    "p4": "SEV4",
    "p5": "SEV4",
    "critical": "SEV2",
    "page": "SEV2",
    "high": "SEV2",
    "major": "SEV2",
    "error": "SEV3",
    "medium": "SEV3",
    "warning": "SEV4",
    "warn": "SEV4",
    "minor": "SEV4",
    "low": "SEV4",
    "info": "SEV4",
}
"""Source severities mapped to incident severities.

`critical` means "page someone", not "the business is down", so it maps to SEV2; a source
that means SEV1 says `sev1` or `P1`. Grouping rules can override the severity per rule.
"""


def severity_of(word: object, default: str = "SEV3") -> str:
    return SEVERITY_WORDS.get(str(word or "").strip().lower(), default)


def stable_key(*parts: object) -> str:
    """A deterministic dedup key for sources that send none (SHA-256 of the parts)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def string_map(value: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def problems_from(exc: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(p) for p in err["loc"]) or "body", err["msg"]) for err in exc.errors()]
