"""Log format detection without configuration, and record parsing with multi-line joining.

Why this exists: responders are handed files in whatever format the system wrote, and they
cannot be asked to configure a parser in the middle of an outage.  Detection therefore scores a
small set of *structural* candidates on a sample of the file and keeps the best one:

* self-describing formats first: JSON lines (common key names, OpenTelemetry log data model
  ``timeUnixNano``/``severityText``/``body``, Elastic Common Schema ``@timestamp``/``log.level``,
  Docker ``{"log","stream","time"}``), logfmt, journald export (``__REALTIME_TIMESTAMP``),
  syslog RFC 5424 and RFC 3164, Common/Combined Log Format access logs, Apache and nginx
  error logs;
* then the general layout that covers log4j/logback, Python logging, OpenStack oslo, Windows CBS,
  Kubernetes CRI and the Loghub systems: *a timestamp at a fixed field position, then an
  optional level word and an optional logger name*.  The timestamp layout and position are
  learnt from the sample, not listed per product, so unseen products with the same shape parse;
* degraded modes: a timestamp anywhere in the line, then plain ordered lines.

A line that does not start a record (a stack-trace frame, ``Caused by:``, a Python traceback) is
joined to the record above it, the record keeping the first line's number.  Detection reports
the chosen format and a confidence (share of the sample parsed, times the specificity of the
format).  Product names such as ``hdfs`` are labels computed from the learnt structure.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

LEVELS: Final = {
    "TRACE": "TRACE", "FINEST": "TRACE", "FINER": "TRACE", "DEBUG": "DEBUG", "FINE": "DEBUG",
    "DBG": "DEBUG", "INFO": "INFO", "INFORMATION": "INFO", "NOTICE": "INFO", "CONFIG": "INFO",
    "WARN": "WARN", "WARNING": "WARN", "ERROR": "ERROR", "ERR": "ERROR", "SEVERE": "ERROR",
    "FAILURE": "ERROR", "FATAL": "FATAL", "CRITICAL": "FATAL", "CRIT": "FATAL",
    "ALERT": "FATAL", "EMERG": "FATAL", "EMERGENCY": "FATAL", "PANIC": "FATAL",
}  # fmt: skip
SYSLOG_SEVERITY: Final = ("FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG")
ERROR_LEVELS: Final = frozenset({"ERROR", "FATAL"})
_LEVEL_WORD = re.compile(
    r"(?<![\w.-])(" + "|".join(sorted(LEVELS, key=len, reverse=True)) + r")(?![\w.-])",
    re.IGNORECASE,
)
_LOGGER = re.compile(r"\s*(?:\[[^\]]{0,120}\]\s*)?(?:-\s+)?([A-Za-z_][\w$]*(?:[./][\w$@-]+)+)\s*")
_SEPARATORS = " \t-:|[]"
_CONTINUATION = re.compile(r"^(?:\s|at |Caused by|Traceback|\.\.\. \d+ more|[}\])]|File \")")
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
    """A candidate format: parses one line, or returns None when it does not start a record."""

    name: str
    specificity: float

    def parse(self, line: str) -> Parsed | None: ...


def normalise_level(word: str | None) -> str | None:
    """Canonical level name (``WARNING`` -> ``WARN``), or None for an unknown word."""
    return LEVELS.get(word.upper()) if word else None


def _clean(text: str) -> str:
    return text.strip(_SEPARATORS) if text else text


# --- JSON lines ---------------------------------------------------------------------------

_TIME_KEYS = ("timeUnixNano", "observedTimeUnixNano", "@timestamp", "timestamp", "time", "ts")
_MORE_TIME_KEYS = ("datetime", "date", "asctime", "eventTime", "t", "Timestamp", "created")
_LEVEL_KEYS = ("severityText", "level", "log.level", "severity", "lvl", "levelname", "loglevel")
_MSG_KEYS = ("body", "message", "msg", "log", "MESSAGE", "text", "event")


def _flatten_key(obj: dict[str, Any], key: str) -> Any:
    if key in obj:
        return obj[key]
    head, _, tail = key.partition(".")
    inner = obj.get(head)
    return inner.get(tail) if tail and isinstance(inner, dict) else None


def _first(obj: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = _flatten_key(obj, key)
        if value not in (None, ""):
            return value
    return None


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

    def __init__(self, timestamps: TimeParser) -> None:
        self._ts = timestamps
        self.variants: Counter[str] = Counter()

    def parse(self, line: str) -> Parsed | None:
        if not line.startswith("{"):
            return None
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        self.variants[_json_variant(obj)] += 1
        return Parsed(
            self._time(_first(obj, _TIME_KEYS + _MORE_TIME_KEYS)),
            _json_level(obj),
            _as_text(_first(obj, ("logger", "log.logger", "name", "logger_name", "scope"))),
            _json_message(obj, line),
        )

    def _time(self, value: Any) -> int | None:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            return _number_to_ns(value)
        text = str(value)
        if text.isdigit():
            return _number_to_ns(int(text))
        found = self._ts.parse_value(text)
        return found.ns if found else None


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

_LOGFMT_PAIR = re.compile(r'([A-Za-z_][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


class LogfmtFormat:
    """``key=value`` pairs (Heroku/Go logfmt), needing a time, level or msg key."""

    name = "logfmt"
    specificity = 1.0

    def __init__(self, timestamps: TimeParser) -> None:
        self._ts = timestamps

    def parse(self, line: str) -> Parsed | None:
        pairs = {k: v.strip('"') for k, v in _LOGFMT_PAIR.findall(line)}
        if len(pairs) < 2 or not (pairs.keys() & {"time", "ts", "t", "level", "msg", "lvl"}):
            return None
        raw_time = pairs.get("time") or pairs.get("ts") or pairs.get("t") or ""
        found = self._ts.parse_value(raw_time) if raw_time else None
        ns = found.ns if found else None
        if ns is None and raw_time.replace(".", "", 1).isdigit():
            ns = _number_to_ns(float(raw_time))
        message = pairs.get("msg") or pairs.get("message") or line
        return Parsed(
            ns,
            normalise_level(pairs.get("level") or pairs.get("lvl")),
            pairs.get("logger") or pairs.get("caller"),
            message,
        )


# --- syslog, access and error logs --------------------------------------------------------

_RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<msg>.*)"
)
_RFC3164 = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<ts>[JFMASOND][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?) "
    r"(?P<host>\S+) (?P<app>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)"
)
_ACCESS = re.compile(
    r'(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<req>[^"]*)" '
    r"(?P<status>\d{3}) (?P<size>\S+)(?P<rest>.*)"
)
_APACHE_ERROR = re.compile(
    r"\[(?P<ts>[A-Z][a-z]{2} [^\]]+\d{4})\] \[(?:(?P<module>[\w-]+):)?(?P<level>\w+)\] (?P<msg>.*)"
)
_NGINX_ERROR = re.compile(
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
        m = self._regex.match(line)
        if m is None:
            return None
        groups = m.groupdict()
        found = (
            self._ts.parse_value(groups["ts"] or "")
            if groups.get("ts") not in (None, "-")
            else None
        )
        return Parsed(
            found.ns if found else None,
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


# --- the general "timestamp at a position, then level and logger" layout ------------------


class PositionalFormat:
    """Timestamp of a learnt layout after ``skip`` whitespace-separated fields, then the rest.

    Args:
        kind: timestamp layout (see ``warroom.engines.timestamps.LAYOUTS``).
        skip: number of leading fields before the timestamp (``0`` for most products).
        anywhere: search the whole line instead (the degraded mode).
    """

    specificity = 0.95

    def __init__(
        self, name: str, kind: str, skip: int, timestamps: TimeParser, anywhere: bool = False
    ) -> None:
        self.name = name
        self.kind = kind
        self.skip = skip
        self.anywhere = anywhere
        self._ts = timestamps
        if anywhere:
            self.specificity = 0.6

    def parse(self, line: str) -> Parsed | None:
        if self.anywhere:
            found = self._ts.search(line)
        else:
            pos = _skip_fields(line, self.skip)
            found = self._ts.match(line, self.kind, pos) if pos >= 0 else None
            if found is None and pos >= 0 and line[pos : pos + 1] in "[(<":
                found = self._ts.match(line, self.kind, pos + 1)
        if found is None:
            return None
        head = line[: found.start] if self.anywhere else ""
        level, logger, message = split_rest(line[found.end :])
        if level is None and head:
            level = _level_in(head)
        return Parsed(found.ns, level, logger, message)


def _skip_fields(line: str, count: int) -> int:
    pos = 0
    for _ in range(count):
        pos = line.find(" ", pos)
        if pos < 0:
            return -1
        while pos < len(line) and line[pos] == " ":
            pos += 1
    return pos


def _level_in(text: str) -> str | None:
    m = _LEVEL_WORD.search(text)
    return normalise_level(m.group(1)) if m and _looks_like_level(m.group(1)) else None


def _looks_like_level(word: str) -> bool:
    # "info" inside prose is not a level; "INFO" and "Info" in a header are.
    return word.isupper() or word.istitle()


def split_rest(rest: str) -> tuple[str | None, str | None, str]:
    """Split the text after a timestamp into (level, logger, message)."""
    m = _LEVEL_WORD.search(rest, 0, 48)
    level = None
    body = rest
    if m and _looks_like_level(m.group(1)):
        level = normalise_level(m.group(1))
        before = rest[: m.start()]
        body = rest[m.end() :]
        named = _LOGGER.match(before + " ") if "." in before else None
        if named:  # Python logging puts the logger before the level
            return level, named.group(1), _clean(body)
    logger_match = _LOGGER.match(body)
    if logger_match:
        return level, logger_match.group(1), _clean(body[logger_match.end() :])
    return level, None, _clean(body)


class PlainFormat:
    """No timestamps at all: every line is a record in file order."""

    name = "plain"
    specificity = 0.3

    def parse(self, line: str) -> Parsed:
        return Parsed(None, _level_in(line[:80]), None, line)


# --- detection ------------------------------------------------------------------------------

_FAMILIES: Final = (
    ("hdfs", re.compile(r"\d{6} \d{6} \d+ [A-Z]+ [\w.$]+: ")),
    ("log4j (spark)", re.compile(r"\d\d/\d\d/\d\d \d\d:\d\d:\d\d [A-Z]+ [\w.$]+: ")),
    ("log4j (zookeeper)", re.compile(r"\S+ \S+ - [A-Z]+ +\[")),
    ("windows-cbs", re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, [A-Z][a-z]+ +\w+ ")),
    ("openstack-oslo", re.compile(r"\S+ \S+ \d+ [A-Z]+ [\w.]+ \[")),
    ("python-logging", re.compile(r"\S+ \S+ - [\w.]+ - [A-Z]+ - ")),
    ("log4j", re.compile(r"\S+ \S+ \[?[A-Z]+\]? +\[[^\]]+\] +[\w.$]+")),
    ("bgl", re.compile(r"\S+ \d{10} \d{4}\.\d\d\.\d\d \S+ \d{4}-\d\d-\d\d-")),
    ("thunderbird", re.compile(r"\S+ \d{10} \d{4}\.\d\d\.\d\d \S+ [A-Z][a-z]{2} +\d")),
    ("hpc", re.compile(r"\d+ \S+ \S+ \S+ \d{10} \d ")),
    ("kubernetes-cri", re.compile(r"\S+ (?:stdout|stderr) [FP] ")),
)


def _family(sample: Sequence[str], kind: str) -> str:
    for name, regex in _FAMILIES:
        hits = sum(1 for line in sample if regex.match(line))
        if hits >= 0.6 * len(sample):
            return name
    return f"timestamped-text ({kind})"


def _candidates(timestamps: TimeParser) -> list[LineFormat]:
    return [
        JsonFormat(timestamps),
        LogfmtFormat(timestamps),
        RegexFormat("syslog-rfc5424", _RFC5424, timestamps),
        RegexFormat("syslog-rfc3164", _RFC3164, timestamps),
        RegexFormat("access-log", _ACCESS, timestamps),
        RegexFormat("apache-error", _APACHE_ERROR, timestamps),
        RegexFormat("nginx-error", _NGINX_ERROR, timestamps),
    ]


def _positional(sample: Sequence[str], timestamps: TimeParser) -> PositionalFormat | None:
    placements: Counter[tuple[str, int]] = Counter()
    for line in sample:
        found = timestamps.search(line)
        if found is not None:
            prefix = line[: found.start].rstrip("[(<")
            placements[(found.kind, len(prefix.split()))] += 1
    if not placements:
        return None
    (kind, skip), hits = placements.most_common(1)[0]
    if hits >= 0.5 * sum(placements.values()):
        return PositionalFormat(_family(sample, kind), kind, skip, timestamps)
    return PositionalFormat("timestamp-anywhere", kind, 0, timestamps, anywhere=True)


def _score(fmt: LineFormat, sample: Sequence[str]) -> tuple[float, int]:
    starts = with_time = continuation = 0
    for line in sample:
        parsed = fmt.parse(line)
        if parsed is None:
            continuation += bool(_CONTINUATION.match(line))
            continue
        starts += 1
        with_time += parsed.ns is not None
    if starts == 0:
        return 0.0, 0
    share = starts / max(1, len(sample) - continuation)
    time_share = with_time / starts
    return fmt.specificity * share * (0.5 + 0.5 * time_share), starts


def detect(
    sample: Sequence[str], timestamps: TimeParser, probe: TimeParser | None = None
) -> tuple[Detection, LineFormat]:
    """Choose the format of a source from a sample of its first non-empty lines.

    Args:
        sample: the first lines of the source.
        timestamps: the parser the returned format will use for the whole source.
        probe: a second, throw-away parser for scoring the candidates, so that assumptions
            made on the sample are not counted twice (default: ``timestamps`` itself).

    Returns the detection report and the parser to use for the whole source.
    """
    probe = probe or timestamps
    lines = [line for line in sample if line.strip()]
    if not lines:
        return Detection("plain", 0.0, None, "no non-empty lines"), PlainFormat()
    if _is_journald(lines):
        journald = JournaldFormat(timestamps)
        return Detection(journald.name, 1.0, "epoch", "journald export fields"), journald
    best: tuple[float, LineFormat] | None = None
    candidates = _candidates(probe)
    positional = _positional(lines, probe)
    if positional is not None:
        candidates.append(positional)
    for fmt in candidates:
        confidence, _ = _score(fmt, lines)
        if best is None or confidence > best[0]:
            best = (confidence, fmt)
    assert best is not None
    confidence, chosen = best
    if confidence < 0.25:
        return Detection("plain", 0.3, None, "no timestamps found in the sample"), PlainFormat()
    chosen = _rebind(chosen, timestamps)
    kind = chosen.kind if isinstance(chosen, PositionalFormat) else None
    reason = f"{round(confidence * 100)}% of {len(lines)} sampled lines parsed"
    label = _label(chosen, lines, probe)
    return Detection(label, round(confidence, 3), kind, reason), chosen


def _rebind(fmt: LineFormat, timestamps: TimeParser) -> LineFormat:
    """The same format bound to the caller's parser, so its assumptions are counted there."""
    if isinstance(fmt, JsonFormat):
        return JsonFormat(timestamps)
    if isinstance(fmt, LogfmtFormat):
        return LogfmtFormat(timestamps)
    if isinstance(fmt, RegexFormat):
        return RegexFormat(fmt.name, fmt._regex, timestamps)
    if isinstance(fmt, PositionalFormat):
        return PositionalFormat(fmt.name, fmt.kind, fmt.skip, timestamps, fmt.anywhere)
    return fmt


