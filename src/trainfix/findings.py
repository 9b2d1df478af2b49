"""What trainfix reports: a `Finding` with an optional `Fix`.

Plain data with no analysis behind it, so reports and the cache can use it
without importing the analysis.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .transform import Edit

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    value: str  # the value written as `training=<value>`
    reason: str = ""  # why an unsafe fix is unsafe, shown with it ("a comment ... mentions dropout")


@dataclass
class Finding:
    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None
    applied: bool = False
    edit: Edit | None = None  # where the fix goes in the analysed text
