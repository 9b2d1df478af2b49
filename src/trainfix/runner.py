"""Files in, `FileOutcome`s out: read, decode, fix, verify, write — cached and in parallel.

Outcomes carry plain data only (no syntax trees) so they cross process
boundaries cheaply; the process pool is imported only for many files.
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .config import Config
from .errors import SourceError
from .files import StrPath, decode
from .outcome import FileOutcome, Skipped, Stamp, WriteBack
from .prefilter import may_have_findings_bytes
from .results import dependency_stamps, error_text, take_findings, write_file

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from .cache import Cache


def process_text(shown: str, raw: bytes, config: Config, unsafe: bool,
                 path: StrPath | None = None, imported: bool = False) -> tuple[FileOutcome, bytes | None]:
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
        outcome.error = error_text(shown, exc)
        return outcome, None
    except Exception as exc:  # never let one file stop the run
        outcome.error = f"{shown}: error: internal error: {type(exc).__name__}: {exc}"
        return outcome, None
    take_findings(outcome, result)
    outcome.dependencies = dependency_stamps(result)
    if result.findings:  # the text the findings' positions and edits refer to (most files have none)
        outcome.texts.old, outcome.texts.new = result.source, result.new_source
    if not result.changed:
        return outcome, None
    outcome.remaining = result.remaining
    return outcome, result.new_source.encode(decoded.encoding)


def process_stdin(shown: str, raw: bytes, config: Config, unsafe: bool, write_back: WriteBack,
                  path: StrPath | None = None) -> tuple[FileOutcome, bytes | None]:
    """Source read from `-`: a notebook when its `--stdin-filename` ends in `.ipynb`, else Python."""
    if shown.endswith(".ipynb"):
        from .notebook_runner import notebook_text  # the notebook reader is imported only for notebooks

        return notebook_text(shown, raw, config, unsafe, write_back, path)
    return process_text(shown, raw, config, unsafe, path)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class Read(NamedTuple):
    """A regular file's bytes as read, with the size and mtime of that read."""

    raw: bytes
    size: int
    mtime_ns: int


