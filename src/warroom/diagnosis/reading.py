"""Streaming input for ``warroom analyze``: files, directories and archives, in bounded memory.

Why this exists: a bundle handed over during an outage is a mix of plain files, rotated
``.gz``/``.zst`` files and ``.tar.gz``/``.zip`` archives, some of them truncated by a full disk,
some binary, some in Latin-1.  Every input becomes a *source* streamed line by line (one source
at a time, archive members in archive order), and every problem becomes an :class:`Issue` with
a count and a reason: a source is skipped or degraded, never crashes the run and never
disappears silently.

Line handling: lines longer than :data:`MAX_LINE_BYTES` are cut (the rest is read and dropped,
counted); bytes that are not UTF-8 are decoded as Latin-1 (ISO 8859-1 maps every byte, so
decoding cannot fail), counted; a leading BOM and trailing CR are removed.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final, cast

import zstandard

MAX_LINE_BYTES: Final = 65_536
SNIFF_BYTES: Final = 8192
_READ_ERRORS: Final = (
    EOFError, OSError, zlib.error, zstandard.ZstdError, tarfile.TarError, zipfile.BadZipFile,
)  # fmt: skip
_COMPRESSED: Final = (".gz", ".zst", ".zstd")


@dataclass(frozen=True, slots=True)
class Issue:
    """Something wrong with an input: which source, what kind, how many lines, and why."""

    source: str
    kind: str
    count: int
    reason: str


@dataclass
class SourceStream:
    """One source, readable once: its name, origin, modification time and line iterator."""

    name: str
    path: str
    mtime_ns: int | None
    _open: Callable[[], IO[bytes]]
    position: Callable[[], int] = lambda: 0
    counters: Counter[str] = field(default_factory=Counter)
    failure: str | None = None
    close: Callable[[], None] = lambda: None
    lines_read: int = 0

    def lines(self) -> Iterator[tuple[int, str]]:
        """Numbered (1-based) decoded lines; problems are counted in ``counters``."""
        try:
            stream = self._open()
        except _READ_ERRORS as exc:
            self.failure = f"cannot open: {exc}"
            return
        try:
            yield from self._numbered(stream)
        finally:
            stream.close()
            self.close()

    def _numbered(self, stream: IO[bytes]) -> Iterator[tuple[int, str]]:
        number = 0
        try:
            head = stream.read(SNIFF_BYTES)
            if not head:
                self.failure = "empty"
                return
            if is_binary(head):
                self.failure = "binary content (NUL or control bytes in the first 8 KiB)"
                return
            buffered = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
            readline = buffered.readline
            while True:  # one loop, no nested generators: this runs once per input line
                raw = readline(MAX_LINE_BYTES)
                if not raw:
                    break
                if len(raw) >= MAX_LINE_BYTES and raw[-1] != 10:  # no "\n": cut the line
                    _drain_line(buffered, self.counters)
                number += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.counters["latin-1"] += 1
                    text = raw.decode("latin-1")
                if number == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                yield number, text.rstrip("\r\n")
        except _READ_ERRORS as exc:
            self.failure = f"truncated or corrupt after {number} lines ({type(exc).__name__})"
        finally:
            self.lines_read = number


class _Prefixed(io.RawIOBase):
    """A raw stream that replays the sniffed head before the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _drain_line(stream: io.BufferedReader[Any], counters: Counter[str]) -> None:
    """Read and drop the rest of an over-long line, without keeping it."""
    counters["long-line"] += 1
    while True:
        rest = stream.readline(MAX_LINE_BYTES)
        if not rest or rest.endswith(b"\n"):
            return


def is_binary(head: bytes) -> bool:
    """NUL bytes or many control characters: not a text log."""
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control > 0.1 * len(head)


def source_name(path: Path) -> str:
    """A file's source name: its base name without compression suffixes."""
    name = path.name
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _open_file(path: Path) -> tuple[Callable[[], IO[bytes]], Callable[[], int], Callable[[], None]]:  # noqa: E501
    raw = [None]  # type: list[IO[bytes] | None]

    def close() -> None:
        if raw[0] is not None:
            raw[0].close()

    def position() -> int:
        handle = raw[0]
        return handle.tell() if handle is not None and not handle.closed else 0

    def opener() -> IO[bytes]:
        handle = path.open("rb")
        raw[0] = handle
        if path.name.endswith(".gz"):
            return cast(IO[bytes], gzip.GzipFile(fileobj=handle))
        if path.name.endswith((".zst", ".zstd")):
            reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(handle)
            return reader
        return handle

    return opener, position, close


