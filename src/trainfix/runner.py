"""Files in, `FileOutcome`s out: read, decode, fix, verify, write — cached and in parallel.

Outcomes carry plain data only (no syntax trees) so they cross process
boundaries cheaply; the process pool is imported only for many files.
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import SourceError
from .files import decode, write_atomic
from .prefilter import may_have_findings_bytes
from .report import FileOutcome, skip_reason


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


def process_text(shown: str, raw: bytes, config: Config, unsafe: bool,
                 path=None, imported: bool = False) -> tuple[FileOutcome, bytes | None]:
    """Analyse raw file bytes (of the file at `path`, whose project modules the analysis may read);
    returns the outcome and the new bytes (None when unchanged). `imported`: a module the run's steps
    import, whose helpers may run in them even though it holds no step itself."""
    outcome = FileOutcome(shown)
    if not imported and not may_have_findings_bytes(raw, config):
        return outcome, None  # cannot contain a context: not even decoded
    from .engine import fix_source  # imported only once a file may hold a context

    try:
        decoded = decode(raw)
        result = fix_source(decoded.text, config=config, unsafe=unsafe, path=path, imported=imported)
    except SourceError as exc:
        outcome.error = _error(shown, exc)
        return outcome, None
    except Exception as exc:  # never let one file stop the run
        outcome.error = f"{shown}: error: internal error: {type(exc).__name__}: {exc}"
        return outcome, None
    take_findings(outcome, result)
    outcome.dependencies = dependency_stamps(result)
    if result.findings:  # the text the findings' positions and edits refer to (most files have none)
        outcome.old, outcome.new = result.source, result.new_source
    if not result.changed:
        return outcome, None
    outcome.after = result.remaining
    return outcome, result.new_source.encode(decoded.encoding)


def dependency_stamps(result) -> tuple:
    """(path, size, mtime_ns, imported) of each module the project index read, so the cache sees them
    change; `imported` when the analysed file imports it (its helpers may run in the file's steps)."""
    stamps = []
    imports = set(result.imports)
    for path in result.dependencies:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stamps.append((path, st.st_size, st.st_mtime_ns, path in imports))
    return tuple(stamps)


def process_stdin(shown: str, raw: bytes, config: Config, unsafe: bool, render: bool,
                  path=None) -> tuple[FileOutcome, bytes | None]:
    """Source read from `-`: a notebook when its `--stdin-filename` ends in `.ipynb`, else Python."""
    if shown.endswith(".ipynb"):
        from .notebook_runner import notebook_text

        return notebook_text(shown, raw, config, unsafe, render, path)
    return process_text(shown, raw, config, unsafe, path)


def take_findings(outcome: FileOutcome, result) -> None:
    """Findings and skipped calls as plain data (no syntax trees), so outcomes cross processes cheaply."""
    for finding in [*result.findings, *result.remaining]:
        finding.site = None
    outcome.findings = result.findings
    outcome.skipped = [Skipped(s.call.lineno, s.call.col_offset + 1, s.callee, skip_reason(s))
                       for s in result.skipped]


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_file(path, shown: str) -> FileOutcome | tuple[bytes, int, int]:
    """(bytes, size, mtime_ns) of a regular file, or an outcome naming why it can't be read.

    Opened without blocking and checked with fstat, so a FIFO or a device is never read
    and the path is looked up once.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except IsADirectoryError:
        return FileOutcome(shown, error=f"{shown}: error: is a directory")
    except OSError as exc:
        try:
            special = not stat.S_ISREG(os.stat(path).st_mode)  # a socket can't be opened at all
        except OSError:
            special = False
        reason = "not a regular file; not read" if special else f"cannot read: {exc.strerror or exc}"
        return FileOutcome(shown, error=f"{shown}: error: {reason}")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return FileOutcome(shown, error=f"{shown}: error: is a directory")
        if not stat.S_ISREG(st.st_mode):
            return FileOutcome(shown, error=f"{shown}: error: not a regular file; not read")
        parts = []
        while chunk := os.read(fd, max(st.st_size + 1, 1 << 16)):
            parts.append(chunk)
        return b"".join(parts), st.st_size, st.st_mtime_ns
    except OSError as exc:
        return FileOutcome(shown, error=f"{shown}: error: cannot read: {exc.strerror or exc}")
    finally:
        os.close(fd)


def process_read(path, shown: str, raw: bytes, size: int, mtime_ns: int, config: Config, unsafe: bool,
                 write: bool, imported: bool = False) -> FileOutcome:
    digest = hashlib.sha256(raw).hexdigest()
    if str(path).endswith(".ipynb"):
        from .notebook_runner import process_notebook

        outcome = process_notebook(path, shown, raw, config, unsafe, write, digest)
    else:
        outcome, new = process_text(shown, raw, config, unsafe, path, imported)
        if new is not None and write:
            write_file(outcome, path, new, digest)
    if not outcome.error:
        outcome.stamp = (size, mtime_ns, digest)
    return outcome


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


def _die_with_parent(parent: int) -> None:
    """A worker stops when the run is killed, instead of writing on in the background (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # killed between our fork and the prctl: no signal will come
        os._exit(1)


def _fill_text(outcome: FileOutcome, path) -> None:
    """The analysed text of a file whose findings came from the cache (a notebook's: its cells)."""
    try:
        raw = Path(path).read_bytes()
        if str(path).endswith(".ipynb"):
            from .notebook import parse_notebook

            text = parse_notebook(raw).source
        else:
            text = decode(raw).text
    except Exception:  # the report then shows the findings without their source lines
        return
    outcome.old = outcome.new = text


def add_noqa_file(path, shown: str, config: Config) -> tuple[FileOutcome, int]:
    """`--add-noqa`: suppress each finding of one file on its line; the outcome and how many lines changed.

    Like every write: the new text must differ only in comments (same tokens, same
    syntax tree) and report nothing on those lines, and it is written atomically.
    """
    from .engine import fix_source
    from .suppressions import UNUSED_CODE, CommentOnlyError, add_ignores, verify_comments_only

    got = read_file(path, shown)
    if isinstance(got, FileOutcome):
        return got, 0
    raw, _, _ = got
    outcome = FileOutcome(shown)
    if not may_have_findings_bytes(raw, config):
        return outcome, 0
    notebook = str(path).endswith(".ipynb")
    try:
        if notebook:
            from .notebook import NotPythonNotebookError, parse_notebook

            try:
                nb = parse_notebook(raw)
            except NotPythonNotebookError:
                return outcome, 0
            text, encoding = nb.source, None
        else:
            decoded = decode(raw)
            text, encoding = decoded.text, decoded.encoding
        result = fix_source(text, config=config, unsafe=False, path=path)
        codes: dict[int, set[str]] = {}
        for f in result.findings:
            if f.code != UNUSED_CODE:
                codes.setdefault(f.line, set()).add(f.code)
        if not codes:
            return outcome, 0
        new, refused = add_ignores(text, codes)
        verify_comments_only(text, new)
        left = [f for f in fix_source(new, config=config, unsafe=False, path=path).findings
                if f.code != UNUSED_CODE and f.line in codes and f.line not in refused]
        if left:
            raise CommentOnlyError(f"line {left[0].line} still reports {left[0].code} after adding the comment")
    except SourceError as exc:
        outcome.error = _error(shown, exc)
        return outcome, 0
    except Exception as exc:  # CommentOnlyError, a notebook error: the file is left as it was
        outcome.error = f"{shown}: error: suppressions not added: {exc}"
        return outcome, 0
    for line in refused:
        outcome.skipped.append(Skipped(line, 1, "", "no comment can follow this line (a string or a `\\` "
                                                     "continues it): suppression not added"))
    if new == text:
        return outcome, 0
    data = nb.render(new) if notebook else new.encode(encoding)
    write_file(outcome, path, data, hashlib.sha256(raw).hexdigest())
    return outcome, len(codes) - len(refused)


def _init_worker(parent: int) -> None:
    _die_with_parent(parent)


def _work(task) -> FileOutcome:
    return process_read(*task)


def _read(path, shown: str, config: Config, write: bool, hashed: bool) -> tuple[FileOutcome | None, tuple | None]:
    """A file's outcome when reading or the prefilter settles it, else the task that analyses it."""
    got = read_file(path, shown)
    if isinstance(got, FileOutcome):
        return got, None
    raw, size, mtime_ns = got
    if not may_have_findings_bytes(raw, config):  # cannot hold a context: nothing to report
        return FileOutcome(shown, stamp=(size, mtime_ns, hashlib.sha256(raw).hexdigest() if hashed else "")), None
    return None, (path, shown, raw, size, mtime_ns, config, config.unsafe_fixes, write)


def _imported_modules(outcomes: list, done: list, write: bool) -> None:
    """Analyse again, without the prefilter, the files of the run that the analysed files import: a
    helper in `losses.py` may run in `train.py`'s tape (its findings are found from `losses.py`)."""
    imported = {dep[0] for outcome in outcomes if outcome is not None for dep in outcome.dependencies if dep[3]}
    if not imported:
        return
    for i, ((path, config), outcome) in enumerate(zip(done, outcomes)):
        if outcome.error or outcome.findings or outcome.imported or not str(path).endswith(".py") or \
                os.path.abspath(path) not in imported:
            continue
        got = read_file(path, outcome.path)
        if isinstance(got, FileOutcome):
            continue
        raw, size, mtime_ns = got
        outcomes[i] = process_read(path, outcome.path, raw, size, mtime_ns, config, config.unsafe_fixes, write,
                                   imported=True)
        outcomes[i].imported = True


# Below both, a pool's start-up costs more than the candidates' analysis in parallel saves.
POOL_MIN_FILES = 32
POOL_MIN_BYTES = 256 * 1024


def run_files(items: Iterable[tuple[Path, str, Config]], *, write: bool, cache=None, jobs: int | None = None,
              progress=None, cached_findings: bool = False, texts: bool = False) -> list[FileOutcome]:
    """Process files in order; unchanged files come from the cache without being read: clean
    ones always, ones with findings when `cached_findings` (a run that needs no file text).

    This process reads every file as `items` yields it and applies the prefilter; only
    files that may hold a context are analysed, by a process pool once there are enough
    of them. They go to the pool as they are found, so the workers parse while the rest
    of the tree is still being walked and read.
    """
    jobs = jobs or os.cpu_count() or 1
    done: list[tuple[Path, Config]] = []
    outcomes: list[FileOutcome | None] = []
    pending: list[tuple[int, tuple]] = []  # candidates not yet given to the pool
    pending_bytes = 0
    pool, futures = None, {}
    try:
        for i, (path, shown, config) in enumerate(items):
            done.append((path, config))
            outcome = cache.get(path, shown, config, cached_findings) if cache is not None else None
            if outcome is not None and outcome.findings and texts:
                _fill_text(outcome, path)  # the report shows source lines: read the unchanged file back
            task = None
            if outcome is None:
                outcome, task = _read(path, shown, config, write, hashed=cache is not None)
            outcomes.append(outcome)
            if task is None:
                if progress:
                    progress()
            elif pool is not None:
                futures[i] = pool.submit(_work, task)
            else:
                pending.append((i, task))
                pending_bytes += len(task[2])
                if jobs > 1 and (len(pending) >= POOL_MIN_FILES or pending_bytes >= POOL_MIN_BYTES):
                    from concurrent.futures import ProcessPoolExecutor

                    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(os.getpid(),))
                    futures.update((j, pool.submit(_work, t)) for j, t in pending)
                    pending = []
        for i, task in pending:
            outcomes[i] = _work(task)
            if progress:
                progress()
        for i, future in futures.items():
            outcomes[i] = future.result()
            if progress:
                progress()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    _imported_modules(outcomes, done, write)
    if cache is not None:
        for (path, config), outcome in zip(done, outcomes):
            if outcome.stamp is None or outcome.written:
                continue
            if outcome.findings:
                cache.mark_found(path, config, outcome.stamp[2], outcome.stamp[0], outcome.stamp[1], outcome)
            else:
                cache.mark_clean(path, config, outcome.stamp[2], outcome.stamp[0], outcome.stamp[1],
                                 outcome.dependencies, outcome.imported)
        cache.save()
    return outcomes
