"""The CLI end to end: click's CliRunner in-process and the installed command."""
import json
import os

from click.testing import CliRunner

from conftest import BUGGY, FIXED, write
from trainfix.cli import cli


def test_check_reports_and_writes_nothing(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", str(f)])
    assert result.exit_code == 1
    assert f"{f.as_posix()}:10:31: TRN001" in result.output or ":10:31: TRN001" in result.output
    assert result.output.rstrip().splitlines()[0].endswith("[*]")
    assert f.read_text() == BUGGY


def test_dash_dash_check_is_check(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    result = CliRunner().invoke(cli, ["--check", str(f)])
    assert result.exit_code == 1 and "TRN001" in result.output
    assert f.read_text() == BUGGY


def test_apply_fixes_then_clean(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    os.chmod(f, 0o640)
    result = CliRunner().invoke(cli, ["apply", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f.read_text() == FIXED
    assert oct(f.stat().st_mode & 0o777) == oct(0o640)
    assert not [p for p in tmp_path.iterdir() if "trainfix-tmp" in p.name]
    mtime = f.stat().st_mtime_ns
    again = CliRunner().invoke(cli, ["apply", str(tmp_path)])
    assert again.exit_code == 0 and f.stat().st_mtime_ns == mtime


def test_bad_files_are_reported_and_others_checked(tmp_path, run_trainfix):
    write(tmp_path / "broken.py", "def train_step(:\n    pass\n")
    write(tmp_path / "latin.py", b"# GradientTape\nx = '\xe9'\n")
    good = write(tmp_path / "good.py", BUGGY)
    p = run_trainfix("check", tmp_path, cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 2
    assert "broken.py:1" in err and "syntax error" in err
    assert "latin.py:2" in err and "cannot decode" in err
    assert "good.py:10:31: TRN001" in p.stdout.decode()
    assert good.read_text() == BUGGY


def test_apply_leaves_bad_file_untouched_and_fixes_good(tmp_path, run_trainfix):
    bad = write(tmp_path / "broken.py", "def train_step(:\n")
    good = write(tmp_path / "good.py", BUGGY)
    p = run_trainfix("apply", tmp_path, cwd=tmp_path)
    assert p.returncode == 2
    assert bad.read_text() == "def train_step(:\n"
    assert good.read_text() == FIXED


def test_missing_path_is_an_error(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "nope.py")])
    assert result.exit_code == 2
    assert "nope.py" in result.output and "no such file" in result.output


def test_json_format_fields(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    result = CliRunner().invoke(cli, ["check", "--output-format", "json", str(f)])
    [record] = json.loads(result.stdout)
    assert record["code"] == "TRN001" and record["line"] == 10 and record["column"] == 31
    assert record["end_line"] == 10 and record["end_column"] == 39
    assert {k: record["fix"][k] for k in ("applicability", "message")} == \
        {"applicability": "safe", "message": "Add `training=True`"}
    assert record["filename"].endswith("train.py")


def test_select_and_ignore(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    assert CliRunner().invoke(cli, ["check", "--ignore", "TRN001", str(f)]).exit_code == 0
    assert CliRunner().invoke(cli, ["check", "--select", "TRN003", str(f)]).exit_code == 0
    assert CliRunner().invoke(cli, ["check", "--select", "TRN001", str(f)]).exit_code == 1
    assert CliRunner().invoke(cli, ["check", "--select", "XYZ9", str(f)]).exit_code == 2


def test_unsafe_summary_mentions_hidden_fixes(tmp_path):
    src = BUGGY.replace("def train_step(x):", "def train_step(x, params):").replace(
        "tape.gradient(loss, model.trainable_variables), model.trainable_variables", "tape.gradient(loss, params), params")
    f = write(tmp_path / "t.py", src)
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", str(f)])
    assert result.exit_code == 1
    assert "1 more fix available with `--unsafe-fixes`" in result.output
    assert not result.stdout.splitlines()[0].endswith("[*]")


def test_diff_piped_is_plain(tmp_path, run_trainfix):
    f = write(tmp_path / "train.py", BUGGY)
    p = run_trainfix("apply", "--diff", "train.py", cwd=tmp_path, env={**os.environ, "NO_COLOR": ""})
    assert p.returncode == 1
    assert p.stdout.startswith(b"--- a/train.py\n+++ b/train.py\n")
    assert b"\x1b[" not in p.stdout
    assert f.read_text() == BUGGY


def test_diff_forced_colour(tmp_path, run_trainfix):
    write(tmp_path / "train.py", BUGGY)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    p = run_trainfix("check", "--diff", "train.py", cwd=tmp_path, env={**env, "FORCE_COLOR": "1"})
    assert b"\x1b[" in p.stdout


def test_rule_command(tmp_path):
    result = CliRunner().invoke(cli, ["rule", "TRN004"])
    assert result.exit_code == 0 and "## Fix safety" in result.output
    assert CliRunner().invoke(cli, ["rule", "TRN999"]).exit_code == 2
