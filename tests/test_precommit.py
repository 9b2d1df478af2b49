"""The two hooks of .pre-commit-hooks.yaml, run by the real pre-commit against this checkout.

As `pre-commit try-repo <checkout> HOOK --all-files` does, the checkout is cloned
(with its uncommitted changes to tracked files, when there are any: pre-commit's
own try-repo code makes that clone) and each test runs `pre-commit run
--all-files` in a temporary git repository with a config naming that clone and
commit. pre-commit builds the hook's virtualenv with pip (network to the package
index) once, in a store shared by this module's tests; try-repo would build it in
a new temporary store on every call.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOTEBOOKS, ROOT

BUGGY = (ROOT / "examples" / "train_custom_loop.py").read_text()
NOTEBOOK = NOTEBOOKS / "training_loop.ipynb"
FINDINGS = ("train.py:26:18: TRN001", "train.py:35:14: TRN004", "nb.ipynb:cell 8:4:18: TRN001")


def _is_work_tree_root(path: Path) -> bool:
    if shutil.which("git") is None:
        return False
    p = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True)
    return p.returncode == 0 and Path(p.stdout.strip()).resolve() == path.resolve()


pytestmark = [
    pytest.mark.skipif(not _is_work_tree_root(ROOT), reason="the checkout is not a git work tree"),
    pytest.mark.xdist_group("pre-commit"),  # one process, one store: the hook environment is built once
]


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    """pre-commit's store for this module (not the user's home): the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """(repository, commit) of this checkout as try-repo sees it, uncommitted changes included."""
    from pre_commit.commands.try_repo import _repo_ref  # try-repo's own clone of a checkout

    return _repo_ref(str(tmp_path_factory.mktemp("hook-repo")), str(ROOT), None)


@pytest.fixture
def project(tmp_path):
    """A git repository with a buggy training script and a vendored copy its config excludes."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "train.py").write_text(BUGGY)
    (tmp_path / "nb.ipynb").write_bytes(NOTEBOOK.read_bytes())  # hook types include jupyter
    (tmp_path / "vendored").mkdir()
    (tmp_path / "vendored" / "upstream.py").write_text(BUGGY)
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\nexclude = ['vendored/']\n")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    return tmp_path


def run_hook(hook: str, cwd: Path, home: Path, hook_repo):
    """`pre-commit run HOOK --all-files` with the checkout's hooks, as try-repo runs them."""
    import yaml

    repo, rev = hook_repo
    config = home / f"config-{hook}.yaml"
    config.write_text(yaml.safe_dump({"repos": [{"repo": repo, "rev": rev, "hooks": [{"id": hook}]}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    p = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--config", str(config), hook, "--all-files"],
                       cwd=cwd, capture_output=True, text=True, env=env, timeout=900)
    p.output = p.stdout + p.stderr
    return p


def test_autofix_hook_fixes_then_passes(project, pre_commit_home, hook_repo):
    first = run_hook("trainfix", project, pre_commit_home, hook_repo)
    assert first.returncode == 1, first.output
    assert "trainfix (fix training flags)" in first.output and "Failed" in first.output
    assert "files were modified by this hook" in first.output
    fixed = (project / "train.py").read_text()
    assert "classifier(x, training=True)  # bug" in fixed and "classifier(x, training=False)  # bug" in fixed
    assert fixed == BUGGY.replace("classifier(x)  #", "classifier(x, training=True)  #").replace(
        "classifier(x, training=True)  # bug: evaluation", "classifier(x, training=False)  # bug: evaluation")
    notebook = (project / "nb.ipynb").read_bytes()
    assert notebook != NOTEBOOK.read_bytes() and b"model(x, training=True)" in notebook
    # pre-commit names the excluded file too; --force-exclude keeps the config's exclude in force
    assert (project / "vendored" / "upstream.py").read_text() == BUGGY

    second = run_hook("trainfix", project, pre_commit_home, hook_repo)
    assert second.returncode == 0, second.output
    assert "Passed" in second.output
    assert (project / "train.py").read_text() == fixed
    assert (project / "nb.ipynb").read_bytes() == notebook


def test_check_hook_fails_without_touching_files(project, pre_commit_home, hook_repo):
    p = run_hook("trainfix-check", project, pre_commit_home, hook_repo)
    assert p.returncode == 1, p.output
    assert "trainfix (check training flags)" in p.output and "Failed" in p.output
    assert "files were modified" not in p.output
    for finding in FINDINGS:
        assert finding in p.output
    assert "vendored" not in p.output.split("hook id: trainfix-check", 1)[1]
    assert (project / "train.py").read_text() == BUGGY
    assert (project / "nb.ipynb").read_bytes() == NOTEBOOK.read_bytes()
    assert subprocess.run(["git", "diff", "--quiet"], cwd=project).returncode == 0


def _usage_snippets() -> list[str]:
    """The `.pre-commit-config.yaml` blocks of docs/usage.md, as a reader copies them."""
    from conftest import code_blocks

    text = (ROOT / "docs" / "usage.md").read_text()
    return [body for info, body in code_blocks(text) if info.split(" ")[0] == "yaml" and "repos:" in body]


def run_hooks(project: Path, config: str, home: Path):
    (project / ".pre-commit-config.yaml").write_text(config)
    subprocess.run(["git", "add", ".pre-commit-config.yaml"], cwd=project, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    p = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project,
                       capture_output=True, text=True, env=env, timeout=900)
    p.output = p.stdout + p.stderr
    return p


def _fixes_then_passes(project: Path, config: str, home: Path) -> None:
    first = run_hooks(project, config, home)
    assert first.returncode == 1 and "files were modified by this hook" in first.output, first.output
    assert "classifier(x, training=True)  # bug" in (project / "train.py").read_text()
    assert b"model(x, training=True)" in (project / "nb.ipynb").read_bytes()
    assert (project / "vendored" / "upstream.py").read_text() == BUGGY
    second = run_hooks(project, config, home)
    assert second.returncode == 0 and "Passed" in second.output, second.output


def test_local_hook_from_the_docs_works_as_copied(project, pre_commit_home):
    """usage.md's `repo: local` snippet, unchanged, with trainfix in the project's .venv."""
    from conftest import trainfix_exe

    local = [s for s in _usage_snippets() if "repo: local" in s]
    assert len(local) == 1
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "trainfix").symlink_to(trainfix_exe())
    _fixes_then_passes(project, local[0], pre_commit_home)


def test_remote_hook_from_the_docs_works_once_url_and_rev_are_filled_in(project, pre_commit_home):
    """usage.md's remote snippet with its two placeholders filled in as the text explains."""
    remote = [s for s in _usage_snippets() if "repo: <url>" in s]
    assert len(remote) == 1 and "rev: <rev>" in remote[0]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    config = remote[0].replace("<url>", str(ROOT)).replace("<rev>", head.stdout.strip())
    _fixes_then_passes(project, config, pre_commit_home)
