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

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from warroom.engines.clockskew import Occurrence, Precedence, SharedId

_PUNCTUATION: Final = str.maketrans(dict.fromkeys("\"',;{}[]()<>|/", " "))
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
_HEX: Final = frozenset("0123456789abcdef")
_DIGITS: Final = frozenset("0123456789")
_REQUEST_TIME: Final = re.compile(r"\b(?:request_time|rt)=(\d{1,6}\.\d{1,9})\b")


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


def _key_kind(key: str) -> str | None:
    return _KEYS.get(key.lower().replace("_", "").replace("-", "").replace(".", ""))


def find_ids(text: str) -> list[tuple[str, str]]:
    """(value, kind) of each identifier in ``text``.

    A single pass over whitespace tokens (punctuation of JSON and brackets blanked first, in C):
    ``key=value``, ``key: value`` and ``"key": "value"`` pairs whose key names a request,
    trace, span or transaction id, and tokens whose shape is an id (UUID, ``req-...``, HDFS
    ``blk_...``, Hadoop ids, 16/32-hex trace ids, W3C ``traceparent``).
    """
    found: list[tuple[str, str]] = []
    pending: str | None = None
    for raw in text.translate(_PUNCTUATION).split():
        if pending is not None:
            pending = _take_value(raw, pending, found)
        elif len(raw) >= 10 or raw[-2:] in _ID_ENDINGS or raw[-3:-1] in _ID_ENDINGS:
            pending = _key_or_shape(raw, found)
    return found


def _take_value(raw: str, kind: str, found: list[tuple[str, str]]) -> str | None:
    if raw in (":", "="):
        return kind  # still waiting for the value
    value = raw.strip(":=.")
    if 6 <= len(value) <= 64:
        found.append((value, kind))
    return None


def _key_or_shape(raw: str, found: list[tuple[str, str]]) -> str | None:
    """Handle one token; returns the id kind when its value is the next token."""
    cut = raw.find("=")
    if cut < 0:
        cut = raw.find(":")
    key = raw[:cut] if cut >= 0 else raw
    kind = _key_kind(key) if key[-2:] in _ID_ENDINGS else None
    if kind is None:
        if len(raw) >= 10:
            _shaped(raw, found)
        return None
    value = raw[cut + 1 :].strip(":=.") if cut >= 0 else ""
    if not value:
        return kind  # "key": "value"
    if 6 <= len(value) <= 64:
        found.append((value, kind))
    return None


def _shaped(raw: str, found: list[tuple[str, str]]) -> None:
    token = raw.strip(":=.")
    if token.startswith("00-") and len(token) == 55:  # W3C traceparent
        found.append((token[3:35], "trace-id"))
        return
    kind = _shape(token)
    if kind is not None:
        found.append((token, kind))


@dataclass
class IdIndex:
    """First/last time and count of every identifier in every source."""

    seen: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)

    def add(self, source: str, ns: int, text: str) -> None:
        """Record the identifiers of one record of ``source`` at time ``ns``.

        An access-log record that states its request time (nginx ``$request_time`` as
        ``request_time=`` or ``rt=``, in seconds) is logged when the request *ends*; it spans
        from ``ns - request_time`` to ``ns``, which lets it enclose the upstream's lines.
        """
        self.records[source] = self.records.get(source, 0) + 1
        took = _REQUEST_TIME.search(text)
        start = ns - round(float(took.group(1)) * 1e9) if took else ns
        for value, kind in find_ids(text):
            per_source = self.seen.get(value)
            if per_source is None:
                per_source = self.seen[value] = {}
                self.kinds[value] = kind
            slot = per_source.get(source)
            if slot is None:
                per_source[source] = [start, ns, 1 if start == ns else 2]
            else:
                slot[0] = min(slot[0], start)
                slot[1] = max(slot[1], ns)
                slot[2] += 1

    def entity(self, per_source: dict[str, list[int]]) -> bool:
        """An id on more than 5 % of a source's records (and over 50 of them) names a
        long-lived entity (tenant, user, host, session), not one request: no causal link."""
        return any(
            slot[2] > max(ENTITY_MIN, ENTITY_SHARE * self.records.get(source, 0))
            for source, slot in per_source.items()
        )

    def shared(self) -> list[SharedId]:
        """Identifiers present in two or more sources, entity ids left out."""
        return [
            SharedId(value, self.kinds[value], _occurrences(per_source))
            for value, per_source in self.seen.items()
            if len(per_source) > 1 and not self.entity(per_source)
        ]

    def drain(self) -> Iterator[SharedId]:
        """Like :meth:`shared`, but empties the index as it goes, so the alignment does not
        hold both the index and its own copy of the links."""
        while self.seen:
            value, per_source = self.seen.popitem()
            kind = self.kinds.pop(value)
            if len(per_source) > 1 and not self.entity(per_source):
                yield SharedId(value, kind, _occurrences(per_source))

    def distinct(self) -> dict[str, dict[str, int]]:
        """Per source and kind, how many distinct identifiers it holds."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for value, per_source in self.seen.items():
            for source in per_source:
                counts[source][self.kinds[value]] += 1
        return {s: dict(k) for s, k in counts.items()}


def _occurrences(per_source: dict[str, list[int]]) -> dict[str, Occurrence]:
    return {source: Occurrence(v[0], v[1], v[2]) for source, v in per_source.items()}


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
