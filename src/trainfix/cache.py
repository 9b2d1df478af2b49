"""Remembers what each unchanged file reported, so an unchanged tree re-checks in a stat pass.

One JSON file per (trainfix version, fingerprint of its source, effective settings) under
`<project root>/.trainfix_cache/`; an entry is `path -> [size, mtime_ns, sha256]`
for a file with nothing to report, plus its findings for one with findings, plus
the (path, size, mtime_ns) of every other project module its analysis read (a
changed `models.py` re-analyses the `train.py` that imports it). An
entry is used when size and mtime still match, or when only the mtime moved and
the content hash still matches (a checkout that rewrote the same bytes). A
version bump, a change to trainfix's own source (an editable install whose rule
was edited) or a settings change selects another file, so a stale entry is never
used. Files with errors are never cached; entries of deleted files are dropped. Findings are served only to runs that
write nothing and need no file text (apply, --diff and SARIF analyse again).
Plain JSON, never pickle: a cache folder committed to a repository must not be
able to run code. Next to the tables, one `.walk` file per walk (its settings, folder and user)
holds what each folder held (`listings.py`), so that a warm run lists only changed folders.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .version import __version__
from .config import Config
from .files import StrPath
from .listings import Listings
from .findings import Finding, Fix
from .outcome import CellMap, Dependency, FileOutcome, Stamp
from .transform import Edit

# An entry as stored: [size, mtime_ns, sha256, findings or None, dependencies, imported], the last three
# optional. Plain JSON values; `Any` because json.loads gives nothing more precise.
Entry = list[Any]

DIRNAME = ".trainfix_cache"
FORMAT = 3  # entries may carry the stamps of the project modules a file's findings depend on


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """The path, size and mtime of every module of the installed package: computed once per
    run (a stat of a few dozen files), it changes whenever trainfix's own code does."""
    package = os.path.dirname(os.path.abspath(__file__))
    stamps = []
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                stamps.append((os.path.relpath(os.path.join(folder, name), package), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(repr(stamps).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=64)
def settings_key(config: Config) -> str:
    relevant = (config.train_functions, config.eval_functions, config.predict_functions, config.model_factories,
                config.select, config.ignore)
    return hashlib.sha256(repr((__version__, FORMAT, source_fingerprint(), relevant)).encode()).hexdigest()[:16]


def project_root(start: Path) -> Path:
    start = start.absolute()
    for folder in [start, *start.parents]:
        if (folder / ".git").exists() or (folder / "pyproject.toml").is_file():
            return folder
    return start


class Cache:
    def __init__(self, root: Path):
        self.folder = root / DIRNAME
        self._tables: dict[str, dict[str, Entry]] = {}
        self._dirty: set[str] = set()
        self._seen: set[str] = set()  # entries this run looked up or wrote
        self._config: Config | None = None  # the last configuration asked about, and its key
        self._key = ""
        self._listings: dict[str, Listings] = {}

    def listings(self, walk: tuple[object, ...]) -> Listings:
        """What earlier walks found in each folder, for one walk's settings, folder and user (`listings.py`)."""
        key = hashlib.sha256(repr((__version__, FORMAT, source_fingerprint(), walk)).encode()).hexdigest()[:16]
        if key not in self._listings:
            try:
                old = json.loads((self.folder / f"{__version__}-{key}.walk").read_text())
            except (OSError, ValueError):
                old = {}
            self._listings[key] = Listings(old if isinstance(old, dict) else {})
        return self._listings[key]

    def _key_of(self, config: Config) -> str:
        """`settings_key`, hashed again only when the configuration changes (a tree's files share one)."""
        if config is not self._config:
            self._config, self._key = config, settings_key(config)
        return self._key

    def _table(self, key: str) -> dict[str, Entry]:
        if key not in self._tables:
            try:
                self._tables[key] = json.loads((self.folder / f"{__version__}-{key}.json").read_text())
            except (OSError, ValueError):
                self._tables[key] = {}
        return self._tables[key]

    def get(self, path: StrPath, shown: str, config: Config, findings: bool = False) -> FileOutcome | None:
        """The cached outcome of an unchanged file, or None (findings only when asked for)."""
        key = self._key_of(config)
        name = os.path.abspath(path)
        self._seen.add(name)
        entry = self._table(key).get(name)
        if entry is None or not self._unchanged(path, entry, key):
            return None
        dependencies = tuple(Dependency(*d) for d in entry[4]) if len(entry) > 4 and entry[4] else ()
        if any(_moved(dep) for dep in dependencies):  # a project module its analysis read has changed
            return None
        payload = entry[3] if len(entry) > 3 else None
        if payload is None:
            outcome = FileOutcome(shown)
        elif not findings or payload.get("unsafe") != config.unsafe_fixes:
            return None
        else:
            outcome = _outcome_from_json(shown, payload)
        outcome.dependencies = dependencies
        outcome.imported = len(entry) > 5 and bool(entry[5])
        return outcome

    def _unchanged(self, path: StrPath, entry: Entry, key: str) -> bool:
        """Same size, and the same mtime or (touched) the same content hash; a new mtime is remembered."""
        try:
            st = os.stat(path)
            if entry[0] != st.st_size:
                return False
            if entry[1] != st.st_mtime_ns:  # touched: the content hash decides
                with open(path, "rb") as handle:
                    if hashlib.sha256(handle.read()).hexdigest() != entry[2]:
                        return False
                entry[1] = st.st_mtime_ns
                self._dirty.add(key)
        except OSError:
            return False
        return True

    def mark_clean(self, path: StrPath, config: Config, stamp: Stamp, dependencies: tuple[Dependency, ...] = (),
                   imported: bool = False) -> None:
        key = settings_key(config)
        entry: Entry = [stamp.size, stamp.mtime_ns, stamp.digest]
        if dependencies or imported:
            entry += [None, [list(d) for d in dependencies], imported]
        self._table(key)[os.path.abspath(path)] = entry
        self._dirty.add(key)

    def mark_found(self, path: StrPath, config: Config, stamp: Stamp, outcome: FileOutcome) -> None:
        key = settings_key(config)
        entry: Entry = [stamp.size, stamp.mtime_ns, stamp.digest, _outcome_to_json(outcome, config)]
        if outcome.dependencies or outcome.imported:
            entry += [[list(d) for d in outcome.dependencies], outcome.imported]
        self._table(key)[os.path.abspath(path)] = entry
        self._dirty.add(key)

    def save(self) -> None:
        for key in self._dirty:  # files deleted or renamed since they were cached
            table = self._tables[key]
            for name in [n for n in table if n not in self._seen and not os.path.exists(n)]:
                del table[name]
        files: dict[str, object] = {f"{__version__}-{key}.json": self._tables[key] for key in self._dirty}
        # a walk's records are those of the folders it met: others were deleted, or are no longer walked
        files.update((f"{__version__}-{key}.walk", listings.new) for key, listings in self._listings.items()
                     if listings.new != listings.old)
        if not files:
            return
        import tempfile

        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by trainfix\n*\n")
            for name, data in files.items():
                fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
                with os.fdopen(fd, "w") as handle:
                    json.dump(data, handle)
                os.replace(tmp, self.folder / name)
        except OSError:
            pass  # a read-only project still gets checked, just not cached


def _moved(dep: Dependency) -> bool:
    try:
        st = os.stat(dep.path)
    except OSError:
        return True
    return (st.st_size, st.st_mtime_ns) != (dep.size, dep.mtime_ns)


def _outcome_to_json(outcome: FileOutcome, config: Config) -> dict[str, Any]:
    findings = [[f.code, f.message, f.line, f.column, f.end_line, f.end_column,
                 None if f.fix is None else [f.fix.applicability, f.fix.message, f.fix.value, f.fix.reason], f.applied,
                 None if f.edit is None else [f.edit.start, f.edit.end, f.edit.text]] for f in outcome.findings]
    payload: dict[str, Any] = {"unsafe": config.unsafe_fixes, "findings": findings}
    cells = outcome.texts.cells
    if cells is not None:  # a notebook: program lines -> cells, and positions in the .ipynb text
        payload["cells"] = [[line, *where] for line, where in cells.cells.items()]
        payload["positions"] = [[*point, *where] for point, where in cells.positions.items()]
    return payload


def _outcome_from_json(shown: str, payload: dict[str, Any]) -> FileOutcome:
    outcome = FileOutcome(shown)
    for code, message, line, column, end_line, end_column, fix, applied, edit in payload["findings"]:
        outcome.findings.append(Finding(code, message, line, column, end_line, end_column, Fix(*fix) if fix else None,
                                        applied=applied, edit=Edit(*edit) if edit else None))
    if "cells" in payload:
        outcome.texts.cells = CellMap({line: (cell, at) for line, cell, at in payload["cells"]},
                                      {(line, col): (fl, fc) for line, col, fl, fc in payload["positions"]})
    return outcome
