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
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from .groups import Group, Key, Masked, mask
from .limits import truncate
from .store import TemplateStore

PARALLEL_MIN_LINES = 100_000
"""Below this many lines, starting processes costs more than it saves."""
PARALLEL_MIN_CORES = 4
"""On 2 shared cores, 200k distinct lines ran no faster with 2 processes (pickling + grouping)."""
_CHUNK = 5_000
_CACHE_SIZE = 65_536

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
        line_groups = _parallel_groups(messages, store, workers)
    else:
        line_groups = _serial_groups(messages, store)
    rendered = {gid: store.template(store.cluster_id(g)) for gid, g in store.by_id.items()}
    return [rendered[group.gid] for group in line_groups]


def _serial_groups(messages: Sequence[str], store: TemplateStore) -> list[Group]:
    # Like drain3, keep one reference per line plus a bounded cache of recent distinct
    # messages, so memory does not grow with the number of distinct messages.
    cache: dict[str, Group] = {}
    line_groups: list[Group] = []
    for message in messages:
        group = cache.get(message)
        if group is None:
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            group = cache[message] = store.add(Masked(*_shape(message), ()))
        line_groups.append(group)
    return line_groups


def _parallel_groups(messages: Sequence[str], store: TemplateStore, workers: int) -> list[Group]:
    distinct = list(dict.fromkeys(messages))
    chunks = [distinct[i : i + _CHUNK] for i in range(0, len(distinct), _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        shapes = [shape for part in pool.map(_mask_chunk, chunks) for shape in part]
    group_of = {
        message: store.add(Masked(*shape, ()))
        for message, shape in zip(distinct, shapes, strict=True)
    }
    return [group_of[message] for message in messages]


def _shape(message: str) -> _Shape:
    masked = mask(truncate(message)[0])
    return masked.key, masked.weak_values, masked.run_lengths


def _mask_chunk(messages: list[str]) -> list[_Shape]:
    return [_shape(message) for message in messages]
