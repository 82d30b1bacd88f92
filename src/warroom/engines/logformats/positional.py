"""The general layout: a timestamp at a learnt field position, then a level and a logger.

This one shape covers log4j/logback, Python logging, OpenStack oslo, Windows CBS, Kubernetes
CRI and the Loghub systems; the degraded "timestamp anywhere" and "plain" modes live here too.
"""

from __future__ import annotations

from .model import LEVEL_WORD, LOGGER, Fields, Parsed, TimeParser, clean, normalise_level


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
        fields = self.fields(line)
        return Parsed(*fields) if fields is not None else None

    def fields(self, line: str) -> Fields | None:
        if self.anywhere:
            found = self._ts.search(line)
            if found is None:
                return None
            level, logger, message = split_rest(line[found.end :])
            head = line[: found.start]
            if level is None and head:
                level = level_in(head)
            return found.ns, level, logger, message
        pos = _skip_fields(line, self.skip) if self.skip else 0
        span = self._ts.match_span(line, self.kind, pos) if pos >= 0 else None
        if span is None and pos >= 0 and line[pos : pos + 1] in "[(<":
            span = self._ts.match_span(line, self.kind, pos + 1)
        if span is None:
            return None
        level, logger, message = split_rest(line[span[2] :])
        return span[0], level, logger, message


def _skip_fields(line: str, count: int) -> int:
    pos = 0
    for _ in range(count):
        pos = line.find(" ", pos)
        if pos < 0:
            return -1
        while pos < len(line) and line[pos] == " ":
            pos += 1
    return pos


def level_in(text: str) -> str | None:
    m = LEVEL_WORD.search(text)
    return normalise_level(m.group(1)) if m and _looks_like_level(m.group(1)) else None


def _looks_like_level(word: str) -> bool:
    # "info" inside prose is not a level; "INFO" and "Info" in a header are.
    return word.isupper() or word.istitle()


def split_rest(rest: str) -> tuple[str | None, str | None, str]:
    """Split the text after a timestamp into (level, logger, message)."""
    m = LEVEL_WORD.search(rest, 0, 48)
    level = None
    body = rest
    if m and _looks_like_level(m.group(1)):
        level = normalise_level(m.group(1))
        before = rest[: m.start()]
        body = rest[m.end() :]
        named = LOGGER.match(before + " ") if "." in before else None
        if named:  # Python logging puts the logger before the level
            return level, named.group(1), clean(body)
    logger_match = LOGGER.match(body)
    if logger_match:
        return level, logger_match.group(1), clean(body[logger_match.end() :])
    return level, None, clean(body)


class PlainFormat:
    """No timestamps at all: every line is a record in file order."""

    name = "plain"
    specificity = 0.3

    def parse(self, line: str) -> Parsed:
        return Parsed(None, level_in(line[:80]), None, line)

    def fields(self, line: str) -> Fields:
        return None, level_in(line[:80]), None, line
