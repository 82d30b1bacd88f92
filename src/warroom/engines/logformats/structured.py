"""Self-describing formats: JSON lines, logfmt, syslog, access and error logs, journald export.

JSON key names follow the OpenTelemetry log data model, Elastic Common Schema and the Docker
json-file driver; syslog follows RFC 5424 and RFC 3164; access logs the Common/Combined Log
Format; journald the ``journalctl -o export`` format.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .model import (
    NS,
    SYSLOG_SEVERITY,
    Fields,
    Parsed,
    Record,
    Row,
    TimeParser,
    normalise_level,
)

_Keys = tuple[tuple[str, str, str], ...]


def _keys(*names: str) -> _Keys:
    """Each key with its dotted split, precomputed: ``log.level`` is also ``{"log": {"level"}}``."""
    return tuple((name, *name.partition(".")[::2]) for name in names)


def _first(obj: dict[str, Any], keys: _Keys) -> Any:
    """The first non-empty value among ``keys`` (a dotted key also looks one object deep)."""
    for key, head, tail in keys:
        if key in obj:
            value = obj[key]
        elif tail:
            inner = obj.get(head)
            value = inner.get(tail) if isinstance(inner, dict) else None
        else:
            continue
        if value is not None and value != "":
            return value
    return None


_TIME_KEYS = _keys(
    "timeUnixNano", "observedTimeUnixNano", "@timestamp", "timestamp", "time", "ts",
    "datetime", "date", "asctime", "eventTime", "t", "Timestamp", "created",
)  # fmt: skip
_LEVEL_KEYS = _keys(
    "severityText", "level", "log.level", "severity", "lvl", "levelname", "loglevel"
)
_MSG_KEYS = _keys("body", "message", "msg", "log", "MESSAGE", "text", "event")
_LOGGER_KEYS = _keys("logger", "log.logger", "name", "logger_name", "scope")


def _number_to_ns(value: float) -> int | None:
    magnitude = abs(value)
    for limit, scale in ((1e11, NS), (1e14, 1_000_000), (1e17, 1000), (1e20, 1)):
        if magnitude < limit:
            return int(round(value * scale)) if scale > 1 else int(value)
    return None


class JsonFormat:
    """One JSON object per line; the variant label comes from the keys seen."""

    name = "json"
    specificity = 1.0

    def __init__(self, timestamps: TimeParser, *, count_variants: bool = True) -> None:
        self._ts = timestamps
        self.variants: Counter[str] = Counter()
        self._count_variants = count_variants

    def parse(self, line: str) -> Parsed | None:
        fields = self.fields(line)
        return Parsed(*fields) if fields is not None else None

    def fields(self, line: str) -> Fields | None:
        if not line.startswith("{"):
            return None
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        if self._count_variants:
            self.variants[_json_variant(obj)] += 1
        logger, message = _as_text(_first(obj, _LOGGER_KEYS)), _json_message(obj, line)
        if "\\ud" in line or "\\uD" in line:
            # A lone surrogate escape ("\ud800") decodes to a str no UTF-8 output can hold.
            message = _encodable(message)
            logger = _encodable(logger) if logger is not None else None
        return self._time(_first(obj, _TIME_KEYS)), _json_level(obj), logger, message

    def _time(self, value: Any) -> int | None:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            return _number_to_ns(value)
        text = str(value)
        if text.isdigit():
            return _number_to_ns(int(text))
        return self._ts.value_ns(text)


def _json_variant(obj: dict[str, Any]) -> str:
    if "timeUnixNano" in obj or "severityText" in obj or "severityNumber" in obj:
        return "json/opentelemetry"
    if "@timestamp" in obj and ("ecs" in obj or "log.level" in obj or "ecs.version" in obj):
        return "json/ecs"
    if "kubernetes" in obj:
        return "json/kubernetes"
    if "log" in obj and "stream" in obj:
        return "json/docker"
    return "json"


def _encodable(text: str) -> str:
    """``text`` with lone surrogates replaced by "?" (valid pairs were joined by the parser)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        inner = value.get("stringValue", value.get("name"))
        return str(inner) if inner is not None else json.dumps(value, sort_keys=True)
    return str(value)


def _json_level(obj: dict[str, Any]) -> str | None:
    raw = _first(obj, _LEVEL_KEYS)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return SYSLOG_SEVERITY[raw] if 0 <= raw < 8 else None
    level = normalise_level(str(raw)) if raw is not None else None
    if level is None and isinstance(obj.get("stream"), str) and obj["stream"] == "stderr":
        return None
    return level


def _json_message(obj: dict[str, Any], line: str) -> str:
    value = _as_text(_first(obj, _MSG_KEYS))
    return value.rstrip("\n") if value is not None else line


# --- key=value formats --------------------------------------------------------------------

# A key starts at the first letter of a run of key characters and takes the rest of the run
# (as a plain left-to-right search would find it), but no search starts inside a run: that
# made lines with a long run and no "=" after it quadratic (90 s on a 64 KiB line).
_LOGFMT_PAIR = re.compile(
    r'(?<![\w.@/-])(?:(?![A-Za-z_])[\w.@/-])*+([A-Za-z_][\w.@/-]*+)=("(?:[^"\\]|\\.)*"|[^\s"]*)'
)
_LOGFMT_KEYS = frozenset({"time", "ts", "t", "level", "msg", "lvl"})


