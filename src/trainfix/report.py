"""Every file's outcome in one place; it owns the output formats and the exit code."""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .findings import Finding


@dataclass
class FileOutcome:
    path: str  # as shown to the user
    findings: list[Finding] = field(default_factory=list)
    old: str = ""
    new: str = ""
    written: bool = False
    error: str | None = None  # "line:col: reason" style message, already formatted
    skipped: list = field(default_factory=list)
    locate: object = None  # notebook: line -> (cell, line in cell)
    stamp: tuple | None = None  # (size, mtime_ns, sha256) of a file with nothing to report
    diff_text: str | None = None  # notebook: a diff of the .ipynb file itself, one hunk per cell
    after: list | None = None  # findings left in the new text, at its positions (None: as `findings`)
    dependencies: tuple = ()  # (path, size, mtime_ns) of the other project modules the analysis read
    imported: bool = False  # analysed as a module the run's steps import (its helpers included)

    @property
    def changed(self) -> bool:
        return self.new != self.old


NO_FILES = "No files were checked: no .py, .pyi or .ipynb file under the paths given, or all of them are excluded."


@dataclass
class Report:
    mode: str  # apply | check
    diff: bool = False
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

    def remaining(self) -> list[tuple[FileOutcome, Finding]]:
        """Findings still in the files: after a write, those of the new text, at their new positions."""
        out = []
        for o in self.outcomes:
            written = self.mode == "apply" and not self.diff and o.written
            if written and o.after is not None:
                out.extend((o, f) for f in o.after)
                continue
            out.extend((o, f) for f in o.findings if not (written and f.applied))
        return out

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        if self.mode == "apply" and self.diff:
            return 1 if any(o.changed for o in self.outcomes) or self.remaining() else 0
        return 1 if self.remaining() else 0

    # -- formats --------------------------------------------------------------------
    def location(self, o: FileOutcome, f: Finding) -> tuple[str, int, int, int, int, int | None]:
        if o.locate is not None:
            cell, line = o.locate(f.line)
            _, end_line = o.locate(f.end_line)
            return o.path, line, f.column, end_line, f.end_column, cell
        return o.path, f.line, f.column, f.end_line, f.end_column, None

    def text_lines(self) -> list[str]:
        lines = []
        for o, f in self.remaining():
            path, line, col, _, _, cell = self.location(o, f)
            where = f"{path}:cell {cell}:{line}:{col}" if cell is not None else f"{path}:{line}:{col}"
            mark = " [*]" if self.fixable(f) else ""
            lines.append(f"{where}: {f.code} {f.message}{mark}")
        return lines

    def skipped_lines(self) -> list[str]:
        """`--show-skipped`: every call considered in a step or tape and left alone, with the reason."""
        lines = []
        for o in self.outcomes:
            for s in o.skipped:
                line, column = s.line, s.column
                where = f"{o.path}:{line}:{column}"
                if o.locate is not None:
                    cell, line = o.locate(line)
                    where = f"{o.path}:cell {cell}:{line}:{column}"
                lines.append(f"{where}: skipped `{' '.join(s.callee.split())}`: {s.reason}")
        return lines

    def summary(self) -> str:
        """One line; it never says "passed" or "nothing to fix" for a run that failed on a file or read none."""
        remaining = self.remaining()
        fixed = sum(1 for o in self.outcomes for f in o.findings if f.applied and o.written)
        hidden = sum(1 for _, f in remaining if f.fix is not None and f.fix.applicability == "unsafe" and not self.unsafe)
        fixable = [f for _, f in remaining if self.fixable(f)]
        errors = len(self.errors)
        checked = len(self.outcomes) - errors
        parts = []
        if not checked:
            parts.append(NO_FILES if not errors else "No files were checked.")
        elif self.mode == "apply" and not self.diff:
            files = sum(1 for o in self.outcomes if o.written)
            parts.append(f"Fixed {fixed} finding{'s' * (fixed != 1)} in {files} file{'s' * (files != 1)}.")
            if remaining:
                parts.append(f"{len(remaining)} remaining.")
            elif not fixed and not errors:
                parts.append("Nothing to fix.")
        else:
            total = len(remaining)
            if total:
                parts.append(f"Found {total} finding{'s' * (total != 1)}.")
                if fixable:
                    # the command that fixes that many: unsafe ones need the flag
                    flag = " --unsafe-fixes" if any(f.fix.applicability == "unsafe" for f in fixable) else ""
                    parts.append(f"[*] {len(fixable)} fixable with `trainfix apply{flag}`.")
            elif errors:
                parts.append(f"No findings in the {checked} file{'s' * (checked != 1)} checked.")
            else:
                parts.append("All checks passed!")
        if hidden:
            parts.append(f"{hidden} more fix{'es' * (hidden != 1)} available with `--unsafe-fixes`.")
        if errors:
            parts.append(f"{errors} file{'s' * (errors != 1)} could not be processed.")
        return " ".join(parts)

    def json_records(self) -> list[dict]:
        from .rules import BY_CODE

        records = []
        for o, f in self.remaining():
            path, line, col, end_line, end_col, cell = self.location(o, f)
            record = {
                "code": f.code,
                "name": BY_CODE[f.code].NAME,
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

    def json(self) -> str:
        return json.dumps(self.json_records(), indent=2)

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


def skip_reason(site) -> str:
    """Why a considered call was left alone (the analysis' reason, or what it already passes)."""
    if site.skip_reason:
        return site.skip_reason
    if site.state in ("true", "false"):
        return f"already passes `training={site.state.title()}`"
    return "no rule applies"