def _label(fmt: LineFormat, lines: Sequence[str], timestamps: TimeParser) -> str:
    if isinstance(fmt, JsonFormat):
        probe = JsonFormat(timestamps)
        for line in lines:
            probe.parse(line)
        return probe.variants.most_common(1)[0][0] if probe.variants else fmt.name
    return fmt.name


# --- journald export --------------------------------------------------------------------------


def _is_journald(lines: Sequence[str]) -> bool:
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

    def block(self, fields: dict[str, str]) -> Parsed:
        """Parse one entry's fields."""
        realtime = fields.get("__REALTIME_TIMESTAMP", "")
        ns = int(realtime) * 1000 if realtime.isdigit() else None
        priority = fields.get("PRIORITY", "")
        level = SYSLOG_SEVERITY[int(priority) % 8] if priority.isdigit() else None
        logger = fields.get("SYSLOG_IDENTIFIER") or fields.get("_SYSTEMD_UNIT")
        return Parsed(ns, level, logger, fields.get("MESSAGE", ""))


def _journald_records(lines: Iterable[tuple[int, str]], fmt: JournaldFormat) -> Iterator[Record]:
    fields: dict[str, str] = {}
    first = 0
    for number, line in lines:
        if not line.strip():
            if fields:
                yield _record(
                    first, fmt.block(fields), "\n".join(f"{k}={v}" for k, v in fields.items())
                )
            fields = {}
            continue
        if not fields:
            first = number
        key, _, value = line.partition("=")
        fields[key] = value
    if fields:
        yield _record(first, fmt.block(fields), "\n".join(f"{k}={v}" for k, v in fields.items()))