def read_file(path: StrPath, shown: str) -> FileOutcome | Read:
    """The bytes of a regular file, or an outcome naming why it can't be read.

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
        return Read(b"".join(parts), st.st_size, st.st_mtime_ns)
    except OSError as exc:
        return FileOutcome(shown, error=f"{shown}: error: cannot read: {exc.strerror or exc}")
    finally:
        os.close(fd)


class Task(NamedTuple):
    """A file read and let through by the prefilter: what a worker needs to analyse (and write) it."""

    path: StrPath
    shown: str
    read: Read
    config: Config
    write_back: WriteBack
    imported: bool = False


def process_read(task: Task) -> FileOutcome:
    path, shown, (raw, size, mtime_ns), config = task.path, task.shown, task.read, task.config
    write = task.write_back is WriteBack.WRITE
    digest = hashlib.sha256(raw).hexdigest()
    if str(path).endswith(".ipynb"):
        from .notebook_runner import process_notebook  # the notebook reader is imported only for notebooks

        outcome = process_notebook(path, shown, raw, config, config.unsafe_fixes, task.write_back, digest)
    else:
        outcome, new = process_text(shown, raw, config, config.unsafe_fixes, path, task.imported)
        if new is not None and write:
            write_file(outcome, path, new, digest)
    if not outcome.error:
        outcome.stamp = Stamp(size, mtime_ns, digest)
    return outcome


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


def _fill_text(outcome: FileOutcome, path: StrPath) -> None:
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
    outcome.texts.old = outcome.texts.new = text


class _Noqa(NamedTuple):
    """What `--add-noqa` adds to one file: the new text, the lines it suppresses, those it could not."""

    text: str
    new: str
    lines: int
    refused: list[int]


def _noqa_text(text: str, path: StrPath, config: Config) -> _Noqa:
    """The text with a suppression on each line with a finding, checked: the new text must differ only
    in comments (same tokens, same syntax tree) and report nothing on those lines."""
    from .engine import fix_source
    from .suppressions import UNUSED_CODE, CommentOnlyError, add_ignores, verify_comments_only

    codes: dict[int, set[str]] = {}
    for f in fix_source(text, config=config, unsafe=False, path=path).findings:
        if f.code != UNUSED_CODE:
            codes.setdefault(f.line, set()).add(f.code)
    if not codes:
        return _Noqa(text, text, 0, [])
    new, refused = add_ignores(text, codes)
    verify_comments_only(text, new)
    left = [f for f in fix_source(new, config=config, unsafe=False, path=path).findings
            if f.code != UNUSED_CODE and f.line in codes and f.line not in refused]
    if left:
        raise CommentOnlyError(f"line {left[0].line} still reports {left[0].code} after adding the comment")
    return _Noqa(text, new, len(codes), refused)


def add_noqa_file(path: StrPath, shown: str, config: Config) -> tuple[FileOutcome, int]:
    """`--add-noqa`: suppress each finding of one file on its line; the outcome and how many lines changed.

    Like every write: the new text is checked (`_noqa_text`) and written atomically.
    """
    got = read_file(path, shown)
    if isinstance(got, FileOutcome):
        return got, 0
    raw = got.raw
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
            text, encoding = nb.source, ""
        else:
            decoded = decode(raw)
            text, encoding = decoded.text, decoded.encoding
        noqa = _noqa_text(text, path, config)
    except SourceError as exc:
        outcome.error = error_text(shown, exc)
        return outcome, 0
    except Exception as exc:  # CommentOnlyError, a notebook error: the file is left as it was
        outcome.error = f"{shown}: error: suppressions not added: {exc}"
        return outcome, 0
    for line in noqa.refused:
        outcome.skipped.append(Skipped(line, 1, "", "no comment can follow this line (a string or a `\\` "
                                                     "continues it): suppression not added"))
    if noqa.new == text:
        return outcome, 0
    data = nb.render(noqa.new) if notebook else noqa.new.encode(encoding)
    write_file(outcome, path, data, hashlib.sha256(raw).hexdigest())
    return outcome, noqa.lines - len(noqa.refused)


def _init_worker(parent: int) -> None:
    _die_with_parent(parent)


def _read(path: StrPath, shown: str, config: Config, write_back: WriteBack,
          hashed: bool) -> FileOutcome | Task:
    """A file's outcome when reading or the prefilter settles it, else the task that analyses it."""
    got = read_file(path, shown)
    if isinstance(got, FileOutcome):
        return got
    if not may_have_findings_bytes(got.raw, config):  # cannot hold a context: nothing to report
        return FileOutcome(shown, stamp=Stamp(got.size, got.mtime_ns,
                                              hashlib.sha256(got.raw).hexdigest() if hashed else ""))
    return Task(path, shown, got, config, write_back)


def _imported_modules(outcomes: list[FileOutcome], done: list[tuple[StrPath, Config]],
                      write_back: WriteBack, workers: _Workers) -> None:
    """Analyse again, without the prefilter, the files of the run that the analysed files import: a
    helper in `losses.py` may run in `train.py`'s tape (its findings are found from `losses.py`)."""
    imported = {dep.path for outcome in outcomes for dep in outcome.dependencies if dep.imported}
    if not imported:
        return
    names = {os.path.basename(p) for p in imported}  # a file whose name is none of theirs is not one of them
    tasks = []
    for i, ((path, config), outcome) in enumerate(zip(done, outcomes)):
        if outcome.error or outcome.findings or outcome.imported or not str(path).endswith(".py") or \
                os.path.basename(path) not in names or os.path.abspath(path) not in imported:
            continue
        got = read_file(path, outcome.path)
        if not isinstance(got, FileOutcome):
            tasks.append((i, Task(path, outcome.path, got, config, write_back, imported=True)))
    for i, again in workers.again(tasks):
        outcomes[i] = again
        outcomes[i].imported = True


# Below both, a pool's start-up costs more than the candidates' analysis in parallel saves;
# one file alone, however big, runs here: a pool would only add its start-up and the copy of the result.
POOL_MIN_FILES = 32
POOL_MIN_BYTES = 256 * 1024


