"""Batch entry point: one template per input message, for benchmarks and offline analysis.

Why this exists: the Loghub evaluation (and bulk re-indexing in the product) hands over a whole
list of messages at once.  Logs repeat heavily, so the work is done once per *distinct* message
(masking) and once per group (rendering); the per-line cost is a dictionary lookup.  Templates
are read only after every message has been seen, so each line gets its template's final text.

Masking is the only costly step and it is independent per message, so on machines with enough
cores it can be spread over worker processes; grouping then runs in this process in the original
order, which keeps the output identical to the single-process run.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from .groups import Group, Key, Masked
from .layout import mask_cached
from .limits import truncate
from .store import TemplateStore

PARALLEL_MIN_LINES = 100_000
"""Below this many lines, starting processes costs more than it saves."""
PARALLEL_MIN_CORES = 4
"""On 2 shared cores, 200k distinct lines ran no faster with 2 processes (pickling + grouping)."""
_CHUNK = 5_000
_CACHE_SIZE = 16_384

_Shape = tuple[Key, tuple[str, ...], tuple[int, ...]]


def mine_templates(messages: Sequence[str], *, workers: int | None = None) -> list[str]:
    """Return, for each message, its template with every variable written ``<*>``.

    Args:
        messages: log message bodies (no timestamp/level header), one per line.
        workers: processes used for masking; ``None`` picks one per core when there are at
            least ``PARALLEL_MIN_LINES`` lines and ``PARALLEL_MIN_CORES`` cores, else 1.
    """
    if workers is None:
        cores = os.cpu_count() or 1
        big = len(messages) >= PARALLEL_MIN_LINES and cores >= PARALLEL_MIN_CORES
        workers = cores if big else 1
    store = TemplateStore()
    if workers > 1:
        groups, line_index = _parallel_groups(messages, store, workers)
    else:
        groups, line_index = _serial_groups(messages, store)
    rendered = [store.template(store.cluster_id(group)) for group in groups]
    return [rendered[index] for index in line_index]


def _serial_groups(messages: Sequence[str], store: TemplateStore) -> tuple[list[Group], array[int]]:
    # Like drain3, keep one small number per line (here 4 bytes) plus a bounded cache of recent
    # distinct messages, so memory does not grow with the number of distinct messages.
    cache: dict[str, int] = {}
    groups: list[Group] = []
    number_of: dict[str, int] = {}
    line_index = array("I")
    for message in messages:
        index = cache.get(message)
        if index is None:
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            group = store.add(Masked(*_shape(message), ()))
            index = number_of.get(group.gid)
            if index is None:
                index = number_of[group.gid] = len(groups)
                groups.append(group)
            cache[message] = index
        line_index.append(index)
    return groups, line_index


def _parallel_groups(
    messages: Sequence[str], store: TemplateStore, workers: int
) -> tuple[list[Group], array[int]]:
    distinct = list(dict.fromkeys(messages))
    chunks = [distinct[i : i + _CHUNK] for i in range(0, len(distinct), _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        shapes = [shape for part in pool.map(_mask_chunk, chunks) for shape in part]
    groups: list[Group] = []
    number_of: dict[str, int] = {}
    index_of: dict[str, int] = {}
    for message, shape in zip(distinct, shapes, strict=True):
        group = store.add(Masked(*shape, ()))
        if group.gid not in number_of:
            number_of[group.gid] = len(groups)
            groups.append(group)
        index_of[message] = number_of[group.gid]
    return groups, array("I", (index_of[message] for message in messages))


def _shape(message: str) -> _Shape:
    masked = mask_cached(truncate(message)[0])
    return masked.key, masked.weak_values, masked.run_lengths


def _mask_chunk(messages: list[str]) -> list[_Shape]:
    return [_shape(message) for message in messages]
