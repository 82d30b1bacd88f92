"""Grouping of masked messages into templates, shared by the batch and streaming miners.

Why this exists: once strong variables are masked, most messages of one event type have the
same *shape* (literal text plus variable slots).  We group by that exact shape (an exact-match
hash table keyed on the masked token sequence, i.e. a Drain prefix tree flattened to its leaf
key: one lookup per message, no similarity search).  Weak tokens (a digit inside a name, such
as ``eth1`` or ``node-D3``) and units after numbers are wildcards in the key; each group then
tracks, per such slot, the value it has seen: a slot with one value stays literal text, a slot
with two or more becomes ``<*>``.  That is the "position varies across values" rule of Drain,
applied only where the token itself already looked like it might be a value, so fixed words
such as state names (``from NEW to INITED``) keep separating templates the way the ground truth
does.  Runs of space-separated values (``delete blk_1 blk_2 ...``) are one list slot whose
length may vary; a list that varies in length, or is long, renders as a single ``<*>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from .tokens import LITERAL, UNIT, WEAK, Segment, split_message

WILDCARD = "<*>"
STRONG_SLOT = 0
WEAK_SLOT = 1
RUN_SLOT = 2
UNIT_SLOT = 3
# A list of this many values or more is one variable even while its length has not varied.
LONG_LIST = 10
KeyItem = str | int
_T = TypeVar("_T")
Key = tuple[KeyItem, ...]


@dataclass(frozen=True, slots=True)
class Masked:
    """One message reduced to its grouping key plus the texts of its variable slots."""

    key: Key
    weak_values: tuple[str, ...]
    run_lengths: tuple[int, ...]
    segments: tuple[Segment, ...]


_SPACE: Segment = (LITERAL, " ")


def _is_strong(segment: Segment) -> bool:
    return segment[0] not in (LITERAL, WEAK, UNIT)


def _run_length(segments: list[Segment], start: int) -> int:
    """How many space-separated whole-word strong variables start at ``start``."""
    end = len(segments)
    if start and segments[start - 1] != _SPACE:
        return 1
    length, index = 1, start
    while index + 2 < end and segments[index + 1] == _SPACE and _is_strong(segments[index + 2]):
        if index + 3 < end and segments[index + 3] != _SPACE:
            break
        length += 1
        index += 2
    if length > 1 or start + 1 == end or segments[start + 1] == _SPACE:
        return length
    return 1


def mask(message: str) -> Masked:
    """Mask ``message``: literal text, ``0`` strong, ``1`` weak, ``2`` list-of-values slots."""
    segments = split_message(message)
    key: list[KeyItem] = []
    weak: list[str] = []
    runs: list[int] = []
    literal: list[str] = []
    index, end = 0, len(segments)
    while index < end:
        kind, text = segments[index]
        if kind == LITERAL:
            literal.append(text)
            index += 1
            continue
        if literal:
            key.append("".join(literal))
            literal.clear()
        if kind in (WEAK, UNIT):
            key.append(WEAK_SLOT if kind == WEAK else UNIT_SLOT)
            weak.append(text)
        elif index + 2 < end and segments[index + 1] == _SPACE:
            length = _run_length(segments, index)
            if length > 1:
                key.append(RUN_SLOT)
                runs.append(length)
                index += 2 * (length - 1)
            else:
                key.append(STRONG_SLOT)
        else:
            key.append(STRONG_SLOT)
        index += 1
    if literal:
        key.append("".join(literal))
    return Masked(tuple(key), tuple(weak), tuple(runs), tuple(segments))


def key_id(key: Key) -> str:
    """Stable short id of a group key, equal across processes and runs."""
    digest = hashlib.blake2b(digest_size=8)
    for item in key:
        if isinstance(item, int):
            digest.update(b"\x00" + bytes([item + 1]))
        else:
            digest.update(item.encode("utf-8", "surrogatepass") + b"\x00\x03")
    return digest.hexdigest()


def collapse_wildcards(text: str) -> str:
    """Merge ``<*><*>`` (no separator between them) into one ``<*>``, as the ground truth does."""
    double = WILDCARD + WILDCARD
    while double in text:
        text = text.replace(double, WILDCARD)
    return text


def _merge_slots(seen: list[_T | None], values: Sequence[_T | None]) -> bool:
    """Turn every slot whose new value differs from the one seen into a variable (None)."""
    changed = False
    for index, value in enumerate(values):
        current = seen[index]
        if current is not None and current != value:
            seen[index] = None
            changed = True
    return changed


@dataclass(slots=True)
class Group:
    """Everything known about one template: its key and the values seen in its slots.

    ``slots`` holds, per weak slot, the one value seen so far (None once it varied);
    ``runs`` holds, per list-of-values slot, the one list length seen (None once it varied).
    """

    key: Key
    gid: str
    slots: list[str | None] = field(default_factory=list)
    runs: list[int | None] = field(default_factory=list)
    count: int = 0
    _template: str | None = None

    @classmethod
    def start(cls, masked: Masked) -> Group:
        slots: list[str | None] = list(masked.weak_values)
        runs: list[int | None] = list(masked.run_lengths)
        return cls(masked.key, key_id(masked.key), slots, runs)

    def observe(self, masked: Masked, times: int = 1) -> bool:
        """Count a message; return True when the template text changed because a slot varied."""
        self.count += times
        if not self.slots and not self.runs:
            return False
        changed = _merge_slots(self.slots, masked.weak_values)
        changed = _merge_slots(self.runs, masked.run_lengths) or changed
        if changed:
            self._template = None
        return changed

    def absorb(self, other: Group) -> bool:
        """Fold the evidence of another group with the same key (from another worker)."""
        self.count += other.count
        changed = _merge_slots(self.slots, other.slots)
        changed = _merge_slots(self.runs, other.runs) or changed
        if changed:
            self._template = None
        return changed

    @property
    def template(self) -> str:
        if self._template is None:
            self._template = collapse_wildcards("".join(self._render()))
        return self._template

    def _render(self) -> list[str]:
        pieces: list[str] = []
        weak_index = run_index = 0
        for item in self.key:
            if isinstance(item, str):
                pieces.append(item)
            elif item in (WEAK_SLOT, UNIT_SLOT):
                value = self.slots[weak_index]
                weak_index += 1
                if value is not None:
                    pieces.append(value)
                elif item == WEAK_SLOT:
                    pieces.append(WILDCARD)
                elif pieces and pieces[-1] == " ":
                    pieces.pop()  # a varying unit joins the number's <*>
            elif item == RUN_SLOT:
                pieces.append(self._run_text(self.runs[run_index]))
                run_index += 1
            else:
                pieces.append(WILDCARD)
        return pieces

    @staticmethod
    def _run_text(length: int | None) -> str:
        if length is None or length >= LONG_LIST:
            return WILDCARD
        return " ".join([WILDCARD] * length)
