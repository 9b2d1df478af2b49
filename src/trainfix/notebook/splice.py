"""Writing changed cells back into the notebook text.

Only the JSON ``source`` values of the changed cells are replaced. Within such
a value the lines (string) or elements (list) that did not change keep their
original bytes; new ones are encoded in the file's own style. The result is
verified: it must decode to the original notebook with only those cells'
code replaced.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from .errors import NotebookError
from .jsontext import StoredSource, encode_chars, list_layout, load, token_offsets, uses_ascii_escapes
from .lines import split_lines, split_nl, splitlines_keepends


class Replacement(NamedTuple):
    """New text for [start, end) of the notebook text: the source value of a cell."""

    start: int
    end: int
    value: str
    cell: int  # its number


class SourceWriter:
    """Encodes new code for cells' source values in the style of one notebook text."""

    def __init__(self, text: str):
        self.text = text
        self._ascii_style: bool | None = None

    def replacement(self, number: int, source: StoredSource | None, new_text: str) -> Replacement:
        """The source value of cell `number` holding `new_text` instead."""
        if source is None:
            raise NotebookError('edited source can\'t be mapped back: the cell has no "source" to write to', cell=number)
        value = self._list(source, new_text) if source.is_list else self._string(source, new_text)
        return Replacement(*source.span, value, number)

    def _chars(self, s: str) -> str:
        if self._ascii_style is None:  # scanning the whole text: only once, and only when writing
            self._ascii_style = uses_ascii_escapes(self.text)
        return encode_chars(s, self._ascii_style)

    def _string(self, source: StoredSource, new_text: str) -> str:
        """Re-encode a string-valued source, keeping the raw bytes of unchanged lines."""
        tok = self.text[source.span[0] : source.span[1]]
        offs = token_offsets(tok)
        old_lines, new_lines = split_lines(source.text), split_lines(new_text)
        raw_lines, pos = [], 0
        for ln in old_lines:
            raw_lines.append(tok[offs[pos] : offs[pos + len(ln)]])
            pos += len(ln)
        parts: list[str] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
            if op == "equal":
                parts.extend(raw_lines[i1:i2])
            else:
                parts.extend(self._chars(ln) for ln in new_lines[j1:j2])
        return '"' + "".join(parts) + '"'

    def _list(self, source: StoredSource, new_text: str) -> str:
        """Re-encode a list-valued source in the layout of the old one, keeping
        the raw bytes of the unchanged elements."""
        layout = list_layout(self.text, source.span)
        old = source.elements
        new = _element_split(old, source.text)(new_text)
        tokens: list[str] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if op == "equal":
                tokens.extend(tok for _pos, tok in layout.tokens[i1:i2])
            else:
                tokens.extend('"' + self._chars(e) + '"' for e in new[j1:j2])
        if layout.seps:
            default_sep = Counter(layout.seps).most_common(1)[0][0]
        elif "\n" in layout.leading:
            default_sep = "," + layout.leading
        else:
            default_sep = ", "
        parts = ["[", layout.leading]
        for k, tok in enumerate(tokens):
            if k:
                parts.append(layout.seps[k - 1] if k - 1 < len(layout.seps) else default_sep)
            parts.append(tok)
        parts.extend([layout.trailing, "]"])
        return "".join(parts)


def _element_split(elements: list[str], text: str) -> Callable[[str], list[str]]:
    """How the source list `elements` splits `text`, to split new text the same way."""
    if elements == split_nl(text):
        return split_nl
    if elements == splitlines_keepends(text):
        return splitlines_keepends
    if len(elements) == 1:
        return lambda t: [t] if t else []
    return splitlines_keepends


def splice(text: str, replacements: list[Replacement], start: int = 0, end: int | None = None) -> str:
    """text[start:end] with the replacements (sorted, disjoint, inside it) made."""
    parts, pos = [], start
    for rep in replacements:
        parts += [text[pos : rep.start], rep.value]
        pos = rep.end
    parts.append(text[pos:end])
    return "".join(parts)


def verify(text: str, original: dict[str, Any], new_sources: dict[int, str]) -> None:
    """The spliced notebook `text` must decode to the `original` JSON with
    only the changed cells' source replaced by `new_sources` (by cell number)."""
    try:
        data = load(text)
    except ValueError as e:  # pragma: no cover - defensive
        raise NotebookError(f"internal error: the rewritten notebook is not valid JSON ({e})") from None
    expected_cells = []
    for number, cell in enumerate(original["cells"], 1):
        if number in new_sources:
            src = data["cells"][number - 1]["source"]
            if ("".join(src) if isinstance(src, list) else src) != new_sources[number]:
                raise NotebookError("internal error: a rewritten cell does not hold the new code", cell=number)
            cell = dict(cell, source=src)
        expected_cells.append(cell)
    if data != dict(original, cells=expected_cells):
        raise NotebookError("internal error: the rewritten notebook differs outside the changed cells")
