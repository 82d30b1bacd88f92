"""The ``warroom analyze`` pipeline: read, detect, parse, link, align, find onset and suspects.

Why this exists: it composes the pure engines into one pass over the inputs and returns a typed
:class:`Report` that the renderers (text, JSON, Markdown, HTML) and, later, the web app share.

Each source is streamed once: a sample decides the format (``engines.logformats``), records are
parsed with the source's own :class:`~warroom.engines.timestamps.TimestampParser` (whose
assumptions become report assumptions), identifiers and rule matches are indexed
(``diagnosis.linking``), messages are redacted (``engines.redaction``) *before* they are mined
into templates (``engines.logtemplates``) or kept as events.  After the last source the clocks
are aligned (``engines.clockskew``), every time is corrected, and onsets (``engines.onset``) and
suspects (``engines.suspects``) are computed on corrected time.  Per-source arrays of time,
template and severity are compact; only the first ``max_events`` messages are kept.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from warroom.diagnosis.linking import IdIndex, RuleMatcher, parse_rule
from warroom.diagnosis.reading import Issue, SourceStream, iter_sources
from warroom.diagnosis.timeline import Corrector, EventStore, Timeline
from warroom.engines.clockskew import Alignment, ClockEstimate, align
from warroom.engines.logformats import Detection, Row, detect, record_rows
from warroom.engines.logtemplates import TemplateMiner
from warroom.engines.onset import Onset, SourceEvents, detect_onsets
from warroom.engines.redaction import Redactor
from warroom.engines.suspects import Change, Suspect, rank_suspects
from warroom.engines.timestamps import NS, TimestampParser

SAMPLE_LINES: Final = 200
MAX_MESSAGE_CHARS: Final = 4000
SEVERITY: Final = {"TRACE": 0, "DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3, "FATAL": 4}
ERROR_SEVERITY: Final = 3
_VOLATILE: Final = re.compile(r"[0-9a-fA-F]{8,}|\d+")
_ID_BATCH: Final = 512
Progress = Callable[[int], None]


@dataclass(frozen=True)
class AnalyzeOptions:
    """What the user asked for (CLI flags)."""

    reference: str | None = None
    rules: Sequence[str] = ()
    changes: Sequence[Change] = ()
    dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    max_events: int = 1_000_000
    redact_ips: bool = False
    year: int | None = None


@dataclass(frozen=True, slots=True)
class Assumption:
    """An inference made while reading, and how many lines it affects."""

    source: str
    text: str
    lines: int


@dataclass(frozen=True)
class SourceReport:
    """Everything known about one source."""

    name: str
    path: str
    detection: Detection
    lines: int
    records: int
    timed: int
    templates: int
    clock: ClockEstimate | None
    reference: bool


@dataclass(frozen=True)
class Report:
    """The result of one analysis."""

    sources: tuple[SourceReport, ...]
    assumptions: tuple[Assumption, ...]
    onsets: tuple[Onset, ...]
    quiet: Mapping[str, str]
    suspects: tuple[Suspect, ...]
    events: Timeline
    events_total: int
    issues: tuple[Issue, ...]
    redactions: Mapping[str, int]
    alignment: Alignment
    templates: Mapping[str, str]


@dataclass
class _Source:
    """Per-source state while streaming."""

    name: str
    path: str
    detection: Detection
    parser: TimestampParser
    lines: int = 0
    records: int = 0
    times: array[int] = field(default_factory=lambda: array("q"))
    codes: array[int] = field(default_factory=lambda: array("q"))
    severity: array[int] = field(default_factory=lambda: array("b"))
    template_codes: dict[str, int] = field(default_factory=dict)
    first_event: int = 0


@dataclass
class _Run:
    """State shared by all sources during one analysis."""

    options: AnalyzeOptions
    redactor: Redactor
    ids: IdIndex = field(default_factory=IdIndex)
    matcher: RuleMatcher = field(default_factory=lambda: RuleMatcher([]))
    sources: list[_Source] = field(default_factory=list)
    events: EventStore = field(default_factory=EventStore)
    events_total: int = 0
    issues: list[Issue] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)


def analyze(
    paths: Sequence[Path],
    *,
    named: Mapping[str, Path] | None = None,
    options: AnalyzeOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Analyse the logs under ``paths`` (plus ``named`` sources) into one :class:`Report`.

    Raises:
        ValueError: a user rule does not parse.
    """
    options = options or AnalyzeOptions()
    categories = ["bearer", "url-password", "api-key", "email", "card"]
    run = _Run(options, Redactor(categories + (["ip"] if options.redact_ips else [])))
    run.matcher = RuleMatcher([parse_rule(text) for text in options.rules])
    for stream in iter_sources(list(paths), dict(named or {}), run.issues):
        _ingest(run, stream, progress)
    return _finish(run)


