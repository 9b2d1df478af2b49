#!/usr/bin/env python3
"""Time `trainfix check` against `ruff check --select E9` on the same tree, in the same run.

usage: python benchmarks/run.py TREE [--runs 5] [--build [--dense] | --from-git GITDIR...]
                                      [--big-file REL [--big-copies 7]] [--linearity]

--build fills TREE with the sources of real packages (keras, tf-keras,
keras-hub, tf-agents, libcst, black) using `pip install --no-deps --target`;
--dense adds sixteen more Keras/TensorFlow libraries, for a tree where one file
in twenty-five holds a GradientTape or a step function.
--from-git exports the HEAD of each given git directory (bare or not) into
TREE/NAME, notebooks included: with clones of the eight repositories of
ISSUE_TREE it builds the docs-and-examples-heavy tree of docs/performance.md.
--big-file times one big file: REL (a file of TREE) concatenated --big-copies
times, checked alone by ruff and by trainfix.
--linearity times trainfix on the candidate files (those the prefilter lets
through) copied 1, 2 and 4 times, and on the big file 1, 2 and 4 times over.
Prints the median wall time and CPU time (user + system, the pool's workers
included) of each command, their ratios to ruff's, and the peak memory of the
largest process. On a shared machine the CPU ratios are the steadier ones.
Needs `ruff` on PATH (`pip install -e '.[bench]'`).
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PACKAGES = ["keras", "tf-keras", "keras-hub", "tf-agents", "libcst", "black"]
# The tree of issue 14: these repositories at their default branch (git clone --depth 1, then --from-git).
ISSUE_TREE = ["keras-team/keras", "keras-team/tf-keras", "keras-team/keras-hub", "tensorflow/agents",
              "tensorflow/docs", "tensorflow/examples", "Instagram/LibCST", "psf/black"]
DENSE = ["tf-models-official", "keras-cv", "keras-rs", "tensorflow-recommenders", "tensorflow-similarity",
         "tensorflow-privacy", "tensorflow-addons", "tensorflow-gan", "tensorflow-gnn", "neural-structured-learning",
         "deepchem", "spektral", "alibi", "cleverhans", "larq", "tf-explain"]


class Timing:
    """Medians over runs: wall seconds, CPU seconds (user + system, children included), peak RSS in KiB."""

    def __init__(self, wall: float, cpu: float, rss: int):
        self.wall, self.cpu, self.rss = wall, cpu, rss


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"benchmark: {' '.join(cmd)} exited {code}")
    # wait4 counts the process and its waited-for descendants (the pool's workers) for CPU time;
    # ru_maxrss is the largest single process among them
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def median(cmd, cwd, runs, before=None) -> Timing:
    walls, cpus, peak = [], [], 0
    for _ in range(runs):
        if before:
            before()
        wall, cpu, rss = timed(cmd, cwd)
        walls.append(wall)
        cpus.append(cpu)
        peak = max(peak, rss)
    return Timing(statistics.median(walls), statistics.median(cpus), peak)


def build(tree: Path, packages: list[str]) -> None:
    tree.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tree), *packages],
                   check=True)
    for extra in ("bin", "share"):
        shutil.rmtree(tree / extra, ignore_errors=True)


def export_git(tree: Path, git_dirs: list[Path]) -> None:
    """TREE/NAME holds the files of each git directory's HEAD (`git archive`), NAME from its folder:
    `black.git` or `black/.git` -> black; a mirror's `owner+name/repo` -> name."""
    tree.mkdir(parents=True, exist_ok=True)
    for git_dir in git_dirs:
        git_dir = git_dir.resolve()
        folder = git_dir.parent if git_dir.name in (".git", "repo") else git_dir
        name = folder.name.removesuffix(".git").split("+")[-1]
        archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", "--format=tar", "HEAD"],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree / name, filter="tar")
        head = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        print(f"exported {git_dir} HEAD {head} -> {tree / name}")


def source_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*") if p.suffix in (".py", ".pyi", ".ipynb") and p.is_file()
                  and ".trainfix_cache" not in p.parts)


def candidates(files: list[Path]) -> list[Path]:
    """The files trainfix's prefilter lets through with the default settings (those it parses)."""
    from trainfix.config import Config
    from trainfix.prefilter import may_have_findings_bytes

    config = Config()
    return [p for p in files if may_have_findings_bytes(p.read_bytes(), config)]


