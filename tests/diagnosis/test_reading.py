from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

import zstandard

from warroom.diagnosis.reading import Issue, SourceStream, iter_sources

LINES = [f"2024-01-01T00:00:0{i}.000Z INFO app: line {i}" for i in range(5)]
TEXT = ("\n".join(LINES) + "\n").encode()


def _read(
    paths: list[Path], named: dict[str, Path] | None = None
) -> tuple[dict[str, list[str]], list[SourceStream], list[Issue]]:  # noqa: E501
    issues: list[Issue] = []
    out: dict[str, list[str]] = {}
    streams = []
    for stream in iter_sources(paths, named or {}, issues):
        out[stream.name] = [text for _, text in stream.lines()]
        streams.append(stream)
    return out, streams, issues


def test_plain_compressed_and_archived_inputs_are_streamed_as_named_sources(tmp_path: Path) -> None:  # noqa: E501
    (tmp_path / "plain.log").write_bytes(TEXT)
    (tmp_path / "rotated.log.gz").write_bytes(gzip.compress(TEXT))
    (tmp_path / "z.log.zst").write_bytes(zstandard.ZstdCompressor().compress(TEXT))
    with tarfile.open(tmp_path / "bundle.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("hosts/db.log")
        info.size = len(TEXT)
        archive.addfile(info, io.BytesIO(TEXT))
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as archive:
        archive.writestr("cache.log", TEXT)
    sources, _, issues = _read([tmp_path])
    assert issues == []
    assert set(sources) == {"plain.log", "rotated.log", "z.log", "db.log", "cache.log"}
    assert all(lines == LINES for lines in sources.values())


def test_source_option_names_a_source(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_bytes(TEXT)
    sources, _, _ = _read([], {"api": tmp_path / "x.log"})
    assert list(sources) == ["api"]


def test_bad_inputs_are_skipped_or_degraded_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "core.bin").write_bytes(b"\x7fELF\x00\x00\x01" * 100)
    noisy = "".join(f"{i} {os.urandom(16).hex()}\n" for i in range(2000)).encode()
    (tmp_path / "cut.log.gz").write_bytes(gzip.compress(noisy)[:20_000])
    mixed = "caf\u00e9 ok\n".encode() + "caf\u00e9 latin\n".encode("latin-1")
    (tmp_path / "mixed.log").write_bytes(mixed)
    (tmp_path / "long.log").write_bytes(b"x" * 10_000_000 + b"\nshort\n")
    sources, streams, issues = _read([tmp_path, tmp_path / "missing.log"])
    by_name = {s.name: s for s in streams}
    assert by_name["empty.log"].failure == "empty"
    assert "binary" in str(by_name["core.bin"].failure)
    assert "truncated or corrupt" in str(by_name["cut.log"].failure)
    assert sources["mixed.log"] == ["caf\u00e9 ok", "caf\u00e9 latin"]
    assert by_name["mixed.log"].counters["latin-1"] == 1
    assert sources["long.log"][1] == "short" and len(sources["long.log"][0]) == 65_536
    assert by_name["long.log"].counters["long-line"] == 1
    assert issues == [
        Issue(str(tmp_path / "missing.log"), "missing", 0, "no such file or directory")
    ]  # noqa: E501


def test_truncated_tar_archive_is_reported(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for i in range(3):
            info = tarfile.TarInfo(f"h{i}.log")
            data = "".join(f"{n} {os.urandom(16).hex()}\n" for n in range(3000)).encode()
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (tmp_path / "cut.tar.gz").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    _, streams, issues = _read([tmp_path / "cut.tar.gz"])
    problems = [s.failure for s in streams if s.failure] + [i.reason for i in issues]
    assert problems, "a truncated archive must be reported"
