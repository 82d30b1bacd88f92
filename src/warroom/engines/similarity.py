"""Similarity between incident write-ups, and recurring problem classes built on it.

Why: the second time a problem shows up, often in another system under other names, responders
should be pointed at the first postmortem. Postmortem summaries are short, written by different
people and full of product names, so plain word overlap finds the same *company* more readily than
the same *failure mode*.

Method (all fitted on the texts given, nothing learnt ahead of time, numpy/scipy only):

1. Analysis: lower-casing, a light suffix-stripping stemmer, English stop words, and an
   incident-domain normalisation (synonyms such as outage/downtime, db/database, ssl/tls) that also
   emits *concept* tokens for general failure modes (configuration, capacity, clocks, hardware...).
2. Three sparse views, each weighted with BM25-style saturated term frequency times smoothed IDF
   and L2-normalised: stemmed words, character n-grams inside words (robust to spelling variants),
   and the concept tokens. The views are concatenated with fixed weights.
3. Latent semantic analysis: a truncated SVD of the concatenated matrix gives a low-rank view in
   which terms that co-occur across the collection count as related; it is appended to the exact
   view (itself the full-rank projection, or the leading 256 directions on large collections).
4. Pseudo-relevance feedback: every vector is moved towards its nearest neighbours, weighted by
   their similarity (average query expansion), which pulls documents of the same kind together.

Organisation and product names (words only written capitalised mid-sentence) are left out of the
word and character views, as they tell who wrote the postmortem rather than what failed. On large
collections the SVD is a seeded randomized one (Halko, Martinsson and Tropp). Each step was kept
because it raised precision@5 on the public postmortem corpus (bench/postmortems.py). Problem
classes built on these vectors live in ``warroom.engines.problemclasses``.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]


def _terms(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TOKEN_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

# Compound terms written as two words; joined so that "data center" is not read as "data".
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), joined)
    for pattern, joined in (
        (r"\bdata ?cent(?:er|re)s?\b", "datacenter"),
        (r"\bload ?balanc(?:er|ers|ing)\b", "loadbalancer"),
        (r"\bthird[- ]party\b", "thirdparty"),
        (r"\bleap ?seconds?\b", "leapsecond"),
        (r"\bhuman error\b", "humanerror"),
        (r"\bout of memory\b", "memory"),
        (r"\bdenial of service\b", "attack"),
        (r"\bpower (?:outage|failure|loss|cut)s?\b", "poweroutage"),
    )
)

# A general English stop-word list (short words that carry no topic), written for this module.
STOP_WORDS: frozenset[str] = _terms(
    """
    a about above after again against all almost also although am an and any are aren as at be
    became because become been before being below between both but by can cannot could couldn did
    didn do does doesn doing don done down during each either else enough etc ever every few for
    from further had hadn has hasn have haven having he her here hers herself him himself his how
    however i if in into is isn it its itself just last least less let like made make many may me
    might more most much must my myself namely neither never nevertheless next no nor not now of off
    often on once one only onto or other others otherwise our ours ourselves out over own per
    perhaps please put rather re s same see seem seemed seeming seems several she should since so
    some somehow something sometime sometimes still such t than that the their theirs them
    themselves then thence there thereafter thereby therefore therein thereupon these they this
    those though through throughout thus to together too toward towards under until up upon us
    very via was wasn we well were weren what whatever when whence whenever where whereafter whereas
    whereby wherein whereupon wherever whether which while whither who whoever whole whom whose why
    will with within without won would wouldn yet you your yours yourself yourselves
    """
)

# Spelling variants and abbreviations that mean the same thing in incident write-ups.
SYNONYMS: dict[str, str] = {
    "db": "database",
    "dbs": "database",
    "rdbms": "database",
    "cert": "certificate",
    "certs": "certificate",
    "ssl": "tls",
    "x509": "certificate",
    "config": "configuration",
    "configs": "configuration",
    "conf": "configuration",
    "cfg": "configuration",
    "misconfig": "misconfiguration",
    "misconfigured": "misconfiguration",
    "downtime": "outage",
    "outages": "outage",
    "unavailable": "unavailability",
    "k8s": "kubernetes",
    "oom": "memory",
    "oomkill": "memory",
    "oomkilled": "memory",
    "ram": "memory",
    "hdd": "disk",
    "ssd": "disk",
    "deploy": "deployment",
    "deployed": "deployment",
    "rollout": "deployment",
    "ntp": "clock",
    "utc": "timezone",
    "dst": "daylight",
    "ddos": "attack",
    "lb": "loadbalancer",
    "elb": "loadbalancer",
    "alb": "loadbalancer",
    "auth": "authentication",
}

# General failure-mode concepts of incident analysis (the contributing-factor families every
# postmortem guide names), each a set of stemmed terms. A document mentioning any term gains the
# concept token, so two write-ups about different systems can still meet on the failure mode.
CONCEPTS: dict[str, frozenset[str]] = {
    "config": _terms(
        "configuration misconfiguration setting flag parameter typo rule variable "
        "environment option template yaml manifest acl whitelist blacklist allowlist"
    ),
    "change": _terms(
        "deployment release push change upgrade update migration rollback revert patch "
        "version cutover maintenance"
    ),
    "capacity": _terms(
        "load traffic capacity overload spike surge exhaustion exhaust limit quota memory "
        "throttl saturat queue backlog leak autoscal scale slow latency cpu"
    ),
    "dependency": _terms(
        "dependency upstream downstream provider vendor thirdparty cascad external library saas"
    ),
    "hardware": _terms(
        "hardware power poweroutage disk cooling datacenter generator battery ecc server rack "
        "drive fiber cable switch storage volume electrical fire flood"
    ),
    "time": _terms(
        "time clock leapsecond timezone date year calendar daylight midnight expir "
        "february monotonic timestamp ttl expiry"
    ),
    "data": _terms(
        "data corrupt loss delet truncat backup restore replica replication database "
        "schema table consistency"
    ),
    "network": _terms(
        "network bgp router routing packet dns resolver bandwidth link connectivity "
        "partition tcp ip loadbalancer firewall proxy cdn"
    ),
    "security": _terms(
        "security leak breach attack credential password permission token key tls "
        "certificate authentication vulnerability exploit"
    ),
    "detection": _terms(
        "alert alarm monitor detect page noticed dashboard metric log observability visibility"
    ),
    "human": _terms(
        "human humanerror manual operator engineer mistake accident accidental command script "
        "fatigue handoff wrong"
    ),
    "concurrency": _terms(
        "race conflict concurrency concurrent lock deadlock collision duplicate "
        "simultaneous ordering"
    ),
}

_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", ""),
    ("ment", ""),
    ("ness", ""),
    ("ities", "ity"),
    ("ingly", ""),
    ("edly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("ed", ""),
    ("ly", ""),
    ("xes", "x"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("ss", "ss"),
    ("s", ""),
)


@dataclass(frozen=True)
class EmbedParams:
    """Weights of the views and the size of the latent and feedback steps."""

    word_weight: float = 1.0
    char_weight: float = 0.6
    concept_weight: float = 0.5
    char_ngrams: tuple[int, int] = (3, 5)
    bm25_k1: float = 1.2
    bm25_b: float = 0.5
    # concept counts are kept nearly linear so the dominant failure mode of a long text wins
    concept_k1: float = 20.0
    lsa_rank_ratio: float = 0.15
    # LSA's usual range is 100-300 topics; beyond that it repeats the exact view
    lsa_max_rank: int = 128
    lsa_weight: float = 0.5
    feedback_neighbours: int = 3
    feedback_weight: float = 0.3
    # exact up to 256 texts; beyond, the leading 256 directions (cost of the SVD grows with it)
    max_dim: int = 256
    drop_names: bool = True


DEFAULT_PARAMS = EmbedParams()


def stem(word: str) -> str:
    """Strip one common English suffix, keeping at least a three-letter stem.

    A final "e" is dropped as well, so that "expire", "expires" and "expired" share "expir".
    """
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: len(word) - len(suffix)] + replacement
            # "running" -> "runn" -> "run": undouble a final consonant left by the suffix
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


_MIN_PREFIX = 5


def _stemmed_concepts() -> tuple[dict[str, str], dict[str, str]]:
    """Concept of each stemmed term, and of each prefix (5+ letters) of a stemmed term."""
    index: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for concept, terms in CONCEPTS.items():
        for term in terms:
            stemmed = stem(term)
            index.setdefault(stemmed, concept)
            for length in range(_MIN_PREFIX, len(stemmed)):
                prefixes.setdefault(stemmed[:length], concept)
    return index, prefixes


_CONCEPT_INDEX, _CONCEPT_PREFIXES = _stemmed_concepts()


_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def proper_names(text: str) -> frozenset[str]:
    """Lower-cased words that ``text`` only writes capitalised in mid-sentence.

    These are mostly organisation and product names ("Cloudflare", "GitHub"). They tell which
    company wrote a postmortem, not which failure mode it describes. Acronyms in capitals (DNS,
    BGP, TLS) are technical terms and are kept.
    """
    capitalised: set[str] = set()
    lower: set[str] = set()
    for match in _WORD_RE.finditer(text):
        word = match.group()
        if word.islower():
            lower.add(word)
            continue
        if word.isupper() or not word[0].isupper():
            continue
        before = text[: match.start()].rstrip()
        if before and before[-1] not in ".!?:;\"'(“":
            capitalised.add(word.lower())
    return frozenset(capitalised - lower)


def analyse(text: str, drop: frozenset[str] = frozenset()) -> list[str]:
    """Return the normalised, stemmed content words of ``text``, leaving out ``drop``."""
    words: list[str] = []
    lowered = text.lower()
    for pattern, joined in _PHRASES:
        lowered = pattern.sub(joined, lowered)
    for raw in _TOKEN_RE.findall(lowered):
        token = raw.replace("’", "'").split("'")[0]
        token = SYNONYMS.get(token, token)
        if token in STOP_WORDS or token in drop or len(token) < 2 or token.isdigit():
            continue
        words.append(stem(token))
    return words


def concepts_of(words: Iterable[str]) -> list[str]:
    """Return the failure-mode concepts named by stemmed ``words`` (prefix match on the stem)."""
    found: list[str] = []
    for word in words:
        concept = _CONCEPT_INDEX.get(word) or _concept_by_prefix(word)
        if concept:
            found.append(concept)
    return found


def _concept_by_prefix(word: str) -> str | None:
    # The light stemmer leaves "configur" (configured) beside "configurat" (configuration), and
    # "throttl" is meant to cover "throttled" and "throttling": accept a shared stem either way.
    concept = _CONCEPT_PREFIXES.get(word)
    for length in range(len(word) - 1, _MIN_PREFIX - 1, -1):
        if concept:
            break
        concept = _CONCEPT_INDEX.get(word[:length])
    return concept


@functools.lru_cache(maxsize=1 << 16)
def _word_ngrams(word: str, low: int, high: int) -> tuple[str, ...]:
    # cached: the same words recur across thousands of incidents
    padded = f" {word} "
    return tuple(
        padded[i : i + n] for n in range(low, high + 1) for i in range(max(1, len(padded) - n + 1))
    )


def _char_ngrams(words: Sequence[str], low: int, high: int) -> list[str]:
    return [gram for word in words for gram in _word_ngrams(word, low, high)]


def _weighted_matrix(docs: Sequence[Sequence[str]], k1: float, b: float) -> sp.csr_matrix:
    """BM25-saturated term frequency times smoothed IDF, rows L2-normalised."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lengths = np.array([max(len(d), 1) for d in docs], dtype=np.float64)
    avg_len = float(lengths.mean()) if len(docs) else 1.0
    for i, doc in enumerate(docs):
        norm = k1 * (1.0 - b + b * lengths[i] / avg_len)
        for term, count in Counter(doc).items():
            rows.append(i)
            cols.append(vocab.setdefault(term, len(vocab)))
            vals.append(count * (k1 + 1.0) / (count + norm))
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), max(len(vocab), 1)))
    doc_freq = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
    idf = np.log((1.0 + len(docs)) / (1.0 + doc_freq)) + 1.0
    return _normalise_rows(sp.csr_matrix(matrix @ sp.diags(idf)))


