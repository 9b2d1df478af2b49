"""Engine results placed in editor documents: spans, fix edits, suppress edits, fix-all edits.

Pure and free of pygls: a `.py` document or a notebook's cells in, an `Analysis`
out, with every span and edit as string offsets in the text of the document
(the file, or the cell) it belongs to. The server turns offsets into LSP
positions in the encoding the client chose.
"""
from __future__ import annotations

import bisect
import io
import json
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..engine import Result, fix_source
from ..errors import SourceError
from ..findings import Finding
from ..suppressions import IGNORE

NEWLINE = re.compile(r"\r\n|\r|\n")  # the line breaks of LSP and of the engine's LineIndex


@dataclass(frozen=True)
class Change:
    """Replace text[start:end] of one document with `text`."""

    start: int
    end: int
    text: str


@dataclass
class Spot:
    """One finding in one editor document."""

    uri: str
    finding: Finding
    start: int
    end: int
    fix: Change | None = None  # the finding's own fix, exactly as `apply` splices it
    suppress: Change | None = None  # `# trainfix: ignore[CODE]` on the call's line


@dataclass
class Analysis:
    """What the engine reported for a document (or all cells of a notebook) at given texts."""

    texts: dict[str, str]  # uri -> the text the spots and changes refer to
    spots: list[Spot] = field(default_factory=list)
    fix_all: dict[str, Change] = field(default_factory=dict)  # uri -> what `apply` changes in it
    error: str | None = None  # why there are no findings (the text does not parse, ...)
    _lines: dict[str, Lines] = field(default_factory=dict, repr=False, compare=False)

    def spots_in(self, uri: str) -> list[Spot]:
        return [s for s in self.spots if s.uri == uri]

    def lines(self, uri: str) -> Lines:
        if uri not in self._lines:
            self._lines[uri] = Lines(self.texts[uri])
        return self._lines[uri]


class Lines:
    """Offsets <-> (0-based line, column) in one text; columns in the client's position encoding."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in NEWLINE.finditer(text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def position(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        line = self.line_of(offset)
        return line, units(self.text[self.starts[line]:offset], encoding)

    def offset(self, line: int, char: int) -> int:
        """Offset of (0-based line, column in characters), clamped to the text."""
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        body = NEWLINE.sub("", self.text[start:end])
        return start + min(char, len(body))


def units(text: str, encoding: str) -> int:
    """Length of `text` in the code units of an LSP position encoding (utf-8, utf-16, utf-32)."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def run_engine(text: str, config: Config, path: str | None = None) -> Result:
    """The one call of the engine: `fix_source` with the CLI's settings and the document's path (so the
    project's other modules are followed, as saved on disk; what the last analysis read is forgotten)."""
    from ..loader import forget

    forget()
    return fix_source(text, config=config, unsafe=config.unsafe_fixes, path=path)


def region_change(old: str, new: str) -> Change | None:
    """One change turning `old` into `new`, widened to whole lines (so no position splits a CRLF)."""
    if old == new:
        return None
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    lines = Lines(old)
    start = lines.starts[lines.line_of(prefix)]
    end = len(old) - suffix
    after = bisect.bisect_left(lines.starts, end)
    end = lines.starts[after] if after < len(lines.starts) else len(old)
    return Change(start, end, new[start:len(new) - (len(old) - end)])