def mb(rss: int) -> str:
    return f"{rss / 1024:.0f}" if rss else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", action="store_true", help="fill TREE with real package sources first")
    ap.add_argument("--dense", action="store_true", help="with --build: add more Keras/TF libraries")
    ap.add_argument("--from-git", type=Path, nargs="+", metavar="GITDIR", default=[],
                    help="fill TREE with the HEAD of each git directory first")
    ap.add_argument("--big-file", metavar="REL", help="a file of TREE to time alone, concatenated --big-copies times")
    ap.add_argument("--big-copies", type=int, default=7)
    ap.add_argument("--linearity", action="store_true", help="time 1x/2x/4x copies of the candidate files")
    args = ap.parse_args()
    if args.build:
        build(args.tree, PACKAGES + (DENSE if args.dense else []))
    if args.from_git:
        export_git(args.tree, args.from_git)
    tree = args.tree.resolve()
    trainfix = shutil.which("trainfix", path=str(Path(sys.executable).parent)) or shutil.which("trainfix")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if not trainfix or not ruff:
        sys.exit("benchmark: needs `trainfix` and `ruff` on PATH (pip install -e '.[bench]')")
    cache = tree / ".trainfix_cache"
    shutil.rmtree(cache, ignore_errors=True)
    files = source_files(tree)
    py = [p for p in files if p.suffix != ".ipynb"]
    cands = candidates(files)
    size = sum(p.stat().st_size for p in files) / 1e6
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"tree: {tree} ({len(py)} .py/.pyi files, {len(files) - len(py)} notebooks, {size:.0f} MB; "
          f"{len(cands)} candidates, {sum(p.stat().st_size for p in cands) / 1e6:.1f} MB)")
    print(f"{os.cpu_count()} CPUs, load average {load} at the start, {args.runs} runs each, medians")

    ruff_cmd = [ruff, "check", "--no-cache", "--select", "E9", "--exit-zero", "-q"]
    check = [trainfix, "check", "--no-cache", "-q", "--exit-zero"]
    drop_cache = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    ruff_t = median([*ruff_cmd, "."], tree, args.runs)
    cold_t = median([*check, "."], tree, args.runs)
    drop_cache()
    timed([trainfix, "check", "-q", "--exit-zero", "."], tree)  # fill the cache
    warm_t = median([trainfix, "check", "-q", "--exit-zero", "."], tree, args.runs)
    drop_cache()
    rows = [
        ("ruff check --no-cache --select E9", ruff_t, ruff_t),
        ("trainfix check --no-cache (cold)", cold_t, ruff_t),
        ("trainfix check (warm cache)", warm_t, ruff_t),
    ]
    extra: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        one = tmp / "train.py"
        one.write_text((Path(__file__).resolve().parent.parent / "examples" / "train_custom_loop.py").read_text())
        rows.append(("trainfix check one file (start-up)", median([*check, str(one)], tmp, args.runs), None))
        big_t = None
        if args.big_file:
            text = (tree / args.big_file).read_bytes()
            big = tmp / "big" / f"big_x{args.big_copies}.py"
            big.parent.mkdir()
            big.write_bytes(text * args.big_copies)
            label = f"{big.stat().st_size / 1e6:.1f} MB file ({Path(args.big_file).name} x{args.big_copies})"
            ruff_big = median([*ruff_cmd, big.name], big.parent, args.runs)
            big_t = median([*check, big.name], big.parent, args.runs)
            rows += [(f"ruff, one {label}", ruff_big, ruff_big), (f"trainfix, one {label}", big_t, ruff_big)]
        print(f"{'command':<58} {'wall s':>7} {'x ruff':>7} {'CPU s':>7} {'x ruff':>7} {'peak MB':>8}")
        for name, t, ref in rows:
            ratio_wall = f"{t.wall / ref.wall:.2f}" if ref else ""
            ratio_cpu = f"{t.cpu / ref.cpu:.2f}" if ref else ""
            print(f"{name:<58} {t.wall:>7.3f} {ratio_wall:>7} {t.cpu:>7.3f} {ratio_cpu:>7} {mb(t.rss):>8}")
        peak = max(cold_t.rss, warm_t.rss)
        extra.append(f"targets: cold <= 2.00x ruff (wall {cold_t.wall / ruff_t.wall:.2f}, CPU "
                     f"{cold_t.cpu / ruff_t.cpu:.2f}), warm <= 0.50x (wall {warm_t.wall / ruff_t.wall:.2f}), "
                     f"peak of a tree run <= 300 MB ({mb(peak)})")
        if big_t:
            extra.append(f"         one big file <= 1.5 s ({big_t.wall:.2f} s wall, {big_t.cpu:.2f} s CPU) and "
                         f"<= 250 MB ({mb(big_t.rss)} MB; ruff {mb(ruff_big.rss)} MB)")
        print("\n".join(extra))
        if args.linearity:
            linearity(tree, cands, tmp, check, args)
    return 0


def linearity(tree: Path, cands: list[Path], tmp: Path, check: list[str], args) -> None:
    """Cost against the size of what is analysed: the candidate files 1x/2x/4x, the big file 1x/2x/4x."""
    print(f"\nlinearity ({args.runs} runs each, medians; CPU per copy should stay flat)")
    print(f"{'input':<58} {'MB':>6} {'wall s':>7} {'CPU s':>7} {'CPU/copy':>9} {'peak MB':>8}")
    for copies in (1, 2, 4):
        root = tmp / f"candidates_x{copies}"
        for k in range(copies):
            for path in cands:
                target = root / f"copy{k}" / path.relative_to(tree)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        t = median([*check, "."], root, args.runs)
        print(f"{f'candidate files x{copies} ({len(cands) * copies} files)':<58} {size:>6.1f} {t.wall:>7.3f} "
              f"{t.cpu:>7.3f} {t.cpu / copies:>9.3f} {mb(t.rss):>8}")
        shutil.rmtree(root)
    if args.big_file:
        text = (tree / args.big_file).read_bytes()
        for copies in (1, 2, 4):
            root = tmp / f"big_x{copies}"
            root.mkdir()
            (root / "big.py").write_bytes(text * copies)
            t = median([*check, "big.py"], root, args.runs)
            print(f"{f'{Path(args.big_file).name} x{copies} (one file)':<58} {len(text) * copies / 1e6:>6.1f} "
                  f"{t.wall:>7.3f} {t.cpu:>7.3f} {t.cpu / copies:>9.3f} {mb(t.rss):>8}")


if __name__ == "__main__":
    sys.exit(main())
