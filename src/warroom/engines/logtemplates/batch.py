"""Batch entry point: one template per input message, for benchmarks and offline analysis.

Why this exists: the Loghub evaluation (and bulk re-indexing in the product) hands over a whole
list of messages at once.  Logs repeat heavily, so the work is done once per *distinct* message
(masking) and once per group (rendering); the per-line cost is a dictionary lookup.  Templates
are read only after every message has been seen, so each line gets its template's final text.

Masking is the only costly step and it is independent per message, so when there are many
distinct messages it is spread over worker processes; grouping then runs in this process in the
original order, which keeps the output identical to the single-process run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from .groups import Group, Key, Masked, mask
from .limits import truncate
from .store import TemplateStore

PARALLEL_MIN_DISTINCT = 100_000
"""Below this many distinct messages, starting processes costs more than it saves."""
_CHUNK = 5_000

_Shape = tuple[Key, tuple[str, ...], tuple[int, ...]]


def mine_templates(messages: Sequence[str], *, workers: int | None = None) -> list[str]:
    """Return, for each message, its template with every variable written ``<*>``.

    Args:
        messages: log message bodies (no timestamp/level header), one per line.
        workers: processes used for masking; ``None`` picks one per core when there are at
            least ``PARALLEL_MIN_DISTINCT`` distinct messages, else 1.
    """
    counts = Counter(messages)
    distinct = list(counts)
    store = TemplateStore()
    group_of: dict[str, Group] = {}
    for message, shape in zip(distinct, _shapes(distinct, workers), strict=True):
        group_of[message] = store.add(Masked(*shape, ()), counts[message])
    rendered = {
        message: store.template(store.cluster_id(group)) for message, group in group_of.items()
    }
    return [rendered[message] for message in messages]


def _shapes(distinct: list[str], workers: int | None) -> list[_Shape]:
    if workers is None:
        cores = os.cpu_count() or 1
        workers = cores if len(distinct) >= PARALLEL_MIN_DISTINCT else 1
    if workers <= 1:
        return _mask_chunk(distinct)
    chunks = [distinct[i : i + _CHUNK] for i in range(0, len(distinct), _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [shape for part in pool.map(_mask_chunk, chunks) for shape in part]


def _mask_chunk(messages: list[str]) -> list[_Shape]:
    shapes = []
    for message in messages:
        masked = mask(truncate(message)[0])
        shapes.append((masked.key, masked.weak_values, masked.run_lengths))
    return shapes
