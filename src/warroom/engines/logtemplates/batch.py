"""Batch entry point: one template per input message, for benchmarks and offline analysis.

Why this exists: the Loghub evaluation (and bulk re-indexing in the product) hands over a whole
list of messages at once.  Logs repeat heavily, so the work is done once per *distinct* message
(masking) and once per group (rendering); the per-line cost is a dictionary lookup.  Templates
are read only after every message has been seen, so each line gets its template's final text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .groups import Group, mask
from .limits import truncate
from .store import TemplateStore


def mine_templates(messages: Sequence[str]) -> list[str]:
    """Return, for each message, its template with every variable written ``<*>``."""
    store = TemplateStore()
    group_of: dict[str, Group] = {}
    for message, times in Counter(messages).items():
        group_of[message] = store.add(mask(truncate(message)[0]), times)
    rendered = {
        message: store.template(store.cluster_id(group)) for message, group in group_of.items()
    }
    return [rendered[message] for message in messages]