class _Workers:
    """Analyses tasks here, or in a process pool started once there are enough of them to pay for it."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[int, Future[FileOutcome]] = {}
        self.pending: list[tuple[int, Task]] = []  # tasks not yet given to the pool
        self.pending_bytes = 0

    def add(self, i: int, task: Task) -> None:
        if self.pool is not None:
            self.futures[i] = self.pool.submit(process_read, task)
            return
        self.pending.append((i, task))
        self.pending_bytes += len(task.read.raw)
        if self.jobs > 1 and len(self.pending) > 1 and \
                (len(self.pending) >= POOL_MIN_FILES or self.pending_bytes >= POOL_MIN_BYTES):
            from concurrent.futures import ProcessPoolExecutor

            # imported before the workers fork, so that they inherit the analysis instead of each
            # importing it again (lazy until here: a run with no candidate never imports it)
            from . import engine, loader, notebook_runner  # noqa: F401
            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_init_worker,
                                            initargs=(os.getpid(),))
            self.futures.update((j, self.pool.submit(process_read, t)) for j, t in self.pending)
            self.pending = []

    def results(self) -> Iterable[tuple[int, FileOutcome]]:
        """Each task's outcome: those kept here first, then the pool's, in the order given."""
        for i, task in self.pending:
            yield i, process_read(task)
        for i, future in self.futures.items():
            yield i, future.result()

    def again(self, tasks: list[tuple[int, Task]]) -> Iterable[tuple[int, FileOutcome]]:
        """A second round, in the pool when there is one: its workers have built the import indexes
        of the projects they met, which this process would otherwise build again."""
        if self.pool is None:
            return [(i, process_read(task)) for i, task in tasks]
        pool = self.pool
        return [(i, future.result()) for i, future in [(i, pool.submit(process_read, task)) for i, task in tasks]]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _remember(cache: Cache, done: list[tuple[StrPath, Config]], outcomes: list[FileOutcome]) -> None:
    """Store what each file read and not written reported."""
    for (path, config), outcome in zip(done, outcomes):
        if outcome.stamp is None or outcome.written:
            continue
        if outcome.findings:
            cache.mark_found(path, config, outcome.stamp, outcome)
        else:
            cache.mark_clean(path, config, outcome.stamp, outcome.dependencies, outcome.imported)
    cache.save()


def run_files(items: Iterable[tuple[StrPath, str, Config]], *, write_back: WriteBack, cache: Cache | None = None,
              jobs: int | None = None, progress: Callable[[], None] | None = None,
              texts: bool = False) -> list[FileOutcome]:
    """Process files in order; unchanged files come from the cache without being read: clean
    ones always, ones with findings when the run writes nothing and prints no diff (it needs
    no new text; with `texts`, the report's source lines are read back from the file).

    This process reads every file as `items` yields it and applies the prefilter; only
    files that may hold a context are analysed, by a process pool once there are enough
    of them. They go to the pool as they are found, so the workers parse while the rest
    of the tree is still being walked and read.
    """
    done: list[tuple[StrPath, Config]] = []
    outcomes: list[FileOutcome] = []
    workers = _Workers(jobs or os.cpu_count() or 1)
    advance = progress or (lambda: None)
    try:
        for i, (path, shown, config) in enumerate(items):
            done.append((path, config))
            got = _cached(cache, path, shown, config, write_back, texts) or \
                _read(path, shown, config, write_back, hashed=cache is not None)
            if isinstance(got, Task):
                outcomes.append(FileOutcome(shown))  # a placeholder until its task is done
                workers.add(i, got)
            else:
                outcomes.append(got)
                advance()
        for i, outcome in workers.results():
            outcomes[i] = outcome
            advance()
        _imported_modules(outcomes, done, write_back, workers)
    finally:
        workers.close()
    if cache is not None:
        _remember(cache, done, outcomes)
    return outcomes


def _cached(cache: Cache | None, path: StrPath, shown: str, config: Config, write_back: WriteBack,
            texts: bool) -> FileOutcome | None:
    """The cached outcome of an unchanged file; findings only for a run that writes nothing and shows no diff."""
    if cache is None:
        return None
    outcome = cache.get(path, shown, config, findings=write_back is WriteBack.CHECK)
    if outcome is not None and outcome.findings and texts:
        _fill_text(outcome, path)  # the report shows source lines: read the unchanged file back
    return outcome
