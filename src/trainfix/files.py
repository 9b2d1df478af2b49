"""File discovery (.gitignore, excludes), decoding, and atomic writes."""
from __future__ import annotations

import bisect
import functools
import hashlib
import io
import operator
import os
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias

from .errors import SourceError
from .listings import UNKNOWN, Listings, identity

if TYPE_CHECKING:
    from pathspec import Pattern, PathSpec

    Spec: TypeAlias = PathSpec[Pattern]

StrPath: TypeAlias = "str | os.PathLike[str]"

SUFFIXES = (".py", ".pyi", ".ipynb")
TEMP_SUFFIX = ".trainfix-tmp"
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "build", "dist", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".trainfix_cache", "node_modules", "site-packages",
    ".ipynb_checkpoints", "__pypackages__",
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def decode(raw: bytes) -> Decoded:
    """Bytes -> text using the PEP 263 cookie or BOM; errors name the line."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        if "unknown encoding" in str(exc):
            raise SourceError(f"cannot decode: {exc}", 1) from None
        encoding = "utf-8"  # undecodable bytes in the first lines: name them below
    if b"\x00" in raw:
        raise SourceError("binary file: contains NUL bytes", raw[: raw.index(b"\x00")].count(b"\n") + 1)
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        start = getattr(exc, "start", 0)
        line = raw[:start].count(b"\n") + 1
        raise SourceError(f"cannot decode as {encoding}: {getattr(exc, 'reason', exc)} "
                          f"(byte 0x{raw[start]:02x})" if isinstance(exc, UnicodeDecodeError) else str(exc),
                          line) from None
    return Decoded(text, encoding)


def write_atomic(path: Path, data: bytes, expected_digest: str | None = None) -> None:
    """Temp file in the same folder + os.replace; mode bits kept; refuses if the file changed meanwhile.

    A symlink is followed: its target is rewritten and the link stays a link.
    A file the running user may not write (`os.access(path, os.W_OK)`: its mode bits, or
    root's override) is refused, not replaced; a writable one keeps its mode bits, 0444 included.
    """
    path = Path(os.path.realpath(path))
    st = path.stat()
    if not os.access(path, os.W_OK):
        raise SourceError("file is read-only; not written")
    _remove_stale_temps(path)
    with _temp_beside(path.parent, f".{path.name}.{os.getpid()}.") as (fd, tmp):
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)  # keep the owner when allowed (e.g. root fixing a user's tree)
            except OSError:
                pass
        os.chmod(tmp, st.st_mode & 0o7777)
        if expected_digest is not None and hashlib.sha256(path.read_bytes()).hexdigest() != expected_digest:
            raise SourceError("file changed on disk while trainfix was running; not written")
        os.replace(tmp, path)


@contextmanager
def _temp_beside(folder: Path, prefix: str) -> Iterator[tuple[int, str]]:
    """A temp file in `folder` (so os.replace is atomic), removed if anything fails before the replace."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
    try:
        yield fd, tmp
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _remove_stale_temps(path: Path) -> None:
    """Delete `.NAME.<pid>.*.trainfix-tmp` siblings left by a run that was killed (its process is gone).

    Safe even if the process were alive after all: a writer whose temp file vanished
    fails its rename and reports it; the source file itself is never touched here.
    """
    prefix = f".{path.name}."
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix) and n.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            try:
                os.unlink(path.parent / name)
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    try:  # a killed process nobody has reaped yet is a zombie: gone for our purpose
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


class Matcher(Protocol):
    """What decides whether a path (relative, `/`-separated, a folder's ending in `/`) is ignored."""

    def match_file(self, file: str) -> bool: ...


Chain: TypeAlias = "list[tuple[str, Matcher]]"  # (folder and a separator, its .gitignore), outermost first


def _spec(lines: Iterable[str]) -> Spec:
    """A gitignore-style matcher; pathspec is imported only by a tree that has patterns."""
    import pathspec

    style = "gitignore" if "gitignore" in pathspec.util._registered_patterns else "gitwildmatch"
    return pathspec.PathSpec.from_lines(style, lines)


