"""Links between sources: shared identifiers found automatically, and user precedence rules.

Why this exists: clock alignment needs pairs of events known to be causally related across
sources.  Request, trace and span ids, UUIDs, OpenStack ``req-...`` ids, HDFS block ids,
Hadoop application/attempt ids and transaction ids are recognised by shape or by the key that
precedes them; an identifier becomes a link only if it appears in more than one source.  For
each identifier and source only the first and last time and the count are kept, so memory is
bounded by the number of distinct identifiers, not lines.

A user rule ``A:REGEX_X -> B:REGEX_Y`` says lines matching X in source A happen before lines
matching Y in source B; if both regexes have a capture group the lines are paired by the
captured value, otherwise in order of appearance.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from warroom.engines.clockskew import Occurrence, Precedence, SharedId

_CHAR: Final = r"[^\s\"',;{}\[\]()<>|/]"
"""A token character: not whitespace (as ``str.split`` sees it) and not JSON/bracket punctuation."""
_GAP: Final = r"[\s\"',;{}\[\]()<>|/]"
# Skips separators and short tokens that cannot name an id (under 10 characters, not ending in
# "id" or "id" plus one character), possessively and in C; captures the next token that can.
_NEXT_CANDIDATE: Final = re.compile(
    rf"(?:{_GAP}++|{_CHAR}{{1,9}}+(?!{_CHAR})(?<![iI][dD])(?<![iI][dD]{_CHAR}))*+({_CHAR}+)"
)
_NEXT_TOKEN: Final = re.compile(rf"{_GAP}*+({_CHAR}+)")
ENTITY_MIN: Final = 50
ENTITY_SHARE: Final = 0.05
_KEYS: Final = {
    "requestid": "request-id", "reqid": "request-id", "xrequestid": "request-id",
    "correlationid": "request-id", "xcorrelationid": "request-id", "traceid": "trace-id",
    "spanid": "span-id", "transactionid": "transaction-id", "txnid": "transaction-id",
    "txid": "transaction-id", "xid": "transaction-id",
}  # fmt: skip
_ID_ENDINGS: Final = frozenset({"id", "ID", "Id", "iD"})
_HADOOP: Final = ("application_", "appattempt_", "attempt_", "container_", "job_", "task_")
_SHAPE_PREFIXES: Final = ("blk_", "req-", *_HADOOP)
_SHAPE_LENGTHS: Final = frozenset({16, 32, 36, 55})
_NOT_SEEN: Final = "\0"
_HEX: Final = frozenset("0123456789abcdef")
_DIGITS: Final = frozenset("0123456789")
_REQUEST_TIME: Final = re.compile(r"\b(?:request_time|rt)=(\d{1,6}\.\d{1,9})\b")
_STATEMENT_DURATION: Final = re.compile(r"\bduration: (\d{1,9}(?:\.\d{1,9})?) ms\b")


def _took_ns(text: str) -> int:
    """How long the operation a record reports on took, for records written when it ended.

    nginx ``$request_time`` (``request_time=``/``rt=``, seconds) and PostgreSQL's
    ``duration: N ms`` (``log_min_duration_statement``, ``log_duration``): both are logged
    at the end, so the operation, and the identifiers it carried, began that much earlier.
    """
    if "t=" in text:
        took = _REQUEST_TIME.search(text)
        if took:
            return round(float(took.group(1)) * 1e9)
    if "duration: " in text:
        took = _STATEMENT_DURATION.search(text)
        if took:
            return round(float(took.group(1)) * 1e6)
    return 0


def _is_uuid(token: str) -> bool:
    return (
        len(token) == 36
        and token.count("-") == 4
        and token[8] == token[13] == token[18] == token[23] == "-"
        and set(token.lower().replace("-", "")) <= _HEX
    )


def _shape(token: str) -> str | None:
    """The kind of an identifier recognised by its shape alone, or None."""
    if token.startswith("blk_") and token[4:].lstrip("-").isdigit():
        return "block-id"
    if token.startswith("req-") and len(token) >= 10:
        return "openstack-request" if _is_uuid(token[4:]) else "request-id"
    if token.startswith(_HADOOP) and "_1" in token:
        return f"hadoop-{token.split('_', 1)[0]}"
    if _is_uuid(token):
        return "uuid"
    if len(token) in (16, 32) and set(token) <= _HEX and not set(token) <= _DIGITS:
        return "hex-id" if set(token) & _DIGITS else None
    return None


_KEY_KINDS: dict[str, str | None] = {}


def _key_kind(key: str) -> str | None:
    kind = _KEY_KINDS.get(key, _NOT_SEEN)
    if kind is _NOT_SEEN:
        if len(_KEY_KINDS) >= 4096:
            _KEY_KINDS.clear()
        kind = _KEY_KINDS[key] = _KEYS.get(
            key.lower().replace("_", "").replace("-", "").replace(".", "")
        )
    return kind


def find_ids(text: str) -> list[tuple[str, str]]:
    """(value, kind) of each identifier in ``text``.

    Tokens are runs of characters other than whitespace and the punctuation of JSON and
    brackets: ``key=value``, ``key: value`` and ``"key": "value"`` pairs whose key names a
    request, trace, span or transaction id, and tokens whose shape is an id (UUID, ``req-...``,
    HDFS ``blk_...``, Hadoop ids, 16/32-hex trace ids, W3C ``traceparent``).  Only tokens that
    can matter (10+ characters, or ending in ``id`` or ``id`` plus one character) reach Python,
    found by one regular expression in C; the token after a bare key is its value, whatever it
    looks like.
    """
    return [(value, kind) for _, value, kind in _scan(text, (len(text),))]


Found = list[tuple[int, str, str]]
"""(record, value, kind) of the identifiers found in a batch of records."""


def _scan(text: str, bounds: Sequence[int]) -> Found:
    """:func:`find_ids` over records joined by newlines (``bounds[i]``: where record ``i``
    ends), in one pass: a bare key never takes its value from the next record."""
    found: Found = []
    candidate = _NEXT_CANDIDATE.match
    record, limit = 0, bounds[0]
    pos = 0
    while True:
        m = candidate(text, pos)
        if m is None:
            return found
        pos = m.end()
        if pos > limit:  # a later record (a token never spans the newline between two)
            record = bisect.bisect_left(bounds, pos, record)
            limit = bounds[record]
        raw = m.group(1)
        cut = raw.find("=")
        if cut < 0:
            cut = raw.find(":")
        key = raw[:cut] if cut >= 0 else raw
        kind = _key_kind(key) if key[-2:] in _ID_ENDINGS else None
        if kind is None:
            if len(raw) >= 10:
                _shaped(raw, record, found)
            continue
        value = raw[cut + 1 :].strip(":=.") if cut >= 0 else ""
        if not value:  # "key": "value"
            pos = _value_after(text, pos, limit, (record, kind), found)
        elif 6 <= len(value) <= 64:
            found.append((record, value, kind))


def _value_after(text: str, pos: int, limit: int, key: tuple[int, str], found: Found) -> int:
    """Take the token after a bare key as its value (a lone ":" or "=" is skipped); returns
    where scanning goes on (the end of the record when it has no value)."""
    while True:
        token = _NEXT_TOKEN.match(text, pos)
        if token is None or token.end() > limit:
            return limit
        pos = token.end()
        raw = token.group(1)
        if raw != ":" and raw != "=":
            value = raw.strip(":=.")
            if 6 <= len(value) <= 64:
                found.append((key[0], value, key[1]))
            return pos


def _shaped(raw: str, record: int, found: Found) -> None:
    token = raw.strip(":=.")
    if len(token) not in _SHAPE_LENGTHS and not token.startswith(_SHAPE_PREFIXES):
        return  # no id shape has this length or prefix (timestamps, class names, URLs)
    if token.startswith("00-") and len(token) == 55:  # W3C traceparent
        found.append((record, token[3:35], "trace-id"))
        return
    kind = _shape(token)
    if kind is not None:
        found.append((record, token, kind))


@dataclass
class _Sightings:
    """One source's identifiers as columns: global id number, first and last time, count.

    ``rows`` (value -> row) exists only while the source is being read; sealing drops it, so a
    finished source costs 32 bytes per distinct identifier.
    """

    rows: dict[str, int] | None = field(default_factory=dict)
    number: array[int] = field(default_factory=lambda: array("q"))
    first: array[int] = field(default_factory=lambda: array("q"))
    last: array[int] = field(default_factory=lambda: array("q"))
    count: array[int] = field(default_factory=lambda: array("q"))
    records: int = 0


class IdIndex:
    """First/last time and count of every identifier in every source, in compact columns.

    Identifiers are numbered in order of first sighting; each source keeps four integer columns
    per distinct identifier (see :class:`_Sightings`), so memory grows with the distinct
    identifiers, not with the lines.  Call :meth:`seal` when a source is finished (optional; it
    frees the source's lookup table).
    """

    def __init__(self) -> None:
        self._number: dict[str, int] = {}
        self._values: list[str] = []
        self._kind: array[int] = array("H")
        self._kind_names: list[str] = []
        self._kind_codes: dict[str, int] = {}
        self._sources: dict[str, _Sightings] = {}
        self._current: tuple[str, _Sightings] | None = None

    def add(self, source: str, ns: int, text: str) -> None:
        """Record the identifiers of one record of ``source`` at time ``ns``.

        A record that states how long its operation took and is logged when it *ends* (nginx
        ``$request_time`` as ``request_time=``/``rt=``, PostgreSQL ``duration: N ms``) spans
        from ``ns`` minus that time to ``ns``, which lets it enclose the upstream's lines.
        """
        self.add_many(source, (ns,), (text,))

    def add_many(self, source: str, times: Sequence[int], texts: Sequence[str]) -> None:
        """:meth:`add` for consecutive records of one source (one scan over all of them)."""
        current = self._current
        sightings = current[1] if current is not None and current[0] == source else None
        if sightings is None:
            sightings = self._open(source)
        sightings.records += len(texts)
        if not texts:
            return
        bounds = list(map(operator.add, itertools.accumulate(map(len, texts)), range(len(texts))))
        rows = sightings.rows
        assert rows is not None
        first, last, count = sightings.first, sightings.last, sightings.count
        seen = -1
        start = ns = 0
        for record, value, kind in _scan("\n".join(texts), bounds):
            if record != seen:
                seen, ns, text = record, times[record], texts[record]
                start = ns - _took_ns(text)
            row = rows.get(value)
            if row is None:
                rows[value] = len(first)
                sightings.number.append(self._numbered(value, kind))
                first.append(start)
                last.append(ns)
                count.append(1 if start == ns else 2)
            else:
                if start < first[row]:
                    first[row] = start
                if ns > last[row]:
                    last[row] = ns
                count[row] += 1

    @property
    def records(self) -> dict[str, int]:
        """Records seen per source (with or without identifiers)."""
        return {name: s.records for name, s in self._sources.items()}

    def _open(self, source: str) -> _Sightings:
        current = self._current
        if current is not None and current[0] == source:
            return current[1]
        sightings = self._sources.get(source)
        if sightings is None:
            sightings = self._sources[source] = _Sightings()
        elif sightings.rows is None:  # more records of a sealed source: rebuild its lookup
            sightings.rows = {self._values[n]: row for row, n in enumerate(sightings.number)}
        self._current = (source, sightings)
        return sightings

    def _numbered(self, value: str, kind: str) -> int:
        number = self._number.get(value)
        if number is None:
            number = self._number[value] = len(self._values)
            self._values.append(value)
            code = self._kind_codes.get(kind)
            if code is None:
                code = self._kind_codes[kind] = len(self._kind_names)
                self._kind_names.append(kind)
            self._kind.append(code)
        return number

    def seal(self, source: str) -> None:
        """``source`` is finished: drop its value lookup (its columns stay)."""
        sightings = self._sources.get(source)
        if sightings is not None:
            sightings.rows = None
        if self._current is not None and self._current[0] == source:
            self._current = None

    def _columns(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All sightings: source names, then source index, number, first, last, count."""
        names = list(self._sources)
        parts = [self._sources[name] for name in names]
        source = np.concatenate(
            [np.full(len(s.number), i, dtype=np.int64) for i, s in enumerate(parts)]
            or [np.zeros(0, dtype=np.int64)]
        )
        columns = [
            np.concatenate([np.frombuffer(getattr(s, c), dtype=np.int64) for s in parts])
            if parts
            else np.zeros(0, dtype=np.int64)
            for c in ("number", "first", "last", "count")
        ]
        return names, source, *columns  # type: ignore[return-value]

    def _links(
        self, names: list[str], columns: tuple[np.ndarray, ...], newest_first: bool
    ) -> Iterator[SharedId]:
        """Identifiers in two or more sources and on no entity, by order of first sighting.

        The selection is made now (the index may be emptied afterwards); the :class:`SharedId`
        objects are made as they are consumed, one chunk at a time.
        """
        source, number, first, last, count = columns
        total = len(self._values)
        records = np.array([self._sources[name].records for name in names], dtype=np.float64)
        limit = np.maximum(ENTITY_MIN, ENTITY_SHARE * records)
        entity = np.bincount(number, weights=count > limit[source], minlength=total) > 0
        keep = (np.bincount(number, minlength=total) > 1) & ~entity
        rows = np.nonzero(keep[number])[0]
        rows = rows[np.lexsort((source[rows], -number[rows] if newest_first else number[rows]))]
        kinds = np.frombuffer(self._kind, dtype=np.uint16)[number[rows]]
        ordered = tuple(column[rows] for column in columns)  # the unordered copies can go
        return _chunks(names, ordered, kinds, self._kind_names, self._values)

    def shared(self) -> list[SharedId]:
        """Identifiers present in two or more sources, entity ids left out."""
        names, *columns = self._columns()
        return list(self._links(names, tuple(columns), newest_first=False))

    def drain(self) -> Iterator[SharedId]:
        """Like :meth:`shared`, but empties the index, so the alignment does not hold both the
        index and its own copy of the links."""
        names, *columns = self._columns()
        links = self._links(names, tuple(columns), newest_first=True)
        self._sources.clear()
        self._number.clear()
        self._current = None
        yield from links
        self._values.clear()
        del self._kind[:]

    def distinct(self) -> dict[str, dict[str, int]]:
        """Per source and kind, how many distinct identifiers it holds."""
        kinds = np.frombuffer(self._kind, dtype=np.uint16)
        order = []
        for name, sightings in self._sources.items():
            numbers = np.frombuffer(sightings.number, dtype=np.int64)
            if numbers.size:
                order.append((int(numbers.min()), name, numbers))
        out: dict[str, dict[str, int]] = {}
        for _, name, numbers in sorted(order, key=lambda item: item[0]):
            codes = kinds[numbers]
            firsts = {int(c): int(numbers[codes == c].min()) for c in np.unique(codes)}
            counts = np.bincount(codes)
            out[name] = {
                self._kind_names[c]: int(counts[c]) for c in sorted(firsts, key=firsts.__getitem__)
            }
        return out


_CHUNK: Final = 65_536


def _chunks(
    names: list[str],
    columns: tuple[np.ndarray, ...],
    kinds: np.ndarray,
    kind_names: list[str],
    values: list[str],
) -> Iterator[SharedId]:
    """One :class:`SharedId` per identifier (its rows are adjacent), made a chunk of
    identifiers at a time so that only one chunk is ever held as Python objects."""
    source, number, first, last, count = columns
    size = number.size
    starts = np.flatnonzero(np.diff(number)) + 1
    starts = np.concatenate(([0], starts)) if size else starts
    for chunk in range(0, starts.size, _CHUNK):
        begin = int(starts[chunk])
        end = int(starts[chunk + _CHUNK]) if chunk + _CHUNK < starts.size else size
        where = slice(begin, end)
        sources = [names[i] for i in source[where].tolist()]
        firsts, lasts, counts = first[where].tolist(), last[where].tolist(), count[where].tolist()
        bounds = (starts[chunk : chunk + _CHUNK] - begin).tolist() + [end - begin]
        numbers, kind_codes = number[where].tolist(), kinds[where].tolist()
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            yield SharedId(
                values[numbers[lo]],
                kind_names[kind_codes[lo]],
                # one int object for first and last when they are equal (alignment keeps these)
                {
                    sources[i]: Occurrence(
                        firsts[i], firsts[i] if lasts[i] == firsts[i] else lasts[i], counts[i]
                    )
                    for i in range(lo, hi)
                },
            )


@dataclass(frozen=True, slots=True)
class Rule:
    """``before_source:before -> after_source:after`` (regexes)."""

    before_source: str
    before: re.Pattern[str]
    after_source: str
    after: re.Pattern[str]
    text: str


def parse_rule(text: str) -> Rule:
    """Parse ``A:REGEX -> B:REGEX``; raises ValueError with the expected syntax."""
    left, arrow, right = text.partition(" -> ")
    a_source, _, a_regex = left.partition(":")
    b_source, _, b_regex = right.partition(":")
    if not (arrow and a_source and a_regex and b_source and b_regex):
        raise ValueError(f"rule {text!r}: expected 'SOURCE_A:REGEX_X -> SOURCE_B:REGEX_Y'")
    try:
        return Rule(
            a_source.strip(), re.compile(a_regex), b_source.strip(), re.compile(b_regex), text
        )
    except re.error as exc:
        raise ValueError(f"rule {text!r}: bad regular expression: {exc}") from exc


@dataclass
class RuleMatcher:
    """Collects the lines matching user rules and pairs them into precedences."""

    rules: list[Rule]
    _hits: dict[tuple[int, str], dict[str, list[int]]] = field(default_factory=dict)

    def add(self, source: str, ns: int, text: str) -> None:
        """Check one record of ``source`` against every rule."""
        for index, rule in enumerate(self.rules):
            for side, name, regex in (
                ("before", rule.before_source, rule.before),
                ("after", rule.after_source, rule.after),
            ):  # noqa: E501
                if name != source:
                    continue
                m = regex.search(text)
                if m is None:
                    continue
                key = m.group(1) if regex.groups else ""
                bucket = self._hits.setdefault((index, side), {})
                bucket.setdefault(key, []).append(ns)

    def precedences(self) -> list[Precedence]:
        """One precedence per paired (before, after) match."""
        out: list[Precedence] = []
        for index, rule in enumerate(self.rules):
            before = self._hits.get((index, "before"), {})
            after = self._hits.get((index, "after"), {})
            for key, times in before.items():
                for a, b in zip(times, after.get(key, []), strict=False):
                    out.append(Precedence(rule.before_source, a, rule.after_source, b, "rule"))
        return out
