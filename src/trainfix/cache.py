"""Remembers files that had nothing to report, so an unchanged tree re-checks in a stat pass.

One JSON file per (trainfix version, effective settings) under
`<project root>/.trainfix_cache/`; an entry is `path -> [size, mtime_ns, sha256]`.
An entry is used only when size and mtime still match; a version bump or a
settings change selects another file, so a stale entry is never used. Files
with findings or errors are never cached: they are analysed every time.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from . import __version__
from .config import Config

DIRNAME = ".trainfix_cache"


@functools.lru_cache(maxsize=64)
def settings_key(config: Config) -> str:
    relevant = (config.train_functions, config.eval_functions, config.predict_functions, config.model_factories,
                config.select, config.ignore)
    return hashlib.sha256(repr((__version__, relevant)).encode()).hexdigest()[:16]


def project_root(start: Path) -> Path:
    start = start.absolute()
    for folder in [start, *start.parents]:
        if (folder / ".git").exists() or (folder / "pyproject.toml").is_file():
            return folder
    return start


class Cache:
    def __init__(self, root: Path):
        self.folder = root / DIRNAME
        self._tables: dict[str, dict] = {}
        self._dirty: set[str] = set()

    def _table(self, key: str) -> dict:
        if key not in self._tables:
            try:
                self._tables[key] = json.loads((self.folder / f"{__version__}-{key}.json").read_text())
            except (OSError, ValueError):
                self._tables[key] = {}
        return self._tables[key]

    def is_clean(self, path: Path, config: Config) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return False
        entry = self._table(settings_key(config)).get(os.path.abspath(path))
        return entry is not None and entry[0] == st.st_size and entry[1] == st.st_mtime_ns

    def mark_clean(self, path: Path, config: Config, digest: str, size: int, mtime_ns: int) -> None:
        key = settings_key(config)
        self._table(key)[os.path.abspath(path)] = [size, mtime_ns, digest]
        self._dirty.add(key)

    def forget(self, path: Path, config: Config) -> None:
        key = settings_key(config)
        if self._table(key).pop(os.path.abspath(path), None) is not None:
            self._dirty.add(key)

    def save(self) -> None:
        if not self._dirty:
            return
        import tempfile

        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by trainfix\n*\n")
            for key in self._dirty:
                fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
                with os.fdopen(fd, "w") as handle:
                    json.dump(self._tables[key], handle)
                os.replace(tmp, self.folder / f"{__version__}-{key}.json")
        except OSError:
            pass  # a read-only project still gets checked, just not cached
