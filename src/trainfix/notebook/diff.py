"""A unified diff of the .ipynb text after splicing, hunks labelled by cell.

The diff is of the file itself (so ``git apply`` and ``patch`` can apply it),
computed only around the replaced source values: the lines between them are
known to be equal and are never compared.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass, field
from typing import Literal

from .lines import line_starts, split_nl
from .splice import Replacement, splice

Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]  # difflib's (tag, i1, i2, j1, j2)


def cell_diff(
    old: str, replacements: list[Replacement], fromfile: str, tofile: str, context: int, bom: bool
) -> str:
    """The diff of `old` (the notebook text, after a byte order mark if `bom`)
    with the sorted `replacements` made, each hunk header labelled with its
    cells: ``@@ -12,7 +12,7 @@ cell 7``."""
    regions = _regions(old, replacements)
    a, b, opcodes = _align(old, regions)
    if bom:  # the byte order mark is part of the file's first line
        a[0], b[0] = "\ufeff" + a[0], "\ufeff" + b[0]
    firsts = [r.first for r in regions]
    out = [f"--- {fromfile}\n", f"+++ {tofile}\n"]
    for group in _Opcodes(opcodes).get_grouped_opcodes(context):
        cells: list[int] = []
        for tag, i1, _i2, _j1, _j2 in group:
            if tag != "equal":
                k = max(bisect.bisect_right(firsts, i1) - 1, 0)
                cells += [c for c in regions[k].cells if c not in cells]
        label = ("cell " if len(cells) == 1 else "cells ") + ", ".join(map(str, cells))
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_hunk_range(i1, i2)} +{_hunk_range(j1, j2)} @@ {label}\n")
        for tag, x1, x2, y1, y2 in group:
            if tag != "equal":
                out.extend(_diff_lines("-", a[x1:x2]))
                out.extend(_diff_lines("+", b[y1:y2]))
            else:
                out.extend(_diff_lines(" ", a[x1:x2]))
    return "".join(out)


@dataclass
class _Region:
    """A run of old lines [first, last] holding replaced text, and what it becomes."""

    first: int
    last: int
    replacements: list[Replacement] = field(default_factory=list)
    new_lines: list[str] = field(default_factory=list)

    @property
    def cells(self) -> list[int]:
        return [rep.cell for rep in self.replacements]


def _regions(old: str, replacements: list[Replacement]) -> list[_Region]:
    """The regions of `old` the replacements touch, merged when they share a line."""
    starts = line_starts(old)
    regions: list[_Region] = []
    for rep in replacements:
        first = bisect.bisect_right(starts, rep.start) - 1
        last = bisect.bisect_right(starts, max(rep.end - 1, rep.start)) - 1
        if regions and first <= regions[-1].last:
            regions[-1].last = max(regions[-1].last, last)
            regions[-1].replacements.append(rep)
        else:
            regions.append(_Region(first, last, [rep]))
    for region in regions:
        end = starts[region.last + 1] if region.last + 1 < len(starts) else len(old)
        region.new_lines = split_nl(splice(old, region.replacements, starts[region.first], end))
    return regions


def _align(old: str, regions: list[_Region]) -> tuple[list[str], list[str], list[Opcode]]:
    """The old and new lines, and the opcodes turning one into the other:
    equal between regions, difflib's within each."""
    a = split_nl(old)
    b: list[str] = []
    opcodes: list[Opcode] = []
    ai = 0
    for region in regions:
        if region.first > ai:
            opcodes.append(("equal", ai, region.first, len(b), len(b) + region.first - ai))
            b.extend(a[ai : region.first])
        b0 = len(b)
        matcher = difflib.SequenceMatcher(None, a[region.first : region.last + 1], region.new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            opcodes.append((tag, region.first + i1, region.first + i2, b0 + j1, b0 + j2))
        b.extend(region.new_lines)
        ai = region.last + 1
    if ai < len(a):
        opcodes.append(("equal", ai, len(a), len(b), len(b) + len(a) - ai))
        b.extend(a[ai:])
    return a, b, opcodes


class _Opcodes(difflib.SequenceMatcher[str]):
    """difflib's hunk grouping over opcodes computed elsewhere."""

    def __init__(self, opcodes: list[Opcode]):
        super().__init__(None, [], [])
        merged: list[Opcode] = []
        for op in opcodes:
            if op[1] == op[2] and op[3] == op[4]:
                continue
            if merged and op[0] == "equal" and merged[-1][0] == "equal":
                tag, i1, _i2, j1, _j2 = merged.pop()
                op = (tag, i1, op[2], j1, op[4])
            merged.append(op)
        self._given = merged

    def get_opcodes(self) -> list[Opcode]:
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
