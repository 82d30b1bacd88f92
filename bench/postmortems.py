"""Warroom's incident similarity against the reference postmortem evaluator, plus ranking speed.

Runs ``shared/tools/postmortem_eval.py`` in-process on the public postmortem corpus twice per
setting (all danluu categories, and without "Uncategorized"): once with its TF-IDF baseline and
once with ``warroom.engines.similarity.embed_texts``, and prints both beside the chance level.
Then it embeds synthetic incident summaries (10,000 by default) and times "similar incidents"
queries over them.

The corpus is read from ../shared (or WARROOM_SHARED_DIR) and never copied into the repository.
The evaluator needs scikit-learn.

    python bench/postmortems.py [--docs 10000] [--queries 200] [--skip-speed]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from warroom.engines.similarity import embed_texts, most_similar

SETTINGS: tuple[tuple[str, set[str]], ...] = (
    ("all categories", set()),
    ("without Uncategorized", {"Uncategorized"}),
)


def shared_dir() -> Path:
    configured = os.environ.get("WARROOM_SHARED_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "shared"


def load_evaluator(shared: Path) -> ModuleType:
    path = shared / "tools" / "postmortem_eval.py"
    corpus = shared / "data" / "postmortems" / "public.jsonl"
    if not path.is_file() or not corpus.is_file():
        sys.exit(
            f"postmortem corpus or evaluator not found under {shared} "
            "(set WARROOM_SHARED_DIR to the folder that holds tools/ and data/)"
        )
    if importlib.util.find_spec("sklearn") is None:
        sys.exit("the reference evaluator needs scikit-learn: pip install scikit-learn")
    spec = importlib.util.spec_from_file_location("postmortem_eval", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quality_rows(evaluator: ModuleType, corpus: Path) -> list[list[str]]:
    rows = []
    for name, excluded in SETTINGS:
        records, _ = evaluator.load_records(
            str(corpus), set(), "category", ["summary"], False, excluded, True
        )
        for label, embed in (("TF-IDF baseline", None), ("warroom embed_texts", embed_texts)):
            result: dict[str, Any] = evaluator.evaluate(records, runs=10, embed=embed)
            rows.append(
                [
                    name,
                    str(result["n"]),
                    label,
                    f"{result['precision_at_5']:.3f}",
                    f"{result['chance_precision_at_5']:.3f}",
                    f"{result['ari_mean']:.3f}",
                    f"{result['nmi_mean']:.3f} ({result['nmi_shuffled_clusters_mean']:.3f})",
                    f"{result['same_company_share_of_top5']:.3f}",
                ]
            )
    return rows


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


_TEMPLATES = (
    "{svc} returned errors after a {change} changed the {thing}; {effect} for {n} minutes.",
    "The {thing} of {svc} ran out of {resource} during a traffic spike and {effect}.",
    "An expired certificate on {svc} broke {thing} connections; {effect}.",
    "A {hw} failure in the datacenter took {svc} offline and {effect}.",
    "Clock skew between {svc} hosts made {thing} validation fail; {effect}.",
)
_FILL = {
    "svc": ["checkout", "search", "billing", "login", "payments", "catalog", "gateway", "mailer"],
    "change": ["config push", "deploy", "schema migration", "feature flag", "dependency upgrade"],
    "thing": ["cache", "queue", "database", "load balancer", "DNS record", "token", "index"],
    "effect": ["customers saw timeouts", "orders were lost", "pages were slow", "logins failed"],
    "resource": ["memory", "connections", "disk space", "file descriptors", "CPU"],
    "hw": ["disk", "power supply", "switch", "cooling", "memory module"],
}


def synthetic_documents(count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    noise = [f"sys{i}" for i in range(3000)]
    docs = []
    for _ in range(count):
        template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
        values = {k: str(rng.choice(v)) for k, v in _FILL.items()}
        extra = " ".join(rng.choice(noise, 6).tolist())
        docs.append(template.format(n=int(rng.integers(2, 300)), **values) + " " + extra)
    return docs


def speed(docs: int, queries: int) -> None:
    texts = synthetic_documents(docs)
    start = time.perf_counter()
    vectors = embed_texts(texts)
    fit = time.perf_counter() - start
    rng = np.random.default_rng(1)
    took = []
    for row in rng.integers(0, docs, size=queries).tolist():
        start = time.perf_counter()
        most_similar(vectors, vectors[row], k=10)
        took.append((time.perf_counter() - start) * 1000.0)
    print(
        f"\nspeed: {docs} synthetic documents, {vectors.shape[1]} dimensions; "
        f"embedding (fit) {fit:.1f} s; top-10 similar incidents per query: "
        f"median {np.median(took):.2f} ms, p95 {np.percentile(took, 95):.2f} ms "
        f"({queries} queries)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    shared = shared_dir()
    evaluator = load_evaluator(shared)
    header = ["setting", "n", "representation", "P@5", "chance", "ARI", "NMI (floor)", "same co."]
    print_table(header, quality_rows(evaluator, shared / "data" / "postmortems" / "public.jsonl"))
    if not args.skip_speed:
        speed(args.docs, args.queries)


if __name__ == "__main__":
    main()
