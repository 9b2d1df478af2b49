"""Jupyter notebooks (``.ipynb``) in and out.

A notebook is turned into one Python program, :attr:`Notebook.source`: every
Python code cell in cell order, each preceded by a marker comment line
``# %% [trainfix cell N]``. IPython syntax that Python cannot parse (line
magics, ``!`` shell escapes, ``?``/``??`` help, ``x = !cmd`` / ``x = %magic``
assignments, a ``%%time``-style first line) is replaced line for line by a
placeholder statement with the same indentation, so that line numbers and the
columns of every other line are unchanged. Cells that are not Python
(``%%bash``, ``%%writefile``, ... or a VS Code cell in another language) are
left out of the program.

After the engine has edited ``source``, :meth:`Notebook.render` maps it back:
the placeholders are restored exactly and only the JSON ``source`` values of
the cells whose code changed are spliced into the original bytes. Within such
a value, the list elements (lines) that did not change keep their original
bytes; new ones are encoded in the file's own style. Nothing else is ever
re-serialised.

Standard library only; no nbformat dependency. No I/O: bytes in, bytes out.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import itertools
import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.decoder import scanstring

__all__ = [
    "NotPythonNotebookError",
    "Notebook",
    "NotebookError",
    "parse_notebook",
]


class NotebookError(Exception):
    """A notebook that can't be read, parsed or mapped back.

    ``str(error)`` (also ``.message``) names the reason only; ``.cell`` is the
    1-based cell number (index among ALL cells of the notebook, as Jupyter
    shows it, counting markdown cells too) or None; ``.line`` is the 1-based
    line within that cell or None.
    """

    def __init__(self, message: str, cell: int | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.cell = cell
        self.line = line

    def __str__(self) -> str:
        return self.message


class NotPythonNotebookError(NotebookError):
    """The notebook's kernel language is not Python (a subclass, so callers
    may choose to skip such notebooks instead of failing)."""


# --------------------------------------------------------------------------
# Lines

# Python's own notion of a line break (what ast / LibCST count as lines).
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_NL_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _split_lines(text: str) -> list[str]:
    """Physical lines with their line breaks (\\r\\n, \\r or \\n)."""
    return _LINE_RE.findall(text)


def _split_nl(text: str) -> list[str]:
    """Lines split after each \\n only (the usual .ipynb source list)."""
    return _NL_LINE_RE.findall(text)


def _splitlines_keepends(text: str) -> list[str]:
    """nbformat's own convention (str.splitlines)."""
    return text.splitlines(True)


def _split_eol(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body):]


# --------------------------------------------------------------------------
# IPython syntax masking

# Cell magics whose body is Python run in the kernel's namespace.
_PY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "mprun", "px"})
# IPython's escape characters at the start of a logical line.
_ESCAPES = frozenset("!%?/,;")
_MAGIC_RHS_RE = re.compile(r"!|%[A-Za-z_%]")
_PYTHON_LANGUAGES = ("python", "ipython")


def _scan(body: str, depth: int, quote: str | None):
    """Scan one physical line (without its line break) of Python.

    Tracks bracket depth and open strings. Returns ``(depth, quote,
    backslash_continued, first_eq, last)`` where ``first_eq`` is the index of
    the first plain ``=`` at bracket depth 0 and ``last`` the index of the last
    significant character outside strings and comments. An unterminated
    single-quoted string ends at the line break (as in IPython's tokenizer).
    """
    i, n = 0, len(body)
    first_eq: int | None = None
    last: int | None = None
    cont = False
    while i < n:
        c = body[i]
        if quote is not None:
            if c == "\\":
                if i == n - 1:
                    cont = True
                i += 2
                continue
            if body.startswith(quote, i):
                i += len(quote)
                quote = None
                last = i - 1
                continue
            i += 1
            continue
        if c == "#":
            break
        if c in "'\"":
            quote = c * 3 if body.startswith(c * 3, i) else c
            i += len(quote)
            continue
        if c == "\\" and i == n - 1:
            cont = True
            break
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        elif c == "=" and depth == 0:
            if i + 1 < n and body[i + 1] == "=":
                last = i + 1
                i += 2
                continue
            if first_eq is None and (i == 0 or body[i - 1] not in "=!<>:+-*/%&|^@"):
                first_eq = i
        if not c.isspace():
            last = i
        i += 1
    if quote is not None and len(quote) == 1 and not cont:
        quote = None
    return depth, quote, cont, first_eq, last


