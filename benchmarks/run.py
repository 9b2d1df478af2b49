#!/usr/bin/env python3
"""Time `trainfix check` against `ruff check --select E9` on the same tree, in the same run.

usage: python benchmarks/run.py TREE [--runs 5] [--build [--dense]]

--build fills TREE with the sources of real packages (keras, tf-keras,
keras-hub, tf-agents, libcst, black) using `pip install --no-deps --target`;
--dense adds sixteen more Keras/TensorFlow libraries, for a tree where one file
in twenty-five holds a GradientTape or a step function.
Prints the median wall time of each command, its ratio to ruff's cold run,
and trainfix's peak memory (the largest process, the pool's workers included).
Needs `ruff` on PATH (`pip install -e '.[bench]'`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGES = ["keras", "tf-keras", "keras-hub", "tf-agents", "libcst", "black"]
DENSE = ["tf-models-official", "keras-cv", "keras-rs", "tensorflow-recommenders", "tensorflow-similarity",
         "tensorflow-privacy", "tensorflow-addons", "tensorflow-gan", "tensorflow-gnn", "neural-structured-learning",
         "deepchem", "spektral", "alibi", "cleverhans", "larq", "tf-explain"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"benchmark: {' '.join(cmd)} exited {code}")
    return elapsed, usage.ru_maxrss


def median(cmd, cwd, runs, before=None) -> tuple[float, int]:
    times, peak = [], 0
    for _ in range(runs):
        if before:
            before()
        t, rss = timed(cmd, cwd)
        times.append(t)
        peak = max(peak, rss)
    return statistics.median(times), peak


def build(tree: Path, packages: list[str]) -> None:
    tree.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tree), *packages],
                   check=True)
    for extra in ("bin", "share"):
        shutil.rmtree(tree / extra, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", action="store_true", help="fill TREE with real package sources first")
    ap.add_argument("--dense", action="store_true", help="with --build: add more Keras/TF libraries")
    args = ap.parse_args()
    if args.build:
        build(args.tree, PACKAGES + (DENSE if args.dense else []))
    tree = args.tree.resolve()
    trainfix = shutil.which("trainfix", path=str(Path(sys.executable).parent)) or shutil.which("trainfix")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if not trainfix or not ruff:
        sys.exit("benchmark: needs `trainfix` and `ruff` on PATH (pip install -e '.[bench]')")
    files = sum(1 for _ in tree.rglob("*.py"))
    size = sum(p.stat().st_size for p in tree.rglob("*.py")) / 1e6
    print(f"tree: {tree} ({files} .py files, {size:.0f} MB), {os.cpu_count()} CPUs, {args.runs} runs each")

    cache = tree / ".trainfix_cache"
    drop_cache = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    ruff_t, _ = median([ruff, "check", "--no-cache", "--select", "E9", "--exit-zero", "-q", "."], tree, args.runs)
    cold_t, cold_rss = median([trainfix, "check", "--no-cache", "-q", "--exit-zero", "."], tree, args.runs)
    drop_cache()
    timed([trainfix, "check", "-q", "--exit-zero", "."], tree)  # fill the cache
    warm_t, warm_rss = median([trainfix, "check", "-q", "--exit-zero", "."], tree, args.runs)
    drop_cache()
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "train.py"
        one.write_text((Path(__file__).resolve().parent.parent / "examples" / "train_custom_loop.py").read_text())
        single_t, single_rss = median([trainfix, "check", "--no-cache", "-q", "--exit-zero", str(one)], Path(tmp),
                                      args.runs)

    rows = [
        ("ruff check --no-cache --select E9", ruff_t, None),
        ("trainfix check --no-cache (cold)", cold_t, cold_rss),
        ("trainfix check (warm cache)", warm_t, warm_rss),
        ("trainfix check one file (start-up)", single_t, single_rss),
    ]
    print(f"{'command':<38} {'median s':>9} {'x ruff':>7} {'peak MB':>8}")
    for name, t, rss in rows:
        peak = f"{rss / 1024:.0f}" if rss else "-"
        print(f"{name:<38} {t:>9.3f} {t / ruff_t:>7.2f} {peak:>8}")
    print(f"targets: cold <= 2.00x ruff ({cold_t / ruff_t:.2f}), warm <= 0.50x ruff ({warm_t / ruff_t:.2f}), "
          f"one file <= 0.6 s ({single_t:.2f}), peak <= 300 MB ({max(cold_rss, warm_rss) / 1024:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
