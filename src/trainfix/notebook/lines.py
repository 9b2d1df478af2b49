"""Splitting text into lines, in the conventions a notebook mixes."""

from __future__ import annotations

import re

# Python's own notion of a line break (what ast / LibCST count as lines).
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_NL_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Physical lines with their line breaks (\\r\\n, \\r or \\n)."""
    return _LINE_RE.findall(text)


def split_nl(text: str) -> list[str]:
    """Lines split after each \\n only (the usual .ipynb source list)."""
    return _NL_LINE_RE.findall(text)


def splitlines_keepends(text: str) -> list[str]:
    """nbformat's own convention (str.splitlines)."""
    return text.splitlines(True)


def split_eol(line: str) -> tuple[str, str]:
    """A line's body and its line break."""
    body = line.rstrip("\r\n")
    return body, line[len(body):]


def line_starts(text: str) -> list[int]:
    """Offset of the start of each \\n-separated line."""
    return [0] + [m.end() for m in re.finditer("\n", text)]