def _normalise_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)


def _normalise_dense(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float64)


def sparse_features(texts: Sequence[str], params: EmbedParams = DEFAULT_PARAMS) -> sp.csr_matrix:
    """The weighted word, character n-gram and concept views side by side, rows L2-normalised."""
    words = [analyse(t, proper_names(t) if params.drop_names else frozenset()) for t in texts]
    low, high = params.char_ngrams
    views = [
        (params.word_weight, words),
        (params.char_weight, [_char_ngrams(w, low, high) for w in words]),
        (params.concept_weight, [concepts_of(analyse(t)) for t in texts]),
    ]
    k1s = (params.bm25_k1, params.bm25_k1, params.concept_k1)
    blocks = [
        weight * _weighted_matrix(docs, k1, params.bm25_b)
        for (weight, docs), k1 in zip(views, k1s, strict=True)
        if weight > 0.0
    ]
    return _normalise_rows(sp.csr_matrix(sp.hstack(blocks)))


def _top_components(matrix: sp.csr_matrix, rank: int) -> FloatArray:
    """Rows projected on the ``rank`` leading singular directions (U * S)."""
    n = matrix.shape[0]
    rank = max(1, min(rank, n, matrix.shape[1]))
    if n <= 2000:
        gram = (matrix @ matrix.T).toarray()
        values, vectors = np.linalg.eigh(gram)
        order = np.argsort(values)[::-1][:rank]
        scale = np.sqrt(np.clip(values[order], 0.0, None))
        return np.asarray(vectors[:, order] * scale, dtype=np.float64)
    return _randomized_components(matrix, rank)


