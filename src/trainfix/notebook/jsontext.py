"""Reading the raw text of a notebook's JSON: where each cell's ``source``
value is, the raw string tokens of a source list and the offset of each
character in them, and how the file escapes characters (so that new text is
written in the file's own style). ``json`` decodes values; this module only
finds the bytes that hold them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import NotebookError

Span = tuple[int, int]  # [start, end) offsets of a value in the notebook text

_WS_RE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def load(text: str) -> Any:  # Any: what json.loads returns
    """The decoded JSON; NaN and Infinity (Python's json writes them) as
    comparable values."""
    return json.loads(text, parse_constant=_constant)


def _constant(name: str) -> str:
    return f"\0{name}"


@dataclass(frozen=True)
class StoredSource:
    """How the notebook text stores a code cell's "source" value."""

    span: Span
    is_list: bool  # a list of strings, else one string
    elements: list[str]  # the list's elements, or [the string]

    @property
    def text(self) -> str:
        """The cell's code."""
        return "".join(self.elements)


def _ws(text: str, i: int) -> int:
    """The index of the first non-whitespace character at or after i."""
    m = _WS_RE.match(text, i)
    return m.end() if m else i  # the pattern matches the empty string: m is never None


def _expect(text: str, i: int, chars: str) -> None:
    if i >= len(text) or text[i] not in chars:
        raise NotebookError("internal error: could not locate the cell sources in the notebook JSON")


def _skip_value(text: str, i: int) -> int:
    """The end of the JSON value at text[i]."""
    return _DECODER.raw_decode(text, i)[1]


def _scan_object(text: str, i: int) -> tuple[int, dict[str, Span]]:
    """Scan the JSON object at text[i]; return (end, {key: span of its value})."""
    _expect(text, i, "{")
    spans: dict[str, Span] = {}
    i = _ws(text, i + 1)
    if text[i] == "}":
        return i + 1, spans
    while True:
        _expect(text, i, '"')
        key, i = _DECODER.raw_decode(text, i)
        i = _ws(text, i)
        _expect(text, i, ":")
        start = _ws(text, i + 1)
        i = _skip_value(text, start)
        spans[key] = (start, i)  # last duplicate wins, as in json.loads
        i = _ws(text, i)
        _expect(text, i, ",}")
        if text[i] == "}":
            return i + 1, spans
        i = _ws(text, i + 1)


def cell_source_spans(text: str) -> list[Span | None]:
    """Span of each cell's "source" value in the notebook text (None if absent)."""
    _, top = _scan_object(text, _ws(text, 0))
    if "cells" not in top:
        return []
    i = top["cells"][0]
    _expect(text, i, "[")
    spans: list[Span | None] = []
    i = _ws(text, i + 1)
    if text[i] == "]":
        return spans
    while True:
        if text[i] == "{":
            i, members = _scan_object(text, i)
            spans.append(members.get("source"))
        else:
            i = _skip_value(text, i)
            spans.append(None)
        i = _ws(text, i)
        _expect(text, i, ",]")
        if text[i] == "]":
            return spans
        i = _ws(text, i + 1)


@dataclass
class ListLayout:
    """The raw text of a JSON list of strings: what surrounds its elements and
    separates them, and each element's raw token."""

    leading: str
    tokens: list[tuple[int, str]]  # (offset in the notebook text, raw JSON string token)
    seps: list[str]
    trailing: str


def list_layout(text: str, span: Span) -> ListLayout:
    """The layout of the list of strings at `span` of the notebook text."""
    start = span[0]
    _expect(text, start, "[")
    i = _ws(text, start + 1)
    layout = ListLayout(text[start + 1 : i], [], [], "")
    if text[i] == "]":
        return layout
    while True:
        _expect(text, i, '"')
        j = _skip_value(text, i)
        layout.tokens.append((i, text[i:j]))
        k = _ws(text, j)
        _expect(text, k, ",]")
        if text[k] == "]":
            layout.trailing = text[j:k]
            return layout
        i = _ws(text, k + 1)
        layout.seps.append(text[j:i])


def token_offsets(tok: str) -> list[int]:
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
            i += 12 if _is_surrogate_pair(tok, i) else 6
    offs.append(n)
    return offs


def _is_surrogate_pair(tok: str, i: int) -> bool:
    """True if the \\u escape at tok[i] and the next one decode to one character."""
    if not 0xD800 <= int(tok[i + 2 : i + 6], 16) < 0xDC00 or not tok.startswith("\\u", i + 6):
        return False
    try:
        low = int(tok[i + 8 : i + 12], 16)
    except ValueError:
        return False
    return 0xDC00 <= low < 0xE000


def uses_ascii_escapes(text: str) -> bool:
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


def encode_chars(s: str, ascii_style: bool) -> str:
    """`s` as the inside of a JSON string token (no quotes), non-ASCII
    characters escaped with `ascii_style`, else as UTF-8 (lone surrogates,
    which UTF-8 can't hold, always escaped)."""
    enc = json.dumps(s, ensure_ascii=ascii_style)[1:-1]
    if not ascii_style:
        enc = _SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", enc)
    return enc


def stored_offset(text: str, source: StoredSource, offset: int) -> int:
    """The offset in the notebook `text` where character `offset` of the
    cell's code is stored (past the end: the end of the last element)."""
    start, end = source.span
    tokens = list_layout(text, source.span).tokens if source.is_list else [(start, text[start:end])]
    for (pos, tok), elem in zip(tokens, source.elements):
        if offset < len(elem) or (pos, tok) == tokens[-1]:
            offs = token_offsets(tok)
            return pos + offs[min(offset, len(offs) - 1)]
        offset -= len(elem)
    return start  # pragma: no cover
