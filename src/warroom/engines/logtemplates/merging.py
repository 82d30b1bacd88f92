"""Second-stage merging of shape groups whose templates differ in one word.

Why this exists: exact shape grouping keeps apart messages such as ``synchronized to LOCAL(0)``
and ``synchronized to 10.0.0.1`` (the variable has a different shape) or ``removing echo`` and
``removing daytime`` (a word that is really a value).  Like Drain's similarity step, groups with
the same number of words are compared position by position, but we merge only when exactly one
word differs and either

* every differing word is a variable (``LOCAL(<*>),`` / ``<*>,``) or an instance of one
  (``chdir(pwd)`` next to ``chdir(<*>)``), and the variable words do not carry different
  fixed names (``dcbf.....<*>`` / ``icbi.....<*>`` stay apart), or
* the position holds at least ``min_distinct_words`` different words and is not the first word
  (first words are usually verbs or component names that name different events).

Fewer distinct plain words (``via interface alt0`` / ``ee0``; ``from NEW to INITED``) stay
separate templates, which is what the corrected ground truth does.  The index is a hash of
"template with one word left out", so each new group costs one lookup per word, and merged
groups form a union-find forest whose root id is the smallest member id (commutative, so two
workers merging in either order agree).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .groups import WILDCARD, collapse_wildcards

Signature = int
_MAX_MATCH_CHARS = 256
_MAX_MATCH_WILDCARDS = 4
_EDGE_PUNCTUATION = frozenset("()[]{},;:.'\"#=/@|!?-")


def _common_edges(words: list[str]) -> tuple[str, str]:
    """Shared prefix and suffix of ``words`` that end (start) at punctuation.

    ``environment:user.dir=/`` and ``environment:os.name=Linux`` keep ``environment:``;
    ``(eadmin1)`` and ``(badmin1)`` keep the parentheses; a shared part of a value does not
    survive (``cn304`` / ``cn305`` share ``cn30`` but no punctuation, so all of it varies).
    """
    head = os.path.commonprefix(words)
    tail = os.path.commonprefix([w[::-1] for w in words])[::-1]
    cut = max((i + 1 for i, c in enumerate(head) if c in _EDGE_PUNCTUATION), default=0)
    head = head[:cut]
    room = min(len(w) for w in words) - len(head)
    tail = tail[max(len(tail) - room, 0) :]
    start = next((i for i, c in enumerate(tail) if c in _EDGE_PUNCTUATION), len(tail))
    return head, tail[start:]


def _letters(word: str) -> str:
    return "".join(c for c in word.replace(WILDCARD, " ") if c.isalpha())


def _matches_any(word: str, patterns: list[str]) -> bool:
    # Lazy wildcards backtrack polynomially in their number: only short, simple words qualify.
    if len(word) > _MAX_MATCH_CHARS:
        return False
    return any(
        p.count(WILDCARD) <= _MAX_MATCH_WILDCARDS and _pattern(p).fullmatch(word) is not None
        for p in patterns
    )


@lru_cache(maxsize=4096)
def _pattern(template_word: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in template_word.split(WILDCARD)), re.S)


def merge_words(templates: list[tuple[str, ...]]) -> str:
    """Word-wise merge: equal words stay, differing words become ``<*>`` inside shared edges.

    The result matches every line that any of ``templates`` matches.  Members are merged while
    they have the same number of words, but a member's word count can change afterwards (a list
    slot that varies in length renders as one ``<*>``, a varying unit joins its number's
    ``<*>``); members of different lengths are merged by :func:`_merge_gap`.
    """
    if len({len(t) for t in templates}) != 1:
        return _merge_gap(templates)
    out = []
    for column in zip(*templates, strict=True):
        if len(set(column)) == 1:
            out.append(column[0])
        else:
            head, tail = _common_edges(list(column))
            out.append(head + WILDCARD + tail)
    return collapse_wildcards(" ".join(out))


def _merge_gap(templates: list[tuple[str, ...]]) -> str:
    """Merge templates of different word counts: the words shared by all at the start and at
    the end stay, and what lies between becomes one ``<*>``.

    Each member keeps at least one word in the gap, so the spaces on either side of the ``<*>``
    are in each member's lines too (``<*> GET`` and ``<*>`` merge to ``<*>``, not ``<*> GET``).
    """
    shortest = min(len(t) for t in templates)
    head = 0
    while head < shortest and len({t[head] for t in templates}) == 1:
        head += 1
    tail = 0
    while head + tail < shortest and len({t[-1 - tail] for t in templates}) == 1:
        tail += 1
    if head + tail >= shortest:
        if tail:
            tail -= 1
        else:
            head = max(head - 1, 0)
    first = templates[0]
    words = [*first[:head], WILDCARD, *first[len(first) - tail :]]
    return collapse_wildcards(" ".join(words))


@dataclass
class Clusters:
    """Union-find over group ids, fed with each group's current template."""

    min_distinct_words: int = 4
    parent: dict[str, str] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    index: dict[Signature, dict[str, str]] = field(default_factory=dict)
    member_ids: dict[str, list[str]] = field(default_factory=dict)

    def find(self, gid: str) -> str:
        root = gid
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while gid != root:
            gid, self.parent[gid] = self.parent[gid], root
        return root

    def members(self, root: str) -> list[str]:
        return self.member_ids.get(root, [root])

    def update(self, gid: str, template: str) -> list[tuple[str, str]]:
        """Index ``gid`` under its (new) template; return the unions done as (old, new) roots."""
        self._unindex(gid)
        words = tuple(template.split(" "))
        self.words[gid] = words
        if gid not in self.parent:
            self.parent[gid] = gid
            self.member_ids[gid] = [gid]
        unions: list[tuple[str, str]] = []
        for position in range(len(words)):
            if len(words) < 2:
                break
            # Hashed: the index stays a few dozen bytes per word of each template.
            signature = hash((position, words[:position] + words[position + 1 :]))
            bucket = self.index.setdefault(signature, {})
            bucket[gid] = words[position]
            if len(bucket) > 1 and self._should_merge(position, bucket):
                unions.extend(self._union_all(bucket))
        return unions

    def _unindex(self, gid: str) -> None:
        old = self.words.get(gid)
        if old is None:
            return
        for position in range(len(old)):
            bucket = self.index.get(hash((position, old[:position] + old[position + 1 :])))
            if bucket is not None:
                bucket.pop(gid, None)

    def _should_merge(self, position: int, bucket: dict[str, str]) -> bool:
        values = set(bucket.values())
        if len(values) < 2:
            return False
        patterns = [v for v in values if WILDCARD in v]
        plain = [v for v in values if WILDCARD not in v]
        if any(not any(c.isalnum() for c in v) for v in plain):
            return False
        if patterns and all(_matches_any(v, patterns) for v in plain):
            # every literal word is an instance of a variable word: same slot, different values
            return len({_letters(v) for v in patterns} - {""}) <= 1
        return position > 0 and len(values) >= self.min_distinct_words

    def link(self, first: str, second: str) -> list[tuple[str, str]]:
        """Put two groups in one cluster (used when loading saved merges)."""
        return self._union_all({first: "", second: ""})

    def _union_all(self, bucket: dict[str, str]) -> list[tuple[str, str]]:
        roots = sorted({self.find(g) for g in bucket})
        target = roots[0]
        for root in roots[1:]:
            self.parent[root] = target
            self.member_ids[target].extend(self.member_ids.pop(root))
        return [(root, target) for root in roots[1:]]
