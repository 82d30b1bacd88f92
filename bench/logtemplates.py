"""Warroom's log template miner against drain3, side by side, in one run.

1. Accuracy on the Loghub-2k systems in ../shared with the reference evaluator
   (../shared/tools/loghub_eval.py, imported by path): GA, PA, FGA, FTA per system and the mean,
   for the original and the corrected ground truth.  drain3 runs with the evaluator's
   per-system benchmark settings; Warroom runs with its one default configuration.
2. Throughput and peak memory on the same 1,000,000 real lines (the shared logs' Content
   lines repeated in order), each parser in its own subprocess so peak RSS (ru_maxrss) is its
   own.  drain3 runs with its default configuration, the fastest one.

Usage: python bench/logtemplates.py [--lines 1000000] [--skip-accuracy] [--skip-throughput]
The shared folder is ../shared next to the repository, or $WARROOM_SHARED_DIR.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OURS = "warroom.engines.logtemplates:mine_templates"
METRICS = ("GA", "PA", "FGA", "FTA")


def shared_dir() -> Path:
    configured = os.environ.get("WARROOM_SHARED_DIR")
    path = Path(configured) if configured else REPO.parent / "shared"
    if not (path / "tools" / "loghub_eval.py").is_file():
        raise SystemExit(
            f"shared data not found: {path / 'tools' / 'loghub_eval.py'} is missing "
            "(set WARROOM_SHARED_DIR to the folder holding data/ and tools/)"
        )
    return path


def load_evaluator(shared: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "loghub_eval", shared / "tools" / "loghub_eval.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit("cannot import loghub_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # load_callable() reads a module-level REPO_ROOT that the evaluator never defines.
    if not hasattr(module, "REPO_ROOT"):
        module.REPO_ROOT = str(REPO / "src")
    return module


def accuracy(evaluator: ModuleType, root: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for gt in ("original", "corrected"):
        for parser in ("drain3", OURS):
            rows = [
                evaluator.evaluate_dataset(name, parser, gt, 1, root, root, None)
                for name in evaluator.PUBLIC
            ]
            results[(gt, parser)] = rows
    return results


def real_lines(evaluator: ModuleType, root: str, total: int, scenario: str) -> list[str]:
    base: list[str] = []
    for name in evaluator.PUBLIC:
        base.extend(evaluator.load_dataset(name, "original", root, root)[0])
    if scenario == "distinct":
        # Every line unique (a counter appended): the worst case for per-message caching.
        return [f"{base[i % len(base)]} seq={i}" for i in range(total)]
    return [base[i % len(base)] for i in range(total)]


def run_streaming(lines: list[str]) -> list[str]:
    from warroom.engines.logtemplates import TemplateMiner

    miner = TemplateMiner()
    add = miner.add
    ids = [add(line, timestamp=0.0).template_id for line in lines]
    final = {t.template_id: t.template for t in miner.templates()}
    remapped = miner.remap()
    return [final[remapped.get(i, i)] for i in ids]


def run_drain3(lines: list[str]) -> list[str]:
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(persistence_handler=None, config=config)
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    by_id = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [by_id[i] for i in ids]


def worker(parser: str, total: int, scenario: str) -> None:
    """Subprocess body: build the lines, parse them once, print JSON figures."""
    shared = shared_dir()
    evaluator = load_evaluator(shared)
    root = str(shared / "data" / "loghub-2k")
    # Both parsers are imported before the baseline is taken, so it holds the same things.
    import drain3  # noqa: F401

    from warroom.engines.logtemplates import mine_templates

    parsers = {"drain3": run_drain3, "warroom": mine_templates, "warroom-stream": run_streaming}
    parse = parsers[parser]
    lines = real_lines(evaluator, root, total, scenario)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu_start = time.perf_counter(), time.process_time()
    out = parse(lines)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "lines": len(out),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "templates": len(set(out)),
        "rss_before_kb": base_rss,
        "peak_rss_kb": peak_rss,
    }
    print(json.dumps(figures))


SCENARIOS = {"repeated": 1.0, "distinct": 0.2}
PARSERS = ("drain3", "warroom", "warroom-stream")


def throughput(total: int) -> dict[tuple[str, str], dict[str, Any]]:
    figures = {}
    for scenario, share in SCENARIOS.items():
        lines = str(int(total * share))
        for parser in PARSERS:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    parser,
                    "--lines",
                    lines,
                    "--scenario",
                    scenario,
                ],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            )
            figures[(scenario, parser)] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: {os.cpu_count()} cores, {model}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def _mean(rows: list[dict[str, Any]], metric: str) -> float:
    return sum(row[metric] for row in rows) / len(rows)


def print_accuracy(results: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    for gt in ("original", "corrected"):
        print(f"\nAccuracy, {gt} ground truth (drain3 | warroom)")
        head = "| System | " + " | ".join(f"{m} drain3 | {m} warroom" for m in METRICS) + " |"
        print(head)
        print("|" + "---|" * (1 + 2 * len(METRICS)))
        theirs, ours = results[(gt, "drain3")], results[(gt, OURS)]
        for a, b in zip(theirs, ours, strict=True):
            cells = " | ".join(f"{a[m]:.3f} | {b[m]:.3f}" for m in METRICS)
            print(f"| {a['dataset']} | {cells} |")
        means = " | ".join(f"{_mean(theirs, m):.3f} | {_mean(ours, m):.3f}" for m in METRICS)
        print(f"| **mean** | {means} |")


def print_throughput(figures: dict[tuple[str, str], dict[str, Any]]) -> None:
    print("\nThroughput and peak memory (one subprocess per row; same lines for every parser)")
    print("repeated: the shared logs' Content lines repeated in order; distinct: the same with")
    print("a counter appended so no line repeats.  warroom = mine_templates (batch),")
    print("warroom-stream = TemplateMiner.add per line.  drain3: default configuration.")
    print("Speeds use CPU time of the parse call (the machine may be shared); wall time is shown.")
    columns = ["Scenario", "Parser", "lines", "wall s", "CPU s", "lines/s (CPU)", "x drain3"]
    print("| " + " | ".join([*columns, "templates", "peak MB", "growth MB"]) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (scenario, parser), f in figures.items():
        before, peak = f["rss_before_kb"] / 1024, f["peak_rss_kb"] / 1024
        ratio = figures[(scenario, "drain3")]["cpu_seconds"] / f["cpu_seconds"]
        print(
            f"| {scenario} | {parser} | {f['lines']:,} | {f['seconds']:.2f}"
            f" | {f['cpu_seconds']:.2f} | {f['lines'] / f['cpu_seconds']:,.0f} | {ratio:.1f}"
            f" | {f['templates']:,}"
            f" | {peak:.1f} | {peak - before:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--worker", choices=PARSERS, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=list(SCENARIOS), default="repeated")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.lines, args.scenario)
        return
    shared = shared_dir()
    print(machine())
    if not args.skip_accuracy:
        evaluator = load_evaluator(shared)
        print_accuracy(accuracy(evaluator, str(shared / "data" / "loghub-2k")))
    if not args.skip_throughput:
        print_throughput(throughput(args.lines))


if __name__ == "__main__":
    main()
