"""Atomic writes under SIGKILL: an interrupted `trainfix apply` never leaves a half-written file.

A tree of ~300 buggy files (the acceptance cases' before.py, several copies each,
some with CRLF line endings, some latin-1 with a coding cookie, with various mode
bits) is fixed by `trainfix apply` in a subprocess that is killed with SIGKILL
after a random delay, over several seeded rounds. After every kill each file must
be byte for byte either its original or its fully fixed version (after.py, given
the same line endings and encoding) with its mode bits unchanged. Leftover temp
files may only be trainfix's own hidden `.NAME.*.trainfix-tmp` siblings. A final
uninterrupted run fixes everything and leaves no temp file at all: a killed run's
temp files are removed by the next run that writes their file.

TRAINFIX_KILL_ROUNDS (default 12) and TRAINFIX_KILL_SEED (default 6) change the run.
"""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BUGGY, FILE_CASES as CASES, run_trainfix, trainfix_exe

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROUNDS = int(os.environ.get("TRAINFIX_KILL_ROUNDS", "12"))
SEED = int(os.environ.get("TRAINFIX_KILL_SEED", "6"))
COPIES = 7
MODES = (0o644, 0o600, 0o755, 0o664)
TEMP = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[^.]+\.trainfix-tmp$")

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")


def _variant(data: bytes, k: int) -> bytes:
    """The same change applied to before.py and after.py: line endings, encoding, both."""
    text = data.decode("utf-8")
    if k % 3 == 1:  # Windows line endings everywhere
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if k % 3 == 2 and text.isascii() and not text.startswith(("#!", "# -*-", "# coding")):
        nl = "\r\n" if "\r\n" in text else "\n"
        return (f"# -*- coding: latin-1 -*-{nl}# r\xe9glages d'entra\xeenement{nl}" + text).encode("latin-1")
    return text.encode("utf-8")


SHARED_NAMES = ("50_", "51_", "57_")


def _cases():
    for case in CASES:
        meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
        if meta.get("config"):
            continue  # its settings live in a pyproject.toml of its own
        if case.name.startswith(SHARED_NAMES):
            continue  # helpers and classes whose callers the project decides: copies here share one project
        yield case


@pytest.fixture(scope="module")
def corpus():
    """name -> (original bytes, fixed bytes, mode)."""
    files = {}
    for case in _cases():
        before, after = (case / "before.py").read_bytes(), (case / "after.py").read_bytes()
        for k in range(COPIES):
            files[f"{case.name}_{k}.py"] = (_variant(before, k), _variant(after, k), MODES[k % len(MODES)])
    return files


def _lay(tree: Path, corpus, names=None) -> None:
    tree.mkdir(exist_ok=True)
    for name, (original, _, mode) in corpus.items():
        if names is None or name in names:
            path = tree / name
            path.write_bytes(original)
            os.chmod(path, mode)


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of the group that have not exited (zombies awaiting a reaper do not count)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            alive.append(int(entry))
    return alive


def _kill_run(cwd: Path, delay: float, main_only: bool) -> int | None:
    proc = subprocess.Popen([trainfix_exe(), "apply", "tree"], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=delay)
        return proc.returncode  # finished before the kill
    except subprocess.TimeoutExpired:
        pass
    if main_only:  # the OOM killer's way: the pool's workers live on for a moment
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 3
        while _alive_in_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL) if _alive_in_group(proc.pid) else None
    proc.wait()
    deadline = time.monotonic() + 30
    while _alive_in_group(proc.pid):
        assert time.monotonic() < deadline, "killed processes did not go away"
        time.sleep(0.02)
    return None


