"""An engine `Result` and a write into a `FileOutcome`: shared by the Python and the notebook runner."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SourceError
from .files import write_atomic
from .outcome import Dependency, FileOutcome, Skipped

if TYPE_CHECKING:
    from .analysis.sites import CallSite
    from .engine import Result


def error_text(shown: str, exc: SourceError) -> str:
    where = shown
    if exc.line:
        where += f":{exc.line}"
        if exc.column:
            where += f":{exc.column}"
    return f"{where}: error: {exc.reason}"


def skip_reason(site: CallSite) -> str:
    """Why a considered call was left alone (the analysis' reason, or what it already passes)."""
    if site.skip_reason:
        return site.skip_reason
    if site.state in ("true", "false"):
        return f"already passes `training={site.state.title()}`"
    return "no rule applies"


def take_findings(outcome: FileOutcome, result: Result) -> None:
    """Findings and skipped calls as plain data (no syntax trees), so outcomes cross processes cheaply."""
    outcome.findings = result.findings
    outcome.skipped = [Skipped(s.call.lineno, s.call.col_offset + 1, s.callee, skip_reason(s))
                       for s in result.skipped]


def dependency_stamps(result: Result) -> tuple[Dependency, ...]:
    """Each module the project index read, as it is now, so the cache sees it change."""
    stamps = []
    imports = set(result.imports)
    for path in result.dependencies:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stamps.append(Dependency(path, st.st_size, st.st_mtime_ns, path in imports))
    return tuple(stamps)


def write_file(outcome: FileOutcome, path: str | os.PathLike[str], data: bytes, digest: str) -> None:
    """Write atomically; a failure becomes the outcome's error, never an exception."""
    try:
        write_atomic(Path(path), data, digest)
        outcome.written = True
    except SourceError as exc:
        outcome.error = error_text(outcome.path, exc)
    except OSError as exc:
        outcome.error = f"{outcome.path}: error: cannot write: {exc.strerror or exc}"
    except Exception as exc:  # never let one file stop the run
        outcome.error = f"{outcome.path}: error: internal error while writing: {type(exc).__name__}: {exc}"
