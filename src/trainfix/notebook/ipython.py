"""Masking the IPython syntax of a code cell so that Python can parse it.

Line magics, ``!`` shell escapes, ``?``/``??`` help, ``x = !cmd`` / ``x =
%magic`` assignments and a ``%%time``-style first line are replaced line for
line by a placeholder statement with the same indentation, so that line
numbers and the columns of every other line are unchanged. Placeholders carry
a tag no cell contains, so they can be found and restored exactly.
"""

from __future__ import annotations

import ast
import re
import symtable
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from .lines import split_eol, split_lines

# Cell magics whose body is Python run in the kernel's namespace.
_PY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "mprun", "px"})
_CELL_MAGIC_RE = re.compile(r"%%(\S*)")
# IPython's escape characters at the start of a logical line.
_ESCAPES = frozenset("!%?/,;")
_MAGIC_RHS_RE = re.compile(r"!|%[A-Za-z_%]")
_MAGIC_ASSIGN_RE = re.compile(r"=\s*(?:!|%[A-Za-z_%])")  # anywhere `x = !cmd` / `x = %magic` could be
# characters that make a following `=` part of an operator (`<=`, `+=`, `:=`, ...)
_OPERATOR_CHARS = "=!<>:+-*/%&|^@"


@dataclass
class _LineScan:
    """What a scan of one physical line of Python found.

    ``depth`` and ``quote`` (an open string's quote) carry over to the next
    line; ``first_eq`` is the index of the first plain ``=`` at bracket depth
    0 and ``last`` the index of the last significant character outside
    strings and comments."""

    depth: int = 0
    quote: str | None = None
    continued: bool = False  # the line ends with a backslash continuation
    first_eq: int | None = None
    last: int | None = None


def _scan_line(body: str, depth: int = 0, quote: str | None = None) -> _LineScan:
    """Scan one physical line (without its line break) of Python, starting at
    bracket depth `depth` and inside the string `quote` if not None. An
    unterminated single-quoted string ends at the line break (as in IPython's
    tokenizer)."""
    scan = _LineScan(depth, quote)
    i, n = 0, len(body)
    while i < n:
        if scan.quote is not None:
            i = _in_string(body, i, scan.quote, scan)
        elif body[i] == "#":
            break
        elif body[i] == "\\" and i == n - 1:
            scan.continued = True
            break
        else:
            i = _in_code(body, i, scan)
    if scan.quote is not None and len(scan.quote) == 1 and not scan.continued:
        scan.quote = None
    return scan


def _in_string(body: str, i: int, quote: str, scan: _LineScan) -> int:
    """Scan inside the string opened by `quote` from body[i] to just past its
    closing quote (or the end of the line)."""
    n = len(body)
    while i < n:
        if body[i] == "\\":
            if i == n - 1:
                scan.continued = True
            i += 2
        elif body.startswith(quote, i):
            i += len(quote)
            scan.quote, scan.last = None, i - 1
            return i
        else:
            i += 1
    return i


def _in_code(body: str, i: int, scan: _LineScan) -> int:
    """Scan the code character body[i] (not a comment or a line continuation);
    return the index of the next one."""
    c = body[i]
    if c in "'\"":
        scan.quote = c * 3 if body.startswith(c * 3, i) else c
        return i + len(scan.quote)
    if c in "([{":
        scan.depth += 1
    elif c in ")]}":
        scan.depth = max(scan.depth - 1, 0)
    elif c == "=" and scan.depth == 0:
        if body.startswith("==", i):
            scan.last = i + 1
            return i + 2
        if scan.first_eq is None and (i == 0 or body[i - 1] not in _OPERATOR_CHARS):
            scan.first_eq = i
    if not c.isspace():
        scan.last = i
    return i + 1


@dataclass
class Masked:
    """A masked cell: its lines, and each placeholder (without its line break)
    with the original line it replaces."""

    lines: list[str]
    placeholders: dict[str, str] = field(default_factory=dict)


