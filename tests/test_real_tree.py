"""Round trip over real code nobody here wrote: thousands of files from PyPI packages.

pip installs pinned releases (no dependencies) into a scratch folder; the tree is
copied and `trainfix apply` runs on the copy. Then:
- every file trainfix did not report is byte for byte the original (every file
  in the tree, not only .py), and no file appeared or vanished;
- every edited file re-parses, its AST equals the original's except for
  `training` arguments, every changed line carries a `training` argument, and a
  second apply changes nothing;
- no crash; every error line names an existing file and a reason.
The file count and findings are printed to the terminal (even under capture).

Needs PyPI (the packages are cached by pip after the first run). TRAINFIX_REAL_TREE
adds `name==version` specifiers (comma-separated) to the set.
"""
from __future__ import annotations

import ast
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import run_trainfix, strip_training

PACKAGES = [
    "keras==3.15.1",
    "tf-keras==2.21.0",
    "libcst==1.9.0",
    "rich==15.0.0",
    "alibi-detect==0.13.0",  # a real custom training loop: trainer.py calls its model without training=True
    "tf-keras-vis==0.8.7",  # saliency/Grad-CAM tapes over inputs: nothing to change there
    "cleverhans==4.0.0",  # adversarial attacks (input gradients)
]
EXTRA = [s.strip() for s in os.environ.get("TRAINFIX_REAL_TREE", "").split(",") if s.strip()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("real") / "packages"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
           "--disable-pip-version-check", "--target", str(target), *PACKAGES, *EXTRA]
    p = subprocess.run(cmd, capture_output=True, timeout=900)
    if p.returncode != 0:
        pytest.fail("pip could not install the real-tree packages (PyPI needed):\n" + p.stderr.decode()[-2000:])
    return target


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_apply_on_real_packages_round_trips(installed, tmp_path, capsys):
    work = tmp_path / "work"
    shutil.copytree(installed, work, symlinks=True)
    before = snapshot(work)
    py_files = [p for p in before if p.endswith((".py", ".pyi"))]

    start = time.monotonic()
    check = run_trainfix("check", "--no-cache", "--output-format", "json", "work", cwd=tmp_path, timeout=900)
    check_time = time.monotonic() - start
    assert check.returncode in (0, 1, 2), check.stderr.decode()
    findings = json.loads(check.stdout)
    reported = {Path(f["filename"]).relative_to("work").as_posix() for f in findings}
    assert snapshot(work) == before, "check wrote something"

    start = time.monotonic()
    apply = run_trainfix("apply", "work", cwd=tmp_path, timeout=900)
    apply_time = time.monotonic() - start
    err = apply.stderr.decode()
    assert apply.returncode in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    for line in err.splitlines():
        m = re.match(r"^(?P<path>work/[^:]+)(?::\d+)*: error: (?P<reason>\S.*)$", line)
        if line.startswith("work/"):
            assert m and (tmp_path / m["path"]).exists(), f"an error must name a file and a reason: {line}"
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert (apply.returncode == 2) == bool(errors), err

    after = snapshot(work)
    assert after.keys() == before.keys(), f"files appeared or vanished: {after.keys() ^ before.keys()}"
    edited = sorted(p for p in before if after[p] != before[p])
    assert set(edited) <= reported, f"edited without a finding: {set(edited) - reported}"
    fixed_count = sum(1 for f in findings if f["fix"] and f["fix"]["applicability"] == "safe")
    summary = re.search(r"Fixed (\d+) findings? in (\d+) files?", apply.stdout.decode() + err)
    assert summary and int(summary[1]) == fixed_count and int(summary[2]) == len(edited), (summary, edited)

    for rel in edited:
        old = (installed / rel).read_bytes()
        new = (work / rel).read_bytes()
        new_tree = ast.parse(new)  # re-parses
        assert strip_training(ast.parse(old)) == strip_training(new_tree), f"{rel}: more than training changed"
        changed = [line for line in difflib.ndiff(old.decode().splitlines(), new.decode().splitlines())
                   if line.startswith(("+ ", "- "))]
        assert all("training" in line or line[2:].strip() in ("", ",") for line in changed if line[0] == "+"), \
            f"{rel}: {changed}"

    again = run_trainfix("apply", "--no-cache", "work", cwd=tmp_path, timeout=900)
    assert again.returncode in (0, 1, 2)
    assert snapshot(work) == after, "a second apply changed files again"

    codes = Counter(f["code"] for f in findings)
    with capsys.disabled():
        print(f"\nreal tree: {len(before)} files ({len(py_files)} Python) from {', '.join(PACKAGES + EXTRA)}; "
              f"check {check_time:.1f} s, apply {apply_time:.1f} s; findings {dict(codes) or 0} in "
              f"{len(reported)} file(s); edited {len(edited)} file(s): {', '.join(edited) or '-'}; "
              f"errors {len(errors)}" + "".join(f"\n  {e}" for e in errors))
