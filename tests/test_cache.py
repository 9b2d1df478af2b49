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


# -- what a walk remembers of each folder (files.Listings) -------------------------------------------------------

def _walks(top, monkeypatch):
    """Walk `top` with the records of the walk before (kept as the cache keeps them, in JSON) and plainly;
    a folder changed just now may be remembered (RACY_NS 0): each change below is made a tick later."""
    import time

    import trainfix.listings
    from trainfix.files import Discovery
    from trainfix.listings import Listings

    monkeypatch.setattr(trainfix.listings, "RACY_NS", 0)
    kept: dict = {}

    def walk():
        time.sleep(0.05)  # past the timestamp tick of the last change
        listings = Listings(json.loads(json.dumps(kept.get("records", {}))))
        discovery = Discovery((), True, top, lambda key: listings)
        walked = list(discovery.walk(top, "."))
        kept["records"] = listings.new
        assert walked == list(Discovery((), True, top).walk(top, "."))  # what a walk without records finds
        time.sleep(0.05)
        return [shown for _, shown in walked], discovery
    return walk


def test_a_remembered_folder_listing_never_hides_a_change(tmp_path, monkeypatch):
    """A walk reuses a folder's listing only while the folder, its .gitignore and those above it are
    unchanged: every kind of change below is seen at once, deep in a tree whose other folders are reused."""
    top = tmp_path / "top"
    for name in ["a.py", "pkg/b.py", "pkg/sub/c.py", "pkg/sub/deep/d.py", "pkg/sub/deep/gen_x.py", "notes.txt",
                 "other/e.py", "target/t.py"]:
        write(top / name, FIXED)
    write(top / "pkg" / ".gitignore", "gen_*.py\n")
    walk = _walks(top, monkeypatch)
    first, _ = walk()
    assert "pkg/sub/deep/gen_x.py" not in first and "pkg/sub/deep/d.py" in first
    again, discovery = walk()
    # every folder came from its record: no .gitignore under the top was read
    assert again == first and not [folder for folder in discovery._ignores if folder.startswith(str(top))]

    write(top / "pkg" / "sub" / "deep" / "new.py", FIXED)  # added
    assert "pkg/sub/deep/new.py" in walk()[0]
    (top / "pkg" / "sub" / "c.py").unlink()  # removed
    assert "pkg/sub/c.py" not in walk()[0]
    (top / "other").rename(top / "renamed")  # a folder renamed
    assert "renamed/e.py" in walk()[0]
    (top / "pkg" / ".gitignore").write_text("gen_*.pz\n")  # an edit above an unchanged folder: same size
    listed = walk()[0]
    assert "pkg/sub/deep/gen_x.py" in listed and "pkg/sub/deep/d.py" in listed
    write(top / ".gitignore", "deep/\n")  # a new .gitignore two folders above
    assert not any("deep/" in name for name in walk()[0])
    (top / ".gitignore").unlink()
    assert "pkg/sub/deep/d.py" in walk()[0]
    (top / "link").symlink_to(top / "pkg" / "sub")  # a link to a folder, then pointing elsewhere
    listed = walk()[0]  # reached twice, the folder is walked once: first as `link` (sorted before `pkg`)
    assert "link/deep/d.py" in listed and "pkg/sub/deep/d.py" not in listed
    (top / "link").unlink()
    (top / "link").symlink_to(top / "target")
    listed = walk()[0]
    assert "link/t.py" in listed and "target/t.py" not in listed
    (top / "target" / "t.py").unlink()
    (top / "target").rmdir()
    (top / "target").mkdir()  # the same name, another folder
    write(top / "target" / "u.py", FIXED)
    listed = walk()[0]
    assert "link/u.py" in listed and "target/u.py" not in listed


def test_a_folder_changed_just_now_is_not_remembered(tmp_path):
    """Within the same timestamp tick a folder may change again without its times moving: a run does not
    record the listing of a folder (nor vouch for a .gitignore) changed less than RACY_NS ago."""
    from trainfix.files import Discovery
    from trainfix.listings import UNKNOWN, Listings

    write(tmp_path / "pkg" / "a.py", FIXED)
    write(tmp_path / "pkg" / ".gitignore", "gen_*.py\n")
    listings = Listings({})
    list(Discovery((), True, tmp_path, lambda key: listings).walk(tmp_path, "."))
    records = {path: record for path, record in listings.new.items() if path}
    assert records.keys() == {str(tmp_path), str(tmp_path / "pkg")}
    assert all(record[0] is None and record[2] is None for record in records.values())
    assert records[str(tmp_path / "pkg")][1] == UNKNOWN


def test_walk_records_come_and_go_with_the_cache(tmp_path, monkeypatch):
    """The CLI's walk reuses its records through the cache folder (and a hand-edited or broken record file is
    only ignored); `--no-cache` neither reads nor writes them."""
    import trainfix.listings
    from conftest import invoke

    monkeypatch.setattr(trainfix.listings, "RACY_NS", 0)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\n")
    write(tmp_path / "pkg" / "sub" / "a.py", FIXED)
    assert invoke("check", "--cache", ".").exit_code == 0
    [records] = (tmp_path / ".trainfix_cache").glob("*.walk")
    assert str(tmp_path / "pkg" / "sub") in json.loads(records.read_text())
    import time

    time.sleep(0.05)
    write(tmp_path / "pkg" / "sub" / "b.py", BUGGY)
    assert invoke("check", "--cache", ".").exit_code == 1
    st = (tmp_path / "pkg").stat()
    pkg = [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]  # the folder as it is: only the names are wrong
    for broken in ["{", "[]", json.dumps({str(tmp_path / "pkg"): [pkg, None, [["sub", "yes"]]]}),
                   json.dumps({str(tmp_path / "pkg"): [pkg, None, [["..", True]]]}),
                   json.dumps({str(tmp_path / "pkg"): [pkg, None, [["notes.txt", False]]]})]:
        records.write_text(broken)
        assert invoke("check", "--cache", ".").exit_code == 1
    records.unlink()
    assert invoke("check", "--no-cache", ".").exit_code == 1 and not list((tmp_path / ".trainfix_cache").glob("*.walk"))
