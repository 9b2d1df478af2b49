"""The acceptance cases (tests/cases, copied byte for byte) through the real CLI."""
import ast
import json
import shutil
import subprocess
import sys

import pytest

from conftest import CASES

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def stage(case, tmp, src="before.py"):
    meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    cfg = "".join(f"{k} = {json.dumps(v)}\n" for k, v in meta.get("config", {}).items())
    (tmp / "pyproject.toml").write_text("[tool.trainfix]\n" + cfg)
    target = tmp / "case_under_test.py"
    shutil.copyfile(case / src, target)
    return meta, target


def expected(meta):
    return [(f["code"], f["line"], f.get("fix", "safe")) for f in meta.get("findings", [])]


def check_json(run_trainfix, path, tmp):
    p = run_trainfix("check", "--output-format", "json", path, cwd=tmp)
    assert p.returncode in (0, 1), p.stderr.decode()
    found = [(d["code"], d["line"], (d["fix"] or {}).get("applicability", "none")) for d in json.loads(p.stdout)]
    return p, found


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_apply(case, tmp_path, run_trainfix):
    meta, f = stage(case, tmp_path)
    p = run_trainfix("apply", f, cwd=tmp_path)
    assert f.read_bytes() == (case / "after.py").read_bytes()
    remaining = [x for x in expected(meta) if x[2] != "safe"]
    assert p.returncode == (1 if remaining else 0), p.stderr.decode()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_apply_unsafe(case, tmp_path, run_trainfix):
    _, f = stage(case, tmp_path)
    run_trainfix("apply", "--unsafe-fixes", f, cwd=tmp_path)
    want = case / "after_unsafe.py" if (case / "after_unsafe.py").exists() else case / "after.py"
    assert f.read_bytes() == want.read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_check(case, tmp_path, run_trainfix):
    meta, f = stage(case, tmp_path)
    before = f.read_bytes()
    p, found = check_json(run_trainfix, f, tmp_path)
    assert found == expected(meta)
    assert p.returncode == (1 if found else 0)
    assert f.read_bytes() == before
    # text format: [*] exactly on the safe findings
    t = run_trainfix("check", f, cwd=tmp_path).stdout.decode().splitlines()
    marks = [(line.split(": ")[1].split()[0], line.endswith("[*]")) for line in t if ": TRN" in line]
    assert marks == [(code, fix == "safe") for code, _, fix in expected(meta)]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_idempotent(case, tmp_path, run_trainfix):
    meta, f = stage(case, tmp_path, "after.py")
    run_trainfix("apply", f, cwd=tmp_path)
    assert f.read_bytes() == (case / "after.py").read_bytes()
    _, found = check_json(run_trainfix, f, tmp_path)
    assert found == [x for x in expected(meta) if x[2] != "safe"]
    if (case / "after_unsafe.py").exists():
        shutil.copyfile(case / "after_unsafe.py", f)
        run_trainfix("apply", "--unsafe-fixes", f, cwd=tmp_path)
        assert f.read_bytes() == (case / "after_unsafe.py").read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_diff_applies_with_git(case, tmp_path, run_trainfix):
    _, f = stage(case, tmp_path)
    before = f.read_bytes()
    p = run_trainfix("apply", "--diff", f.name, cwd=tmp_path)
    assert f.read_bytes() == before  # --diff writes nothing
    if (case / "after.py").read_bytes() == before:
        assert p.stdout == b""
        return
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "fix.patch").write_bytes(p.stdout)
    g = subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, capture_output=True)
    assert g.returncode == 0, g.stderr.decode()
    assert f.read_bytes() == (case / "after.py").read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_stdin(case, tmp_path, run_trainfix):
    _, f = stage(case, tmp_path)
    p = run_trainfix("apply", "-", "--stdin-filename", f, cwd=tmp_path, input=f.read_bytes())
    assert p.stdout == (case / "after.py").read_bytes()


def _strip_training(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            node.keywords = [k for k in node.keywords if k.arg != "training"]
            if len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, bool):
                node.args = node.args[:1]
    return ast.dump(tree)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_equivalent_except_training(case):
    before = ast.parse((case / "before.py").read_bytes())
    for name in ("after.py", "after_unsafe.py"):
        if (case / name).exists():
            assert _strip_training(ast.parse((case / name).read_bytes())) == _strip_training(before)