class LogfmtFormat:
    """``key=value`` pairs (Heroku/Go logfmt), needing a time, level or msg key."""

    name = "logfmt"
    specificity = 1.0

    def __init__(self, timestamps: TimeParser) -> None:
        self._ts = timestamps

    def parse(self, line: str) -> Parsed | None:
        fields = self.fields(line)
        return Parsed(*fields) if fields is not None else None

    def fields(self, line: str) -> Fields | None:
        pairs = {k: v.strip('"') for k, v in _LOGFMT_PAIR.findall(line)}
        if len(pairs) < 2 or not (pairs.keys() & _LOGFMT_KEYS):
            return None
        raw_time = pairs.get("time") or pairs.get("ts") or pairs.get("t") or ""
        ns = self._ts.value_ns(raw_time) if raw_time else None
        if ns is None and raw_time.replace(".", "", 1).isdigit():
            ns = _number_to_ns(float(raw_time))
        message = pairs.get("msg") or pairs.get("message") or line
        return (
            ns,
            normalise_level(pairs.get("level") or pairs.get("lvl")),
            pairs.get("logger") or pairs.get("caller"),
            message,
        )


# --- syslog, access and error logs --------------------------------------------------------

RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<msg>.*)"
)
RFC3164 = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<ts>[JFMASOND][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?) "
    r"(?P<host>\S+) (?P<app>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)"
)
ACCESS = re.compile(
    r'(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<req>[^"]*)" '
    r"(?P<status>\d{3}) (?P<size>\S+)(?P<rest>.*)"
)
APACHE_ERROR = re.compile(
    r"\[(?P<ts>[A-Z][a-z]{2} [^\]]+\d{4})\] \[(?:(?P<module>[\w-]+):)?(?P<level>\w+)\] (?P<msg>.*)"
)
NGINX_ERROR = re.compile(
    r"(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>\w+)\] (?P<pid>\d+)#\d+: (?P<msg>.*)"
)


class RegexFormat:
    """A format defined by one anchored regular expression with ts/level/msg groups."""

    specificity = 1.0

    def __init__(self, name: str, regex: re.Pattern[str], timestamps: TimeParser) -> None:
        self.name = name
        self._regex = regex
        self._ts = timestamps

    def parse(self, line: str) -> Parsed | None:
        fields = self.fields(line)
        return Parsed(*fields) if fields is not None else None

    def fields(self, line: str) -> Fields | None:
        m = self._regex.match(line)
        if m is None:
            return None
        groups = m.groupdict()
        stamp = groups.get("ts")
        return (
            self._ts.value_ns(stamp) if stamp is not None and stamp != "-" else None,
            _regex_level(groups),
            groups.get("app") or groups.get("module"),
            _regex_message(groups),
        )


def _regex_level(groups: dict[str, str | None]) -> str | None:
    if groups.get("status"):
        status = int(groups["status"] or 0)
        return "ERROR" if status >= 500 else "WARN" if status >= 400 else "INFO"
    if groups.get("pri"):
        return SYSLOG_SEVERITY[int(groups["pri"] or 0) % 8]
    return normalise_level(groups.get("level"))


def _regex_message(groups: dict[str, str | None]) -> str:
    if groups.get("req") is not None:
        return f'"{groups["req"]}" {groups["status"]} {groups["size"]}{groups.get("rest") or ""}'
    return groups.get("msg") or ""


def is_journald(lines: Sequence[str]) -> bool:
    keys = sum(1 for line in lines if line.startswith(("__CURSOR=", "__REALTIME_TIMESTAMP=")))
    return keys > 0 and sum(1 for line in lines if "=" in line[:64]) >= 0.8 * len(lines)


class JournaldFormat:
    """``journalctl -o export``: blocks of ``FIELD=value`` lines separated by blank lines."""

    name = "journald-export"
    specificity = 1.0

    def __init__(self, timestamps: TimeParser) -> None:
        self._ts = timestamps

    def parse(self, line: str) -> Parsed | None:
        return Parsed(None, None, None, line) if line.startswith("__CURSOR=") else None

    def fields(self, line: str) -> Fields | None:
        return (None, None, None, line) if line.startswith("__CURSOR=") else None

    def block(self, fields: dict[str, str]) -> Parsed:
        """Parse one entry's fields."""
        realtime = fields.get("__REALTIME_TIMESTAMP", "")
        ns = int(realtime) * 1000 if realtime.isdigit() else None
        priority = fields.get("PRIORITY", "")
        level = SYSLOG_SEVERITY[int(priority) % 8] if priority.isdigit() else None
        logger = fields.get("SYSLOG_IDENTIFIER") or fields.get("_SYSTEMD_UNIT")
        return Parsed(ns, level, logger, fields.get("MESSAGE", ""))


def journald_records(lines: Iterable[tuple[int, str]], fmt: JournaldFormat) -> Iterator[Record]:
    for row in journald_rows(lines, fmt):
        yield Record(*row)


def journald_rows(lines: Iterable[tuple[int, str]], fmt: JournaldFormat) -> Iterator[Row]:
    """Journal export entries (blank-line separated) as record rows."""
    fields: dict[str, str] = {}
    first = 0
    for number, line in lines:
        if not line.strip():
            if fields:
                yield _journald_row(first, fmt.block(fields), fields)
            fields = {}
            continue
        if not fields:
            first = number
        key, _, value = line.partition("=")
        fields[key] = value
    if fields:
        yield _journald_row(first, fmt.block(fields), fields)


def _journald_row(first: int, parsed: Parsed, fields: dict[str, str]) -> Row:
    text = _export_text(fields)
    return (first, parsed.ns, parsed.level, parsed.logger, parsed.message, text, 0)


def _export_text(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in fields.items())