def _is_tar(path: Path) -> bool:
    return path.name.endswith((".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.bz2", ".tar.xz"))


@dataclass
class _Names:
    """Unique source names: a repeated base name gets its parent directory as a prefix."""

    used: set[str] = field(default_factory=set)

    def unique(self, name: str, path: str) -> str:
        candidate = name
        if candidate in self.used:
            parent = Path(path).parent.name
            candidate = f"{parent}/{name}" if parent else name
        suffix = 2
        base = candidate
        while candidate in self.used:
            candidate = f"{base}#{suffix}"
            suffix += 1
        self.used.add(candidate)
        return candidate


def iter_sources(
    paths: Sequence[Path], named: Mapping[str, Path], issues: list[Issue]
) -> Iterator[SourceStream]:
    """Every source under ``paths`` (and the explicitly ``named`` ones), one at a time.

    A source's lines must be consumed before the next source is requested (archives are
    streamed).  Problems found while listing are appended to ``issues``.
    """
    names = _Names()
    for name, path in named.items():
        names.used.add(name)
        yield from _sources_of(path, names, issues, forced=name)
    for path in paths:
        yield from _sources_of(path, names, issues)


def _sources_of(
    path: Path, names: _Names, issues: list[Issue], forced: str | None = None
) -> Iterator[SourceStream]:
    if not path.exists():
        issues.append(Issue(str(path), "missing", 0, "no such file or directory"))
    elif path.is_dir():
        children = sorted(p for p in path.rglob("*") if p.is_file())
        if not children:
            issues.append(Issue(str(path), "empty", 0, "directory holds no files"))
        for child in children:
            yield from _sources_of(child, names, issues)
    elif _is_tar(path):
        yield from _tar_sources(path, names, issues)
    elif path.name.endswith(".zip"):
        yield from _zip_sources(path, names, issues)
    else:
        opener, position, close = _open_file(path)
        name = forced or names.unique(source_name(path), str(path))
        yield SourceStream(name, str(path), path.stat().st_mtime_ns, opener, position, close=close)


def _tar_sources(path: Path, names: _Names, issues: list[Issue]) -> Iterator[SourceStream]:
    try:
        with path.open("rb") as handle, tarfile.open(fileobj=handle, mode="r|*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                extracted = archive.extractfile(member)
                if extracted is None:
                    continue
                yield _member(
                    path, member.name, int(member.mtime) * 10**9, extracted, handle, names
                )
    except _READ_ERRORS as exc:
        issues.append(Issue(str(path), "truncated-archive", 0, f"archive unreadable: {exc}"))


def _zip_sources(path: Path, names: _Names, issues: list[Issue]) -> Iterator[SourceStream]:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                stream = archive.open(info)
                mtime = _zip_mtime(info)
                yield _member(path, info.filename, mtime, stream, stream, names)
    except _READ_ERRORS as exc:
        issues.append(Issue(str(path), "truncated-archive", 0, f"archive unreadable: {exc}"))


def _zip_mtime(info: zipfile.ZipInfo) -> int | None:
    try:
        from_fields = datetime(*info.date_time)
    except ValueError:
        return None
    return int(from_fields.timestamp()) * 10**9


def _member(
    archive: Path, member: str, mtime: int | None, stream: IO[bytes], tell: IO[bytes], names: _Names
) -> SourceStream:
    inner: IO[bytes] = stream
    if member.endswith(".gz"):
        inner = cast(IO[bytes], gzip.GzipFile(fileobj=stream))
    elif member.endswith((".zst", ".zstd")):
        inner = zstandard.ZstdDecompressor().stream_reader(stream)
    display = f"{archive}:{member}"
    name = names.unique(source_name(Path(member)), display)
    return SourceStream(name, display, mtime, lambda: inner, _safe_tell(tell))


def _safe_tell(handle: IO[bytes]) -> Callable[[], int]:
    def position() -> int:
        try:
            return handle.tell()
        except (OSError, ValueError):
            return 0

    return position


def total_size(paths: Sequence[Path], named: Mapping[str, Path]) -> int:
    """Bytes on disk of every input, for a progress bar."""
    total = 0
    for path in [*named.values(), *paths]:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total
