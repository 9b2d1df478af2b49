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

from .analysis.project import EXTERNAL_TOPS
from .files import decode

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
SKIP_DIRS = {"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env"}
MAX_PROJECT_FILES = 20_000
MAX_IMPORTERS = 50
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
        self.root = root = project_root(self.path)
        roots = [os.path.dirname(self.path), root, os.path.join(root, "src")]
        self.roots = list(dict.fromkeys(r for r in roots if os.path.isdir(r)))
        self._files: tuple[str, ...] | None = None  # listed once per analysed file, never across runs

    def find(self, importer: str, module: str, level: int) -> str | None:
        memo = (os.path.dirname(importer), module, level, tuple(self.roots) if not level else ())
        if memo not in _FOUND:
            _FOUND[memo] = self._find(importer, module, level)
        return _FOUND[memo]

    def _find(self, importer: str, module: str, level: int) -> str | None:
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

    def importers(self, key: str) -> list[str] | None:
        index = _import_index(self.root)
        if index is None:
            return None  # too large a tree to be sure
        stem = os.path.basename(key).removesuffix(".py")
        if stem == "__init__":
            stem = os.path.basename(os.path.dirname(key))
        out = []
        for path, (names, specs) in index.items():
            if stem not in names:
                continue
            if path.endswith(".ipynb") or any(self._resolves(path, spec, key) for spec in specs):
                out.append(path)  # a notebook's imports are not resolved here: it counts when it names the module
                if len(out) > MAX_IMPORTERS:
                    return None  # a module half the project imports: its callers prove too little to read them all
        return out

    def _resolves(self, importer: str, spec: ImportSpec, key: str) -> bool:
        level, module, names = spec
        if not level and module.split(".")[0] in EXTERNAL_TOPS:
            return False
        if self.find(importer, module, level) == key:
            return True
        return any(self.find(importer, f"{module}.{name}" if module else name, level) == key for name in names)

    def source(self, key: str) -> str | None:
        try:
            if os.path.getsize(key) > MAX_MODULE_BYTES:
                return None
            return decode(Path(key).read_bytes()).text
        except Exception:  # an unreadable or undecodable module proves nothing
            return None

    def indexed(self) -> bool:
        return self.root in _INDEXES


def _module_file(stem: str, package_only: bool = False) -> str | None:
    init = os.path.join(stem, "__init__.py")
    if os.path.isfile(init):
        return init
    if not package_only and os.path.isfile(stem + ".py"):
        return stem + ".py"
    return None


# Per run (per process): a project's files and the names their import statements spell. A long-running
# process (the language server) calls `forget()` before each analysis so that edits are seen.
ImportSpec = tuple[int, str, tuple[str, ...]]  # (level, module, names) of one import statement
Index = dict[str, tuple[frozenset[str], tuple[ImportSpec, ...]]]
_INDEXES: dict[str, Index | None] = {}
_FOUND: dict[tuple[str, str, int, tuple[str, ...]], str | None] = {}  # (folder, module, level, roots) -> the module's file
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]*\(?([^\n#;)]*)|import[ \t]+([^\n#;]+))", re.M)
# a notebook's source lines are JSON strings: an import starts right after the opening quote
_NOTEBOOK_IMPORT = re.compile(rb'"[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+([\w, ]+)|import[ \t]+([\w., ]+))')
_WORD = re.compile(rb"[A-Za-z_]\w*")
_WORD_TEXT = re.compile(r"[A-Za-z_]\w*")


def forget() -> None:
    _INDEXES.clear()
    _FOUND.clear()


def _import_index(root: str) -> Index | None:
    """path -> (every identifier its import statements name, the statements as (level, module, names)),
    for each .py and .ipynb file of the project; None when the project is too large to read."""
    if root not in _INDEXES:
        _INDEXES[root] = _build_index(root)
    return _INDEXES[root]


def _build_index(root: str) -> Index | None:
    index: Index = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        for name in names:
            if not name.endswith((".py", ".ipynb")):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_MODULE_BYTES)
            except OSError:
                continue
            pattern = _NOTEBOOK_IMPORT if name.endswith(".ipynb") else _IMPORT
            words: set[bytes] = set()
            specs: list[ImportSpec] = []
            for source, imported, plain in pattern.findall(_import_lines(data)):  # b"" for a group not matched
                words.update(_WORD.findall(b"%s %s %s" % (source, imported, plain)))
                if source:  # from X import a, b
                    module = source.decode()
                    level = len(module) - len(module.lstrip("."))
                    specs.append((level, module.lstrip("."), tuple(_WORD_TEXT.findall(imported.decode()))))
                else:  # import a.b as c, d
                    specs += [(0, part.split()[0], ()) for part in plain.decode().split(",") if part.strip()]
            index[path] = (frozenset(w.decode() for w in words), tuple(specs))
            if len(index) > MAX_PROJECT_FILES:
                return None
    return index


def _import_lines(data: bytes) -> bytes:
    """The lines of `data` that say `import`, joined by newlines: only they can hold an import statement
    (a notebook's outputs and most code lines don't). Found with `bytes.find`, which skips the other
    lines without splitting the file into lines (most of the index's cost)."""
    lines = []
    end = 0
    while (found := data.find(b"import", end)) >= 0:
        start = data.rfind(b"\n", 0, found) + 1
        end = data.find(b"\n", found)
        if end < 0:
            end = len(data)
        lines.append(data[start:end])
    return b"\n".join(lines)