def _states(tree: Path, corpus) -> tuple[dict, list[str]]:
    """Check every file; returns counts per state and the leftover temp files."""
    counts = {"original": 0, "fixed": 0, "unchanged by design": 0}
    for name, (original, fixed, mode) in corpus.items():
        path = tree / name
        data = path.read_bytes()
        if original == fixed:
            assert data == original, f"{name}: changed although it has nothing to fix"
            counts["unchanged by design"] += 1
        elif data == original:
            counts["original"] += 1
        elif data == fixed:
            counts["fixed"] += 1
        else:
            pytest.fail(f"{name}: neither its original nor its fixed version ({len(data)} bytes)")
        assert path.stat().st_mode & 0o7777 == mode, f"{name}: mode bits changed"
    temps, others = [], []
    for entry in os.listdir(tree):
        if entry in corpus:
            continue
        m = TEMP.match(entry)
        (temps if m and m.group("target") in corpus else others).append(entry)
    assert others == [], f"unexpected files in the tree: {others}"
    return counts, sorted(temps)


def test_sigkill_at_random_moments_never_leaves_a_half_written_file(tmp_path, corpus):
    rng = random.Random(SEED)
    tree = tmp_path / "tree"
    # an uninterrupted run first: the reference for the delays, and proof the expectations hold
    _lay(tree, corpus)
    start = time.monotonic()
    p = run_trainfix("apply", "tree", cwd=tmp_path)
    full = time.monotonic() - start
    assert p.returncode in (0, 1), p.stderr.decode()
    counts, temps = _states(tree, corpus)
    assert counts["original"] == 0 and temps == [], (counts, temps)
    print(f"\n{len(corpus)} files, {counts['fixed']} to fix; an uninterrupted apply takes {full:.2f} s")

    left_behind: set[str] = set()
    finished = 0
    for n in range(ROUNDS):
        fresh = n % 2 == 0  # every other round resumes the partly fixed tree of the round before
        if fresh:
            for entry in os.listdir(tree):
                os.unlink(tree / entry)
            _lay(tree, corpus)
        delay = rng.uniform(0.0, full * 1.1)
        main_only = n % 4 == 3
        code = _kill_run(tmp_path, delay, main_only)
        counts, temps = _states(tree, corpus)
        finished += code is not None
        left_behind.update(temps)
        print(f"round {n:2d}: {'fresh' if fresh else 'resume'}, SIGKILL {'main' if main_only else 'group'} "
              f"at {delay:.2f} s -> {counts['original']} original, {counts['fixed']} fixed, "
              f"{len(temps)} temp file(s) left" + (f" (finished first, exit {code})" if code is not None else ""))

    assert finished < ROUNDS, "no round was interrupted; the delays are too long for this machine"
    p = run_trainfix("apply", "tree", cwd=tmp_path)
    assert p.returncode in (0, 1), p.stderr.decode()
    counts, temps = _states(tree, corpus)
    assert counts["original"] == 0, counts
    # a temp file is only ever left next to a file that was not yet replaced, and the run that
    # later writes that file removes the dead run's temp: none may be left at the end
    assert temps == [], f"temp files left after a clean run: {temps}"
    print(f"final clean run: {counts['fixed']} fixed, no temp file left; "
          f"{len(left_behind)} temp file(s) had been left by the kills and were removed")


def _limit_file_size(limit: int):
    def preexec():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_write_that_fails_midway_leaves_the_original(tmp_path):
    """The kernel stops trainfix's write partway (file-size limit, as a full disk would): the file
    must stay its original, whole; a writer that truncated the file first would leave it cut."""
    padding = "".join(f"# padding line {i:04d} to make the file larger than one write\n" for i in range(400))
    text = BUGGY + padding
    f = tmp_path / "train.py"
    f.write_text(text)
    os.chmod(f, 0o640)
    fixed_size = len(text) + len(", training=True")
    limit = len(text) - 1000  # the new bytes cannot all be written
    p = run_trainfix("apply", "--no-cache", "train.py", cwd=tmp_path, preexec_fn=_limit_file_size(limit))
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert re.search(r"^train\.py: error: cannot write: File too large", err, re.M), err
    assert f.read_text() == text, f"the file was damaged: {f.stat().st_size} bytes, expected {len(text)}"
    assert f.stat().st_mode & 0o777 == 0o640
    assert [n for n in os.listdir(tmp_path) if "trainfix-tmp" in n] == []
    ok = run_trainfix("apply", "--no-cache", "train.py", cwd=tmp_path)
    assert ok.returncode == 0 and f.stat().st_size == fixed_size
