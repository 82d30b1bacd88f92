"""Compact storage of the kept records, and the merged timeline in corrected-time order.

Why this exists: ``warroom analyze`` keeps up to a million records for its output.  As Python
objects (a tuple or dataclass per record, two boxed integers for its times, a ``str`` per
message) they cost three to four times their text; here they are parallel ``array`` columns
(37 bytes per record) and the messages as UTF-8 one after another (:class:`MessageText`: past
8 MiB they go to an unnamed temporary file, read back through ``mmap``, so message text does
not stay in memory while the clocks are aligned), and :class:`Timeline` builds an
:class:`Event` only when one is read.  The order is one stable ``numpy.argsort`` over int64
keys, so records at the same instant keep file order.
"""

from __future__ import annotations

import mmap
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Final, overload

import numpy as np

MISSING: Final = -(2**63)
"""Stands for "no time" inside the int64 columns."""
LEVELS: Final = (None, "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_LEVEL_CODE: Final = {level: code for code, level in enumerate(LEVELS)}

EventRow = tuple[str, int, int | None, int | None, str | None, str | None, str]
"""An :class:`Event` as a plain tuple, in field order."""
Corrector = Callable[[int, np.ndarray], np.ndarray | None]
"""(source index, observed ns) -> corrected ns, or None when that source's clock is unknown."""


@dataclass(frozen=True, slots=True)
class Event:
    """One record on the timeline."""

    source: str
    line: int
    observed_ns: int | None
    corrected_ns: int | None
    template_id: str | None
    level: str | None
    message: str


class MessageText:
    """Messages as UTF-8 (``surrogatepass``: every ``str`` round-trips), one after another.

    The first ``spill_bytes`` stay in memory; from then on each full buffer is appended to an
    unnamed temporary file (deleted by the system when closed) and read back through a
    read-only ``mmap``.  If the file cannot be written (a full disk during an outage), the rest
    simply stays in memory.
    """

    def __init__(self, spill_bytes: int = 8 << 20, directory: str | None = None) -> None:
        self.ends: array[int] = array("Q")
        """Where each message ends (offsets over the file, then the buffer)."""
        self._buffer = bytearray()
        self._spill_bytes = spill_bytes
        self._directory = directory
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._spilling = True
        self._map: mmap.mmap | None = None
        self._open: list[IO[bytes] | mmap.mmap] = []
        # Closes the file (and its map) when the messages are no longer referenced.
        self.close = weakref.finalize(self, _close_all, self._open)

    def __len__(self) -> int:
        return len(self.ends)

    def append(self, message: str) -> None:
        """Keep one message."""
        self._buffer += message.encode("utf-8", "surrogatepass")
        self.ends.append(self._spilled + len(self._buffer))
        if self._spilling and len(self._buffer) >= self._spill_bytes:
            self._spill()

    def _spill(self) -> None:
        try:
            if self._file is None:  # lives as long as the messages; the finalizer closes it
                self._file = tempfile.TemporaryFile(buffering=0, dir=self._directory)  # noqa: SIM115
                self._open.append(self._file)
            with memoryview(self._buffer) as view:
                written = 0
                while written < len(view):
                    written += self._file.write(view[written:]) or 0
        except OSError:
            self._spilling = False  # the rest stays in memory; what was written stays readable
            return
        self._spilled += len(self._buffer)
        self._buffer = bytearray()

    def get(self, begin: int, end: int) -> str:
        """The message stored between offsets ``begin`` and ``end``."""
        if begin == end:
            return ""
        if end <= self._spilled:
            if self._map is None:
                assert self._file is not None
                self._map = mmap.mmap(self._file.fileno(), self._spilled, access=mmap.ACCESS_READ)
                self._open.insert(0, self._map)
            return str(self._map[begin:end], "utf-8", "surrogatepass")
        offset = self._spilled
        with memoryview(self._buffer) as view:
            return str(view[begin - offset : end - offset], "utf-8", "surrogatepass")

    def message(self, row: int) -> str:
        """The message with index ``row``."""
        return self.get(self.ends[row - 1] if row else 0, self.ends[row])

    @property
    def spilled(self) -> int:
        """How many bytes of messages are in the temporary file rather than in memory."""
        return self._spilled


def _close_all(resources: list[IO[bytes] | mmap.mmap]) -> None:
    for resource in resources:
        resource.close()
    resources.clear()


@dataclass
class EventStore:
    """Append-only columns of the kept records while sources are streamed."""

    source: array[int] = field(default_factory=lambda: array("I"))
    line: array[int] = field(default_factory=lambda: array("q"))
    observed: array[int] = field(default_factory=lambda: array("q"))
    level: array[int] = field(default_factory=lambda: array("b"))
    template: list[str | None] = field(default_factory=list)
    text: MessageText = field(default_factory=MessageText)

    def __len__(self) -> int:
        return len(self.text)

    def message(self, row: int) -> str:
        """The message of one kept record."""
        return self.text.message(row)

    def add(
        self,
        source: int,
        line: int,
        ns: int | None,
        template: str | None,
        level: str | None,
        message: str,
    ) -> None:
        """Keep one record."""
        self.source.append(source)
        self.line.append(line)
        self.observed.append(MISSING if ns is None else ns)
        self.level.append(_LEVEL_CODE.get(level, 0))
        self.template.append(template)
        self.text.append(message)

    def freeze(self, names: Sequence[str], correct: Corrector) -> Timeline:
        """Correct every time and order the records; the store must not be used afterwards."""
        sources = np.frombuffer(self.source, dtype=np.uint32)
        observed = np.frombuffer(self.observed, dtype=np.int64)
        corrected = np.full(observed.shape, MISSING, dtype=np.int64)
        for index in range(len(names)):
            rows = np.nonzero((sources == index) & (observed != MISSING))[0]
            if rows.size:
                fixed = correct(index, observed[rows])
                if fixed is not None:
                    corrected[rows] = fixed
        keys = np.where(corrected != MISSING, corrected, observed)
        if (keys == MISSING).any():
            keys = _carry_forward(keys, sources)
        order = np.argsort(keys, kind="stable")
        return Timeline(tuple(names), self, observed, corrected, order)


def _carry_forward(keys: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """A record without a time sorts right after the previous record of its source."""
    filled = keys.tolist()
    last: dict[int, int] = {}
    for position, (key, source) in enumerate(zip(filled, sources.tolist(), strict=True)):
        if key == MISSING:
            filled[position] = last.get(source, MISSING + 1)
        else:
            last[source] = key
    return np.array(filled, dtype=np.int64)


class Timeline(Sequence[Event]):
    """The kept records in corrected-time order, materialised one :class:`Event` at a time."""

    def __init__(
        self,
        names: tuple[str, ...],
        store: EventStore,
        observed: np.ndarray,
        corrected: np.ndarray,
        order: np.ndarray,
    ) -> None:
        self._names = names
        self._store = store
        self._observed = observed
        self._corrected = corrected
        self._order = order

    def __len__(self) -> int:
        return int(self._order.size)

    def _event(self, row: int) -> Event:
        store = self._store
        observed = int(self._observed[row])
        corrected = int(self._corrected[row])
        return Event(
            self._names[store.source[row]],
            store.line[row],
            None if observed == MISSING else observed,
            None if corrected == MISSING else corrected,
            store.template[row],
            LEVELS[store.level[row]],
            store.message(row),
        )

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self._event(int(row)) for row in self._order[index].tolist()]
        return self._event(int(self._order[index]))

    def __iter__(self) -> Iterator[Event]:
        for row in self.rows():
            yield Event(*row)

    def rows(self, chunk: int = 65_536) -> Iterator[EventRow]:
        """The events in order as plain tuples (the fields of :class:`Event`), read from the
        columns a chunk at a time: no per-event object beyond the tuple."""
        store, names = self._store, self._names
        levels, templates, text = LEVELS, store.template, store.text.get
        ends = np.frombuffer(store.text.ends, dtype=np.uint64).astype(np.int64)
        starts = np.concatenate(([0], ends[:-1])) if ends.size else ends
        sources = np.frombuffer(store.source, dtype=np.uint32)
        lines = np.frombuffer(store.line, dtype=np.int64)
        level_codes = np.frombuffer(store.level, dtype=np.int8)
        for start in range(0, self._order.size, chunk):
            part = self._order[start : start + chunk]
            columns = zip(
                part.tolist(),
                starts[part].tolist(),
                ends[part].tolist(),
                sources[part].tolist(),
                lines[part].tolist(),
                self._observed[part].tolist(),
                self._corrected[part].tolist(),
                level_codes[part].tolist(),
                strict=True,
            )
            for row, begin, end, source, line, observed, corrected, level in columns:
                yield (
                    names[source],
                    line,
                    None if observed == MISSING else observed,
                    None if corrected == MISSING else corrected,
                    templates[row],
                    levels[level],
                    text(begin, end),
                )