# pathspec's start of a pattern that may match below any folder (`*.pyc`, `build/`, `**/tmp`)
_ANYWHERE = "^(?:.+/)?"
# What may follow it to be factored out of the alternation: escapes, classes, plain characters and pathspec's own
# endings, never a `|` outside a group, and no quantifier first (it would apply to the prefix).
_SEQUENCE = re.compile(r"(?![*+?{])(?:\\.|\[(?:\\.|[^\]\\])*\]|[^|()\[\]\\]|\(\?:/\|\$\)|\(\?:/\.[*+]\)\?)*")


def any_of(regexes: list[str]) -> str:
    """One regex that matches where one of `regexes` (each anchored with `^`) would: those that start
    `^(?:.+/)?` share that prefix, so the engine tries each folder boundary once, not once per pattern
    (P(A|B) matches what PA|PB does)."""
    rests = [r[len(_ANYWHERE):] for r in regexes if r.startswith(_ANYWHERE) and _SEQUENCE.fullmatch(r, len(_ANYWHERE))]
    others = [f"(?:{r})" for r in regexes if not (r.startswith(_ANYWHERE) and _SEQUENCE.fullmatch(r, len(_ANYWHERE)))]
    shared = [f"{_ANYWHERE}(?:{'|'.join(rests)})"] if rests else []
    return "|".join(shared + others) or "(?!)"


class _Gated:
    """A .gitignore's patterns behind one search for any of them: most paths match none, and pathspec
    would try each pattern in turn to tell. Only a path some pattern may match asks pathspec.
    The search is compiled on first use: a folder whose .gitignore no path below meets costs nothing."""

    def __init__(self, spec: Spec):
        from pathspec.util import NORMALIZE_PATH_SEPS, normalize_file  # lazy like `_spec`

        self.spec = spec
        self.normalize = normalize_file
        self.seps = bool(NORMALIZE_PATH_SEPS)  # none on POSIX: only a leading `/` or `./` is dropped

    @functools.cached_property
    def any(self) -> re.Pattern[str] | None:
        """The search for any pattern, or None when pathspec must be asked about every path."""
        regexes = [getattr(p, "regex", None) for p in self.spec.patterns if p.include is not None]
        if not all(isinstance(r, re.Pattern) and isinstance(r.pattern, str) and r.flags == re.UNICODE
                   for r in regexes):
            return None
        try:  # a pattern matches a path only where this search finds one of them (a superset of each match)
            return re.compile(any_of([r.pattern for r in regexes if r is not None]))
        except re.error:  # (a group name in two patterns): every path asks pathspec
            return None

    def match_file(self, file: str) -> bool:
        search = self.any
        if search is not None and search.search(self.normalize(file) if self.seps or file.startswith(("/", "./"))
                                                else file) is None:
            return False
        return self.spec.match_file(file)


class _Unignoring:
    """A .gitignore above a folder named on the command line, less the patterns that ignore
    that folder (or a folder between them): git never descends into an ignored folder, but
    the user asked for this one. Its other patterns (`*_pb2.py`) still apply below it."""

    def __init__(self, patterns: list[Pattern]):
        self.patterns = patterns

    @classmethod
    def of(cls, spec: Spec, folder: str, top: str) -> Matcher:
        if top == folder or not spec.match_file(top[len(folder) + 1:] + "/"):
            return spec  # the named folder is not ignored: the .gitignore as it is
        parts = top[len(folder) + 1:].split(os.sep)
        named = ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
        return cls([p for p in spec.patterns
                    if p.include is not None and not any(p.match_file(r) is not None for r in named)])

    def match_file(self, file: str) -> bool:
        ignored = False
        for pattern in self.patterns:  # the last matching pattern decides, as in git
            if pattern.match_file(file) is not None:
                ignored = bool(pattern.include)
        return ignored


