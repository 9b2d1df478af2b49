"""A notebook file in, a `FileOutcome` out: cells analysed as one program, changed cells written back."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .engine import SourceError, fix_source, may_have_findings_bytes
from .notebook import Notebook, NotebookError, NotPythonNotebookError, parse_notebook
from .report import FileOutcome, skip_reason


@dataclass(frozen=True)
class Locator:
    """Picklable maps from program lines to cells, and to positions in the .ipynb text."""

    cells: dict  # program line -> (cell, line in cell)
    positions: dict  # (program line, column) -> (file line, file column)

    def __call__(self, line: int) -> tuple[int, int]:
        return self.cells[line]

    def file_position(self, line: int, column: int) -> tuple[int, int]:
        return self.positions[(line, column)]


def _error(shown: str, exc: NotebookError | SourceError, nb: Notebook | None = None) -> str:
    if isinstance(exc, NotebookError):
        where = shown + (f":cell {exc.cell}" if exc.cell else "") + (f":{exc.line}" if exc.line else "")
        return f"{where}: error: {exc.message}"
    if exc.line and nb is not None:
        cell, line = nb.locate(exc.line)
        return f"{shown}:cell {cell}:{line}: error: {exc.reason}"
    return f"{shown}: error: {exc.reason}"


def process_notebook(path: Path, shown: str, raw: bytes, config: Config, unsafe: bool, write: bool,
                     digest: str) -> FileOutcome:
    from .runner import Skipped, write_file

    outcome = FileOutcome(shown)
    if not may_have_findings_bytes(raw, config):
        return outcome
    nb = None
    try:
        nb = parse_notebook(raw)
        result = fix_source(nb.source, config=config, unsafe=unsafe)
        new_raw = nb.render(result.new_source) if result.changed else raw
    except NotPythonNotebookError:
        return outcome  # an R or Julia notebook has no Keras code to check
    except (NotebookError, SourceError) as exc:
        outcome.error = _error(shown, exc, nb)
        return outcome
    skipped = [s for s in result.skipped]
    lines = {f.line for f in result.findings} | {f.end_line for f in result.findings} | \
        {s.call.lineno for s in skipped}
    points = {(f.line, f.column) for f in result.findings} | {(f.end_line, f.end_column) for f in result.findings}
    outcome.locate = Locator({n: nb.locate(n) for n in lines}, {p: nb.file_position(*p) for p in points})
    for f in result.findings:
        f.site = None
    outcome.findings = result.findings
    outcome.skipped = [Skipped(s.call.lineno, s.call.col_offset + 1, s.callee, skip_reason(s)) for s in skipped]
    if not result.changed:
        return outcome
    outcome.old, outcome.new = result.source, result.new_source
    outcome.cells = nb.changed_cells(result.new_source)
    outcome.diff_text = nb.diff(result.new_source, f"a/{shown}", f"b/{shown}")
    if write:
        write_file(outcome, path, new_raw, digest)
    return outcome
