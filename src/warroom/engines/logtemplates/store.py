"""The template store: shape groups plus their one-word merges, shared by both miners.

Why this exists: the batch function and the streaming miner must agree on templates, so both
feed masked messages through this one structure.  It owns the exact-shape groups
(:mod:`.groups`), the union-find of merged groups (:mod:`.merging`) and a cache of each
cluster's rendered template, and it records which cluster ids were folded into which so the
streaming API can report an old -> new id mapping.
"""

from __future__ import annotations

from .groups import Group, Key, Masked
from .merging import Clusters, merge_words


class TemplateStore:
    """Groups keyed by masked shape, clustered by one-word merges."""

    def __init__(self, min_distinct_words: int = 4) -> None:
        self.groups: dict[Key, Group] = {}
        self.by_id: dict[str, Group] = {}
        self.clusters = Clusters(min_distinct_words=min_distinct_words)
        self.renamed: dict[str, str] = {}
        self._templates: dict[str, str] = {}

    def add(self, masked: Masked, times: int = 1) -> Group:
        """Count ``times`` occurrences of a masked message and return its group."""
        group = self.groups.get(masked.key)
        if group is None:
            group = Group.start(masked)
            group.count = times
            self.groups[masked.key] = group
            self.by_id[group.gid] = group
            self._reindex(group)
            # A brand-new group's own id was never handed out, so it needs no remapping.
            self.renamed.pop(group.gid, None)
        elif group.observe(masked, times):
            self._reindex(group)
        return group

    def put(self, group: Group) -> Group:
        """Insert or fold a whole group (state loading and merging across workers)."""
        mine = self.groups.get(group.key)
        if mine is None:
            self.groups[group.key] = group
            self.by_id[group.gid] = group
            self._reindex(group)
            return group
        if mine.absorb(group):
            self._reindex(mine)
        return mine

    def cluster_id(self, group: Group) -> str:
        return self.clusters.find(group.gid)

    def template(self, cluster_id: str) -> str:
        cached = self._templates.get(cluster_id)
        if cached is None:
            members = self.clusters.members(cluster_id)
            if len(members) == 1:
                cached = self.by_id[members[0]].template
            else:
                cached = merge_words([self.clusters.words[m] for m in members])
            self._templates[cluster_id] = cached
        return cached

    def count(self, cluster_id: str) -> int:
        return sum(self.by_id[m].count for m in self.clusters.members(cluster_id))

    def cluster_ids(self) -> list[str]:
        return sorted({self.clusters.find(gid) for gid in self.by_id})

    def link(self, first: str, second: str) -> None:
        """Merge the clusters of two known group ids (no-op for unknown ids)."""
        if first in self.by_id and second in self.by_id:
            self._renamed(self.clusters.link(first, second))

    def _reindex(self, group: Group) -> None:
        self._templates.pop(self.clusters.find(group.gid), None)
        self._renamed(self.clusters.update(group.gid, group.template))

    def _renamed(self, unions: list[tuple[str, str]]) -> None:
        for old, new in unions:
            self._templates.pop(old, None)
            self._templates.pop(new, None)
            self.renamed[old] = new