def _kept(entry: object) -> bool:
    """A recorded entry the walk could have kept: a folder's name (not excluded by default) or a source file's."""
    return isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is str and type(entry[1]) is bool and \
        entry[0] not in ("", ".", "..") and "/" not in entry[0] and os.sep not in entry[0] and \
        (entry[0] not in DEFAULT_EXCLUDES if entry[1] else entry[0].endswith(SUFFIXES))


class _Listed(NamedTuple):
    """A folder's entries to walk, its .gitignore, and whether the records below it can be trusted."""

    entries: list[tuple[str, bool, bool]]  # (name, is a folder, is a symlink), in order
    spec: Matcher | None
    below: bool


class _LazyGitignore:
    """The .gitignore of a folder whose listing came from its record: read only if a folder below must be
    listed again (most runs never ask)."""

    def __init__(self, discovery: Discovery, folder: str):
        self.discovery = discovery
        self.folder = folder

    @functools.cached_property
    def matcher(self) -> Matcher:
        spec = self.discovery._gitignore(self.folder)
        return _Gated(spec) if spec is not None else _Nothing()

    def match_file(self, file: str) -> bool:
        return self.matcher.match_file(file)


class _Nothing:
    def match_file(self, file: str) -> bool:
        return False


class Discovery:
    """Walks folders honouring .gitignore files and exclude patterns."""

    def __init__(self, exclude: tuple[str, ...] = (), respect_gitignore: bool = True, root: Path | None = None,
                 listings: Callable[[tuple[object, ...]], Listings] | None = None):
        """`exclude` patterns are gitignore-style, relative to `root` (the folder of the
        pyproject.toml that set them) for paths under it, else to the folder walked. `listings` gives
        what earlier walks of a folder found, for the settings and folder walked (see `Listings`)."""
        self.exclude = exclude
        self.root = str(root.absolute()) if root is not None else None
        self.user_exclude = _spec(exclude) if exclude else None
        self.respect_gitignore = respect_gitignore
        self.listings_of = listings
        self.listings: Listings | None = None
        self._ignores: dict[str, Spec | None] = {}
        self.errors: list[str] = []  # folders that could not be listed

    def _gitignore(self, folder: Path | str, entries: list[os.DirEntry[str]] | None = None) -> Spec | None:
        """The folder's .gitignore; `entries`, the folder's listing sorted by name, saves a stat when given."""
        folder = str(folder)
        if folder not in self._ignores:
            spec = None
            gi = os.path.join(folder, ".gitignore")
            if self.respect_gitignore and (os.path.isfile(gi) if entries is None else _listed_file(entries, ".gitignore")):
                try:
                    with open(gi, encoding="utf-8", errors="replace") as handle:
                        spec = _spec(handle.read().splitlines())
                except Exception:  # a malformed pattern or an unreadable file must not stop discovery
                    spec = None
            self._ignores[folder] = spec
        return self._ignores[folder]

    def _matches(self, real: str, name: str, is_dir: bool, top: str, chain: Chain) -> bool:
        if is_dir and name in DEFAULT_EXCLUDES:
            return True
        suffix = "/" if is_dir else ""
        if self.user_exclude is not None:
            base = self.root if self.root is not None and real.startswith(self.root + os.sep) else top
            rel = real[len(base) + 1:] if real.startswith(base + os.sep) else name
            if self.user_exclude.match_file(rel + suffix) or self.user_exclude.match_file(name + suffix):
                return True
        for below, spec in chain:
            if real.startswith(below) and spec.match_file(real[len(below):] + suffix):
                return True
        return False

    def _ancestor_chain(self, top: Path) -> list[tuple[str, Spec]]:
        """.gitignore files above `top`, up to the repository root (none outside a repository)."""
        chain: list[tuple[str, Spec]] = []
        for parent in top.parents:
            spec = self._gitignore(parent)
            if spec is not None:
                chain.insert(0, (str(parent), spec))
            if (parent / ".git").exists():
                return chain
        return []

    def _names_from(self, real: Path) -> Path:
        """The folder a named path's folder names count from: the repository root, else the project
        root or the current folder (whichever holds it), else its own folder."""
        top = next((p for p in real.parents if (p / ".git").exists()), None)
        if top is not None:
            return top
        roots = [Path(self.root)] if self.root is not None else []
        return next((r for r in [*roots, Path.cwd()] if real.is_relative_to(r)), real.parent)

    def _user_excluded(self, real: Path, suffix: str, top: Path) -> bool:
        """An `exclude` pattern matches the named path, or (`legacy/`) a folder it is under, as in a walk."""
        if self.user_exclude is None:
            return False
        base = Path(self.root) if self.root is not None and real.is_relative_to(self.root) else top
        rel = real.relative_to(base).as_posix() + suffix if real.is_relative_to(base) else real.name + suffix
        rels = [rel] + [p.relative_to(base).as_posix() + "/" for p in real.parents
                        if p.is_relative_to(base) and p != base]
        return any(self.user_exclude.match_file(r) for r in rels) or self.user_exclude.match_file(real.name + suffix)

    def is_excluded(self, path: Path, is_dir: bool = False) -> bool:
        """For explicitly named files and folders under --force-exclude."""
        real = path.absolute()
        suffix = "/" if is_dir else ""
        chain = self._ancestor_chain(real)
        top = self._names_from(real)
        folders = [real] if is_dir else []
        if any(p.name in DEFAULT_EXCLUDES for p in [*folders, *real.parents] if p.is_relative_to(top) and p != top):
            return True
        if self._user_excluded(real, suffix, top):
            return True
        return any(spec.match_file(real.relative_to(folder).as_posix() + suffix)
                   for folder, spec in ((Path(f), sp) for f, sp in chain) if real.is_relative_to(folder))

    def walk(self, root: Path, shown_root: str | None = None) -> Iterator[tuple[str, str]]:
        """Yield (absolute path, path as shown) of the source files under `root`, once each
        (a folder or file reached through a symlink is not checked twice). Paths are plain
        strings: a run walks thousands of files, and most are only read once."""
        top = str(Path(root).absolute())
        # a folder named on the command line is walked even if a .gitignore above it lists it:
        # that .gitignore's other patterns still apply to the files below
        chain = [(folder + os.sep, _Unignoring.of(spec, folder, top))
                 for folder, spec in self._ancestor_chain(Path(top))]
        shown = str(root) if shown_root is None else shown_root
        try:
            st = os.stat(top)
        except OSError as exc:
            self.errors.append(f"{shown}: error: cannot list folder: {exc.strerror or exc}")
            return
        trusted = False
        if self.listings_of is not None and os.name == "posix":  # (elsewhere ctime is not the change time)
            self.listings = self.listings_of((self.exclude, self.respect_gitignore, self.root, top, identity()))
            above = self._above(Path(top), self.listings)
            trusted = all(stamp != UNKNOWN for _, stamp, _ in above) and self.listings.old.get("") == above
            self.listings.new[""] = above
        yield from self._walk(top, os.path.realpath(top), "" if shown == "." else shown.rstrip("/") + "/", top,
                              chain, {(st.st_dev, st.st_ino)}, set(), st, trusted)

    def _above(self, top: Path, listings: Listings) -> list[list[Any]]:
        """The stamps of the .gitignore files above `top` and where the repository root is: the records
        of a walk hold only while these are unchanged."""
        above: list[list[Any]] = []
        for parent in top.parents:
            repository = (parent / ".git").exists()
            above.append([str(parent), listings.stamp(os.path.join(parent, ".gitignore"))
                          if self.respect_gitignore else None, repository])
            if repository:
                break
        return above

    def _walk(self, path: str, real: str, prefix: str, top: str, chain: Chain, folders: set[tuple[int, int]],
              files: set[str], st: os.stat_result, trusted: bool) -> Iterator[tuple[str, str]]:
        """`real` is `path` with its symlinks resolved: the identity of the files under it. `st` is the
        folder's stat; `trusted`: the .gitignore files above it are those of the last run's records."""
        listed = self._remembered(path, st, trusted) if trusted else None
        if listed is None:
            listed = self._list(path, prefix, top, chain, st, trusted)
            if listed is None:
                return
        if listed.spec is not None:
            chain = chain + [(path + os.sep, listed.spec)]
        for name, is_dir, linked in listed.entries:
            child = path + os.sep + name
            try:
                if is_dir:
                    st = os.stat(child)  # follows a link: a folder reached twice is walked once
                    if (st.st_dev, st.st_ino) not in folders:
                        folders.add((st.st_dev, st.st_ino))
                        yield from self._walk(child, os.path.realpath(child) if linked else real + os.sep + name,
                                              prefix + name + "/", top, chain, folders, files, st, listed.below)
                else:
                    key = os.path.realpath(child) if linked else real + os.sep + name
                    if key not in files:
                        files.add(key)
                        yield child, prefix + name
            except OSError:
                continue

    def _remembered(self, path: str, st: os.stat_result, trusted: bool) -> _Listed | None:
        """The folder's entries as the last run recorded them, if nothing they depend on has changed."""
        assert self.listings is not None
        record = self.listings.recorded(path)
        if record is None or record[2] is None or record[0] != self.listings.folder(st) or \
                not all(_kept(entry) for entry in record[2]):
            return None
        if record[1] == UNKNOWN or \
                (record[1] is not None and self.listings.stamp(path + os.sep + ".gitignore") != record[1]):
            return None
        self.listings.new[path] = record
        return _Listed([(name, is_dir, False) for name, is_dir in record[2]],
                       _LazyGitignore(self, path) if record[1] is not None else None, trusted)

    def _list(self, path: str, prefix: str, top: str, chain: Chain, st: os.stat_result,
              trusted: bool) -> _Listed | None:
        """The folder's entries to walk, listed and matched against the excludes and .gitignore files."""
        try:
            entries = sorted(os.scandir(path), key=_NAME)
        except OSError as exc:
            self.errors.append(f"{prefix.rstrip('/') or '.'}: error: cannot list folder: {exc.strerror or exc}")
            return None
        spec = self._gitignore(path, entries)
        gated = _Gated(spec) if spec is not None else None
        if gated is not None:
            chain = chain + [(path + os.sep, gated)]
        kept: list[tuple[str, bool, bool]] = []
        reusable = True  # no symlink, no error: the same listing gives the same entries
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
                reusable = reusable and not entry.is_symlink()
                if not is_dir and not name.endswith(SUFFIXES):
                    continue
                if self._matches(path + os.sep + name, name, is_dir, top, chain):
                    continue
                if is_dir or entry.is_file():
                    kept.append((name, is_dir, entry.is_symlink()))
            except OSError:
                reusable = False
        return _Listed(kept, gated, self._record(path, st, trusted, kept if reusable else None))

    def _record(self, path: str, st: os.stat_result, trusted: bool,
                kept: list[tuple[str, bool, bool]] | None) -> bool:
        """Remember a folder listed this run; whether the records below it can be trusted."""
        if self.listings is None:
            return False
        gitignore = self.listings.stamp(path + os.sep + ".gitignore") if self.respect_gitignore else None
        old = self.listings.recorded(path)
        folder = self.listings.folder(st)
        entries = [[name, is_dir] for name, is_dir, _ in kept] \
            if kept is not None and folder is not None and gitignore != UNKNOWN else None
        self.listings.new[path] = [folder, gitignore, entries]
        return trusted and old is not None and gitignore != UNKNOWN and old[1] == gitignore


_NAME = operator.attrgetter("name")


def _listed_file(entries: list[os.DirEntry[str]], name: str) -> bool:
    """`os.path.isfile` of a name in a listing sorted by name, without looking the path up again."""
    i = bisect.bisect_left(entries, name, key=_NAME)
    try:
        return i < len(entries) and entries[i].name == name and entries[i].is_file()
    except OSError:
        return False


def write_text_atomic(path: Path, text: str) -> None:
    """A report file (`--output-file`): temp file in the same folder + os.replace, so a reader never sees half."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    with _temp_beside(folder, f".{path.name}.") as (fd, tmp):
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
