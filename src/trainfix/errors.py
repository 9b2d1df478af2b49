"""The one error a source can raise; light, so any layer can import it."""
from __future__ import annotations


class SourceError(Exception):
    """The source can't be analysed or its fix can't be trusted; names line and reason."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column
