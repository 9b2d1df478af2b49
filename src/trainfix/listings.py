"""What a walk remembers of each folder between runs, so that an unchanged folder is not listed again:
kept by the cache (plain JSON in `.trainfix_cache/`), used by `files.Discovery`."""
from __future__ import annotations

import os
import stat
import time
from typing import Any, TypeAlias

# A folder or .gitignore changed this recently may change again within the same timestamp tick (FAT's is 2 s)
# without its times moving: a run does not remember it.
RACY_NS = 3_000_000_000
UNKNOWN = "?"  # a .gitignore whose stamp can't vouch for its content (a link, or changed too recently)

# What a walk remembers of a folder: its (device, inode, mtime, ctime), its .gitignore's stamp (None: it has
# none), and the (name, is a folder) of the entries it kept, in order (None: not reusable).
Record: TypeAlias = "list[Any]"


class Listings:
    """What a walk found in each folder, kept between runs (by the cache) so that an unchanged folder is
    not listed, sorted and matched against .gitignore files again.

    A folder's times move whenever an entry is added, removed or renamed in it (mtime), and whenever its
    permissions change (ctime, which nothing can set back). A record is used only when the folder's device,
    inode, mtime and ctime are the recorded ones, its .gitignore and those of every folder above it (up to
    the repository root) have their recorded size, times and inode, and its listing held no symlink (whose
    target may change in place). Folders and .gitignore files changed less than RACY_NS before the run
    are not remembered."""

    def __init__(self, old: dict[str, Any]):
        self.old = old
        self.new: dict[str, Any] = {}
        self.since = time.time_ns() - RACY_NS

    def stamp(self, path: str) -> list[int] | str | None:
        """A file's (size, mtime, ctime, inode); None if there is none, UNKNOWN if it can't vouch for its content."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError:
            return UNKNOWN
        if not stat.S_ISREG(st.st_mode) or max(st.st_mtime_ns, st.st_ctime_ns) >= self.since:
            return UNKNOWN
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]

    def folder(self, st: os.stat_result) -> list[int] | None:
        """A folder's identity and times, or None when changed too recently to be remembered."""
        if max(st.st_mtime_ns, st.st_ctime_ns) >= self.since:
            return None
        return [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]

    def recorded(self, path: str) -> Record | None:
        """The record of a folder from the last run, if well formed (a cache file may have been edited by
        hand; the walk checks each of its names)."""
        record = self.old.get(path)
        if not (isinstance(record, list) and len(record) == 3 and _is_stamp(record[1])):
            return None
        if record[0] is not None and not (isinstance(record[0], list) and len(record[0]) == 4 and
                                          all(type(n) is int for n in record[0])):
            return None
        return record if record[2] is None or isinstance(record[2], list) else None


def _is_stamp(value: object) -> bool:
    return value is None or value == UNKNOWN or \
        (isinstance(value, list) and len(value) == 4 and all(type(n) is int for n in value))


def identity() -> tuple[object, ...]:
    """Who walks: what a folder lets a user list depends on it."""
    return tuple(getattr(os, name)() for name in ("geteuid", "getegid", "getgroups") if hasattr(os, name))
