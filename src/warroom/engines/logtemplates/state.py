"""Saving, loading and merging miner state as plain JSON-compatible data.

Why this exists: workers mine in parallel and a restarted process must continue where it left
off, so the store (groups with their slot evidence, the merges between them) and the per-group
time buckets round-trip through ``dict``/``list``/``str``/``int``/``float`` only.  Loading into
a non-empty store *merges*: a group with the same shape folds its evidence into ours, so
``load(a); load(b)`` equals mining a's and b's lines in one process, up to merge order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .groups import Group, KeyItem, key_id
from .store import TemplateStore

STATE_VERSION = 1


@dataclass
class TimeStats:
    """When a group was first and last seen, and its line counts per time bucket index."""

    first: float | None = None
    last: float | None = None
    buckets: dict[int, int] = field(default_factory=dict)


def dump_store(store: TemplateStore, stats: Mapping[str, TimeStats]) -> dict[str, object]:
    """Serialise groups, merges and time buckets."""
    groups = []
    for group in store.by_id.values():
        entry: dict[str, Any] = {
            "key": list(group.key),
            "slots": list(group.slots),
            "runs": list(group.runs),
            "count": group.count,
        }
        seen = stats.get(group.gid)
        if seen is not None:
            entry["first"], entry["last"] = seen.first, seen.last
            entry["buckets"] = [[index, count] for index, count in seen.buckets.items()]
        groups.append(entry)
    parents = {gid: store.clusters.find(gid) for gid in store.by_id}
    links = {gid: root for gid, root in parents.items() if gid != root}
    return {"version": STATE_VERSION, "groups": groups, "links": links}


def load_store(
    store: TemplateStore, state: Mapping[str, object], stats: dict[str, TimeStats]
) -> None:
    """Fold a serialised state into ``store`` (and its time buckets into ``stats``)."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported miner state version {state.get('version')!r}")
    raw_groups = state.get("groups")
    if not isinstance(raw_groups, list):
        raise ValueError("miner state has no 'groups' list")
    for entry in raw_groups:
        group = _group_from(entry)
        store.put(group)
        _merge_stats(stats, group.gid, entry)
    links = state.get("links")
    if isinstance(links, dict):
        for gid, root in links.items():
            store.link(str(gid), str(root))


def _group_from(entry: Mapping[str, Any]) -> Group:
    key: tuple[KeyItem, ...] = tuple(
        item if isinstance(item, str) else int(item) for item in entry["key"]
    )
    return Group(
        key=key,
        gid=key_id(key),
        slots=[None if v is None else str(v) for v in entry["slots"]],
        runs=[None if v is None else int(v) for v in entry["runs"]],
        count=int(entry["count"]),
    )


def _merge_stats(stats: dict[str, TimeStats], gid: str, entry: Mapping[str, Any]) -> None:
    if "buckets" not in entry:
        return
    mine = stats.get(gid)
    if mine is None:
        stats[gid] = mine = TimeStats()
    first, last = entry.get("first"), entry.get("last")
    if first is not None and (mine.first is None or first < mine.first):
        mine.first = float(first)
    if last is not None and (mine.last is None or last > mine.last):
        mine.last = float(last)
    for index, count in entry["buckets"]:
        mine.buckets[int(index)] = mine.buckets.get(int(index), 0) + int(count)