@dataclass
class _Masked:
    lines: list[str]
    placeholders: dict[str, str]  # placeholder line (no EOL) -> original line (no EOL)


def _mask_cell(text: str, tag: str, ids: Iterator[int]) -> _Masked | None:
    """Mask the IPython syntax of one code cell; None if the cell isn't Python."""
    lines = _split_lines(text)
    out = list(lines)
    placeholders: dict[str, str] = {}

    def mask(k: int, indent: str, lhs: str | None = None) -> None:
        body, eol = _split_eol(lines[k])
        pid = next(ids)
        if lhs is not None and "(" not in lhs:
            ph = f"{lhs}= None  # {tag}-mask-{pid}"
        else:
            ph = f"{indent}pass  # {tag}-mask-{pid}"
        placeholders[ph] = body
        out[k] = ph + eol

    def mask_continued(k: int, indent: str, lhs: str | None = None) -> int:
        """Mask line k and its backslash continuation lines; return the next line."""
        mask(k, indent, lhs)
        while _split_eol(lines[k])[0].endswith("\\") and k + 1 < len(lines):
            k += 1
            mask(k, indent)
        return k + 1

    k = 0
    first = next((j for j, ln in enumerate(lines) if ln.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        name = re.match(r"%%(\S*)", lines[first]).group(1)  # type: ignore[union-attr]
        if name not in _PY_CELL_MAGICS:
            return None
        mask(first, "")
        k = first + 1

    while k < len(lines):
        body = _split_eol(lines[k])[0]
        stripped = body.lstrip()
        indent = body[: len(body) - len(stripped)]
        if stripped[:1] in _ESCAPES:  # !cmd, %magic, ?obj, ??obj, /f, ,f, ;f
            k = mask_continued(k, indent)
            continue
        # A Python logical line: scan it to its end.
        depth, quote = 0, None
        j = k
        first_eq = last = None
        last_body = body
        while True:
            last_body = _split_eol(lines[j])[0]
            depth, quote, cont, eq, last = _scan(last_body, depth, quote)
            if j == k:
                first_eq = eq
            if (depth == 0 and quote is None and not cont) or j + 1 >= len(lines):
                break
            j += 1
        if first_eq is not None and _MAGIC_RHS_RE.match(body[first_eq + 1 :].lstrip()):
            # x = !cmd, x = %magic
            k = mask_continued(k, indent, lhs=body[:first_eq])
            continue
        if last is not None and last_body[last] == "?":  # obj?, obj??
            for m in range(k, j + 1):
                mask(m, indent)
        k = j + 1
    return _Masked(out, placeholders)


def _parse(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(text)
        except ValueError as e:  # null bytes on Python < 3.12
            err = SyntaxError(str(e))
            err.lineno = None
            raise err from None


def _check_cell(masked: str) -> bool:
    """Raise SyntaxError if the masked cell isn't Python. Returns True when the
    cell is indented as a whole (IPython dedents it) and must be wrapped."""
    try:
        _parse(masked)
        return False
    except SyntaxError as e:
        if isinstance(e, IndentationError) and "unexpected indent" in str(e.msg):
            try:
                _parse("if True:\n" + masked)
                return True
            except SyntaxError:
                pass
        raise


# --------------------------------------------------------------------------
# Raw JSON scanning

_WS_RE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _ws(text: str, i: int) -> int:
    return _WS_RE.match(text, i).end()  # type: ignore[union-attr]


def _expect(text: str, i: int, chars: str) -> None:
    if i >= len(text) or text[i] not in chars:
        raise NotebookError("internal error: could not locate the cell sources in the notebook JSON")


def _scan_object(text: str, i: int, want: str | None = None) -> tuple[int, dict[str, tuple[int, int]]]:
    """Scan the JSON object at text[i]; return (end, {key: (start, end)}) of its values."""
    _expect(text, i, "{")
    spans: dict[str, tuple[int, int]] = {}
    i = _ws(text, i + 1)
    if text[i] == "}":
        return i + 1, spans
    while True:
        _expect(text, i, '"')
        key, i = scanstring(text, i + 1)
        i = _ws(text, i)
        _expect(text, i, ":")
        i = _ws(text, i + 1)
        start = i
        if want is not None and key == want and text[i] == "[":
            i = _skip_array(text, i)
        else:
            _, i = _DECODER.raw_decode(text, i)
        spans[key] = (start, i)  # last duplicate wins, as in json.loads
        i = _ws(text, i)
        _expect(text, i, ",}")
        if text[i] == "}":
            return i + 1, spans
        i = _ws(text, i + 1)


def _skip_array(text: str, i: int) -> int:
    _, end = _DECODER.raw_decode(text, i)
    return end


def _cell_source_spans(text: str) -> list[tuple[int, int] | None]:
    """Span of each cell's "source" value in the notebook text (None if absent)."""
    i = _ws(text, 0)
    _, top = _scan_object(text, i)
    if "cells" not in top:
        return []
    i = top["cells"][0]
    _expect(text, i, "[")
    spans: list[tuple[int, int] | None] = []
    i = _ws(text, i + 1)
    if text[i] == "]":
        return spans
    while True:
        if text[i] == "{":
            i, members = _scan_object(text, i)
            spans.append(members.get("source"))
        else:
            _, i = _DECODER.raw_decode(text, i)
            spans.append(None)
        i = _ws(text, i)
        _expect(text, i, ",]")
        if text[i] == "]":
            return spans
        i = _ws(text, i + 1)


@dataclass
class _ListLayout:
    leading: str
    tokens: list[tuple[int, str]]  # (offset in the notebook text, raw JSON string token)
    seps: list[str]
    trailing: str


def _list_layout(text: str, start: int, end: int) -> _ListLayout:
    _expect(text, start, "[")
    i = _ws(text, start + 1)
    leading = text[start + 1 : i]
    tokens: list[tuple[int, str]] = []
    seps: list[str] = []
    if text[i] == "]":
        return _ListLayout(leading, tokens, seps, "")
    while True:
        _expect(text, i, '"')
        _, j = scanstring(text, i + 1)
        tokens.append((i, text[i:j]))
        k = _ws(text, j)
        _expect(text, k, ",]")
        if text[k] == "]":
            return _ListLayout(leading, tokens, seps, text[j:k])
        n = _ws(text, k + 1)
        seps.append(text[j:n])
        i = n


def _token_offsets(tok: str) -> list[int]:
    """Offset in the raw JSON string token of each decoded character, plus the
    offset of the closing quote."""
    offs: list[int] = []
    i, n = 1, len(tok) - 1
    while i < n:
        offs.append(i)
        if tok[i] != "\\":
            i += 1
        elif tok[i + 1] != "u":
            i += 2
        else:
            cp = int(tok[i + 2 : i + 6], 16)
            if 0xD800 <= cp < 0xDC00 and tok.startswith("\\u", i + 6):
                try:
                    low = int(tok[i + 8 : i + 12], 16)
                except ValueError:
                    low = 0
                if 0xDC00 <= low < 0xE000:  # a surrogate pair decodes to one character
                    i += 12
                    continue
            i += 6
    offs.append(n)
    return offs


_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _uses_ascii_escapes(text: str) -> bool:
    """True if the file escapes non-ASCII characters (json.dump's default
    ensure_ascii=True) rather than writing them as UTF-8 (Jupyter's style)."""
    if not text.isascii():
        return False
    for m in _UESC_RE.finditer(text):
        if int(m.group(1), 16) < 0x80:
            continue
        k = m.start()
        while k > 0 and text[k - 1] == "\\":
            k -= 1
        if (m.start() - k) % 2 == 0:  # the backslash is not itself escaped
            return True
    return False


# --------------------------------------------------------------------------
# The notebook


@dataclass
class _Cell:
    number: int  # 1-based among all cells
    text: str  # the cell's code
    masked: str  # masked code as it appears in source (always ends with a line break if non-empty)
    added_newline: bool
    marker: str  # the marker line before it in source, with "\n"
    placeholders: dict[str, str]
    start_line: int  # 1-based line of source where the cell's code starts
    n_lines: int
    span: tuple[int, int]  # of the "source" value in the notebook text
    is_list: bool
    elements: list[str]  # the JSON list elements (or [text] for a string source)


@dataclass
class Notebook:
    """A parsed notebook. ``source`` is the Python program the engine analyses."""

    source: str
    _raw: bytes = field(default=b"", repr=False, compare=False)
    _bom: bytes = field(default=b"", repr=False, compare=False)
    _text: str = field(default="", repr=False, compare=False)
    _data: dict = field(default_factory=dict, repr=False, compare=False)
    _cells: list[_Cell] = field(default_factory=list, repr=False, compare=False)
    _ascii_style: bool | None = field(default=None, repr=False, compare=False)
    _line_starts: list[int] | None = field(default=None, repr=False, compare=False)

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
        lines = _split_lines(cell.text)
        if not lines or not cell.elements:
            return self._text_position(cell.span[0])
        cline = min(cline, len(lines))
        body = _split_eol(lines[cline - 1])[0]
        offset = sum(len(x) for x in lines[: cline - 1]) + min(max(column - 1, 0), len(body))
        if cell.is_list:
            tokens = _list_layout(self._text, *cell.span).tokens
        else:
            tokens = [(cell.span[0], self._text[cell.span[0] : cell.span[1]])]
        for (pos, tok), elem in zip(tokens, cell.elements):
            if offset < len(elem) or (pos, tok) == tokens[-1]:
                offs = _token_offsets(tok)
                return self._text_position(pos + offs[min(offset, len(offs) - 1)])
            offset -= len(elem)
        return self._text_position(cell.span[0])  # pragma: no cover

    def _text_position(self, pos: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        k = bisect.bisect_right(self._line_starts, pos) - 1
        return (k + 1, pos - self._line_starts[k] + 1)

    # -- mapping an edited source back ----------------------------------------

    def _segments(self, new_source: str) -> list[str]:
        """Split an edited source into the masked code of each cell."""
        segments: list[list[str]] = []
        k = 0
        for ln in _split_lines(new_source):
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

    def _unmask(self, cell: _Cell, segment: str) -> str:
        out: list[str] = []
        seen: set[str] = set()
        for ln in _split_lines(segment):
            body, eol = _split_eol(ln)
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
            masked_bodies = [_split_eol(ln)[0] for ln in _split_lines(cell.masked)]
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

    def changed_cells(self, new_source: str) -> list[tuple[int, str, str]]:
        """[(cell number, old cell text, new cell text)] for cells whose code changed."""
        changed = []
        for cell, segment in zip(self._cells, self._segments(new_source)):
            if segment != cell.masked:
                new_text = self._unmask(cell, segment)
                if new_text != cell.text:
                    changed.append((cell.number, cell.text, new_text))
        return changed

    def _rewrite(self, new_source: str) -> tuple[str, list[tuple[int, int, str, int]]]:
        """The new notebook text and its replacements [(start, end, value, cell number)]."""
        changes = self.changed_cells(new_source)
        if not changes:
            return self._text, []
        by_number = {c.number: c for c in self._cells}
        replacements = []
        for number, _old, new_text in changes:
            cell = by_number[number]
            start, end = cell.span
            if start < 0:
                raise NotebookError('edited source can\'t be mapped back: the cell has no "source" to write to', cell=number)
            value = self._encode_list(cell, new_text) if cell.is_list else self._encode_string(cell, new_text)
            replacements.append((start, end, value, number))
        replacements.sort()
        parts, pos = [], 0
        for start, end, value, _number in replacements:
            parts += [self._text[pos:start], value]
            pos = end
        parts.append(self._text[pos:])
        text = "".join(parts)
        self._verify(text, {n: t for n, _o, t in changes})
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
        old = self._text
        starts = [0] + [m.end() for m in re.finditer("\n", old)]

        def line_of(pos: int) -> int:  # 0-based line holding old[pos]
            return bisect.bisect_right(starts, pos) - 1

        def line_end(k: int) -> int:  # offset just past line k
            return starts[k + 1] if k + 1 < len(starts) else len(old)

        # Regions: runs of old lines holding replaced text (merged when they share lines).
        regions: list[list] = []  # [first line, last line, [replacements]]
        for rep in replacements:
            first, last = line_of(rep[0]), line_of(max(rep[1] - 1, rep[0]))
            if regions and first <= regions[-1][1]:
                regions[-1][1] = max(regions[-1][1], last)
                regions[-1][2].append(rep)
            else:
                regions.append([first, last, [rep]])
        a = _split_nl(old)
        b: list[str] = []
        opcodes: list[tuple[str, int, int, int, int]] = []
        labels: list[tuple[int, list[int]]] = []  # (first old line of a region, its cells)
        ai = 0
        for first, last, reps in regions:
            if first > ai:
                opcodes.append(("equal", ai, first, len(b), len(b) + first - ai))
                b.extend(a[ai:first])
            pieces, pos = [], starts[first]
            for start, end, value, _number in reps:
                pieces += [old[pos:start], value]
                pos = end
            pieces.append(old[pos : line_end(last)])
            new_lines = _split_nl("".join(pieces))
            b0 = len(b)
            matcher = difflib.SequenceMatcher(None, a[first : last + 1], new_lines, autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                opcodes.append((tag, first + i1, first + i2, b0 + j1, b0 + j2))
            b.extend(new_lines)
            labels.append((first, [rep[3] for rep in reps]))
            ai = last + 1
        if ai < len(a):
            opcodes.append(("equal", ai, len(a), len(b), len(b) + len(a) - ai))
            b.extend(a[ai:])
        if self._bom:  # the byte order mark is part of the file's first line
            a[0], b[0] = "\ufeff" + a[0], "\ufeff" + b[0]

        out = [f"--- {fromfile}\n", f"+++ {tofile}\n"]
        for group in _Opcodes(opcodes).get_grouped_opcodes(context):
            cells: list[int] = []
            for tag, i1, _i2, _j1, _j2 in group:
                if tag != "equal":
                    k = bisect.bisect_right([f for f, _c in labels], i1) - 1
                    cells += [c for c in labels[max(k, 0)][1] if c not in cells]
            label = ("cell " if len(cells) == 1 else "cells ") + ", ".join(map(str, cells))
            i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
            out.append(f"@@ -{_hunk_range(i1, i2)} +{_hunk_range(j1, j2)} @@ {label}\n")
            for tag, x1, x2, y1, y2 in group:
                if tag == "equal":
                    out.extend(_diff_lines(" ", a[x1:x2]))
                    continue
                out.extend(_diff_lines("-", a[x1:x2]))
                out.extend(_diff_lines("+", b[y1:y2]))
        return "".join(out)

    # -- encoding --------------------------------------------------------------

    @property
    def _ascii(self) -> bool:
        if self._ascii_style is None:
            self._ascii_style = _uses_ascii_escapes(self._text)
        return self._ascii_style

    def _encode_inner(self, s: str) -> str:
        enc = json.dumps(s, ensure_ascii=self._ascii)[1:-1]
        if not self._ascii:
            enc = _SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", enc)
        return enc

    def _encode_string(self, cell: _Cell, new_text: str) -> str:
        """Re-encode a string-valued source, keeping the raw bytes of unchanged lines."""
        tok = self._text[cell.span[0] : cell.span[1]]
        offs = _token_offsets(tok)
        old_lines, new_lines = _split_lines(cell.text), _split_lines(new_text)
        raw_lines, pos = [], 0
        for ln in old_lines:
            raw_lines.append(tok[offs[pos] : offs[pos + len(ln)]])
            pos += len(ln)
        parts: list[str] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
            if op == "equal":
                parts.extend(raw_lines[i1:i2])
            else:
                parts.extend(self._encode_inner(ln) for ln in new_lines[j1:j2])
        return '"' + "".join(parts) + '"'

    def _encode_list(self, cell: _Cell, new_text: str) -> str:
        """Re-encode a list-valued source in the layout of the old one, keeping
        the raw bytes of the unchanged elements."""
        layout = _list_layout(self._text, *cell.span)
        old = cell.elements
        split: Callable[[str], list[str]]
        if old == _split_nl(cell.text):
            split = _split_nl
        elif old == _splitlines_keepends(cell.text):
            split = _splitlines_keepends
        elif len(old) == 1:
            split = lambda t: [t] if t else []
        else:
            split = _splitlines_keepends
        new = split(new_text)
        tokens: list[str] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if op == "equal":
                tokens.extend(tok for _pos, tok in layout.tokens[i1:i2])
            else:
                tokens.extend('"' + self._encode_inner(e) + '"' for e in new[j1:j2])
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

    def _verify(self, text: str, new_sources: dict[int, str]) -> None:
        """The spliced notebook must decode to the original with only the
        changed cells' source replaced."""
        try:
            data = json.loads(text, parse_constant=_constant)
        except ValueError as e:  # pragma: no cover - defensive
            raise NotebookError(f"internal error: the rewritten notebook is not valid JSON ({e})") from None
        expected_cells = []
        for number, cell in enumerate(self._data["cells"], 1):
            if number in new_sources:
                src = data["cells"][number - 1]["source"]
                if ("".join(src) if isinstance(src, list) else src) != new_sources[number]:
                    raise NotebookError("internal error: a rewritten cell does not hold the new code", cell=number)
                cell = dict(cell, source=src)
            expected_cells.append(cell)
        if data != dict(self._data, cells=expected_cells):
            raise NotebookError("internal error: the rewritten notebook differs outside the changed cells")


class _Opcodes(difflib.SequenceMatcher):
    """difflib's hunk grouping over opcodes computed elsewhere."""

    def __init__(self, opcodes: list[tuple[str, int, int, int, int]]):
        super().__init__(None, [], [])
        merged: list[tuple[str, int, int, int, int]] = []
        for op in opcodes:
            if op[1] == op[2] and op[3] == op[4]:
                continue
            if merged and op[0] == "equal" and merged[-1][0] == "equal":
                tag, i1, _i2, j1, _j2 = merged.pop()
                op = (tag, i1, op[2], j1, op[4])
            merged.append(op)
        self._given = merged

    def get_opcodes(self):  # type: ignore[override]
        return list(self._given)


def _hunk_range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _diff_lines(prefix: str, lines: list[str]) -> list[str]:
    out = []
    for ln in lines:
        if ln.endswith("\n"):
            out.append(prefix + ln)
        else:
            out.append(prefix + ln + "\n\\ No newline at end of file\n")
    return out


# --------------------------------------------------------------------------
# Parsing


def _constant(name: str) -> str:
    # NaN/Infinity (Python's json writes them) as comparable values
    return f"\0{name}"


def _cell_language(cell: dict) -> str | None:
    meta = cell.get("metadata")
    if isinstance(meta, dict):
        vscode = meta.get("vscode")
        if isinstance(vscode, dict) and isinstance(vscode.get("languageId"), str):
            return vscode["languageId"]
    return None


def _choose_tag(texts: list[str]) -> str:
    """The tag of the marker and placeholder comments: one that no cell contains."""
    joined = "\n".join(texts)
    for k in itertools.count():
        tag = "trainfix" if k == 0 else f"trainfix{k}"
        if f"{tag}-mask-" not in joined and f"[{tag} cell " not in joined:
            return tag
    raise AssertionError  # pragma: no cover


def parse_notebook(raw: bytes) -> Notebook:
    """Read a notebook. Raises NotebookError for invalid JSON, nbformat < 4,
    no cells, a non-Python kernel, or a code cell that isn't Python even with
    its IPython syntax masked."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    try:
        text = raw[len(bom) :].decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"not valid UTF-8 (byte {e.start})") from None
    try:
        data = json.loads(text, parse_constant=_constant)
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
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        for key, sub in (("kernelspec", "language"), ("language_info", "name")):
            info = metadata.get(key)
            lang = info.get(sub) if isinstance(info, dict) else None
            if isinstance(lang, str) and lang and not lang.lower().startswith(_PYTHON_LANGUAGES):
                raise NotPythonNotebookError(f"the notebook's kernel language is {lang}, not Python")
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotebookError('not a Jupyter notebook: no "cells" list')
    if not cells:
        raise NotebookError("the notebook has no cells")

    # The code of every code cell.
    codes: list[tuple[int, str, bool, list[str]]] = []  # (number, text, is_list, elements)
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError('not a notebook cell (no "cell_type")', cell=number)
        if cell["cell_type"] != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, str):
            codes.append((number, src, False, [src]))
        elif isinstance(src, list) and all(isinstance(s, str) for s in src):
            codes.append((number, "".join(src), True, list(src)))
        else:
            raise NotebookError('code cell has an invalid "source" (not a string or a list of strings)', cell=number)

    spans = _cell_source_spans(text)
    if len(spans) != len(cells):  # pragma: no cover - defensive
        raise NotebookError("internal error: could not locate the cells in the notebook JSON")

    tag = _choose_tag([t for _n, t, _l, _e in codes])
    ids = itertools.count(1)
    parts: list[str] = []
    nb_cells: list[_Cell] = []
    line_no = 1
    for number, ctext, is_list, elements in codes:
        lang = _cell_language(cells[number - 1])
        if lang is not None and not lang.lower().startswith(_PYTHON_LANGUAGES):
            continue
        masked = _mask_cell(ctext, tag, ids)
        if masked is None:  # %%bash, %%writefile, ...
            continue
        mtext = "".join(masked.lines)
        try:
            wrap = _check_cell(mtext)
        except SyntaxError as e:
            raise NotebookError(
                f"code cell does not parse as Python (even with IPython syntax masked): {e.msg}",
                cell=number,
                line=e.lineno,
            ) from None
        added_newline = bool(mtext) and not mtext.endswith(("\n", "\r"))
        if added_newline:
            mtext += "\n"
        marker = f"# %% [{tag} cell {number}]\n"
        if wrap:
            marker = "if True:  " + marker
        span = spans[number - 1]
        if span is None:  # no "source" key: nothing to write back to
            if ctext:  # pragma: no cover - impossible
                raise NotebookError("internal error: cell source not found", cell=number)
            span = (-1, -1)
        else:
            value = json.loads(text[span[0] : span[1]])
            if value != cells[number - 1]["source"]:  # pragma: no cover - defensive
                raise NotebookError("internal error: cell source located wrongly", cell=number)
        n_lines = len(_split_lines(mtext))
        nb_cells.append(
            _Cell(
                number=number,
                text=ctext,
                masked=mtext,
                added_newline=added_newline,
                marker=marker,
                placeholders=masked.placeholders,
                start_line=line_no + 1,
                n_lines=n_lines,
                span=span,
                is_list=is_list,
                elements=elements if is_list else [ctext],
            )
        )
        parts.append(marker)
        parts.append(mtext)
        line_no += 1 + n_lines

    source = "".join(parts)
    nb = Notebook(
        source=source,
        _raw=raw,
        _bom=bom,
        _text=text,
        _data=data,
        _cells=nb_cells,
    )
    try:
        _parse(source)
    except SyntaxError as e:  # defensive: the cells parse one by one
        cell, line = nb.locate(e.lineno) if e.lineno else (None, None)
        raise NotebookError(
            f"the code cells do not parse as one program: {e.msg}", cell=cell, line=line
        ) from None
    return nb