class _Masker:
    """Masks the lines of one cell, statement by statement."""

    def __init__(self, lines: list[str], tag: str, ids: Iterator[int]):
        self.lines = lines
        self.tag = tag
        self.ids = ids
        self.masked = Masked(list(lines))

    def mask(self, k: int, indent: str, lhs: str | None = None) -> None:
        """Replace line k by a placeholder: `lhs= None` for an assignment, else `pass`."""
        body, eol = split_eol(self.lines[k])
        pid = next(self.ids)
        if lhs is not None and "(" not in lhs:
            placeholder = f"{lhs}= None  # {self.tag}-mask-{pid}"
        else:
            placeholder = f"{indent}pass  # {self.tag}-mask-{pid}"
        self.masked.placeholders[placeholder] = body
        self.masked.lines[k] = placeholder + eol

    def mask_continued(self, k: int, indent: str, lhs: str | None = None) -> int:
        """Mask line k and its backslash continuation lines; return the next line."""
        self.mask(k, indent, lhs)
        while split_eol(self.lines[k])[0].endswith("\\") and k + 1 < len(self.lines):
            k += 1
            self.mask(k, indent)
        return k + 1

    def statement(self, k: int) -> int:
        """Mask the logical line starting at line k if it is IPython syntax;
        return the line after it."""
        body = split_eol(self.lines[k])[0]
        stripped = body.lstrip()
        indent = body[: len(body) - len(stripped)]
        if stripped[:1] in _ESCAPES:  # !cmd, %magic, ?obj, ??obj, /f, ,f, ;f
            return self.mask_continued(k, indent)
        end, first, last = self._logical_line(k)
        if first.first_eq is not None and _MAGIC_RHS_RE.match(body[first.first_eq + 1 :].lstrip()):
            # x = !cmd, x = %magic
            return self.mask_continued(k, indent, lhs=body[: first.first_eq])
        if last.last is not None and split_eol(self.lines[end])[0][last.last] == "?":  # obj?, obj??
            for m in range(k, end + 1):
                self.mask(m, indent)
        return end + 1

    def _logical_line(self, k: int) -> tuple[int, _LineScan, _LineScan]:
        """The last line of the Python logical line starting at line k, and
        the scans of its first and last lines."""
        j = k
        first = scan = _scan_line(split_eol(self.lines[k])[0])
        while (scan.depth or scan.quote is not None or scan.continued) and j + 1 < len(self.lines):
            j += 1
            scan = _scan_line(split_eol(self.lines[j])[0], scan.depth, scan.quote)
        return j, first, scan


def plain(text: str, lines: list[str]) -> bool:
    """Whether nothing in the cell can be masked, without scanning its logical lines character by
    character: no line starts with an escape (nor a cell magic), no `?` anywhere, no `= !` / `= %x`."""
    return "?" not in text and not _MAGIC_ASSIGN_RE.search(text) and \
        not any(line.lstrip()[:1] in _ESCAPES for line in lines)


def mask_cell(text: str, tag: str, ids: Iterator[int]) -> Masked | None:
    """Mask the IPython syntax of one code cell; None if the cell isn't Python
    (a cell magic such as ``%%bash``). `ids` numbers the placeholders."""
    lines = split_lines(text)
    if plain(text, lines):
        return Masked(lines)
    masker = _Masker(lines, tag, ids)
    k = 0
    first = next((j for j, ln in enumerate(lines) if ln.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        magic = _CELL_MAGIC_RE.match(lines[first])
        if magic is None or magic.group(1) not in _PY_CELL_MAGICS:
            return None
        masker.mask(first, "")
        k = first + 1
    while k < len(lines):
        k = masker.statement(k)
    return masker.masked


def parse(text: str) -> None:
    """Raise SyntaxError if `text` is not Python (without warnings), as `ast.parse` would.

    `symtable` runs CPython's parser without building the tree's Python objects (a third of the cost);
    it also refuses a few things `ast.parse` accepts (`nonlocal` at module level): only what it refuses
    is parsed again, by `ast.parse`, which decides."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            symtable.symtable(text, "<cell>", "exec")
            return
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            pass
        try:
            ast.parse(text)
        except ValueError as e:  # null bytes on Python < 3.12
            err = SyntaxError(str(e))
            err.lineno = None
            raise err from None


def check_cell(masked: str) -> bool:
    """Raise SyntaxError if the masked cell isn't Python. Returns True when the
    cell is indented as a whole (IPython dedents it) and must be wrapped."""
    try:
        parse(masked)
        return False
    except SyntaxError as e:
        if isinstance(e, IndentationError) and "unexpected indent" in str(e.msg):
            try:
                parse("if True:\n" + masked)
                return True
            except SyntaxError:
                pass
        raise
