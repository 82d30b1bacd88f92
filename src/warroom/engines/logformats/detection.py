"""Detection: score the candidate formats on a sample; then parse records, joining lines."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from .model import (
    CONTINUATION,
    MAX_RECORD_CHARS,
    Detection,
    Fields,
    LineFormat,
    Record,
    Row,
    TimeParser,
)
from .positional import PlainFormat, PositionalFormat
from .structured import (
    ACCESS,
    APACHE_ERROR,
    NGINX_ERROR,
    RFC3164,
    RFC5424,
    JournaldFormat,
    JsonFormat,
    LogfmtFormat,
    RegexFormat,
    is_journald,
    journald_rows,
)

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
        RegexFormat("syslog-rfc5424", RFC5424, timestamps),
        RegexFormat("syslog-rfc3164", RFC3164, timestamps),
        RegexFormat("access-log", ACCESS, timestamps),
        RegexFormat("apache-error", APACHE_ERROR, timestamps),
        RegexFormat("nginx-error", NGINX_ERROR, timestamps),
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
        fields = fmt.fields(line)
        if fields is None:
            continuation += bool(CONTINUATION.match(line))
            continue
        starts += 1
        with_time += fields[0] is not None
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
    if is_journald(lines):
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
    if isinstance(fmt, JsonFormat):  # its variant is labelled from the sample already
        return JsonFormat(timestamps, count_variants=False)
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


def records(lines: Iterable[tuple[int, str]], fmt: LineFormat) -> Iterator[Record]:
    """Parse numbered lines into records, joining continuation lines to the record above.

    A line that the format cannot parse and that follows a record is a continuation (stack
    trace, wrapped message); one that comes before any record becomes a record of its own
    without a time, so nothing is dropped.
    """
    for row in record_rows(lines, fmt):
        yield Record(*row)


def record_rows(lines: Iterable[tuple[int, str]], fmt: LineFormat) -> Iterator[Row]:
    """Like :func:`records`, each record as a plain tuple (the fast path for large inputs)."""
    if isinstance(fmt, JournaldFormat):
        yield from journald_rows(lines, fmt)
        return
    parse = fmt.fields
    current: Fields | None = None
    first = 0
    parts: list[str] = []
    size = extra = 0
    for number, line in lines:
        fields = parse(line)
        if fields is None:
            if current is not None:
                extra += 1
                if size < MAX_RECORD_CHARS:  # keep the record bounded; the line count stays exact
                    parts.append(line)
                    size += len(line)
                continue
            fields = (None, None, None, line)
        if current is not None:
            if extra:
                yield _joined(first, current, parts, extra)
            else:  # the common single-line record, without a call
                yield first, current[0], current[1], current[2], current[3], parts[0], 0
        current = fields
        first, parts, size, extra = number, [line], len(line), 0
    if current is not None:
        yield _joined(first, current, parts, extra)


def _joined(first: int, fields: Fields, parts: list[str], extra: int) -> Row:
    ns, level, logger, message = fields
    if len(parts) == 1:
        return first, ns, level, logger, message, parts[0], extra
    text = "\n".join(parts)
    message = message + "\n" + "\n".join(parts[1:])
    return first, ns, level, logger, message, text, extra
