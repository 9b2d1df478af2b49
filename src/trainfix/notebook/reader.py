"""Reading a notebook: checks, then the program of its Python code cells.

Cells that are not Python (``%%bash``, ``%%writefile``, ... or a VS Code cell
in another language) are left out of the program.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, NamedTuple

from .errors import NotebookError, NotPythonNotebookError
from .ipython import check_cell, mask_cell, parse
from .jsontext import Span, StoredSource, cell_source_spans, load
from .lines import split_lines
from .program import Notebook, ProgramCell

_BOM = b"\xef\xbb\xbf"
_PYTHON_LANGUAGES = ("python", "ipython")


class _Code(NamedTuple):
    """A code cell's source as decoded."""

    number: int
    text: str
    is_list: bool
    elements: list[str]


def parse_notebook(raw: bytes) -> Notebook:
    """Read a notebook. Raises NotebookError for invalid JSON, nbformat < 4,
    no cells, a non-Python kernel, or a code cell that isn't Python even with
    its IPython syntax masked."""
    bom = _BOM if raw.startswith(_BOM) else b""
    try:
        text = raw[len(bom) :].decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"not valid UTF-8 (byte {e.start})") from None
    data = _checked_json(text)
    cells: list[Any] = data["cells"]
    codes = [c for c in (_code(number, cell) for number, cell in enumerate(cells, 1)) if c is not None]
    builder = _ProgramBuilder(text, cells, codes)
    for code in codes:
        builder.add(code)
    program = builder.program
    source = "".join(c.marker + c.masked for c in program)
    nb = Notebook(source, _raw=raw, _bom=bom, _text=text, _data=data, _cells=program)
    try:
        parse(nb.source)
    except SyntaxError as e:  # defensive: the cells parse one by one
        cell, line = nb.locate(e.lineno) if e.lineno else (None, None)
        raise NotebookError(f"the code cells do not parse as one program: {e.msg}", cell=cell, line=line) from None
    return nb


def _checked_json(text: str) -> dict[str, Any]:
    """The notebook's JSON, checked down to its list of cells."""
    try:
        data = load(text)
    except ValueError as e:
        detail = f"{e.msg} (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else str(e)
        raise NotebookError(f"not valid JSON: {detail}") from None
    if not isinstance(data, dict):
        raise NotebookError("not a Jupyter notebook: the JSON is not an object")
    version = data.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool):
        raise NotebookError('not a Jupyter notebook: no "nbformat" version')
    if version < 4:
        raise NotebookError(
            f"nbformat {version} notebooks are not supported, only nbformat 4 "
            "(upgrade it with `jupyter nbconvert --to notebook --inplace`)"
        )
    _check_kernel(data.get("metadata"))
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotebookError('not a Jupyter notebook: no "cells" list')
    if not cells:
        raise NotebookError("the notebook has no cells")
    return data


def _check_kernel(metadata: object) -> None:
    """Raise NotPythonNotebookError if the metadata names another language."""
    if not isinstance(metadata, dict):
        return
    for key, sub in (("kernelspec", "language"), ("language_info", "name")):
        info = metadata.get(key)
        lang = info.get(sub) if isinstance(info, dict) else None
        if isinstance(lang, str) and lang and not _is_python(lang):
            raise NotPythonNotebookError(f"the notebook's kernel language is {lang}, not Python")


def _is_python(language: str) -> bool:
    return language.lower().startswith(_PYTHON_LANGUAGES)


def _code(number: int, cell: object) -> _Code | None:
    """The source of a code cell; None for another kind of cell."""
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        raise NotebookError('not a notebook cell (no "cell_type")', cell=number)
    if cell["cell_type"] != "code":
        return None
    src = cell.get("source", "")
    if isinstance(src, str):
        return _Code(number, src, False, [src])
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return _Code(number, "".join(src), True, list(src))
    raise NotebookError('code cell has an invalid "source" (not a string or a list of strings)', cell=number)


def _cell_language(cell: dict[str, Any]) -> str | None:
    """The language VS Code gives the cell, if any."""
    meta = cell.get("metadata")
    if isinstance(meta, dict):
        vscode = meta.get("vscode")
        if isinstance(vscode, dict) and isinstance(vscode.get("languageId"), str):
            language: str = vscode["languageId"]
            return language
    return None


def _choose_tag(texts: list[str]) -> str:
    """The tag of the marker and placeholder comments: one that no cell contains."""
    joined = "\n".join(texts)
    for k in itertools.count():
        tag = "trainfix" if k == 0 else f"trainfix{k}"
        if f"{tag}-mask-" not in joined and f"[{tag} cell " not in joined:
            return tag
    raise AssertionError  # pragma: no cover


class _ProgramBuilder:
    """Puts the Python code cells, masked, one after the other into the program."""

    def __init__(self, text: str, cells: list[Any], codes: list[_Code]):
        self.text = text
        self.cells = cells
        self.spans = cell_source_spans(text)
        if len(self.spans) != len(cells):  # pragma: no cover - defensive
            raise NotebookError("internal error: could not locate the cells in the notebook JSON")
        self.tag = _choose_tag([c.text for c in codes])
        self.ids = itertools.count(1)  # numbers the placeholders
        self.program: list[ProgramCell] = []
        self.line = 1  # the line of the next marker

    def add(self, code: _Code) -> None:
        """Add the code cell unless it isn't Python (a cell magic such as
        ``%%bash`` or another VS Code language)."""
        language = _cell_language(self.cells[code.number - 1])
        if language is not None and not _is_python(language):
            return
        masked = mask_cell(code.text, self.tag, self.ids)
        if masked is None:
            return
        mtext = "".join(masked.lines)
        try:
            wrap = check_cell(mtext)
        except SyntaxError as e:
            raise NotebookError(
                f"code cell does not parse as Python (even with IPython syntax masked): {e.msg}",
                cell=code.number,
                line=e.lineno,
            ) from None
        added_newline = bool(mtext) and not mtext.endswith(("\n", "\r"))
        marker = f"# %% [{self.tag} cell {code.number}]\n"
        cell = ProgramCell(
            number=code.number,
            stored=self._stored(code),
            masked=mtext + "\n" if added_newline else mtext,
            added_newline=added_newline,
            marker="if True:  " + marker if wrap else marker,
            placeholders=masked.placeholders,
            start_line=self.line + 1,
        )
        self.program.append(cell)
        self.line += 1 + len(split_lines(cell.masked))

    def _stored(self, code: _Code) -> StoredSource | None:
        """Where the text stores the cell's source (None without a "source" key)."""
        span = self.spans[code.number - 1]
        if span is None:  # no "source" key: nothing to write back to
            if code.text:  # pragma: no cover - impossible
                raise NotebookError("internal error: cell source not found", cell=code.number)
            return None
        if json.loads(self.text[span[0] : span[1]]) != self.cells[code.number - 1]["source"]:  # pragma: no cover
            raise NotebookError("internal error: cell source located wrongly", cell=code.number)
        return StoredSource(span, code.is_list, code.elements)