def _ingest(run: _Run, stream: SourceStream, progress: Progress | None) -> None:
    lines = stream.lines()
    sample = list(itertools.islice(lines, SAMPLE_LINES))
    parser = TimestampParser(
        year_hint=run.options.year or _year_of(stream.mtime_ns), ceiling_ns=stream.mtime_ns
    )
    probe = TimestampParser(year_hint=parser.year_hint, ceiling_ns=parser.ceiling_ns)
    detection, fmt = detect([text for _, text in sample], parser, probe)
    source = _Source(stream.name, stream.path, detection, parser)
    numbered: Iterator[tuple[int, str]] = itertools.chain(sample, lines)
    if progress is not None:
        numbered = _reporting(numbered, stream, progress)
    _consume(run, source, record_rows(numbered, fmt))
    source.lines = stream.lines_read
    parser.clear_cache()  # the parser is kept for its assumption counts only
    _close_source(run, source, stream)


def _year_of(mtime_ns: int | None) -> int | None:
    if mtime_ns is None:
        return None
    return int(np.datetime64(mtime_ns, "ns").astype("datetime64[Y]").astype(int)) + 1970


def _reporting(
    lines: Iterator[tuple[int, str]], stream: SourceStream, progress: Progress
) -> Iterator[tuple[int, str]]:
    reported = 0
    for item in lines:
        if item[0] % 20_000 == 0:
            position = stream.position()
            progress(position - reported)
            reported = position
        yield item
    progress(stream.position() - reported)


@dataclass
class _Templates:
    """Template ids of one source's messages (first lines, redacted).

    Messages that differ only in numbers and hex ids share a template: one exemplar per
    masked shape is mined, and the shape's id is reused for the others.
    """

    texts: dict[str, str]
    miner: TemplateMiner = field(default_factory=TemplateMiner)
    cache: dict[str, str] = field(default_factory=dict)

    def of(self, message: str, ns: int | None) -> str:
        key = _VOLATILE.sub("#", message)
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) > 100_000:
                self.cache.clear()
            match = self.miner.add(message, timestamp=ns / NS if ns is not None else None)
            found = match.template_id
            self.cache[key] = found
            self.texts[found] = match.template
        return found


def _consume(run: _Run, source: _Source, rows: Iterator[Row]) -> None:
    """Index, redact, mine and keep every record of one source (the per-record hot loop)."""
    name, index = source.name, len(run.sources)
    # Identifiers are scanned a batch of records at a time (one regex pass over the batch).
    batch_times: list[int] = []
    batch_texts: list[str] = []
    matcher = run.matcher if run.matcher.rules else None
    redact = run.redactor.redact
    templates = _Templates(run.templates)
    known, mask, template_of = templates.cache, _VOLATILE.sub, templates.of
    codes = source.template_codes
    times, kinds, severities = source.times.append, source.codes.append, source.severity.append
    room = max(0, run.options.max_events - len(run.events))
    keep = run.events.add
    count = 0
    for line, ns, level, _, message, text, _ in rows:
        count += 1
        if ns is not None:
            batch_times.append(ns)
            batch_texts.append(text)
            if len(batch_texts) >= _ID_BATCH:
                run.ids.add_many(name, batch_times, batch_texts)
                batch_times.clear()
                batch_texts.clear()
            if matcher is not None:
                matcher.add(name, ns, text)
        message = redact(message[:MAX_MESSAGE_CHARS])
        first_line = message.partition("\n")[0]
        template = known.get(mask("#", first_line)) or template_of(first_line, ns)
        if ns is not None:
            severity = SEVERITY.get(level or "INFO", 1)
            # A known template first logged at error level counts as a new event type for onsets.
            key = template + "!" if severity >= ERROR_SEVERITY else template
            code = codes.get(key)
            if code is None:
                code = codes[key] = len(codes)
            times(ns)
            kinds(code)
            severities(severity)
        if room:
            room -= 1
            keep(index, line, ns, template, level, message)
    run.ids.add_many(name, batch_times, batch_texts)
    source.records += count
    run.events_total += count


