"""The notebook as one Python program, and the maps back from it.

:attr:`Notebook.source` holds every Python code cell in cell order, each after
a marker comment line ``# %% [trainfix cell N]``. A line of the program maps
to ``cell N:line`` (:meth:`Notebook.locate`) and to the place in the .ipynb
text that stores it (:meth:`Notebook.file_position`); an edited program maps
back to the changed cells' code (:meth:`Notebook.changed_cells`), the
rewritten file (:meth:`Notebook.render`) and its diff (:meth:`Notebook.diff`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from .diff import cell_diff
from .errors import NotebookError
from .jsontext import StoredSource, stored_offset
from .lines import line_starts, split_eol, split_lines
from .splice import Replacement, SourceWriter, splice, verify


@dataclass(frozen=True)
class ProgramCell:
    """A code cell as it appears in the program."""

    number: int  # 1-based among all cells
    stored: StoredSource | None  # None when the cell has no "source" key (and so no code)
    masked: str  # masked code as it appears in source (always ends with a line break if non-empty)
    added_newline: bool  # the line break ending `masked` is not the cell's
    marker: str  # the marker line before it in source, with "\n"
    placeholders: dict[str, str]  # placeholder line -> the IPython line it replaces (both without EOL)
    start_line: int  # 1-based line of source where the cell's code starts

    @property
    def text(self) -> str:
        """The cell's code."""
        return self.stored.text if self.stored else ""


@dataclass
class Notebook:
    """A parsed notebook. ``source`` is the Python program the engine analyses."""

    source: str
    _raw: bytes = field(default=b"", repr=False, compare=False)
    _bom: bytes = field(default=b"", repr=False, compare=False)
    _text: str = field(default="", repr=False, compare=False)
    _data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # the decoded JSON
    _cells: list[ProgramCell] = field(default_factory=list, repr=False, compare=False)
    _line_starts: list[int] | None = field(default=None, repr=False, compare=False)
    _writer: SourceWriter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._writer = SourceWriter(self._text)

    # -- mapping source lines ------------------------------------------------

    @property
    def code_cells(self) -> list[int]:
        """Numbers of the cells that make up ``source``, in order."""
        return [c.number for c in self._cells]

    def locate(self, line: int) -> tuple[int, int]:
        """1-based line of `source` -> (cell number as above, 1-based line within that cell).

        A marker line maps to line 1 of the cell it introduces; a line past the
        end maps past the end of the last cell."""
        if not self._cells:
            return (1, line)
        markers = [c.start_line - 1 for c in self._cells]
        k = max(bisect.bisect_right(markers, line) - 1, 0)
        cell = self._cells[k]
        return (cell.number, max(line - cell.start_line + 1, 1))

    def file_position(self, line: int, column: int = 1) -> tuple[int, int]:
        """1-based (line, column) of `source` -> 1-based (line, column) in the
        .ipynb file's text where that character of the cell is stored (the JSON
        string that holds it), for locations an editor or GitHub can open.
        Columns count characters."""
        if not self._cells:
            return (1, 1)
        number, cline = self.locate(line)
        cell = next(c for c in self._cells if c.number == number)
        lines = split_lines(cell.text)
        if cell.stored is None:  # no "source" value, no code: no place in the file
            return (1, 1)
        if not lines:
            return self._text_position(cell.stored.span[0])
        cline = min(cline, len(lines))
        body = split_eol(lines[cline - 1])[0]
        offset = sum(len(x) for x in lines[: cline - 1]) + min(max(column - 1, 0), len(body))
        return self._text_position(stored_offset(self._text, cell.stored, offset))

    def _text_position(self, pos: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = line_starts(self._text)
        k = bisect.bisect_right(self._line_starts, pos) - 1
        return (k + 1, pos - self._line_starts[k] + 1)

    # -- mapping an edited source back ----------------------------------------

    def _segments(self, new_source: str) -> list[str]:
        """Split an edited source into the masked code of each cell."""
        segments: list[list[str]] = []
        k = 0
        for ln in split_lines(new_source):
            if k < len(self._cells) and ln == self._cells[k].marker:
                segments.append([])
                k += 1
            elif not segments:
                raise NotebookError("edited source can't be mapped back to the notebook: text before the first cell")
            else:
                segments[-1].append(ln)
        if k != len(self._cells):
            cell = self._cells[k]
            raise NotebookError(
                f"edited source can't be mapped back to the notebook: the marker of cell {cell.number} is missing or was edited",
                cell=cell.number,
            )
        return ["".join(s) for s in segments]

    def changed_cells(self, new_source: str) -> list[tuple[int, str, str]]:
        """[(cell number, old cell text, new cell text)] for cells whose code changed."""
        changed = []
        for cell, segment in zip(self._cells, self._segments(new_source)):
            if segment != cell.masked:
                new_text = _unmask(cell, segment)
                if new_text != cell.text:
                    changed.append((cell.number, cell.text, new_text))
        return changed

    def _rewrite(self, new_source: str) -> tuple[str, list[Replacement]]:
        """The new notebook text and its replacements, sorted."""
        changes = self.changed_cells(new_source)
        if not changes:
            return self._text, []
        by_number = {c.number: c for c in self._cells}
        replacements = sorted(self._writer.replacement(n, by_number[n].stored, new) for n, _old, new in changes)
        text = splice(self._text, replacements)
        verify(text, self._data, {n: new for n, _old, new in changes})
        return text, replacements

    def render(self, new_source: str) -> bytes:
        """Given `source` after the engine's edits, return the notebook bytes:
        byte-identical to the input except the `source` of the cells whose code
        changed. Masked lines restored exactly. Raises NotebookError if
        new_source can't be mapped back."""
        text, replacements = self._rewrite(new_source)
        if not replacements:
            return self._raw
        return self._bom + text.encode("utf-8")

    def diff(self, new_source: str, fromfile: str, tofile: str, context: int = 3) -> str:
        """A unified diff of the .ipynb file itself (so `git apply`/`patch`
        can apply it), one hunk per changed cell, each hunk header labelled
        with the cell: ``@@ -12,7 +12,7 @@ cell 7``. Empty if nothing changed."""
        _text, replacements = self._rewrite(new_source)
        if not replacements:
            return ""
        return cell_diff(self._text, replacements, fromfile, tofile, context, bom=bool(self._bom))


def _unmask(cell: ProgramCell, segment: str) -> str:
    """The cell's code from its edited masked code: placeholders restored."""
    out: list[str] = []
    seen: set[str] = set()
    for ln in split_lines(segment):
        body, eol = split_eol(ln)
        orig = cell.placeholders.get(body)
        if orig is None:
            out.append(ln)
        elif body in seen:
            raise NotebookError("edited source can't be mapped back: a masked IPython line is duplicated", cell=cell.number)
        else:
            seen.add(body)
            out.append(orig + eol)
    if len(seen) != len(cell.placeholders):
        missing = next(p for p in cell.placeholders if p not in seen)
        masked_bodies = [split_eol(ln)[0] for ln in split_lines(cell.masked)]
        raise NotebookError(
            "edited source can't be mapped back: a masked IPython line was changed or removed",
            cell=cell.number,
            line=masked_bodies.index(missing) + 1,
        )
    text = "".join(out)
    if cell.added_newline:
        if not text.endswith("\n"):
            raise NotebookError("edited source can't be mapped back: the cell's last line break was removed", cell=cell.number)
        text = text[:-1]
    return text
