"""What processing one file produced, as plain data: the runner fills it, the cache stores it, the report reads it.

Plain data only (no syntax trees), so outcomes cross process boundaries cheaply.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

from .findings import Finding


class WriteBack(enum.Enum):
    """What a run does with the fixes, decided once from the command line (black's `WriteBack`)."""

    CHECK = "check"  # report the findings; write nothing
    DIFF = "diff"  # print the fixes as a diff; write nothing
    WRITE = "write"  # write the fixes; report what remains

    @classmethod
    def of(cls, fix: bool, diff: bool) -> WriteBack:
        if diff:
            return cls.DIFF
        return cls.WRITE if fix else cls.CHECK


@dataclass(frozen=True)
class Skipped:
    """A call considered in a context and left alone, with the reason."""

    line: int
    column: int
    callee: str
    reason: str


@dataclass(frozen=True)
class CellMap:
    """A notebook's program positions in its cells, and in the .ipynb text (for the lines and points reported)."""

    cells: dict[int, tuple[int, int]]  # program line -> (cell, line in cell)
    positions: dict[tuple[int, int], tuple[int, int]]  # (program line, column) -> (file line, file column)

    def cell_line(self, line: int) -> tuple[int, int]:
        return self.cells[line]

    def file_position(self, line: int, column: int) -> tuple[int, int]:
        return self.positions[(line, column)]


@dataclass
class Texts:
    """What the findings' positions and edits refer to: the analysed text and the fixed one (empty when no
    finding needs them), and for a notebook, where its program's lines are in the cells and the file."""

    old: str = ""
    new: str = ""
    cells: CellMap | None = None
    ipynb_diff: str | None = None  # a notebook's diff of the .ipynb file itself, one hunk per cell


class Stamp(NamedTuple):
    """A file as read: size, mtime and content hash (the hash is empty when no cache asked for it)."""

    size: int
    mtime_ns: int
    digest: str


class Dependency(NamedTuple):
    """Another project module the analysis read; `imported` when the file imports it (its helpers may run
    in the file's steps)."""

    path: str
    size: int
    mtime_ns: int
    imported: bool


@dataclass
class FileOutcome:
    path: str  # as shown to the user
    findings: list[Finding] = field(default_factory=list)
    remaining: list[Finding] | None = None  # what the fixed text still reports, at its positions (None: unchanged)
    skipped: list[Skipped] = field(default_factory=list)
    texts: Texts = field(default_factory=Texts)
    written: bool = False
    error: str | None = None  # "path:line:col: error: reason", already formatted
    stamp: Stamp | None = None  # of a file that was read and processed without error
    dependencies: tuple[Dependency, ...] = ()
    imported: bool = False  # analysed as a module the run's steps import (its helpers included)

    @property
    def changed(self) -> bool:
        return self.texts.new != self.texts.old

