"""The LibCST codemod commands, run by the real `python -m libcst.tool codemod`."""
import subprocess
import sys

import pytest

from conftest import CASES_DIR, ROOT

CASE = CASES_DIR / "01_sequential_loop_missing"
BEFORE = (CASE / "before.py").read_bytes()
AFTER = (CASE / "after.py").read_bytes()


def libcst_tool(*args, cwd):
    return subprocess.run([sys.executable, "-m", "libcst.tool", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def project(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_bytes(BEFORE)
    return tmp_path


def test_checkout_config_names_the_codemods():
    import yaml

    config = yaml.safe_load((ROOT / ".libcst.codemod.yaml").read_text())
    assert config["modules"] == ["codemods"]
    assert set(config) == {"generated_code_marker", "formatter", "blacklist_patterns", "modules", "repo_root"}
    listed = libcst_tool("list", cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    assert "training.FixTrainingArgument" in listed.stdout
    assert "training.CheckTrainingArgument" in listed.stdout


def test_fix_from_the_checkout(project):
    target = project / "src" / "train.py"
    p = libcst_tool("codemod", "--hide-progress", "training.FixTrainingArgument", project / "src", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "Transformed 1 files successfully" in p.stderr
    assert target.read_bytes() == AFTER  # byte for byte what `trainfix apply` writes
    again = libcst_tool("codemod", "--hide-progress", "training.FixTrainingArgument", project / "src", cwd=ROOT)
    assert again.returncode == 0 and "Transformed 0 files" in again.stderr
    assert target.read_bytes() == AFTER


def test_check_reports_and_changes_nothing(project):
    target = project / "src" / "train.py"
    p = libcst_tool("codemod", "--hide-progress", "training.CheckTrainingArgument", project / "src", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "WARNING:" in p.stderr and "TRN001" in p.stderr
    assert target.read_bytes() == BEFORE


def test_users_list_the_installed_package(project):
    """A user's own .libcst.codemod.yaml lists `trainfix.codemods`; the command name is the same."""
    (project / ".libcst.codemod.yaml").write_text("modules:\n- 'trainfix.codemods'\nformatter: ['cat']\n")
    p = libcst_tool("codemod", "--hide-progress", "training.FixTrainingArgument", "src", cwd=project)
    assert p.returncode == 0, p.stderr
    assert (project / "src" / "train.py").read_bytes() == AFTER


def test_external_class_and_project_config(tmp_path):
    """`-x trainfix.codemods.FixTrainingArgument` works anywhere, and [tool.trainfix] applies."""
    src = ("import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n\n"
           "def score_batch(x):\n    return model(x)\n")
    (tmp_path / "evals.py").write_text(src)
    args = ("codemod", "--hide-progress", "--no-format", "-x", "trainfix.codemods.FixTrainingArgument", ".")
    assert libcst_tool(*args, cwd=tmp_path).returncode == 0
    assert (tmp_path / "evals.py").read_text() == src  # score_batch is not an eval step by default
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\nextend-eval-functions = ['score_batch']\n")
    assert libcst_tool(*args, cwd=tmp_path).returncode == 0
    assert (tmp_path / "evals.py").read_text() == src.replace("model(x)", "model(x, training=False)")


def test_a_file_libcst_cannot_reprint_is_skipped(tmp_path):
    case = CASES_DIR / "43_form_feed_bytes"
    target = tmp_path / "ff.py"
    target.write_bytes((case / "before.py").read_bytes())
    p = libcst_tool("codemod", "--hide-progress", "training.FixTrainingArgument", tmp_path, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "byte for byte" in p.stderr and "use `trainfix apply`" in p.stderr
    assert target.read_bytes() == (case / "before.py").read_bytes()


def test_codemod_api_in_process(tmp_path):
    from libcst.codemod import CodemodContext, TransformSuccess, transform_module

    from trainfix.codemods import FixTrainingArgument

    result = transform_module(FixTrainingArgument(CodemodContext()), BEFORE.decode())
    assert isinstance(result, TransformSuccess)
    assert result.code == AFTER.decode()
    assert FixTrainingArgument.DESCRIPTION
