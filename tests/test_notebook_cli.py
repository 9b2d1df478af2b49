"""Notebooks through the real CLI: findings by cell, in-place fixes, diffs, bad notebooks."""
import json
import shutil
import subprocess

from conftest import NOTEBOOKS


def stage(tmp_path, name):
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    target = tmp_path / name
    shutil.copyfile(NOTEBOOKS / name, target)
    return target


def test_check_reports_cells(tmp_path, run_trainfix):
    nb = stage(tmp_path, "training_loop.ipynb")
    before = nb.read_bytes()
    p = run_trainfix("check", "--output-format", "concise", nb.name, cwd=tmp_path)
    assert p.returncode == 1
    lines = p.stdout.decode().splitlines()
    assert lines[0].startswith("training_loop.ipynb:cell 8:4:") and "TRN001" in lines[0]
    assert "cell 10:" in lines[1] and "TRN003" in lines[1]
    assert nb.read_bytes() == before
    records = json.loads(run_trainfix("check", "--output-format", "json", nb.name, cwd=tmp_path).stdout)
    assert [(r["code"], r["cell"], r["line"]) for r in records] == [("TRN001", 8, 4), ("TRN003", 10, 2)]


def test_apply_rewrites_only_changed_cells(tmp_path, run_trainfix):
    nb = stage(tmp_path, "training_loop.ipynb")
    before = json.loads(nb.read_bytes())
    assert run_trainfix("apply", nb.name, cwd=tmp_path).returncode == 0
    after = json.loads(nb.read_bytes())
    changed = [i for i, (a, b) in enumerate(zip(before["cells"], after["cells"])) if a != b]
    assert [i + 1 for i in changed] == [8, 10]
    for i in changed:  # only the source of those cells
        assert {k: v for k, v in before["cells"][i].items() if k != "source"} == \
            {k: v for k, v in after["cells"][i].items() if k != "source"}
    assert {k: v for k, v in before.items() if k != "cells"} == {k: v for k, v in after.items() if k != "cells"}
    assert "model(x, training=True)" in "".join(after["cells"][7]["source"])
    # what apply writes is what Jupyter itself would write for the fixed notebook
    assert nb.read_bytes() == (NOTEBOOKS / "clean.ipynb").read_bytes()
    mtime = nb.stat().st_mtime_ns
    assert run_trainfix("apply", nb.name, cwd=tmp_path).returncode == 0
    assert nb.stat().st_mtime_ns == mtime  # nothing to fix: not rewritten


def test_diff_applies_with_git(tmp_path, run_trainfix):
    nb = stage(tmp_path, "training_loop.ipynb")
    p = run_trainfix("apply", "--diff", nb.name, cwd=tmp_path)
    assert b"@@ " in p.stdout and b"cell 8" in p.stdout
    (tmp_path / "fix.patch").write_bytes(p.stdout)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True)
    assert nb.read_bytes() == (NOTEBOOKS / "clean.ipynb").read_bytes()


def test_clean_and_colab_notebooks_are_not_rewritten(tmp_path, run_trainfix):
    for name in ("clean.ipynb", "colab.ipynb", "string_source.ipynb"):
        nb = stage(tmp_path, name)
        before, mtime = nb.read_bytes(), nb.stat().st_mtime_ns
        p = run_trainfix("apply", nb.name, cwd=tmp_path)
        assert p.returncode in (0, 1), p.stderr.decode()
        if nb.read_bytes() != before:  # a notebook with a bug keeps every other byte
            assert json.loads(nb.read_bytes()).keys() == json.loads(before).keys()
        else:
            assert nb.stat().st_mtime_ns == mtime


def test_broken_notebooks_reported_others_fixed(tmp_path, run_trainfix):
    for name in ("broken_cell.ipynb", "broken_json.ipynb", "nbformat3.ipynb"):
        target = stage(tmp_path, name)
        if name != "broken_json.ipynb":
            # only notebooks that mention a tape or a step are analysed (the exact prefilter), so say one does
            data = json.loads(target.read_bytes())
            data.setdefault("metadata", {})["note"] = "def train_step with tf.GradientTape"
            target.write_text(json.dumps(data, indent=1))
    good = stage(tmp_path, "training_loop.ipynb")
    originals = {p.name: p.read_bytes() for p in tmp_path.glob("broken*.ipynb")}
    p = run_trainfix("apply", ".", cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 2
    assert "broken_cell.ipynb:cell 4:2: error:" in err
    assert "broken_json.ipynb: error:" in err and "nbformat3.ipynb: error:" in err
    for name, data in originals.items():
        assert (tmp_path / name).read_bytes() == data
    assert good.read_bytes() == (NOTEBOOKS / "clean.ipynb").read_bytes()


def test_github_and_sarif_point_into_the_ipynb_text(tmp_path, run_trainfix):
    """Annotations name the line of the .ipynb file where the cell's JSON string holds the call."""
    nb = stage(tmp_path, "training_loop.ipynb")
    lines = nb.read_text().splitlines()
    out = run_trainfix("check", "--output-format", "github", nb.name, cwd=tmp_path).stdout.decode()
    first = out.splitlines()[0]
    line = int(first.split("line=")[1].split(",")[0])
    col = int(first.split(",col=")[1].split(",")[0])
    assert lines[line - 1][col - 1:].startswith("model(x)")
    log = json.loads(run_trainfix("check", "--output-format", "sarif", nb.name, cwd=tmp_path).stdout)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (line, col)


def test_notebook_of_another_language_is_skipped(tmp_path, run_trainfix):
    """An R notebook that happens to mention GradientTape is not Python: skipped, not an error."""
    nb = stage(tmp_path, "clean.ipynb")
    data = json.loads(nb.read_bytes())
    data["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    data["metadata"]["language_info"] = {"name": "R"}
    nb.write_text(json.dumps(data, indent=1))
    p = run_trainfix("check", nb.name, cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()
