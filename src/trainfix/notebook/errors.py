"""The notebook errors (their own module: every part of the package raises them)."""

from __future__ import annotations


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