def line_ends(text: str) -> dict[int, tuple[int, str | None]]:
    """1-based line -> (column where its code ends, its comment or None), for lines that end at code level.

    A line that ends inside a string or with a backslash continuation is left out:
    a comment can't be added there.
    """
    out: dict[int, tuple[int, str | None]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            row, col = tok.start
            if tok.type == tokenize.COMMENT:
                out[row] = (col, tok.string)
            elif tok.type in (tokenize.NEWLINE, tokenize.NL) and row not in out:
                out[row] = (col, None)
    except (tokenize.TokenError, SyntaxError):
        return {}
    return out


def suppress_change(lines: Lines, ends: dict[int, tuple[int, str | None]], line: int, code: str) -> Change | None:
    """The change that adds `code` to a `# trainfix: ignore[...]` comment on `line` (1-based)."""
    if line not in ends:
        return None
    col, comment = ends[line]
    start = lines.starts[line - 1] + col
    if comment is None:
        code_end = start - (len(lines.text[lines.starts[line - 1]:start]) -
                            len(lines.text[lines.starts[line - 1]:start].rstrip(" \t\f")))
        return Change(code_end, start, f"  # trainfix: ignore[{code}]")
    m = IGNORE.search(comment)
    if m is not None and m.group("codes") is not None:
        codes = m.group("codes")
        at = start + m.start("codes") + len(codes.rstrip())
        return Change(at, at, f", {code}" if codes.strip() else code)
    at = start + len(comment)
    return Change(at, at, f"  # trainfix: ignore[{code}]")


def analyse_text(uri: str, text: str, config: Config, path: str | None = None) -> Analysis:
    """Findings and edits of one Python document."""
    analysis = Analysis({uri: text})
    try:
        result = run_engine(text, config, path)
    except SourceError as exc:
        analysis.error = exc.reason
        return analysis
    if not result.findings:
        return analysis
    lines = Lines(text)
    ends = line_ends(text)
    for f in result.findings:
        spot = Spot(uri, f, lines.starts[f.line - 1] + f.column - 1, lines.starts[f.end_line - 1] + f.end_column - 1)
        if f.fix is not None and f.edit is not None:
            spot.fix = Change(f.edit.start, f.edit.end, f.edit.text)
        spot.suppress = suppress_change(lines, ends, f.line, f.code)
        analysis.spots.append(spot)
    change = region_change(result.source, result.new_source)
    if change is not None:
        analysis.fix_all[uri] = change
    return analysis


@dataclass(frozen=True)
class Cell:
    uri: str
    kind: str  # "code" | "markdown"
    language: str | None
    text: str


def notebook_json(cells: Sequence[Cell], metadata: dict[str, Any] | None = None) -> bytes:
    """The cells as an nbformat 4 notebook, so the CLI's notebook reader sees what the editor shows."""
    out = []
    for cell in cells:
        entry: dict[str, Any] = {"cell_type": cell.kind, "metadata": {}, "source": cell.text}
        if cell.kind == "code":
            entry.update(execution_count=None, outputs=[])
            if cell.language:
                entry["metadata"] = {"vscode": {"languageId": cell.language}}
        out.append(entry)
    return json.dumps({"cells": out, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}).encode("utf-8")


def analyse_notebook(cells: Sequence[Cell], config: Config, metadata: dict[str, Any] | None = None,
                     path: str | None = None) -> Analysis:
    """Findings and edits of a notebook's cells, analysed as one program as the CLI does, placed in the cells."""
    from ..notebook import NotebookError, parse_notebook

    analysis = Analysis({c.uri: c.text for c in cells})
    if not any(c.kind == "code" for c in cells):
        return analysis
    try:
        nb = parse_notebook(notebook_json(cells, metadata))
        result = run_engine(nb.source, config, path)
        changed = nb.changed_cells(result.new_source) if result.changed else []
    except NotebookError as exc:
        analysis.error = exc.message
        return analysis
    except SourceError as exc:
        analysis.error = exc.reason
        return analysis
    source = Lines(nb.source)
    ends = line_ends(nb.source)
    cell_lines = {c.uri: Lines(c.text) for c in cells}

    def place(offset: int) -> tuple[str, int]:
        line = source.line_of(offset)
        number, cell_line = nb.locate(line + 1)
        cell = cells[number - 1]
        return cell.uri, cell_lines[cell.uri].offset(cell_line - 1, offset - source.starts[line])

    def moved(change: Change | None) -> Change | None:
        if change is None:
            return None
        (_, start), (_, end) = place(change.start), place(change.end)  # a fix stays in its cell
        return Change(start, end, change.text)

    for f in result.findings:
        uri, start = place(source.starts[f.line - 1] + f.column - 1)
        _, end = place(source.starts[f.end_line - 1] + f.end_column - 1)
        spot = Spot(uri, f, start, end)
        if f.fix is not None and f.edit is not None:
            spot.fix = moved(Change(f.edit.start, f.edit.end, f.edit.text))
        spot.suppress = moved(suppress_change(source, ends, f.line, f.code))
        analysis.spots.append(spot)
    for number, old, new in changed:
        change = region_change(old, new)
        if change is not None:
            analysis.fix_all[cells[number - 1].uri] = change
    return analysis
