"""What a run checks: each file named or found under a folder, with its configuration; `-` is stdin.

Excludes and `.gitignore` files are honoured as the SPEC says (a folder named on the command
line is walked even if ignored; `--force-exclude` applies them to named paths too). What can't
be checked (an unreadable folder, a bad configuration) becomes an error outcome in the report.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from .config import Config, ConfigError
from .files import Discovery, StrPath
from .listings import Listings
from .outcome import FileOutcome
from .report import Report
from .settings import Settings


def shown_path(path: Path) -> str:
    if not path.is_absolute() and not path.as_posix().startswith(".."):
        return path.as_posix()
    try:
        rel = os.path.relpath(path)
        return path.as_posix() if rel.startswith("..") else Path(rel).as_posix()
    except ValueError:
        return path.as_posix()


class Discoveries:
    """One `Discovery` per set of exclude settings and project root, shared by the paths given;
    `listings`: what earlier walks found (the cache's), None to list every folder."""

    def __init__(self, listings: Callable[[tuple[object, ...]], Listings] | None = None) -> None:
        self._made: dict[tuple[tuple[str, ...], tuple[str, ...], bool, Path], Discovery] = {}
        self.listings = listings

    def of(self, config: Config) -> Discovery:
        root = config.source.parent if config.source is not None else Path.cwd()
        key = (config.exclude, config.extend_exclude, config.respect_gitignore, root)
        if key not in self._made:
            self._made[key] = Discovery(config.exclude + config.extend_exclude, config.respect_gitignore, root,
                                        self.listings)
        return self._made[key]


class File(NamedTuple):
    path: StrPath
    config: Config
    shown: str


class Stdin(NamedTuple):
    config: Config | None  # None: `--stdin-filename` is excluded under --force-exclude (passed through)


def targets(paths: Iterable[Path], settings: Settings, report: Report, stdin_filename: str | None = None,
            listings: Callable[[tuple[object, ...]], Listings] | None = None) -> Iterator[File | Stdin]:
    """Each file to check with its configuration, in order; what can't be checked goes to the report."""
    discoveries = Discoveries(listings)
    for given in paths:
        if str(given) == "-":
            yield from _stdin_target(settings, report, discoveries, stdin_filename)
        else:
            yield from _path_targets(given, settings, report, discoveries)


def _stdin_target(settings: Settings, report: Report, discoveries: Discoveries,
                  stdin_filename: str | None) -> Iterator[Stdin]:
    try:
        config = settings.for_path(stdin_filename, is_file=True) if stdin_filename else settings.for_path(Path.cwd())
    except ConfigError as exc:
        report.add(FileOutcome("-", error=f"trainfix: error: {exc}"))
        return
    if not stdin_filename:
        yield Stdin(config)
    elif config.force_exclude and discoveries.of(config).is_excluded(Path(stdin_filename)):
        yield Stdin(None)
    else:
        yield Stdin(config.for_file(stdin_filename))


def _path_targets(given: Path, settings: Settings, report: Report,
                  discoveries: Discoveries) -> Iterator[File]:
    """A path named on the command line: the file itself, or the files under the folder."""
    try:
        config = settings.for_path(given)
    except ConfigError as exc:
        report.add(FileOutcome(given.as_posix(), error=f"{given.as_posix()}: error: {exc}"))
        return
    if not given.exists() and not given.is_symlink():
        report.add(FileOutcome(given.as_posix(), error=f"{given.as_posix()}: error: no such file or directory"))
        return
    discovery = discoveries.of(config)
    if not given.is_dir():
        if not (config.force_exclude and discovery.is_excluded(given)):
            yield File(given, config.for_file(given), shown_path(given))
        return
    if config.force_exclude and discovery.is_excluded(given, is_dir=True):
        return
    by_folder: dict[str, Config] = {}  # a file's configuration is its folder's: looked up once per folder
    for path, shown in discovery.walk(given, shown_path(given)):
        folder = path.rpartition(os.sep)[0]  # the walk joins a folder and a name with os.sep
        own = by_folder.get(folder)
        if own is None:
            try:
                own = by_folder[folder] = settings.for_path(path, is_file=True)
            except ConfigError as exc:
                report.add(FileOutcome(shown, error=f"{shown}: error: {exc}"))
                continue
        # a nested project's own [tool.trainfix] excludes apply to its files too
        if own.source != config.source and (own.exclude or own.extend_exclude) and \
                discoveries.of(own).is_excluded(Path(path)):
            continue
        yield File(path, own.for_file(path), shown)
    for error in discovery.errors:
        report.add(FileOutcome(error.split(": error:")[0], error=error))
    discovery.errors.clear()