def _randomized_components(
    matrix: sp.csr_matrix, rank: int, oversample: int = 10, power_iterations: int = 2
) -> FloatArray:
    """Leading ``U * S`` by randomized SVD (Halko, Martinsson and Tropp, 2011), fixed seed.

    Exact ARPACK (``svds``) needs minutes for 512 components of 10,000 documents; the randomized
    range finder with a few power iterations needs seconds and is accurate for the leading ones.
    """
    rng = np.random.default_rng(0)
    width = min(rank + oversample, min(matrix.shape))
    basis, _ = np.linalg.qr(matrix @ rng.standard_normal((matrix.shape[1], width)))
    for _ in range(power_iterations):
        back, _ = np.linalg.qr(matrix.T @ basis)
        basis, _ = np.linalg.qr(matrix @ back)
    # B = Q^T A is small in rows but wide; B B^T gives its left singular vectors and values
    # without a decomposition of the wide matrix
    projected = matrix.T @ basis
    values, small_u = np.linalg.eigh(projected.T @ projected)
    order = np.argsort(values)[::-1][:rank]
    singular = np.sqrt(np.clip(values[order], 0.0, None))
    result = (basis @ small_u[:, order]) * singular
    # the sign of each singular vector is arbitrary; fix it so that results are reproducible
    signs = np.sign(result[np.argmax(np.abs(result), axis=0), np.arange(result.shape[1])])
    signs[signs == 0] = 1.0
    return np.asarray(result * signs, dtype=np.float64)


