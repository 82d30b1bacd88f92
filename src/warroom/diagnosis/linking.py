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

_KEYED = (
    r"(?i:\b(?:x-)?(?P<key>request|req|correlation|trace|span|transaction|txn|tx|xid)[_-]?id\b"
    r"[\"']?\s*[:=]\s*[\"']?)(?P<keyed>[\w.:-]{6,64})"
)
_SHAPES: Final = {
    "openstack-request": r"\breq-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    "uuid": r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])",  # noqa: E501
    "request-id": r"\breq(?:uest)?[-_][A-Za-z0-9]{6,40}\b",
    "block-id": r"\bblk_-?\d{6,}\b",
    "hadoop-id": r"\b(?:application|appattempt|attempt|container|job|task)_\d{10,}_\d+(?:_\w+)*",
    "traceparent": r"\b00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]\b",
    "hex-id": r"(?<![\w-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{16}(?:[0-9a-f]{16})?(?![\w-])",
}
_ID_REGEX: Final = re.compile(
    "|".join([_KEYED] + [f"(?P<{k.replace('-', '_')}>{v})" for k, v in _SHAPES.items()])
)
_KEY_KINDS: Final = {
    "req": "request-id", "request": "request-id", "correlation": "request-id",
    "trace": "trace-id", "span": "span-id", "transaction": "transaction-id",
    "txn": "transaction-id", "tx": "transaction-id", "xid": "transaction-id",
}  # fmt: skip


def find_ids(text: str) -> Iterator[tuple[str, str]]:
    """(value, kind) of each identifier in ``text``."""
    for m in _ID_REGEX.finditer(text):
        if m.group("keyed"):
            yield m.group("keyed"), _KEY_KINDS[m.group("key").lower()]
        elif m.lastgroup == "hadoop_id":
            value = m.group(0)
            yield value, f"hadoop-{value.split('_', 1)[0]}"
        else:
            yield m.group(0), str(m.lastgroup).replace("_", "-")


@dataclass
class IdIndex:
    """First/last time and count of every identifier in every source."""

    seen: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def add(self, source: str, ns: int, text: str) -> None:
        """Record the identifiers of one record of ``source`` at time ``ns``."""
        for value, kind in find_ids(text):
            per_source = self.seen.get(value)
            if per_source is None:
                per_source = self.seen[value] = {}
                self.kinds[value] = kind
            slot = per_source.get(source)
            if slot is None:
                per_source[source] = [ns, ns, 1]
            else:
                slot[0] = min(slot[0], ns)
                slot[1] = max(slot[1], ns)
                slot[2] += 1

    def shared(self) -> list[SharedId]:
        """Identifiers present in two or more sources."""
        out = []
        for value, per_source in self.seen.items():
            if len(per_source) > 1:
                occurrences = {s: Occurrence(v[0], v[1], v[2]) for s, v in per_source.items()}
                out.append(SharedId(value, self.kinds[value], occurrences))
        return out

    def distinct(self) -> dict[str, dict[str, int]]:
        """Per source and kind, how many distinct identifiers it holds."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for value, per_source in self.seen.items():
            for source in per_source:
                counts[source][self.kinds[value]] += 1
        return {s: dict(k) for s, k in counts.items()}


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
