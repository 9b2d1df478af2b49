"""A notebook file in, a `FileOutcome` out: cells analysed as one program, changed cells written back."""
from __future__ import annotations

from .config import Config
from .errors import SourceError
from .files import StrPath
from .notebook import Notebook, NotebookError, NotPythonNotebookError, parse_notebook
from .outcome import CellMap, FileOutcome, WriteBack
from .prefilter import may_have_findings_bytes
from .results import dependency_stamps, take_findings, write_file


def _error(shown: str, exc: NotebookError | SourceError, nb: Notebook | None = None) -> str:
    if isinstance(exc, NotebookError):
        where = shown + (f":cell {exc.cell}" if exc.cell else "") + (f":{exc.line}" if exc.line else "")
        return f"{where}: error: {exc.message}"
    if exc.line and nb is not None:
        cell, line = nb.locate(exc.line)
        return f"{shown}:cell {cell}:{line}: error: {exc.reason}"
    return f"{shown}: error: {exc.reason}"


def process_notebook(path: StrPath, shown: str, raw: bytes, config: Config, unsafe: bool, write_back: WriteBack,
                     digest: str) -> FileOutcome:
    outcome, new_raw = notebook_text(shown, raw, config, unsafe, write_back, path)
    if new_raw is not None and write_back is WriteBack.WRITE:
        write_file(outcome, path, new_raw, digest)
    return outcome


def notebook_text(shown: str, raw: bytes, config: Config, unsafe: bool, write_back: WriteBack,
                  path: StrPath | None = None) -> tuple[FileOutcome, bytes | None]:
    """Analyse a notebook's bytes; when the run writes, the fixed notebook's bytes (None when unchanged),
    else the diff of the .ipynb text in the outcome. Writes nothing (stdin uses it too)."""
    from .engine import fix_source

    render = write_back is WriteBack.WRITE
    outcome = FileOutcome(shown)
    if not may_have_findings_bytes(raw, config):
        return outcome, None
    nb = None
    try:
        nb = parse_notebook(raw)
        result = fix_source(nb.source, config=config, unsafe=unsafe, path=path)
        # one rewrite of the JSON: the file for apply, the diff of the file otherwise
        new_raw = nb.render(result.new_source) if result.changed and render else None
        diff = nb.diff(result.new_source, f"a/{shown}", f"b/{shown}") if result.changed and not render else None
    except NotPythonNotebookError:
        return outcome, None  # an R or Julia notebook has no Keras code to check
    except (NotebookError, SourceError) as exc:
        outcome.error = _error(shown, exc, nb)
        return outcome, None
    lines = {f.line for f in result.findings} | {f.end_line for f in result.findings} | \
        {s.call.lineno for s in result.skipped}
    points = {(f.line, f.column) for f in result.findings} | {(f.end_line, f.end_column) for f in result.findings}
    outcome.texts.cells = CellMap({n: nb.locate(n) for n in lines}, {p: nb.file_position(*p) for p in points})
    take_findings(outcome, result)
    outcome.dependencies = dependency_stamps(result)
    if not result.changed:
        return outcome, None
    outcome.texts.old, outcome.texts.new = result.source, result.new_source
    outcome.texts.ipynb_diff = diff
    return outcome, new_raw
