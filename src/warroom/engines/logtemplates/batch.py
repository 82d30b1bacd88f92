"""Batch entry point: one template per input message, for benchmarks and offline analysis.

Why this exists: the Loghub evaluation (and bulk re-indexing in the product) hands over a whole
list of messages at once.  Logs repeat heavily, so the work is done once per *distinct* message
(masking) and once per group (rendering); the per-line cost is a dictionary lookup.  Templates
are decided after every message has been seen, so the result does not depend on line order.
"""

from __future__ import annotations

from collections.abc import Sequence

from .groups import Group, Key, mask
from .limits import truncate


def mine_templates(messages: Sequence[str]) -> list[str]:
    """Return, for each message, its template with every variable written ``<*>``."""
    distinct: dict[str, tuple[Group, int]] = {}
    groups: dict[Key, Group] = {}
    counts: dict[str, int] = {}
    for message in messages:
        counts[message] = counts.get(message, 0) + 1
    for message, times in counts.items():
        masked = mask(truncate(message)[0])
        group = groups.get(masked.key)
        if group is None:
            group = groups[masked.key] = Group.start(masked)
        group.observe(masked, times)
        distinct[message] = (group, 0)
    rendered = {message: entry[0].template for message, entry in distinct.items()}
    return [rendered[message] for message in messages]