def _feedback(vectors: FloatArray, neighbours: int, weight: float) -> FloatArray:
    """Average query expansion: add each row's nearest neighbours, weighted by similarity.

    Weighting by the (non-negative) similarity keeps an outlier where it is: a text that resembles
    nothing is not pulled towards whatever happens to be nearest.
    """
    n = vectors.shape[0]
    if neighbours <= 0 or weight <= 0.0 or n <= neighbours:
        return vectors
    expanded = vectors.copy()
    for start in range(0, n, 1024):
        block = vectors[start : start + 1024] @ vectors.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf
        nearest = np.argpartition(-block, neighbours - 1, axis=1)[:, :neighbours]
        sims = np.clip(np.take_along_axis(block, nearest, axis=1), 0.0, None)
        expanded[start : start + 1024] += (
            weight * np.einsum("ij,ijk->ik", sims, vectors[nearest]) / neighbours
        )
    return _normalise_dense(expanded)


def embed_texts(texts: Sequence[str], params: EmbedParams = DEFAULT_PARAMS) -> FloatArray:
    """Embed incident texts as L2-normalised rows, fitted on ``texts`` alone.

    Args:
        texts: The documents, for example postmortem summaries.
        params: Weights of the views; the defaults are the measured ones.

    Returns:
        A float array of shape ``(len(texts), d)`` whose dot products are cosine similarities.
    """
    if len(texts) == 0:
        return np.zeros((0, 1), dtype=np.float64)
    # components come sorted by singular value, so the latent view is a prefix of the exact one
    components = _top_components(sparse_features(texts, params), params.max_dim)
    parts = [_normalise_dense(components)]
    if params.lsa_weight > 0.0 and len(texts) > 3:
        rank = min(params.lsa_max_rank, max(2, round(params.lsa_rank_ratio * len(texts))))
        # not re-normalised: a text with little weight on the shared topics keeps a short latent
        # part, so it does not look like every other text in a small collection
        parts.append(math.sqrt(params.lsa_weight) * components[:, :rank])
    vectors = _normalise_dense(np.hstack(parts))
    return _feedback(vectors, params.feedback_neighbours, params.feedback_weight)


