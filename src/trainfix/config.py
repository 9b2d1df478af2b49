"""`[tool.trainfix]` loading and validation.

A list option replaces its default; its `extend-` form adds to it. Unknown keys
and wrong types are errors that name the key (the CLI turns them into exit 2).
"""
from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rules import DEFAULT_CODES, KNOWN_CODES


def _loads(text: str) -> dict[str, Any]:
    """A TOML document (its values are whatever the file holds: validated by `from_table`). Raises
    `TOMLDecodeError`, a ValueError. tomllib is imported when a pyproject.toml is found, not at start-up."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


TRAIN_FUNCTIONS = ("train_step", "training_step")
EVAL_FUNCTIONS = ("test_step", "val_step", "valid_step", "validation_step", "eval_step", "evaluate_step")
PREDICT_FUNCTIONS = ("predict_step", "inference_step")
CODE_OPTIONS = ("select", "ignore")  # list options whose items are rule codes or prefixes

LIST_OPTIONS: dict[str, tuple[str, ...]] = {
    "train-functions": TRAIN_FUNCTIONS,
    "eval-functions": EVAL_FUNCTIONS,
    "predict-functions": PREDICT_FUNCTIONS,
    "model-factories": (),
    "select": DEFAULT_CODES,  # the registry's rules but the opt-in ones (TRN100, like ruff's RUF100)
    "ignore": (),
    "exclude": (),
}
BOOL_OPTIONS: dict[str, bool] = {"unsafe-fixes": False, "respect-gitignore": True, "force-exclude": False, "cache": True}
STR_OPTIONS = {"output-format": "text"}
# `text` is the name trainfix 0.1 gave `full`; it is kept as an alias
OUTPUT_FORMATS = ("text", "concise", "full", "json", "json-lines", "junit", "gitlab", "github", "sarif")
CHOICES = {"output-format": OUTPUT_FORMATS}
TABLE_OPTIONS = ("per-file-ignores",)  # glob -> codes


class ConfigError(Exception):
    """A bad `[tool.trainfix]` table or option value."""


@dataclass(frozen=True)
class Config:
    train_functions: tuple[str, ...] = TRAIN_FUNCTIONS
    eval_functions: tuple[str, ...] = EVAL_FUNCTIONS
    predict_functions: tuple[str, ...] = PREDICT_FUNCTIONS
    model_factories: tuple[str, ...] = ()
    select: tuple[str, ...] = DEFAULT_CODES
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    respect_gitignore: bool = True
    force_exclude: bool = False
    cache: bool = True
    output_format: str = "text"
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (gitignore-style glob, codes)
    source: Path | None = field(default=None, compare=False)

    def enabled(self, code: str) -> bool:
        return any(code.startswith(s) for s in self.select) and not any(code.startswith(i) for i in self.ignore)

    @property
    def step_names(self) -> tuple[str, ...]:
        return self.train_functions + self.eval_functions + self.predict_functions

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def for_file(self, path: Path | str) -> Config:
        """This config with the `per-file-ignores` that match `path` added to `ignore`."""
        if not self.per_file_ignores:
            return self
        codes = per_file_codes(self.per_file_ignores, path, self.source.parent if self.source else Path.cwd())
        return self.replace(ignore=self.ignore + codes) if codes else self


def per_file_codes(table: tuple[tuple[str, tuple[str, ...]], ...], path: Path | str, root: Path) -> tuple[str, ...]:
    from .files import _spec  # only a run with per-file-ignores needs the matcher

    full = os.path.abspath(path)
    rel = os.path.relpath(full, os.path.abspath(root))
    if rel.startswith(".."):
        rel = full.lstrip("/")
    rel = Path(rel).as_posix()
    codes: list[str] = []
    for pattern, values in table:
        spec = _spec([pattern])
        if spec.match_file(rel) or spec.match_file(os.path.basename(full)):
            codes += [c for c in values if c not in codes]
    return tuple(codes)


def _known_keys() -> list[str]:
    keys = [*LIST_OPTIONS, *BOOL_OPTIONS, *STR_OPTIONS, *TABLE_OPTIONS]
    return keys + [f"extend-{k}" for k in (*LIST_OPTIONS, *TABLE_OPTIONS)]


def _unknown(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, _known_keys(), n=1, cutoff=0.6)
    return f"unknown option {key!r}" + (f"; did you mean `{close[0]}`?" if close else "")


def _attr(key: str) -> str:
    return key.replace("-", "_")


def from_table(table: Mapping[str, object], source: Path | None = None) -> Config:
    """Build a Config from a `[tool.trainfix]` mapping, validating every key."""
    values: dict[str, object] = {}
    lists: dict[str, tuple[str, ...]] = {}  # attribute -> the option's items
    extends: dict[str, tuple[str, ...]] = {}  # option -> the items of its `extend-` form
    globs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    for key, value in table.items():
        extend = key.startswith("extend-")
        base = key[len("extend-"):] if extend else key
        where = f"[tool.trainfix] {key}" + (f" in {source}" if source else "")
        if base in LIST_OPTIONS:
            items = _string_list(value, where, codes=base in CODE_OPTIONS)
            if extend:
                extends[base] = items
            else:
                lists[_attr(base)] = items
        elif key in BOOL_OPTIONS:
            values[_attr(key)] = _boolean(value, where)
        elif key in STR_OPTIONS:
            values[_attr(key)] = _string(key, value, where)
        elif base in TABLE_OPTIONS:
            pairs = _glob_table(value, where)
            globs = globs + pairs if extend else pairs + globs
        else:
            raise ConfigError(f"{where}: {_unknown(key)}")
    for base, extra in extends.items():
        attr = "extend_exclude" if base == "exclude" else _attr(base)
        lists[attr] = lists.get(attr, () if attr == "extend_exclude" else LIST_OPTIONS[base]) + extra
    return Config(source=source).replace(per_file_ignores=globs, **lists, **values)


def _check_codes(codes: list[str], where: str) -> None:
    bad = [c for c in codes if not any(known.startswith(c) for known in KNOWN_CODES)]
    if bad:
        raise ConfigError(f"{where}: unknown rule code(s) {', '.join(bad)}")


def _string_list(value: object, where: str, codes: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    if codes:
        _check_codes(value, where)
    return tuple(value)


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _string(key: str, value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{where}: expected one of {', '.join(CHOICES[key])}, got {value!r}")
    return value


def _glob_table(value: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`per-file-ignores`: glob = [codes]."""
    if not isinstance(value, dict) or not all(isinstance(v, list) and all(isinstance(c, str) for c in v)
                                              for v in value.values()):
        raise ConfigError(f"{where}: expected a table of glob = [codes], got {value!r}")
    _check_codes([c for v in value.values() for c in v], where)
    return tuple((glob, tuple(codes)) for glob, codes in value.items())


