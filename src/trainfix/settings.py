"""The configuration of each file: the one resolver (`config.Resolver`) with the command line's overrides.

Shared by the CLI and the language server (whose initialization options are the
same overrides), below both so neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config, ConfigError, Resolver, load_pyproject, parse_override
from .rules import KNOWN_CODES


class UnknownCodes(ValueError):
    """A `--select`/`--ignore` value naming no rule."""


def parse_codes(value: str | None) -> tuple[str, ...] | None:
    """Comma-separated rule codes or prefixes, upper-cased; None when not given."""
    if value is None:
        return None
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    bad = [c for c in codes if not any(full.startswith(c) for full in KNOWN_CODES)]
    if bad:
        raise UnknownCodes(f"unknown rule code(s): {', '.join(bad)}")
    return codes


@dataclass(frozen=True)
class Overrides:
    """The command line's settings flags (None or empty: as configured)."""

    select: str | None = None
    ignore: str | None = None
    extend_select: str | None = None
    unsafe_fixes: bool | None = None
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None
    config_args: tuple[str, ...] = ()  # `--config`: a file, or `key = value` overrides

    def check_codes(self) -> None:
        """Raises UnknownCodes for a code no rule has."""
        for value in (self.select, self.ignore, self.extend_select):
            parse_codes(value)

    def apply(self, base: Config) -> Config:
        changes: dict[str, Any] = {}
        select, ignore, extend_select = parse_codes(self.select), parse_codes(self.ignore), \
            parse_codes(self.extend_select)
        if select is not None:
            changes["select"] = select
        if extend_select:
            changes["select"] = changes.get("select", base.select) + extend_select
        if ignore is not None:
            changes["ignore"] = base.ignore + ignore
        if self.unsafe_fixes is not None:
            changes["unsafe_fixes"] = self.unsafe_fixes
        if self.exclude:
            changes["exclude"] = tuple(self.exclude)
        if self.extend_exclude:
            changes["extend_exclude"] = base.extend_exclude + tuple(self.extend_exclude)
        if self.respect_gitignore is not None:
            changes["respect_gitignore"] = self.respect_gitignore
        if self.force_exclude:
            changes["force_exclude"] = True
        return base.replace(**changes) if changes else base


class Settings:
    """Config per file or folder, from the one resolver, with the command line's overrides."""

    def __init__(self, overrides: Overrides):
        self.overrides = overrides
        self.resolver = Resolver()
        self._configs: dict[Path | None, Config] = {}
        self.file, self.options = _config_args(overrides.config_args)

    def for_path(self, path: Path | str, is_file: bool = False) -> Config:
        # one lookup per folder, shared by its files and sub-folders; `--config FILE` replaces the lookup
        if self.file is not None:
            if None not in self._configs:
                self._configs[None] = self.overrides.apply(load_pyproject(self.file, self.options))
            return self._configs[None]
        pyproject = self.resolver.find(path, True if is_file else None)
        if pyproject not in self._configs:
            self._configs[pyproject] = self.overrides.apply(load_pyproject(pyproject, self.options))
        return self._configs[pyproject]


def _config_args(values: tuple[str, ...]) -> tuple[Path | None, dict[str, Any]]:
    """`--config` values: at most one file (pyproject.toml or trainfix.toml), any `key = value` overrides."""
    file, overrides = None, {}
    for value in values:
        if "=" not in value or Path(value).is_file():
            if file is not None:
                raise ConfigError(f"--config {value!r}: only one configuration file may be given")
            if not Path(value).is_file():
                raise ConfigError(f"--config {value!r}: no such file (and not a `key = value` override)")
            file = Path(value).absolute()
        else:
            overrides.update(parse_override(value))
    return file, overrides
