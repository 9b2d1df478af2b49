"""Reads project modules for the analysis' project index (the only I/O the index needs).

A module is looked up the way Python would find it when the project runs: next to
the importing file (scripts and notebooks import their siblings), at the project
root (the nearest folder upward with `pyproject.toml`, `setup.py`, `setup.cfg` or
`.git`) and in its `src/` folder; relative imports from the importing file's
package. Installed packages are never read.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .files import decode

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
SKIP_DIRS = {"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env"}
MAX_PROJECT_FILES = 20_000
MAX_MODULE_BYTES = 2_000_000  # a generated or data module of this size holds no model definitions worth reading


def project_root(path: str) -> str:
    """The nearest folder above `path` that marks a project, else the file's own folder."""
    folder = os.path.dirname(os.path.abspath(path))
    current = folder
    while True:
        if any(os.path.exists(os.path.join(current, marker)) for marker in ROOT_MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return folder
        current = parent


class FileLoader:
    """`trainfix.analysis.project.Loader` over the file system, for one analysed file's project."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        root = project_root(self.path)
        roots = [os.path.dirname(self.path), root, os.path.join(root, "src")]
        self.roots = list(dict.fromkeys(r for r in roots if os.path.isdir(r)))
        self._files: tuple[str, ...] | None = None  # listed once per analysed file, never across runs

    def find(self, importer: str, module: str, level: int) -> str | None:
        parts = [p for p in module.split(".") if p]
        if level:
            base = os.path.dirname(importer)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            bases = self.roots
        for base in bases:
            found = _module_file(os.path.join(base, *parts)) if parts else _module_file(base, package_only=True)
            if found is not None:
                return found
        return None

    def files_mentioning(self, word: str) -> list[str] | None:
        if self._files is None:
            self._files = _project_files(project_root(self.path))
        if self._files is None:
            return None  # too large a tree to be sure
        return [path for path in self._files if _mentions(path, word)]

    def source(self, key: str) -> str | None:
        try:
            if os.path.getsize(key) > MAX_MODULE_BYTES:
                return None
            return decode(Path(key).read_bytes()).text
        except Exception:  # an unreadable or undecodable module proves nothing
            return None


def _module_file(stem: str, package_only: bool = False) -> str | None:
    init = os.path.join(stem, "__init__.py")
    if os.path.isfile(init):
        return init
    if not package_only and os.path.isfile(stem + ".py"):
        return stem + ".py"
    return None


def _project_files(root: str) -> tuple[str, ...] | None:
    """Every .py and .ipynb file of a project (None when there are too many to read)."""
    out: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        out.extend(os.path.join(folder, n) for n in names if n.endswith((".py", ".ipynb")))
        if len(out) > MAX_PROJECT_FILES:
            return None
    return tuple(out)


def _mentions(path: str, word: str) -> bool:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MODULE_BYTES)
    except OSError:
        return True
    return re.search(rb"\b%s\b" % re.escape(word.encode()), data) is not None
