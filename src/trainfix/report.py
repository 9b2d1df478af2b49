"""Every file's outcome in one place; it owns the output formats and the exit code."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .findings import Finding
from .outcome import FileOutcome, WriteBack


NO_FILES = "No files were checked: no .py, .pyi or .ipynb file under the paths given, or all of them are excluded."


class Location(NamedTuple):
    """Where a finding is shown: in a notebook, lines count within its cell."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    cell: int | None


def _plural(n: int, word: str, ending: str = "s") -> str:
    return f"{n} {word}{ending * (n != 1)}"


@dataclass
class Report:
    write_back: WriteBack
    unsafe: bool = False
    outcomes: list[FileOutcome] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)

    # -- figures ------------------------------------------------------------------
    @property
    def errors(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.error]

    def fixable(self, f: Finding) -> bool:
        """The fix `apply` would write with the current settings."""
        return f.fix is not None and (f.fix.applicability == "safe" or self.unsafe)

    def wrote(self, o: FileOutcome) -> bool:
        return self.write_back is WriteBack.WRITE and o.written

    def text_of(self, o: FileOutcome) -> str:
        """The text the file's reported positions and edits refer to: the new one once written."""
        return o.texts.new if self.wrote(o) else o.texts.old

    def remaining(self) -> list[tuple[FileOutcome, Finding]]:
        """Findings still in the files: after a write, those of the new text, at their new positions."""
        out: list[tuple[FileOutcome, Finding]] = []
        for o in self.outcomes:
            written = self.wrote(o)
            if written and o.remaining is not None:
                out.extend((o, f) for f in o.remaining)
                continue
            out.extend((o, f) for f in o.findings if not (written and f.applied))
        return out

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        if self.write_back is WriteBack.DIFF:
            return 1 if any(o.changed for o in self.outcomes) or self.remaining() else 0
        return 1 if self.remaining() else 0

    # -- formats --------------------------------------------------------------------
    def location(self, o: FileOutcome, f: Finding) -> Location:
        cells = o.texts.cells
        if cells is not None:
            cell, line = cells.cell_line(f.line)
            _, end_line = cells.cell_line(f.end_line)
            return Location(o.path, line, f.column, end_line, f.end_column, cell)
        return Location(o.path, f.line, f.column, f.end_line, f.end_column, None)

    def skipped_lines(self) -> list[str]:
        """`--show-skipped`: every call considered in a step or tape and left alone, with the reason."""
        lines = []
        for o in self.outcomes:
            for s in o.skipped:
                line, column = s.line, s.column
                where = f"{o.path}:{line}:{column}"
                if o.texts.cells is not None:
                    cell, line = o.texts.cells.cell_line(line)
                    where = f"{o.path}:cell {cell}:{line}:{column}"
                lines.append(f"{where}: skipped `{' '.join(s.callee.split())}`: {s.reason}")
        return lines

    def summary(self) -> str:
        """One line; it never says "passed" or "nothing to fix" for a run that failed on a file or read none."""
        remaining = self.remaining()
        errors = len(self.errors)
        checked = len(self.outcomes) - errors
        if not checked:
            parts = [NO_FILES if not errors else "No files were checked."]
        elif self.write_back is WriteBack.WRITE:
            parts = self._fixed_parts(remaining, errors)
        else:
            parts = self._found_parts(remaining, errors, checked)
        hidden = sum(1 for _, f in remaining if f.fix is not None and f.fix.applicability == "unsafe" and not self.unsafe)
        if hidden:
            parts.append(f"{_plural(hidden, 'more fix', 'es')} available with `--unsafe-fixes`.")
        if errors:
            parts.append(f"{_plural(errors, 'file')} could not be processed.")
        return " ".join(parts)

    def _fixed_parts(self, remaining: list[tuple[FileOutcome, Finding]], errors: int) -> list[str]:
        """After a write: what was fixed, and what is left."""
        fixed = sum(1 for o in self.outcomes for f in o.findings if f.applied and o.written)
        files = sum(1 for o in self.outcomes if o.written)
        parts = [f"Fixed {_plural(fixed, 'finding')} in {_plural(files, 'file')}."]
        if remaining:
            parts.append(f"{len(remaining)} remaining.")
        elif not fixed and not errors:
            parts.append("Nothing to fix.")
        return parts

    def _found_parts(self, remaining: list[tuple[FileOutcome, Finding]], errors: int, checked: int) -> list[str]:
        """Without a write: what was found, and the command that fixes it."""
        if not remaining:
            return [f"No findings in the {_plural(checked, 'file')} checked." if errors else "All checks passed!"]
        parts = [f"Found {_plural(len(remaining), 'finding')}."]
        fixable = [f for _, f in remaining if self.fixable(f)]
        if fixable:
            # the command that fixes that many: unsafe ones need the flag
            flag = " --unsafe-fixes" if any(f.fix is not None and f.fix.applicability == "unsafe" for f in fixable) \
                else ""
            parts.append(f"[*] {len(fixable)} fixable with `trainfix apply{flag}`.")
        return parts

    def json_records(self) -> list[dict[str, Any]]:
        from .rules import BY_CODE

        records = []
        for o, f in self.remaining():
            path, line, col, end_line, end_col, cell = self.location(o, f)
            record: dict[str, Any] = {
                "code": f.code,
                "name": BY_CODE[f.code].name,
                "message": f.message,
                "filename": path,
                "line": line,
                "column": col,
                "end_line": end_line,
                "end_column": end_col,
                "fix": None if f.fix is None else {"applicability": f.fix.applicability, "message": f.fix.message},
            }
            if cell is not None:
                record["cell"] = cell
            records.append(record)
        return records

    def statistics(self) -> list[tuple[str, int, int]]:
        counts: dict[str, list[int]] = {}
        for _, f in self.remaining():
            entry = counts.setdefault(f.code, [0, 0])
            entry[0] += 1
            entry[1] += self.fixable(f)
        return [(code, n, k) for code, (n, k) in sorted(counts.items())]


def unified_diff(path: str, old: str, new: str) -> str:
    """A `git apply`-able unified diff; keeps CRLF and marks a missing final newline."""
    a, b = _lines(old), _lines(new)
    name = path.replace("\\", "/").lstrip("/")
    lines = list(difflib.unified_diff(a, b, f"a/{name}", f"b/{name}", lineterm="\n"))
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    # git splits on LF only; str.splitlines would also split on form feeds
    return re.findall(r"[^\n]*\n|[^\n]+$", text)
