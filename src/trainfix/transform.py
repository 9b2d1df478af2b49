"""Text edits for the `training` argument, spliced into the original source.

The module is never re-printed: each fix is a small `Edit` at the position of
the argument it changes, so every other byte (comments, trailing commas,
alignment, form feeds, CRLF) is kept. Layout rules for an inserted argument:

- one-line call or a last argument sharing its line: append `, training=True`;
- last argument on its own line, magic trailing comma: a new `training=True,`
  line before the closing bracket's line, at the last argument's indentation;
- last argument on its own line, no trailing comma: a comma right after the
  argument (before any comment) and `training=True` on a new line.
"""
from __future__ import annotations

import ast
import bisect
import functools
import re
from dataclasses import dataclass
from typing import NamedTuple, Protocol

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, order=True)
class Edit:
    start: int
    end: int
    text: str


class Located(Protocol):
    """A node with a source span (an expression, a keyword argument, a statement)."""

    @property
    def lineno(self) -> int: ...
    @property
    def col_offset(self) -> int: ...
    @property
    def end_lineno(self) -> int | None: ...
    @property
    def end_col_offset(self) -> int | None: ...


class LineIndex:
    """Maps `ast` positions (1-based line, UTF-8 byte column) to string offsets."""

    def __init__(self, text: str):
        self.text = text

    @functools.cached_property
    def starts(self) -> list[int]:  # built on first use: most analysed files have no call site to place
        return [0] + [m.end() for m in _NEWLINE.finditer(self.text)]

    def offset(self, line: int, col: int) -> int:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        chunk = self.text[start:end]
        if chunk.isascii():
            return start + col
        return start + len(chunk.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def start_of(self, node: Located) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end_of(self, node: Located) -> int:
        """Where a parsed node ends (a parsed node always has its end position)."""
        return self.offset(node.end_lineno or 0, node.end_col_offset or 0)

    def lines_with(self, word: str) -> list[int]:
        """The 1-based lines whose text holds `word`, in order (repeated when it occurs twice on a line).
        Without the line starts yet, the line breaks between two occurrences are counted instead: a big
        module with a few occurrences and nothing to report never needs them."""
        text = self.text
        out: list[int] = []
        line, since = 1, 0
        at = text.find(word)
        while at >= 0:
            if "starts" in self.__dict__:
                out.append(bisect.bisect_right(self.starts, at))
            else:  # (an occurrence of the word is never inside a \r\n: the counts add up)
                line += text.count("\n", since, at) + text.count("\r", since, at) - text.count("\r\n", since, at)
                out.append(line)
                since = at
            at = text.find(word, at + 1)
        return out

    def line_start(self, offset: int) -> int:
        return self.starts[bisect.bisect_right(self.starts, offset) - 1]

    def newline_after(self, offset: int) -> str:
        m = _NEWLINE.search(self.text, offset)
        if m:
            return m.group()
        m = _NEWLINE.search(self.text)
        return m.group() if m else "\n"


def training_edit(index: LineIndex, call: ast.Call, where: str, value: str) -> Edit | None:
    """The edit that makes `call` pass `training=<value>`; None when no safe layout exists."""
    text = index.text
    if where == "keyword":
        kw = next(k for k in call.keywords if k.arg == "training")
        return Edit(index.start_of(kw.value), index.end_of(kw.value), value)
    if where == "positional":
        arg = call.args[1]
        start, end = index.start_of(arg), index.end_of(arg)
        before = text[:start].rstrip(" \t\f\r\n\\")
        if not before.endswith(",") or text[start:end] not in ("True", "False"):
            return None  # a parenthesised literal or a comment in the way
        return Edit(start, end, f"training={value}")
    return _insert(index, call, f"training={value}")


class _Tail(NamedTuple):
    """What follows the last argument before `)`: where the argument really ends (after any grouping
    parentheses) and the trailing comma's offset, if any."""

    arg_end: int
    comma: int | None


def _tail(text: str, arg_end: int, close: int) -> _Tail | None:
    """Scan grouping parens, a comma and comments between the last argument and `)`; None when
    anything else is there."""
    comma = None
    i = arg_end
    while i < close:
        c = text[i]
        if c == "#":
            while i < close and text[i] not in "\r\n":
                i += 1
            continue
        if c == ")" and comma is None:
            arg_end = i + 1
        elif c == "," and comma is None:
            comma = i
        elif c not in " \t\f\r\n\\":
            return None
        i += 1
    return _Tail(arg_end, comma)


def _last_argument(call: ast.Call) -> ast.expr | ast.keyword:
    args: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    return max(args, key=lambda a: (a.end_lineno or 0, a.end_col_offset or 0))


def _insert(index: LineIndex, call: ast.Call, new_arg: str) -> Edit | None:
    text = index.text
    close = index.end_of(call) - 1
    if text[close] != ")":
        return None
    if not call.args and not call.keywords:
        open_paren = text.rfind("(", index.end_of(call.func), close + 1)
        if open_paren < 0 or text[open_paren + 1:close].strip():
            return None
        return Edit(close, close, new_arg)
    last = _last_argument(call)
    last_start = index.start_of(last.value if isinstance(last, ast.keyword) and last.arg is None else last)
    if isinstance(last, ast.keyword) and last.arg is not None:
        last_start = index.start_of(last)
    tail = _tail(text, index.end_of(last), close)
    if tail is None:
        return None
    return _layout(index, last_start, tail, close, new_arg)


def _layout(index: LineIndex, last_start: int, tail: _Tail, close: int, new_arg: str) -> Edit:
    """The edit for the layout rules in the module's docstring."""
    text = index.text
    line_start = index.line_start(last_start)
    prefix = text[line_start:last_start]
    own_line = prefix.strip(" \t\f(") == ""
    indent = prefix[: len(prefix) - len(prefix.lstrip(" \t\f"))] if own_line else ""
    if own_line and "(" in prefix:
        indent = prefix[: prefix.index("(")]
    arg_end, comma = tail
    eol = index.newline_after(arg_end)
    if comma is not None:
        breaks = list(_NEWLINE.finditer(text[comma + 1:close]))
        if own_line and breaks:
            at = comma + 1 + breaks[-1].end()
            return Edit(at, at, f"{indent}{new_arg},{eol}")
        return Edit(comma + 1, comma + 1, f" {new_arg},")
    if own_line:
        m = _NEWLINE.search(text, arg_end, close)
        at = m.start() if m else close
        # the comma goes right after the argument, the new line before the line's newline
        return Edit(arg_end, at, f",{text[arg_end:at]}{eol}{indent}{new_arg}")
    return Edit(arg_end, arg_end, f", {new_arg}")


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (raises ValueError on overlap)."""
    out = []
    pos = len(text)
    for edit in sorted(edits, reverse=True):
        if edit.end > pos:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        out.append(text[edit.end:pos])
        out.append(edit.text)
        pos = edit.start
    out.append(text[:pos])
    return "".join(reversed(out))
