"""Recurring problem classes: grouping incident vectors and matching a new incident to a class.

Why: the same failure mode keeps coming back in different systems (an expired certificate in
billing, then in login). Grouping past incidents into classes lets Warroom show each class with its
members and trend, and flag a new incident that looks like a known class, with the evidence.

Method: deterministic average-linkage agglomerative clustering (UPGMA) on cosine similarity, cut
where the mean similarity between two groups falls below a threshold; classes of one incident are
not reported. A new incident is matched against the class centroids (the normalised mean of the
members), and the match carries its similarity, the class's cohesion and the lead over the
runner-up class. Vectors come from any embedding with L2-normalised rows, for example
``warroom.engines.similarity.embed_texts``; this module does not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

FloatArray = npt.NDArray[np.float64]


def _normalise_dense(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float64)


@dataclass(frozen=True)
class ProblemClass:
    """A recurring problem: incidents whose write-ups describe the same failure mode.

    Attributes:
        class_id: Position of the class in the result (largest class first).
        members: Row indices of the member vectors, ascending.
        centroid: Unit-length mean of the members' vectors.
        cohesion: Mean cosine similarity of the members to the centroid.
    """

    class_id: int
    members: tuple[int, ...]
    centroid: FloatArray = field(compare=False, repr=False)
    cohesion: float


@dataclass(frozen=True)
class ClassMatch:
    """Evidence that a new incident belongs to a known problem class."""

    class_id: int
    similarity: float
    cohesion: float
    margin: float
    reasons: tuple[str, ...]


def cluster_problem_classes(
    vectors: FloatArray, threshold: float = 0.35, min_size: int = 2
) -> list[ProblemClass]:
    """Group rows into problem classes by average-linkage clustering on cosine similarity.

    Two groups merge while the mean similarity between their members is at least ``threshold``.
    The result is deterministic: it depends only on the vectors, not on their order beyond ties.

    Args:
        vectors: L2-normalised rows, for example from :func:`embed_texts`.
        threshold: Minimum average cosine similarity inside a class, in ``[-1, 1]``.
        min_size: Smallest class reported; singletons are not recurring problems.

    Returns:
        Classes ordered by size (largest first), then by their first member.
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be within [-1, 1], got {threshold}")
    n = vectors.shape[0]
    if n < max(min_size, 2):
        return []
    unit = _normalise_dense(np.asarray(vectors, dtype=np.float64))
    distances = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels.tolist()):
        groups.setdefault(int(label), []).append(row)
    kept = sorted((g for g in groups.values() if len(g) >= min_size), key=lambda g: (-len(g), g[0]))
    return [_make_class(i, members, unit) for i, members in enumerate(kept)]


def _make_class(class_id: int, members: list[int], unit: FloatArray) -> ProblemClass:
    mean = unit[members].mean(axis=0)
    centroid = mean / (np.linalg.norm(mean) or 1.0)
    cohesion = float((unit[members] @ centroid).mean())
    return ProblemClass(class_id, tuple(members), centroid, cohesion)


def match_class(
    vector: FloatArray, classes: Sequence[ProblemClass], threshold: float = 0.35
) -> ClassMatch | None:
    """The known class whose centroid is nearest to ``vector``, if it is similar enough.

    The vector must come from the same :func:`embed_texts` call as the classes' members (the
    embedding is fitted per collection). ``margin`` is the lead over the runner-up class.
    """
    if not classes:
        return None
    norm = float(np.linalg.norm(vector)) or 1.0
    scores = sorted(
        ((float(c.centroid @ vector) / norm, c.class_id, c) for c in classes),
        key=lambda item: (-item[0], item[1]),
    )
    best, _, chosen = scores[0]
    if best < threshold:
        return None
    runner_up = scores[1][0] if len(scores) > 1 else 0.0
    reasons = (
        f"cosine similarity {best:.2f} to the class centroid (threshold {threshold:.2f})",
        f"members agree with their centroid at {chosen.cohesion:.2f} on average",
        f"{len(chosen.members)} past incidents in the class",
        f"lead of {best - runner_up:.2f} over the next class",
    )
    return ClassMatch(chosen.class_id, best, chosen.cohesion, best - runner_up, reasons)
