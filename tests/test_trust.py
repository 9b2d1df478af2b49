"""What a user must be able to trust: nothing that says "check" writes, every file that
should be read is read, and the summary never says more than was done.

All through the real `trainfix` command (a subprocess) or click's CliRunner.
"""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import BUGGY, FIXED, run_trainfix as run
from trainfix.cli import cli

NOTEBOOK = Path(__file__).parent / "notebooks" / "training_loop.ipynb"

# one safe fix (TRN001) and one unsafe one (TRN004 in a predict step)
SAFE_AND_UNSAFE = BUGGY + """

def predict_step(x):
    return model(x, training=True)
"""


# -- `--check` anywhere never writes --------------------------------------------------------------


@pytest.mark.parametrize("argv", [["apply", "--check", "t.py"], ["--check", "apply", "t.py"],
                                  ["apply", "t.py", "--check"], ["--check", "apply", "."]])
def test_check_flag_with_apply_is_an_error_and_writes_nothing(tmp_path, argv):
    f = tmp_path / "t.py"
    f.write_text(BUGGY)
    p = run(*argv, cwd=tmp_path)
    assert p.returncode == 2, (p.out, p.err)
    assert "--check" in p.err and "apply" in p.err and "Traceback" not in p.err
    assert "Fixed" not in p.out
    assert f.read_text() == BUGGY


@pytest.mark.parametrize("argv", [["--check", "t.py"], ["check", "--check", "t.py"], ["--check", "check", "t.py"],
                                  ["--check", "--diff", "t.py"]])
def test_check_flag_alone_or_with_check_checks(tmp_path, argv, monkeypatch):
    f = tmp_path / "t.py"
    f.write_text(BUGGY)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 1, result.output
    assert ("+" + FIXED.splitlines()[9] if "--diff" in argv else "TRN001") in result.output
    assert f.read_text() == BUGGY


# -- notebooks on stdin ---------------------------------------------------------------------------


def test_notebook_on_stdin_is_checked_like_the_file(tmp_path):
    nb = tmp_path / "nb.ipynb"
    shutil.copyfile(NOTEBOOK, nb)
    as_file = run("check", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    piped = run("check", "--output-format", "json", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path,
                input=nb.read_bytes())
    assert as_file.returncode == piped.returncode == 1, piped.err
    records = json.loads(piped.out)
    assert records == json.loads(as_file.out) and len(records) == 2
    text = run("check", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, input=nb.read_bytes())
    assert "nb.ipynb:cell 8:4:" in text.out and "All checks passed!" not in text.out


def test_notebook_on_stdin_apply_writes_the_fixed_json_to_stdout(tmp_path):
    nb = tmp_path / "nb.ipynb"
    shutil.copyfile(NOTEBOOK, nb)
    piped = run("apply", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, input=nb.read_bytes())
    assert piped.returncode == 0, piped.err
    assert run("apply", "nb.ipynb", cwd=tmp_path).returncode == 0
    assert piped.stdout == nb.read_bytes() != NOTEBOOK.read_bytes()  # the same bytes as fixing the file
    assert "Fixed 2 findings" in piped.err
    diff = run("apply", "--diff", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, input=NOTEBOOK.read_bytes())
    assert diff.returncode == 1 and "@@ " in diff.out and "cell 8" in diff.out


# -- a named folder that .gitignore lists; runs that read nothing ----------------------------------


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("vendor/\n*_generated.py\n")
    (tmp_path / "vendor" / "deep").mkdir(parents=True)
    (tmp_path / "vendor" / "lib.py").write_text(BUGGY)
    (tmp_path / "vendor" / "deep" / "more.py").write_text(BUGGY)
    (tmp_path / "vendor" / "x_generated.py").write_text(BUGGY)  # still ignored: the pattern names the file
    (tmp_path / "vendor" / ".gitignore").write_text("skip.py\n")
    (tmp_path / "vendor" / "skip.py").write_text(BUGGY)  # ignored by the folder's own .gitignore
    (tmp_path / "train.py").write_text(BUGGY)
    return tmp_path


def test_a_named_folder_that_gitignore_lists_is_walked(repo):
    p = run("check", "vendor/", cwd=repo)
    assert p.returncode == 1, (p.out, p.err)
    found = sorted({line.split(":")[0] for line in p.out.splitlines() if "TRN001" in line})
    assert found == ["vendor/deep/more.py", "vendor/lib.py"]
    assert "All checks passed!" not in p.out
    # a walk from the top still skips it, and --force-exclude keeps it excluded when named
    assert "vendor/" not in run("check", ".", cwd=repo).out
    forced = run("check", "--force-exclude", "vendor/", cwd=repo)
    assert forced.returncode == 0 and "TRN001" not in forced.out and "All checks passed!" not in forced.out


def test_a_run_that_reads_no_file_says_so(repo):
    (repo / "empty").mkdir()
    for argv in (["check", "empty"], ["apply", "empty"], ["check", "--force-exclude", "vendor/lib.py"]):
        p = run(*argv, cwd=repo)
        assert p.returncode == 0, (argv, p.out, p.err)
        assert "All checks passed!" not in p.out and "Nothing to fix" not in p.out
        assert "No files were checked" in p.out + p.err, argv
    quiet = run("check", "-q", "--output-format", "json", "empty", cwd=repo)
    assert quiet.out.strip() == "[]" and "No files were checked" in quiet.err


# -- errors are never next to "passed" -------------------------------------------------------------


def test_errors_are_never_next_to_all_checks_passed(tmp_path):
    (tmp_path / "ok.py").write_text(FIXED)
    for argv in (["check", "nope/"], ["check", "nope/", "ok.py"], ["check", "--output-format", "text", "nope.py"]):
        p = run(*argv, cwd=tmp_path)
        assert p.returncode == 2, argv
        assert "passed" not in (p.out + p.err).lower(), (argv, p.out)
        assert "1 file could not be processed." in p.out
    both = run("check", "nope/", "ok.py", cwd=tmp_path)
    assert "No findings in the 1 file checked." in both.out, both.out
    applied = run("apply", "nope/", "ok.py", cwd=tmp_path)
    assert applied.returncode == 2 and "Nothing to fix" not in applied.out, applied.out


# -- the fixable hint names the flag its count needs ------------------------------------------------


def _hint(out: str) -> tuple[int, list[str]]:
    m = re.search(r"\[\*\] (\d+) fixable with `trainfix ([^`]*)`", out)
    assert m, out
    return int(m.group(1)), m.group(2).split()


@pytest.mark.parametrize("unsafe", [False, True])
def test_fixable_hint_names_the_command_that_fixes_that_many(tmp_path, unsafe):
    f = tmp_path / "t.py"
    f.write_text(SAFE_AND_UNSAFE)
    p = run("check", *(["--unsafe-fixes"] if unsafe else []), "t.py", cwd=tmp_path)
    count, command = _hint(p.out)
    assert count == (2 if unsafe else 1)
    applied = run(*command, "t.py", cwd=tmp_path)
    assert f"Fixed {count} finding" in applied.out, (command, applied.out)
