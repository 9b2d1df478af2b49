"""The cache of results (.trainfix_cache): it never serves a result the file, the settings, the
version or the package source no longer give; it can be turned off; it forgets deleted files; a
run that needs the text analyses it again."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import trainfix.cache
from conftest import BUGGY, FIXED, NOTEBOOKS, probe, write
from trainfix.cache import Cache
from trainfix.config import Config
from trainfix.outcome import Stamp


def test_cache_never_serves_an_edited_file(tmp_path, run_trainfix):
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    f = tmp_path / "train.py"
    f.write_text(FIXED)
    assert run_trainfix("check", "--cache", ".", cwd=tmp_path).returncode == 0  # cached as clean
    f.write_text(BUGGY)  # same folder, new content (size changes)
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 1
    f.write_text(FIXED)
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 0
    same_size = FIXED.replace("training=True", "training=None")  # same length, a finding again
    assert len(same_size) == len(FIXED)
    st = f.stat()
    f.write_text(same_size)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 1


def test_cache_is_keyed_by_settings_and_version(tmp_path, monkeypatch):
    f = tmp_path / "train.py"
    f.write_text(FIXED)
    st = f.stat()
    cache = Cache(tmp_path)
    cache.mark_clean(f, Config(), Stamp(st.st_size, st.st_mtime_ns, "digest"))
    cache.save()

    def clean(config):
        return Cache(tmp_path).get(f, "train.py", config) is not None

    assert clean(Config())
    assert not clean(Config(train_functions=("fit_batch",)))  # settings changed
    assert not clean(Config(ignore=("TRN001",)))
    monkeypatch.setattr(trainfix.cache, "__version__", "999.0")  # a newer release
    assert not clean(Config())


def test_cache_is_keyed_by_the_package_source(tmp_path):
    """An editable install whose rule changed must not report what the old code found."""
    site = tmp_path / "site"  # a copy of the package, first on the path: an editable install to edit
    shutil.copytree(Path(trainfix.cache.__file__).parent, site / "trainfix",
                    ignore=shutil.ignore_patterns("__pycache__"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.trainfix]\n")
    (project / "train.py").write_text(BUGGY)
    env = {**os.environ, "PYTHONPATH": str(site), "TRAINFIX_CACHE": "1"}

    def check():
        p = subprocess.run([sys.executable, "-c", "from trainfix.cli import main; main()", "check", "train.py"],
                           cwd=project, env=env, capture_output=True, text=True)
        assert p.returncode == 1, p.stderr
        return p.stdout

    assert "called without `training=True`" in check()
    assert any((project / ".trainfix_cache").glob("*.json")), "the findings were cached"
    rule = site / "trainfix" / "rules" / "trn001.py"
    lines = rule.read_text().splitlines(keepends=True)
    [at] = [i for i, line in enumerate(lines) if "Violation(" in line and "called without" in line]
    lines[at] = lines[at].replace("called without", "called (new) without", 1)  # the rule's message
    rule.write_text("".join(lines))
    assert "called (new) without `training=True`" in check(), "the cache served the old rule's finding"


def test_config_change_invalidates(tmp_path, run_trainfix):
    src = "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n\ndef score_batch(x):\n    return model(x)\n"
    (tmp_path / "evals.py").write_text(src)
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    assert run_trainfix("check", "--cache", ".", cwd=tmp_path).returncode == 0  # cached clean under these settings
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\nextend-eval-functions = ['score_batch']\n")
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 1


def test_the_cache_can_be_turned_off_from_the_environment(tmp_path, run_trainfix):
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    (tmp_path / "train.py").write_text(FIXED)
    env = {**os.environ, "TRAINFIX_CACHE": "0", "TRAINFIX_JOBS": "1"}
    assert run_trainfix("check", ".", cwd=tmp_path, env=env).returncode == 0
    assert not (tmp_path / ".trainfix_cache").exists()
    assert run_trainfix("check", ".", cwd=tmp_path, env={**env, "TRAINFIX_JOBS": "0"}).returncode == 2


def test_no_cache_writes_nothing(tmp_path, run_trainfix):
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    (tmp_path / "train.py").write_text(FIXED)
    run_trainfix("check", "--no-cache", ".", cwd=tmp_path)
    assert not (tmp_path / ".trainfix_cache").exists()


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_findings_of_an_unchanged_file_come_from_the_cache(tmp_path, fmt):
    (tmp_path / "train.py").write_text(BUGGY)
    shutil.copyfile(NOTEBOOKS / "training_loop.ipynb", tmp_path / "loop.ipynb")
    args = ("check", "--cache", "--output-format", fmt, ".")
    fresh, modules = probe(tmp_path, *args)
    assert "trainfix.engine" in modules and "train.py" in fresh and "loop.ipynb" in fresh
    again, modules = probe(tmp_path, *args)
    assert (again, modules) == (fresh, "[]")
    # touched without a change (a checkout): the content hash keeps the entry
    st = (tmp_path / "train.py").stat()
    os.utime(tmp_path / "train.py", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000))
    assert probe(tmp_path, *args) == (fresh, "[]")
    # unsafe fixes change what is fixable: those findings are analysed again
    assert probe(tmp_path, "check", "--cache", "--unsafe-fixes", "--output-format", fmt, ".") == \
        probe(tmp_path, "check", "--unsafe-fixes", "--no-cache", "--output-format", fmt, ".")


def test_runs_that_need_the_text_analyse_again_despite_cached_findings(tmp_path, run_trainfix):
    (tmp_path / "train.py").write_text(BUGGY)
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 1  # findings cached
    diff = run_trainfix("apply", "--diff", ".", cwd=tmp_path)
    assert diff.returncode == 1 and b"+++ b/train.py" in diff.stdout
    sarif = json.loads(run_trainfix("check", "--output-format", "sarif", ".", cwd=tmp_path).stdout)
    assert sarif["runs"][0]["results"][0]["fixes"]
    assert run_trainfix("apply", ".", cwd=tmp_path).returncode == 0
    assert (tmp_path / "train.py").read_text() == FIXED
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 0


def test_entries_of_deleted_files_leave_the_cache(tmp_path, run_trainfix):
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    (tmp_path / "old.py").write_text(FIXED)
    (tmp_path / "keep.py").write_text(FIXED)
    assert run_trainfix("check", "--cache", ".", cwd=tmp_path).returncode == 0
    (tmp_path / "old.py").unlink()
    (tmp_path / "new.py").write_text(FIXED)
    assert run_trainfix("check", "--cache", "new.py", cwd=tmp_path).returncode == 0  # a run over one file
    [table] = (tmp_path / ".trainfix_cache").glob("*.json")
    assert sorted(os.path.basename(n) for n in json.loads(table.read_text())) == ["keep.py", "new.py"]


def test_cached_findings_still_show_their_source_line(tmp_path, run_trainfix):
    write(tmp_path / "train.py", BUGGY)
    first = run_trainfix("check", "--output-format", "full", "--cache", ".", cwd=tmp_path)
    second = run_trainfix("check", "--output-format", "full", "--cache", ".", cwd=tmp_path)  # findings served by the cache
    assert first.stdout == second.stdout and b"10 |         loss" in second.stdout


def test_one_cache_asked_about_several_configurations_keys_each_by_its_own(tmp_path):
    """The cache hashes a configuration once and reuses the key while the next file has the same one:
    a file of another configuration in between must get its own key."""
    f = tmp_path / "train.py"
    f.write_text(FIXED)
    st = f.stat()
    stamp = Stamp(st.st_size, st.st_mtime_ns, "digest")
    cache = Cache(tmp_path)
    cache.mark_clean(f, Config(), stamp)
    other = Config(train_functions=("fit_batch",))
    assert cache.get(f, "train.py", Config()) is not None
    assert cache.get(f, "train.py", other) is None
    assert cache.get(f, "train.py", Config()) is not None
    cache.mark_clean(f, other, stamp)
    assert cache.get(f, "train.py", other) is not None