class Resolver:
    """The one way a path finds its configuration, used by the command line (walks, named
    files, stdin), the LibCST codemods and `load`: the nearest `pyproject.toml` with a
    `[tool.trainfix]` table in the path's folder or above. The path is made absolute but its
    symlinks are not resolved: a file is configured where it is named (as ruff does), so a
    link is checked under the project that holds the link. Lookups are remembered per folder."""

    def __init__(self) -> None:
        self._nearest: dict[str, Path | None] = {}  # folder -> its pyproject.toml with [tool.trainfix]
        self._configs: dict[Path | None, Config] = {}

    def _in_folder(self, folder: str) -> Path | None:
        if folder not in self._nearest:
            candidate = Path(folder, "pyproject.toml")
            parent = os.path.dirname(folder)
            self._nearest[folder] = candidate if has_table(candidate) else \
                (self._in_folder(parent) if parent != folder else None)
        return self._nearest[folder]

    def find(self, path: str | os.PathLike[str], is_file: bool | None = None) -> Path | None:
        """The pyproject.toml that applies to `path`: a folder's own, a file's folder's (a path
        that is not a folder counts as a file; `is_file` saves the check)."""
        full = os.path.abspath(os.fspath(path))
        if is_file is None:
            is_file = not os.path.isdir(full)
        return self._in_folder(os.path.dirname(full) if is_file else full)

    def config(self, path: str | os.PathLike[str], is_file: bool | None = None) -> Config:
        pyproject = self.find(path, is_file)
        if pyproject not in self._configs:
            self._configs[pyproject] = load_pyproject(pyproject)
        return self._configs[pyproject]


def find_pyproject(start: str | os.PathLike[str]) -> Path | None:
    """The nearest pyproject.toml upward from `start` (a file or folder) that has a [tool.trainfix] table."""
    return Resolver().find(start)


def has_table(candidate: str | os.PathLike[str]) -> bool:
    """`candidate` is a readable pyproject.toml with a [tool.trainfix] table."""
    candidate = Path(candidate)
    if not candidate.is_file():
        return False
    try:
        data = _loads(candidate.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not TOML
        raise ConfigError(f"{candidate}: cannot read: {exc}") from exc
    return "trainfix" in data.get("tool", {})


def load(path: str | os.PathLike[str]) -> Config:
    """Config for files under `path` (a file or folder): the nearest table upward, else defaults."""
    return Resolver().config(path)


def load_pyproject(pyproject: str | os.PathLike[str] | None, overrides: dict[str, Any] | None = None) -> Config:
    """The Config a found pyproject.toml (or None: defaults) sets, with `--config key=value` overrides on top."""
    pyproject = Path(pyproject) if pyproject is not None else None
    table = read_table(pyproject) if pyproject is not None else {}
    return from_table({**table, **(overrides or {})}, pyproject)


def read_table(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The `[tool.trainfix]` table of a pyproject.toml, or the whole of any other TOML file (`trainfix.toml`)."""
    try:
        data = _loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not TOML
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    if Path(path).name != "pyproject.toml":
        return data
    table = data.get("tool", {}).get("trainfix", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.trainfix] must be a table")
    return table


def parse_override(text: str) -> dict[str, Any]:
    """`--config "key = value"`: one TOML assignment, checked like the same line in the file."""
    try:
        table = _loads(text)
    except ValueError as exc:  # TOMLDecodeError
        raise ConfigError(f"--config {text!r}: not a file, nor a `key = value` TOML assignment ({exc})") from None
    for key in table:
        base = key[len("extend-"):] if key.startswith("extend-") else key
        if base not in LIST_OPTIONS and key not in BOOL_OPTIONS and key not in STR_OPTIONS and base not in TABLE_OPTIONS:
            raise ConfigError(f"--config {text!r}: {_unknown(key)}")
    return table