def _close_source(run: _Run, source: _Source, stream: SourceStream) -> None:
    if stream.failure is not None and source.lines == 0:
        kind = "empty" if stream.failure == "empty" else "skipped"
        run.issues.append(Issue(source.name, kind, 0, stream.failure))
        return
    if stream.failure is not None:
        run.issues.append(Issue(source.name, "truncated", source.lines, stream.failure))
    if stream.counters["long-line"]:
        count = stream.counters["long-line"]
        run.issues.append(Issue(source.name, "long-lines", count, "lines cut at 64 KiB"))
    if stream.counters["latin-1"]:
        count = stream.counters["latin-1"]
        run.issues.append(Issue(source.name, "encoding", count, "not UTF-8: read as Latin-1"))
    if not source.times:
        why = "no timestamps: lines kept in file order, not placed on the corrected timeline"
        run.issues.append(Issue(source.name, "no-timestamps", source.records, why))
    run.ids.seal(source.name)
    run.sources.append(source)


def _resolution(times: np.ndarray) -> int:
    for step in (NS, 1_000_000, 1000):
        if times.size and not np.any(times % step):
            return step
    return 1


def _finish(run: _Run) -> Report:
    arrays = {s.name: np.frombuffer(s.times, dtype=np.int64) for s in run.sources}
    timed = [s.name for s in run.sources if arrays[s.name].size]
    epoch = min((int(a.min()) for a in arrays.values() if a.size), default=0)
    epoch -= epoch % NS
    reference = run.options.reference if run.options.reference in timed else None
    if run.options.reference is not None and reference is None:
        why = "not a source with timestamps; the most linked source is the reference instead"
        run.issues.append(Issue(run.options.reference, "reference", 0, why))
    distinct = run.ids.distinct()
    alignment = align(
        timed,
        run.ids.drain(),
        reference=reference,
        rules=run.matcher.precedences(),
        distinct_ids=distinct,
        resolution_ns={name: _resolution(arrays[name]) for name in timed},
        epoch_ns=epoch,
    )
    corrected = {name: _correct(alignment, name, arr) for name, arr in arrays.items()}
    onset_input = {
        s.name: SourceEvents(
            corrected[s.name],
            np.frombuffer(s.codes, dtype=np.int64),
            np.frombuffer(s.severity, dtype=np.int8),
        )
        for s in run.sources
        if s.times
    }
    onsets = detect_onsets(onset_input)
    suspects = rank_suspects(
        run.options.changes,
        [(o.source, o.ns) for o in onsets.onsets],
        dependencies=run.options.dependencies,
    )
    return Report(
        tuple(_source_report(s, alignment) for s in run.sources),
        tuple(_assumptions(run)),
        tuple(_named_onset(o, run, alignment) for o in onsets.onsets),
        dict(onsets.quiet),
        tuple(suspects),
        run.events.freeze([s.name for s in run.sources], _corrector(run, alignment)),
        run.events_total,
        tuple(run.issues),
        dict(run.redactor.counts),
        alignment,
        run.templates,
    )


def _named_onset(onset: Onset, run: _Run, alignment: Alignment) -> Onset:
    """Name the template behind an onset and flag onsets read on an uncorrected clock."""
    detail = onset.detail
    if onset.template is not None:
        source = next(s for s in run.sources if s.name == onset.source)
        ids = {code: tid.rstrip("!") for tid, code in source.template_codes.items()}
        tid = ids.get(onset.template, "?")
        detail = detail.replace(f"template {onset.template}", f"template {tid}", 1)
        detail += f": {run.templates.get(tid, '')[:160]}"
    clock = alignment.clocks.get(onset.source)
    if clock is None or clock.status == "unknown":
        detail += " [clock not aligned: observed time]"
    return Onset(onset.source, onset.ns, onset.kind, detail, onset.template, float(onset.score))


def _correct(alignment: Alignment, name: str, observed: np.ndarray) -> np.ndarray:
    clock = alignment.clocks.get(name)
    if clock is None or clock.status == "unknown" or observed.size == 0:
        return observed
    x = (observed - alignment.epoch_ns).astype(np.float64) / NS
    return alignment.epoch_ns + np.round((clock.scale * x + clock.shift_s) * NS).astype(np.int64)


def _source_report(source: _Source, alignment: Alignment) -> SourceReport:
    clock = alignment.clocks.get(source.name)
    return SourceReport(
        source.name,
        source.path,
        source.detection,
        source.lines,
        source.records,
        len(source.times),
        len({t.rstrip("!") for t in source.template_codes}),
        clock,
        alignment.reference == source.name,
    )


def _assumptions(run: _Run) -> Iterator[Assumption]:
    for source in run.sources:
        for text, count in sorted(source.parser.assumptions.items()):
            yield Assumption(source.name, text, count)


def _corrector(run: _Run, alignment: Alignment) -> Corrector:
    names = [s.name for s in run.sources]

    def correct(index: int, observed: np.ndarray) -> np.ndarray | None:
        clock = alignment.clocks.get(names[index])
        if clock is None or clock.status == "unknown":
            return None
        return _correct(alignment, names[index], observed)

    return correct
