"""The acceptance cases (tests/cases, copied byte for byte) through the real CLI."""
import ast
import json
import shutil
import subprocess
import sys

import pytest

from conftest import CASES, strip_training

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def stage(case, tmp, src="before"):
    """Copy before.py (a file case) or the before/ tree (a directory case: tmp is its project root) into tmp."""
    meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    cfg = "".join(f"{k} = {json.dumps(v)}\n" for k, v in meta.get("config", {}).items())
    (tmp / "pyproject.toml").write_text("[tool.trainfix]\n" + cfg)
    if (case / src).is_dir():
        shutil.copytree(case / src, tmp, dirs_exist_ok=True)
        return meta, tmp
    target = tmp / "case_under_test.py"
    shutil.copyfile(case / f"{src}.py", target)
    return meta, target


def contents(path):
    """A file's bytes, or every file of a staged tree but pyproject.toml and the cache."""
    if path.is_file():
        return path.read_bytes()
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and not {".trainfix_cache", ".git"} & set(p.relative_to(path).parts)
            and p != path / "pyproject.toml"}


def wanted(case, name):
    """What a stage must hold after a run: `after`, or `after_unsafe` where the case has one."""
    for candidate in (name, "after"):
        if (case / candidate).is_dir():
            return contents(case / candidate)
        if (case / f"{candidate}.py").is_file():
            return (case / f"{candidate}.py").read_bytes()
    raise AssertionError(f"{case.name} has no {name}")


def expected(meta):
    return [(f.get("file"), f["code"], f["line"], f.get("fix", "safe")) for f in meta.get("findings", [])]


def check_json(run_trainfix, path, tmp):
    p = run_trainfix("check", "--output-format", "json", path, cwd=tmp)
    assert p.returncode in (0, 1), p.stderr.decode()
    found = [((tmp / d["filename"]).resolve().relative_to(tmp.resolve()).as_posix() if path.is_dir() else None,
              d["code"], d["line"], (d["fix"] or {}).get("applicability", "none")) for d in json.loads(p.stdout)]
    return p, sorted(found, key=lambda x: (x[0] or "", x[2]))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_apply(case, tmp_path, run_trainfix):
    meta, f = stage(case, tmp_path)
    p = run_trainfix("apply", f, cwd=tmp_path)
    assert contents(f) == wanted(case, "after")
    remaining = [x for x in expected(meta) if x[3] != "safe"]
    assert p.returncode == (1 if remaining else 0), p.stderr.decode()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_apply_unsafe(case, tmp_path, run_trainfix):
    _, f = stage(case, tmp_path)
    run_trainfix("apply", "--unsafe-fixes", f, cwd=tmp_path)
    assert contents(f) == wanted(case, "after_unsafe")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_check(case, tmp_path, run_trainfix):
    meta, f = stage(case, tmp_path)
    before = contents(f)
    p, found = check_json(run_trainfix, f, tmp_path)
    assert found == expected(meta)
    assert p.returncode == (1 if found else 0)
    assert contents(f) == before
    # the one-line text format: [*] exactly on the safe findings
    t = run_trainfix("check", "--output-format", "concise", f, cwd=tmp_path).stdout.decode().splitlines()
    marks = [(line.split(": ")[1].split()[0], line.endswith("[*]")) for line in t if ": TRN" in line]
    assert marks == [(code, fix == "safe") for _, code, _, fix in expected(meta)]


FILE_CASES = [case for case in CASES if (case / "before.py").is_file()]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_idempotent(case, tmp_path, run_trainfix):
    meta, f = stage(case, tmp_path, "after")
    run_trainfix("apply", f, cwd=tmp_path)
    assert contents(f) == wanted(case, "after")
    _, found = check_json(run_trainfix, f, tmp_path)
    assert found == [x for x in expected(meta) if x[3] != "safe"]
    if (case / "after_unsafe.py").exists():
        shutil.copyfile(case / "after_unsafe.py", f)
        run_trainfix("apply", "--unsafe-fixes", f, cwd=tmp_path)
        assert f.read_bytes() == (case / "after_unsafe.py").read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_diff_applies_with_git(case, tmp_path, run_trainfix):
    _, f = stage(case, tmp_path)
    before = contents(f)
    p = run_trainfix("apply", "--diff", f.name if f.is_file() else ".", cwd=tmp_path)
    assert contents(f) == before  # --diff writes nothing
    if wanted(case, "after") == before:
        assert p.stdout == b""
        return
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "fix.patch").write_bytes(p.stdout)
    g = subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, capture_output=True)
    assert g.returncode == 0, g.stderr.decode()
    (tmp_path / "fix.patch").unlink()
    assert contents(f) == wanted(case, "after")


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda p: p.name)
def test_stdin(case, tmp_path, run_trainfix):
    _, f = stage(case, tmp_path)
    p = run_trainfix("apply", "-", "--stdin-filename", f, cwd=tmp_path, input=f.read_bytes())
    assert p.stdout == (case / "after.py").read_bytes()


def test_stdin_follows_the_project_of_its_filename(tmp_path, run_trainfix):
    """A file read from stdin is analysed in the project its --stdin-filename names (directory case 46)."""
    case = next(c for c in CASES if c.name.startswith("46_"))
    stage(case, tmp_path)
    f = tmp_path / "pkg" / "train.py"
    p = run_trainfix("apply", "-", "--stdin-filename", f, cwd=tmp_path, input=f.read_bytes())
    assert p.stdout == (case / "after" / "pkg" / "train.py").read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_equivalent_except_training(case):
    if (case / "before").is_dir():
        pairs = [(p, case / name / p.relative_to(case / "before")) for p in (case / "before").rglob("*.py")
                 for name in ("after", "after_unsafe") if (case / name).is_dir()]
    else:
        pairs = [(case / "before.py", case / name) for name in ("after.py", "after_unsafe.py") if (case / name).exists()]
    assert pairs
    for before, after in pairs:
        assert strip_training(ast.parse(after.read_bytes())) == strip_training(ast.parse(before.read_bytes()))
