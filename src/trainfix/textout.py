"""Text renderings of a `Report` for a person: `full` (ruff's default) and `concise` (one line each).

Pure: the report and a colour flag in, lines out; the CLI prints them.

    examples/train_custom_loop.py:26:18: TRN001 [*] Trained model `classifier` called without `training=True`
       |
    26 |         logits = classifier(x)  # bug: ...
       |                  ^^^^^^^^^^^^^ TRN001
       |
       = help: Add `training=True`
    26 -         logits = classifier(x)  # bug: ...
    26 +         logits = classifier(x, training=True)  # bug: ...
"""
from __future__ import annotations

import bisect

from .findings import Finding
from .outcome import FileOutcome
from .report import Report
from .transform import Edit, LineIndex

BOLD, RED, CYAN, GREEN, BLUE, RESET = "\x1b[1m", "\x1b[31m", "\x1b[36m", "\x1b[32m", "\x1b[34m", "\x1b[0m"


class _Paint:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        return "".join(styles) + text + RESET if self.color and text else text


def concise(report: Report, color: bool = False) -> list[str]:
    """`path:line:col: CODE message [*]`, one line per finding (trainfix 0.1's text format)."""
    paint = _Paint(color)
    lines = []
    for o, f in report.remaining():
        mark = " " + paint("[*]", CYAN) if report.fixable(f) else ""
        lines.append(f"{paint(_where(report, o, f), BOLD)}: {paint(f.code, BOLD, RED)} {f.message}{mark}")
    return lines


def _where(report: Report, o: FileOutcome, f: Finding) -> str:
    path, line, col, _, _, cell = report.location(o, f)
    return f"{path}:cell {cell}:{line}:{col}" if cell is not None else f"{path}:{line}:{col}"


def full(report: Report, color: bool = False) -> list[str]:
    """Each finding with its source line, a caret under the call, and its fix as a diff of the line."""
    paint = _Paint(color)
    out = []
    for o, f in report.remaining():
        mark = paint("[*]", CYAN) + " " if report.fixable(f) else ""
        out.append(f"{paint(_where(report, o, f), BOLD)}: {paint(f.code, BOLD, RED)} {mark}{f.message}")
        text = report.text_of(o)  # the text the positions and the edit refer to
        shown_line = report.location(o, f)[1]
        lines = LineIndex(text).starts if text else []
        source = _line(text, lines, f.line) if lines and f.line <= len(lines) else None
        width = len(str(shown_line + 1))
        gutter = paint(" " * width + " |", BLUE)
        if source is not None:
            end = f.end_column - 1 if f.end_line == f.line else len(source)
            pad = "".join(c if c == "\t" else " " for c in source[:f.column - 1])
            carets = "^" * max(1, end - (f.column - 1))
            out += [gutter, f"{paint(str(shown_line).rjust(width) + ' |', BLUE)} {source}",
                    f"{gutter} {pad}{paint(carets + ' ' + f.code, RED)}", gutter]
        if f.fix is not None:
            out.append(f"{' ' * width} {paint('=', BLUE)} {paint('help', BOLD)}: {f.fix.message}")
            if f.fix.applicability == "unsafe":
                reason = f": {f.fix.reason}" if f.fix.reason else ""
                note = "applied with `--unsafe-fixes`" if report.unsafe else "`--unsafe-fixes` applies it"
                out.append(f"{' ' * width} {paint('=', BLUE)} {paint('unsafe fix', BOLD)}{reason} ({note})")
            if f.edit is not None and text and source is not None:
                out += _diff(text, lines, f.edit, shown_line - f.line, width, paint)
        out.append("")
    return out


def _line(text: str, starts: list[int], n: int) -> str:
    end = starts[n] if n < len(starts) else len(text)
    return text[starts[n - 1]:end].rstrip("\r\n")


def _diff(text: str, starts: list[int], edit: Edit, shift: int, width: int, paint: _Paint) -> list[str]:
    """The lines the edit touches, before (`-`) and after (`+`)."""
    first = bisect.bisect_right(starts, edit.start)
    last_offset = edit.end - 1 if edit.end > edit.start and text[edit.end - 1] in "\r\n" else edit.end
    last = max(first, bisect.bisect_right(starts, last_offset))
    lo = starts[first - 1]
    hi = starts[last] if last < len(starts) else len(text)
    old = text[lo:hi]
    new = old[:edit.start - lo] + edit.text + old[edit.end - lo:]
    out = []
    for i, line in enumerate(old.splitlines()):
        out.append(paint(f"{str(first + shift + i).rjust(width)} - {line}", RED))
    for i, line in enumerate(new.splitlines()):
        out.append(paint(f"{str(first + shift + i).rjust(width)} + {line}", GREEN))
    return out
