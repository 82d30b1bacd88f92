"""Streaming template miner: one line in, its template id, template and typed values out.

Why this exists: the product ingests logs continuously and diagnosis asks "which templates are
new or spiking since 14:02, and on which hosts?".  That needs a stable id per template, the
typed parameters of each line, counts per time bucket, and state that can be saved, loaded and
merged across workers.  The mining itself is the same as the batch function (typed masking,
shape grouping, one-word merging; see :mod:`.store`), applied incrementally.

Ids: a template id is a short hash of the masked shape of the first group of its cluster, so
it does not change when a weak slot turns into ``<*>`` (the text refines, the id stays).  Ids
change only when two clusters merge; :meth:`TemplateMiner.remap` reports those old -> new.

Memory is bounded by configuration, not by the number of lines: the per-message cache is
cleared when full, each template keeps at most ``max_buckets`` time buckets, and after
``max_templates`` shapes new shapes fall into one catch-all ``<*>`` template.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from .groups import STRONG_SLOT, WILDCARD, Group, Masked
from .layout import mask_cached
from .limits import MAX_LINE_CHARS, truncate
from .state import TimeStats, dump_store, load_store
from .store import TemplateStore
from .tokens import LITERAL, UNIT, WEAK, Segment

_OVERFLOW = Masked((STRONG_SLOT,), (), (), ((LITERAL, ""),))


@dataclass(slots=True)
class _Entry:
    """A cached masked message and the (immutable) match last returned for it, reused while
    the templates it was derived from are unchanged."""

    masked: Masked
    match: LineMatch | None = None
    group_template: str | None = None


@dataclass(frozen=True)
class Parameter:
    """One variable value of a line, with the kind recognised for it."""

    kind: str
    value: str


@dataclass(frozen=True)
class LineMatch:
    """The template a line belongs to and the values it fills in."""

    template_id: str
    template: str
    parameters: tuple[Parameter, ...]
    truncated: bool


@dataclass(frozen=True)
class MinerConfig:
    """Limits of the streaming miner; the mining rules themselves have no per-system knobs."""

    max_line_chars: int = MAX_LINE_CHARS
    bucket_s: float = 60.0
    max_buckets: int = 1440
    cache_size: int = 8_192
    max_templates: int = 50_000
    min_distinct_words: int = 4

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise ValueError(f"MinerConfig.{name} must be positive, got {value!r}")


@dataclass(frozen=True)
class TemplateInfo:
    """Summary of one template: id, text, count, first/last seen and counts per bucket."""

    template_id: str
    template: str
    count: int
    first_seen: float | None
    last_seen: float | None
    buckets: tuple[tuple[float, int], ...]


class TemplateMiner:
    """Incremental template mining with stable ids, typed parameters and time buckets."""

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._store = TemplateStore(self.config.min_distinct_words)
        self._stats: dict[str, TimeStats] = {}
        self._cache: dict[str, _Entry] = {}
        self._reported: dict[str, str] = {}

    def add(self, message: str, *, timestamp: float | None = None) -> LineMatch:
        """Mine one line; ``timestamp`` (epoch seconds) defaults to the current time."""
        text, truncated = truncate(message, self.config.max_line_chars)
        entry, full = self._entry(text)
        group = self._store.add(entry.masked)
        self._record(group.gid, time.time() if timestamp is None else timestamp)
        cluster = self._store.cluster_id(group)
        template = self._store.template(cluster)
        match = entry.match
        if (
            match is None
            or match.template is not template
            or entry.group_template is not group.template
            or match.template_id != cluster
            or match.truncated != truncated
        ):
            # Segments are not cached (they dominate memory); re-mask on the rare refresh.
            segments = full.segments if full is not None else mask_cached(text).segments
            parameters = self._parameters(segments, group, template)
            match = entry.match = LineMatch(cluster, template, parameters, truncated)
            entry.group_template = group.template
        return match

    def templates(self) -> list[TemplateInfo]:
        """Every current template, most frequent first."""
        infos = [self._info(cid) for cid in self._store.cluster_ids()]
        return sorted(infos, key=lambda info: (-info.count, info.template_id))

    def counts_over_time(self, template_id: str, window_s: float) -> list[tuple[float, int]]:
        """Counts of one template per window of ``window_s`` seconds, as (window start, count)."""
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        windows: dict[int, int] = {}
        for start, count in self._buckets(self.resolve(template_id)):
            index = int(start // window_s)
            windows[index] = windows.get(index, 0) + count
        return [(index * window_s, count) for index, count in sorted(windows.items())]

    def resolve(self, template_id: str) -> str:
        """The current id of a template id handed out earlier (ids change only on merges)."""
        if template_id in self._store.by_id:
            return self._store.clusters.find(template_id)
        raise KeyError(f"unknown template id {template_id!r}")

    def remap(self) -> dict[str, str]:
        """Ids retired since the last call, mapped to the id that now stands for them."""
        changed = {
            old: self._store.clusters.find(old)
            for old in self._store.renamed
            if self._reported.get(old) != self._store.clusters.find(old)
        }
        self._reported.update(changed)
        self._store.renamed.clear()
        return changed

    def merge(self, other: TemplateMiner) -> dict[str, str]:
        """Fold another worker's state into this one; return the ids that changed (old -> new)."""
        before = {gid: self._store.clusters.find(gid) for gid in self._store.by_id}
        load_store(self._store, dump_store(other._store, other._stats), self._stats)
        mapping = {
            gid: self._store.clusters.find(gid)
            for gid in self._store.by_id
            if before.get(gid, gid) != self._store.clusters.find(gid)
        }
        return {old: new for old, new in mapping.items() if old != new}

    def to_state(self) -> dict[str, object]:
        """A JSON-serialisable snapshot (config, groups, merges and time buckets)."""
        state = dump_store(self._store, self._stats)
        state["config"] = asdict(self.config)
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> TemplateMiner:
        """Rebuild a miner saved with :meth:`to_state`."""
        raw = state.get("config")
        known = {f.name for f in fields(MinerConfig)}
        saved = {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
        config = MinerConfig(**saved)
        miner = cls(config)
        load_store(miner._store, state, miner._stats)
        miner._store.renamed.clear()
        return miner

    def _entry(self, text: str) -> tuple[_Entry, Masked | None]:
        entry = self._cache.get(text)
        if entry is not None:
            return entry, None
        if len(self._cache) >= self.config.cache_size:
            self._cache.clear()
        full = mask_cached(text)
        if full.key not in self._store.groups and len(self._store.groups) >= (
            self.config.max_templates
        ):
            full = _OVERFLOW
        lean = Masked(full.key, full.weak_values, full.run_lengths, ())
        entry = self._cache[text] = _Entry(lean)
        return entry, full

    def _record(self, gid: str, timestamp: float) -> None:
        stats = self._stats.get(gid)
        if stats is None:
            stats = self._stats[gid] = TimeStats()
        if stats.first is None or timestamp < stats.first:
            stats.first = timestamp
        if stats.last is None or timestamp > stats.last:
            stats.last = timestamp
        index = int(timestamp // self.config.bucket_s)
        stats.buckets[index] = stats.buckets.get(index, 0) + 1
        if len(stats.buckets) > self.config.max_buckets:
            del stats.buckets[min(stats.buckets)]

    def _parameters(
        self, segments: tuple[Segment, ...], group: Group, template: str
    ) -> tuple[Parameter, ...]:
        params: list[Parameter] = []
        weak_index = 0
        for kind, value in segments:
            if kind in (WEAK, UNIT):
                if group.slots[weak_index] is None:
                    params.append(_weak_parameter(kind, value, params))
                weak_index += 1
            elif kind != LITERAL:
                # "/10.0.0.1" (Java's InetAddress) is one variable in the template, one IP here.
                params.append(Parameter(kind, value.lstrip("/") if kind == "ip" else value))
        if template != group.template:
            params.extend(_merged_words(group.template, template))
        return tuple(params)

    def _buckets(self, cluster_id: str) -> list[tuple[float, int]]:
        merged: dict[int, int] = {}
        for gid in self._store.clusters.members(cluster_id):
            for index, count in self._stats.get(gid, TimeStats()).buckets.items():
                merged[index] = merged.get(index, 0) + count
        return [(index * self.config.bucket_s, n) for index, n in sorted(merged.items())]

    def _info(self, cluster_id: str) -> TemplateInfo:
        members = [
            self._stats.get(g, TimeStats()) for g in self._store.clusters.members(cluster_id)
        ]
        firsts = [s.first for s in members if s.first is not None]
        lasts = [s.last for s in members if s.last is not None]
        return TemplateInfo(
            template_id=cluster_id,
            template=self._store.template(cluster_id),
            count=self._store.count(cluster_id),
            first_seen=min(firsts) if firsts else None,
            last_seen=max(lasts) if lasts else None,
            buckets=tuple(self._buckets(cluster_id)),
        )


def _weak_parameter(kind: str, value: str, params: list[Parameter]) -> Parameter:
    """A varying weak word is a ``word`` value; a varying unit extends its number to a size."""
    if kind == UNIT and params:
        number = params.pop()
        return Parameter("size", f"{number.value} {value}")
    return Parameter("word", value)


def _merged_words(group_template: str, cluster_template: str) -> list[Parameter]:
    """Plain words of a group that its cluster shows as ``<*>`` (one-word merges)."""
    mine, merged = group_template.split(" "), cluster_template.split(" ")
    if len(mine) != len(merged):
        return []
    return [
        Parameter("word", word)
        for word, shown in zip(mine, merged, strict=True)
        if WILDCARD not in word and WILDCARD in shown
    ]
