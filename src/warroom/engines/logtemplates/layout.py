"""Masking through a cache keyed on a message's digit shape.

Why this exists: most log lines are new strings only because their numbers differ
(``served 512 bytes to 10.0.0.7:5001``), so caching by the raw message misses.  None of the
masking rules looks at the *value* of a digit (1-9), only at where digits are and how many
there are, so every message with the same *shape* (digits 1-9 written as ``1``; ``0`` is
kept because of the ``0x`` prefix) is cut at the same offsets into the same key.  We mask a
shape once, remember where its variables sit, and for the next message of that shape slice
the values out.  Shapes whose fixed text itself contains a digit (``eth1``) are not cached,
because the key would differ between messages of one shape.  The cache is bounded.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Final

from .groups import Key, Masked, mask
from .tokens import LITERAL, UNIT, WEAK

_SHAPE: Final = str.maketrans("123456789", "111111111")
_CACHE_SIZE: Final = 4_096


@dataclass(frozen=True, slots=True)
class _Layout:
    key: Key
    run_lengths: tuple[int, ...]
    kinds: tuple[str, ...]
    # start and end offset of each variable, flattened: compact, since there are many layouts
    offsets: array[int]
    weak: tuple[int, ...]


_CACHE: dict[str, _Layout | None] = {}
_KEYS: dict[Key, Key] = {}


def mask_cached(message: str) -> Masked:
    """Same key, weak values and run lengths as :func:`.groups.mask`; ``segments`` holds only
    the variable segments (all that parameters need)."""
    shape = message.translate(_SHAPE)
    if shape in _CACHE:
        layout = _CACHE[shape]
        if layout is None:
            return mask(message)
        bounds = layout.offsets
        values = tuple(
            (kind, message[bounds[2 * i] : bounds[2 * i + 1]])
            for i, kind in enumerate(layout.kinds)
        )
        weak = tuple(values[index][1] for index in layout.weak)
        return Masked(layout.key, weak, layout.run_lengths, values)
    masked = mask(message)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
        _KEYS.clear()
    _CACHE[shape] = _layout_of(message, masked)
    return masked


def _layout_of(message: str, masked: Masked) -> _Layout | None:
    if any(isinstance(item, str) and any(c.isdigit() for c in item) for item in masked.key):
        return None
    kinds: list[str] = []
    offsets = array("I")
    position, end = 0, len(message)
    for kind, text in masked.segments:
        if kind == LITERAL and text == " ":
            # a join between words stands for the whitespace run (possibly empty) found here
            while position < end and message[position].isspace():
                position += 1
            continue
        while position < end and message[position].isspace():
            position += 1
        if not message.startswith(text, position):
            return None
        if kind != LITERAL:
            kinds.append(kind)
            offsets.extend((position, position + len(text)))
        position += len(text)
    weak = tuple(i for i, kind in enumerate(kinds) if kind in (WEAK, UNIT))
    # Many shapes share one key (one template): keep one copy of it.
    key = _KEYS.setdefault(masked.key, masked.key)
    return _Layout(key, masked.run_lengths, tuple(kinds), offsets, weak)