# --- record assembly --------------------------------------------------------------------------


def _record(line: int, parsed: Parsed, text: str, extra: int = 0) -> Record:
    return Record(line, parsed.ns, parsed.level, parsed.logger, parsed.message, text, extra)


def records(lines: Iterable[tuple[int, str]], fmt: LineFormat) -> Iterator[Record]:
    """Parse numbered lines into records, joining continuation lines to the record above.

    A line that the format cannot parse and that follows a record is a continuation (stack
    trace, wrapped message); one that comes before any record becomes a record of its own
    without a time, so nothing is dropped.
    """
    if isinstance(fmt, JournaldFormat):
        yield from _journald_records(lines, fmt)
        return
    current: Parsed | None = None
    first = 0
    parts: list[str] = []
    size = extra = 0
    for number, line in lines:
        parsed = fmt.parse(line)
        if parsed is None and current is not None:
            extra += 1
            if size < MAX_RECORD_CHARS:  # keep the record bounded; the line count stays exact
                parts.append(line)
                size += len(line)
            continue
        if current is not None:
            yield _joined(first, current, parts, extra)
        current = parsed or Parsed(None, None, None, line)
        first, parts, size, extra = number, [line], len(line), 0
    if current is not None:
        yield _joined(first, current, parts, extra)


def _joined(first: int, parsed: Parsed, parts: list[str], extra: int) -> Record:
    if len(parts) == 1:
        return _record(first, parsed, parts[0], extra)
    text = "\n".join(parts)
    message = parsed.message + "\n" + "\n".join(parts[1:])
    return Record(first, parsed.ns, parsed.level, parsed.logger, message, text, extra)