def most_similar(vectors: FloatArray, query: FloatArray, k: int = 5) -> list[tuple[int, float]]:
    """Rows of ``vectors`` nearest to ``query`` by cosine, best first, ties by row order."""
    if k <= 0 or vectors.shape[0] == 0:
        return []
    scores = vectors @ query
    k = min(k, scores.shape[0])
    candidates = np.argpartition(-scores, k - 1)[:k]
    ordered = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
    return [(int(i), float(scores[i])) for i in ordered]


def explain_similarity(text_a: str, text_b: str, limit: int = 8) -> list[str]:
    """Why two write-ups look alike: shared failure modes, then shared salient terms.

    Terms are reported in the surface form used in ``text_a``; longer (more specific) terms and
    those repeated more often come first.
    """
    words_a, words_b = analyse(text_a), analyse(text_b)
    shared_concepts = sorted(set(concepts_of(words_a)) & set(concepts_of(words_b)))
    reasons = [f"same failure mode: {concept}" for concept in shared_concepts]
    counts = Counter(words_a) + Counter(words_b)
    shared = set(words_a) & set(words_b)
    surface = _surface_forms(text_a)
    ranked = sorted(shared, key=lambda w: (-counts[w], -len(w), w))
    reasons.extend(f"shared term: {surface.get(w, w)}" for w in ranked)
    return reasons[:limit]


def _surface_forms(text: str) -> dict[str, str]:
    forms: dict[str, str] = {}
    for raw in _TOKEN_RE.findall(text.lower()):
        token = raw.replace("’", "'").split("'")[0]
        forms.setdefault(stem(SYNONYMS.get(token, token)), token)
    return forms
