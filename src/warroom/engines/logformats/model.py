"""Records, detections and levels shared by the format parsers (see the package docstring)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Protocol

LEVELS: Final = {
    "TRACE": "TRACE", "FINEST": "TRACE", "FINER": "TRACE", "DEBUG": "DEBUG", "FINE": "DEBUG",
    "DBG": "DEBUG", "INFO": "INFO", "INFORMATION": "INFO", "NOTICE": "INFO", "CONFIG": "INFO",
    "WARN": "WARN", "WARNING": "WARN", "ERROR": "ERROR", "ERR": "ERROR", "SEVERE": "ERROR",
    "FAILURE": "ERROR", "FATAL": "FATAL", "CRITICAL": "FATAL", "CRIT": "FATAL",
    "ALERT": "FATAL", "EMERG": "FATAL", "EMERGENCY": "FATAL", "PANIC": "FATAL",
}  # fmt: skip
SYSLOG_SEVERITY: Final = ("FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG")
ERROR_LEVELS: Final = frozenset({"ERROR", "FATAL"})
LEVEL_WORD = re.compile(
    r"(?<![\w.-])(" + "|".join(sorted(LEVELS, key=len, reverse=True)) + r")(?![\w.-])",
    re.IGNORECASE,
)
LOGGER = re.compile(r"\s*(?:\[[^\]]{0,120}\]\s*)?(?:-\s+)?([A-Za-z_][\w$]*(?:[./][\w$@-]+)+)\s*")
SEPARATORS = " \t-:|[]"
CONTINUATION = re.compile(r"^(?:\s|at |Caused by|Traceback|\.\.\. \d+ more|[}\])]|File \")")
MAX_RECORD_CHARS: Final = 65_536
NS: Final = 1_000_000_000


class FoundTime(Protocol):
    """A timestamp found in text (``warroom.engines.timestamps.Timestamp`` fits)."""

    @property
    def ns(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...


class TimeParser(Protocol):
    """What detection needs from a timestamp parser (``engines.timestamps.TimestampParser``).

    Engines stay independent of each other: the caller passes the parser in.
    """

    def search(self, text: str, endpos: int = 400) -> FoundTime | None: ...
    def match(self, text: str, kind: str, pos: int = 0) -> FoundTime | None: ...
    def parse_value(self, text: str) -> FoundTime | None: ...
    def match_span(self, text: str, kind: str, pos: int = 0) -> tuple[int, int, int] | None:
        """``match`` as ``(ns, start, end)``."""
        ...

    def value_ns(self, text: str) -> int | None:
        """``parse_value(text).ns``, or None."""
        ...


Fields = tuple[int | None, str | None, str | None, str]
"""The fields of one record start as a plain tuple: (ns, level, logger, message)."""
Row = tuple[int, int | None, str | None, str | None, str, str, int]
"""One record as a plain tuple: (line, ns, level, logger, message, text, extra_lines)."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """The fields of one record start."""

    ns: int | None
    level: str | None
    logger: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Record:
    """One log record: its first line number, parsed fields and full (joined) text."""

    line: int
    ns: int | None
    level: str | None
    logger: str | None
    message: str
    text: str
    extra_lines: int = 0


@dataclass(frozen=True, slots=True)
class Detection:
    """Which format a source is in, how sure we are, and why."""

    format: str
    confidence: float
    timestamp_kind: str | None
    reason: str


class LineFormat(Protocol):
    """A candidate format: parses one line, or returns None when it does not start a record.

    ``fields`` is the per-line path (a plain tuple); ``parse`` wraps it in :class:`Parsed`.
    """

    name: str
    specificity: float

    def fields(self, line: str) -> Fields | None: ...
    def parse(self, line: str) -> Parsed | None: ...


def normalise_level(word: str | None) -> str | None:
    """Canonical level name (``WARNING`` -> ``WARN``), or None for an unknown word."""
    return LEVELS.get(word.upper()) if word else None


def clean(text: str) -> str:
    return text.strip(SEPARATORS) if text else text
