"""Files in, `FileOutcome`s out: read, decode, fix, verify, write — cached and in parallel.

Outcomes carry plain data only (no syntax trees) so they cross process
boundaries cheaply; the process pool is imported only for many files.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .engine import SourceError, fix_source, may_have_findings_bytes
from .files import decode, write_atomic
from .report import FileOutcome, skip_reason

PARALLEL_MIN_FILES = 64


@dataclass(frozen=True)
class Skipped:
    """A call considered in a context and left alone, with the reason."""

    line: int
    column: int
    callee: str
    reason: str


def _error(shown: str, exc: SourceError) -> str:
    where = shown
    if exc.line:
        where += f":{exc.line}"
        if exc.column:
            where += f":{exc.column}"
    return f"{where}: error: {exc.reason}"


def process_text(shown: str, raw: bytes, config: Config, unsafe: bool) -> tuple[FileOutcome, bytes | None]:
    """Analyse raw file bytes; returns the outcome and the new bytes (None when unchanged)."""
    outcome = FileOutcome(shown)
    if not may_have_findings_bytes(raw, config):
        return outcome, None  # cannot contain a context: not even decoded
    try:
        decoded = decode(raw)
        result = fix_source(decoded.text, config=config, unsafe=unsafe)
    except SourceError as exc:
        outcome.error = _error(shown, exc)
        return outcome, None
    except Exception as exc:  # never let one file stop the run
        outcome.error = f"{shown}: error: internal error: {type(exc).__name__}: {exc}"
        return outcome, None
    take_findings(outcome, result)
    outcome.after = result.remaining if result.changed else None
    outcome.old, outcome.new = result.source, result.new_source
    if not result.changed:
        return outcome, None
    return outcome, result.new_source.encode(decoded.encoding)


def take_findings(outcome: FileOutcome, result) -> None:
    """Findings and skipped calls as plain data (no syntax trees), so outcomes cross processes cheaply."""
    for finding in [*result.findings, *result.remaining]:
        finding.site = None
    outcome.findings = result.findings
    outcome.skipped = [Skipped(s.call.lineno, s.call.col_offset + 1, s.callee, skip_reason(s))
                       for s in result.skipped]


def process_file(path: Path, shown: str, config: Config, unsafe: bool, write: bool) -> FileOutcome:
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
            return FileOutcome(shown, error=f"{shown}: error: not a regular file; not read")
        raw = path.read_bytes()
    except IsADirectoryError:
        return FileOutcome(shown, error=f"{shown}: error: is a directory")
    except OSError as exc:
        return FileOutcome(shown, error=f"{shown}: error: cannot read: {exc.strerror or exc}")
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix == ".ipynb":
        from .notebook_runner import process_notebook

        outcome = process_notebook(path, shown, raw, config, unsafe, write, digest)
    else:
        outcome, new = process_text(shown, raw, config, unsafe)
        if new is not None and write:
            write_file(outcome, path, new, digest)
    if not outcome.findings and not outcome.error:
        outcome.stamp = (st.st_size, st.st_mtime_ns, digest)
    return outcome


_CONFIGS: list[Config] = []


def _init_worker(configs: list[Config]) -> None:
    _CONFIGS[:] = configs
    _die_with_parent()


def _work_indexed(task) -> FileOutcome:
    path, shown, index, unsafe, write = task
    return process_file(path, shown, _CONFIGS[index], unsafe, write)


def write_file(outcome: FileOutcome, path: Path, data: bytes, digest: str) -> None:
    """Write atomically; a failure becomes the outcome's error, never an exception."""
    try:
        write_atomic(path, data, digest)
        outcome.written = True
    except SourceError as exc:
        outcome.error = _error(outcome.path, exc)
    except OSError as exc:
        outcome.error = f"{outcome.path}: error: cannot write: {exc.strerror or exc}"
    except Exception as exc:  # never let one file stop the run
        outcome.error = f"{outcome.path}: error: internal error while writing: {type(exc).__name__}: {exc}"


def _die_with_parent() -> None:
    """A worker stops when the run is killed, instead of writing on in the background (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _work(item) -> FileOutcome:
    path, shown, config, unsafe, write = item
    return process_file(path, shown, config, unsafe, write)


def run_files(items: list[tuple[Path, str, Config]], *, write: bool, cache=None, jobs: int | None = None,
              progress=None) -> list[FileOutcome]:
    """Process files in order; unchanged clean files come from the cache without being read."""
    outcomes: list[FileOutcome | None] = [None] * len(items)
    todo = []
    for i, (path, shown, config) in enumerate(items):
        if cache is not None and cache.is_clean(path, config):
            outcomes[i] = FileOutcome(shown)
        else:
            todo.append((i, (path, shown, config, config.unsafe_fixes, write)))
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(todo) >= PARALLEL_MIN_FILES:
        from concurrent.futures import ProcessPoolExecutor

        # the settings go to each worker once; a task carries an index into them
        configs = list({id(item[2]): item[2] for _, item in todo}.values())
        slot = {id(c): i for i, c in enumerate(configs)}
        tasks = [(path, shown, slot[id(config)], unsafe, write) for _, (path, shown, config, unsafe, write) in todo]
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(configs,)) as pool:
            done = pool.map(_work_indexed, tasks, chunksize=max(1, len(todo) // (jobs * 8)))
            for (i, _), outcome in zip(todo, done):
                outcomes[i] = outcome
                if progress:
                    progress()
    else:
        for i, item in todo:
            outcomes[i] = _work(item)
            if progress:
                progress()
    if cache is not None:
        for (path, _, config), outcome in zip(items, outcomes):
            if outcome.stamp is not None:
                cache.mark_clean(path, config, outcome.stamp[2], outcome.stamp[0], outcome.stamp[1])
        cache.save()
    return outcomes
