"""trainfix among the tools around it: discovery, stdin, output formats, rules, --show-skipped
(configuration: test_config.py).

Everything runs the installed `trainfix` command in a subprocess, as users and CI do.
"""
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trainfix.config import KNOWN_CODES

from conftest import BUGGY, FIXED, MIXED, ROOT, plain_env, run_trainfix, trainfix_exe, write

def git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


# -- discovery ------------------------------------------------------------------------------
@pytest.fixture
def repo(tmp_path):
    """A git work tree whose .gitignore lists a folder of buggy files."""
    git_init(tmp_path)
    write(tmp_path / ".gitignore", "generated/\n*.tmp.py\n")
    write(tmp_path / "generated" / "a.py", BUGGY)
    write(tmp_path / "generated" / "deep" / "b.py", BUGGY)
    write(tmp_path / "scratch.tmp.py", BUGGY)
    write(tmp_path / "src" / "clean.py", FIXED)
    return tmp_path


def test_gitignored_folder_is_not_walked(repo):
    p = run_trainfix("check", ".", cwd=repo)
    assert p.returncode == 0, p.out + p.err
    assert "All checks passed!" in p.out
    assert "generated" not in p.out and "scratch" not in p.out


def test_gitignored_file_named_explicitly_is_checked(repo):
    p = run_trainfix("check", "generated/a.py", cwd=repo)
    assert p.returncode == 1
    assert p.out.startswith("generated/a.py:10:31: TRN001 ")


def test_force_exclude_skips_a_named_ignored_file(repo):
    p = run_trainfix("check", "--force-exclude", "generated/a.py", "scratch.tmp.py", "src/clean.py", cwd=repo)
    assert p.returncode == 0, p.out
    assert "TRN001" not in p.out


def test_nested_gitignore_and_no_respect_gitignore(repo):
    write(repo / "src" / ".gitignore", "vendored.py\n")
    write(repo / "src" / "vendored.py", BUGGY)
    assert run_trainfix("check", "src", cwd=repo).returncode == 0
    p = run_trainfix("check", "--no-respect-gitignore", "--output-format", "concise", ".", cwd=repo)
    assert p.returncode == 1
    found = {line.split(":")[0] for line in p.out.splitlines() if "TRN001" in line}
    assert found == {"generated/a.py", "generated/deep/b.py", "scratch.tmp.py", "src/vendored.py"}


@pytest.mark.parametrize("folder", [".git", ".venv", "venv", "build", "dist", "__pycache__", ".tox", ".mypy_cache",
                                    "node_modules", "lib/python3.11/site-packages"])
def test_default_excludes(tmp_path, folder):
    write(tmp_path / folder / "m.py", BUGGY)
    assert run_trainfix("check", ".", cwd=tmp_path).returncode == 0
    named = f"{folder}/m.py"
    assert run_trainfix("check", named, cwd=tmp_path).returncode == 1  # named files are processed
    assert run_trainfix("check", "--force-exclude", named, cwd=tmp_path).returncode == 0


def test_exclude_patterns_are_relative_to_the_project(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.trainfix]\nexclude = ["legacy/old.py"]\nextend-exclude = ["*_gen.py"]\n')
    write(tmp_path / "legacy" / "old.py", BUGGY)
    write(tmp_path / "legacy" / "new.py", BUGGY)
    write(tmp_path / "src" / "model_gen.py", BUGGY)
    for target, cwd in ((".", tmp_path), ("legacy", tmp_path), (".", tmp_path / "legacy")):
        p = run_trainfix("check", target, cwd=cwd)
        assert p.returncode == 1
        assert "old.py" not in p.out and "model_gen.py" not in p.out and "new.py" in p.out
    # named explicitly: processed, unless --force-exclude
    assert run_trainfix("check", "legacy/old.py", cwd=tmp_path).returncode == 1
    assert run_trainfix("check", "--force-exclude", "legacy/old.py", cwd=tmp_path).returncode == 0
    # --exclude on the command line replaces the configured list; --extend-exclude adds to it
    p = run_trainfix("check", "--exclude", "new.py", ".", cwd=tmp_path)
    assert "legacy/old.py" in p.out and "new.py" not in p.out.replace("old.py", "")
    p = run_trainfix("check", "--extend-exclude", "legacy/", ".", cwd=tmp_path)
    assert p.returncode == 0, p.out


def test_a_nested_projects_excludes_apply_when_walking_from_above(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nignore = []\n")
    write(tmp_path / "sub" / "pyproject.toml", "[tool.trainfix]\nexclude = ['gen/']\n")
    write(tmp_path / "sub" / "gen" / "x.py", BUGGY)
    write(tmp_path / "sub" / "y.py", BUGGY)
    p = run_trainfix("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert [line.split(":")[0] for line in p.out.splitlines() if "TRN001" in line] == ["sub/y.py"]


# -- stdin -------------------------------------------------------------------------------------
def test_stdin_apply_writes_the_fixed_source_to_stdout(tmp_path):
    p = run_trainfix("apply", "-", "--stdin-filename", "pkg/train.py", cwd=tmp_path, input=BUGGY.encode())
    assert p.returncode == 0
    assert p.out == FIXED
    assert "Fixed 1 finding" in p.err


def test_stdin_check_reports_under_the_given_name(tmp_path):
    p = run_trainfix("check", "-", "--stdin-filename", "pkg/train.py", cwd=tmp_path, input=BUGGY.encode())
    assert p.returncode == 1
    assert p.out.startswith("pkg/train.py:10:31: TRN001 ")
    p = run_trainfix("check", "-", cwd=tmp_path, input=FIXED.encode())
    assert p.returncode == 0


# -- output formats ----------------------------------------------------------------------------
def test_github_format(tmp_path):
    write(tmp_path / "train, v2.py", BUGGY)
    p = run_trainfix("check", "--output-format", "github", ".", cwd=tmp_path)
    assert p.returncode == 1
    assert p.out == ("::error title=trainfix (TRN001),file=train%2C v2.py,line=10,col=31,endLine=10,endColumn=39"
                     "::train, v2.py:10:31: TRN001 Trained model `model` called without `training=True` [*]\n")


def test_github_format_reports_unreadable_files(tmp_path):
    write(tmp_path / "broken.py", "def train_step(:\n")
    p = run_trainfix("check", "--output-format", "github", ".", cwd=tmp_path)
    assert p.returncode == 2
    assert p.out.startswith("::error title=trainfix (error),file=broken.py,line=1,col=16::broken.py:1:16:")


def _no_unknown_keys(model, path="$", allowed=()):
    """sarif-pydantic keeps unknown keys as extras; a misspelt SARIF property must not pass silently."""
    from pydantic import BaseModel

    if isinstance(model, BaseModel):
        extras = set(model.model_extra or {}) - {a for p, a in allowed if re.fullmatch(p, path)}
        assert not extras, f"{path}: properties the SARIF model does not know: {extras}"
        for name in type(model).model_fields:
            if name != "properties":
                _no_unknown_keys(getattr(model, name), f"{path}.{name}", allowed)
    elif isinstance(model, list):
        for i, item in enumerate(model):
            _no_unknown_keys(item, f"{path}[{i}]", allowed)


# SARIF 2.1.0 properties that sarif-pydantic does not model (sections of the OASIS standard)
SARIF_ONLY_IN_STANDARD = [
    (r"\$\.runs\[\d+\]", "columnKind"),  # §3.14.17 run.columnKind
    (r"\$\.runs\[\d+\]\.invocations\[\d+\]", "toolExecutionNotifications"),  # §3.20.21
]


def sarif_of(tmp_path, *args, cwd):
    from sarif_pydantic import Sarif

    p = run_trainfix("check", "--output-format", "sarif", *args, cwd=cwd)
    raw = json.loads(p.out)
    log = Sarif.model_validate(raw)
    _no_unknown_keys(log, allowed=SARIF_ONLY_IN_STANDARD)
    return p, raw, log


def test_sarif_validates_and_has_what_code_scanning_requires(tmp_path):
    from sarif_pydantic.sarif import Notification

    git_init(tmp_path)
    f = write(tmp_path / "pkg" / "mixed.py", MIXED)
    write(tmp_path / "pkg" / "broken.py", "def train_step(:\n")
    p, raw, log = sarif_of(tmp_path, ".", cwd=tmp_path / "pkg")  # run from a sub-folder of the repository
    assert p.returncode == 2
    assert raw["version"] == "2.1.0" and raw["$schema"].endswith("sarif-2.1.0.json")
    [run] = log.runs
    rules = run.tool.driver.rules
    assert [r.id for r in rules] == list(KNOWN_CODES)
    assert all(r.name and r.short_description.text and r.full_description.text and r.help.markdown for r in rules)
    codes = []
    for result in run.results:
        assert result.rule_id and rules[result.rule_index].id == result.rule_id
        assert result.level.value == "error" and result.message.text
        [location] = result.locations
        artifact = location.physical_location.artifact_location
        assert artifact.uri == "pkg/mixed.py" and artifact.uri_base_id == "%SRCROOT%"  # relative to the repo root
        region = location.physical_location.region
        assert region.start_line >= 1 and region.start_column >= 1 and region.end_line >= region.start_line
        codes.append(result.rule_id)
    assert sorted(codes) == ["TRN001", "TRN002", "TRN005"]
    assert raw["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    [invocation] = raw["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = [Notification.model_validate(n) for n in invocation["toolExecutionNotifications"]]
    assert "broken.py:1" in note.message.text
    assert f.read_text() == MIXED


def _apply_replacements(text: str, result) -> str:
    changes = [(r.deleted_region.char_offset, r.deleted_region.char_length, r.inserted_content.text)
               for fix in result.fixes for change in fix.artifact_changes for r in change.replacements]
    for offset, length, inserted in sorted(changes, reverse=True):
        text = text[:offset] + inserted + text[offset + length:]
    return text


def test_sarif_fixes_are_the_fixes_apply_writes(tmp_path):
    write(tmp_path / "mixed.py", MIXED)
    _, raw, log = sarif_of(tmp_path, "mixed.py", cwd=tmp_path)
    by_code = {r.rule_id: r for r in log.runs[0].results}
    assert by_code["TRN005"].fixes is None  # display only
    assert [r["properties"]["fixApplicability"] for r in raw["runs"][0]["results"][:2]] == ["unsafe", "unsafe"]
    for code in ("TRN001", "TRN002"):
        expected = tmp_path / f"{code}.py"
        expected.write_text(MIXED)
        run_trainfix("apply", "--select", code, "--unsafe-fixes", expected.name, cwd=tmp_path)
        assert _apply_replacements(MIXED, by_code[code]) == expected.read_text() != MIXED
        [fix] = by_code[code].fixes
        [change] = fix.artifact_changes
        assert change.artifact_location.uri == "mixed.py"
        region = change.replacements[0].deleted_region
        lines = MIXED.splitlines(keepends=True)
        assert sum(map(len, lines[:region.start_line - 1])) + region.start_column - 1 == region.char_offset


def test_json_keeps_its_contract_with_statistics_and_show_skipped(tmp_path):
    write(tmp_path / "mixed.py", MIXED)
    p = run_trainfix("check", "--output-format", "json", "--show-skipped", "mixed.py", cwd=tmp_path)
    records = json.loads(p.out)  # skipped calls go to stderr: stdout stays one JSON document
    assert {r["code"] for r in records} == {"TRN001", "TRN002", "TRN005"}
    write(tmp_path / "skips.py", SKIPS)
    p = run_trainfix("check", "--output-format", "json", "--show-skipped", "skips.py", cwd=tmp_path)
    assert json.loads(p.out) == []
    assert "skips.py:12:13: skipped `teacher`: not trained in this step" in p.err.splitlines()
    p = run_trainfix("check", "--output-format", "json", "--statistics", "mixed.py", cwd=tmp_path)
    assert json.loads(p.out) == [
        {"code": "TRN001", "name": "trained-model-without-training", "count": 1, "fixable": 0},
        {"code": "TRN002", "name": "trained-model-training-false", "count": 1, "fixable": 0},
        {"code": "TRN005", "name": "predict-inside-tape", "count": 1, "fixable": 0},
    ]


def test_statistics_text(tmp_path):
    write(tmp_path / "a.py", BUGGY)
    write(tmp_path / "b.py", BUGGY)
    p = run_trainfix("check", "--statistics", ".", cwd=tmp_path)
    assert p.returncode == 1
    assert p.out.splitlines()[0] == "    2  TRN001  [*] trained-model-without-training"


# -- --show-skipped ----------------------------------------------------------------------------
SKIPS = """import keras
import tensorflow as tf

student = keras.Sequential([keras.layers.Dense(4)])
teacher = keras.Sequential([keras.layers.Dense(4)])
loss_fn = keras.losses.MeanSquaredError()


def train_step(x, y, extra):
    with tf.GradientTape() as tape:
        s = student(x, training=True)
        t = teacher(x)
        u = student(x)  # trainfix: ignore[TRN001]
        v = student(*extra)
        loss = loss_fn(t, s) + tf.reduce_sum(u + v)
    return tape.gradient(loss, student.trainable_variables)


def saliency(image):
    image = tf.convert_to_tensor(image)
    with tf.GradientTape() as tape:
        tape.watch(image)
        score = student(image)
    return tape.gradient(score, image)
"""


def test_show_skipped_gives_every_call_left_alone_and_why(tmp_path):
    write(tmp_path / "skips.py", SKIPS)
    p = run_trainfix("check", "--show-skipped", "skips.py", cwd=tmp_path)
    assert p.returncode == 0
    skipped = [line for line in p.out.splitlines() if ": skipped `" in line]
    assert all(re.fullmatch(r"skips\.py:\d+:\d+: skipped `[\w.]+`: .+", line) for line in skipped), skipped
    by_line = {int(line.split(":")[1]): line.split(": ", 2)[2] for line in skipped}
    assert by_line[11] == "already passes `training=True`"
    assert by_line[12] == "not trained in this step"
    assert by_line[13] == "suppressed (TRN001)"
    assert by_line[14] == "arguments unpacked with * or **"
    assert by_line[15] == "bound to `keras.losses.MeanSquaredError(...)`, not a Keras model"
    assert by_line[23] == "input-gradient tape"
    assert p.out.rstrip().endswith("All checks passed!")
    # nothing is skipped silently: without the flag, no such lines
    assert ": skipped `" not in run_trainfix("check", "skips.py", cwd=tmp_path).out


# -- rules -------------------------------------------------------------------------------------
def test_rules_table_plain_when_piped(tmp_path):
    p = run_trainfix("rules", cwd=tmp_path)
    assert p.returncode == 0 and "\x1b[" not in p.out
    rows = [line.split() for line in p.out.splitlines()]
    assert [r[0] for r in rows] == list(KNOWN_CODES)
    assert rows[2][1:3] == ["eval-model-without-training", "safe"]
    assert rows[4][1:4] == ["predict-inside-tape", "display", "only"]


def test_rules_table_rich_on_a_terminal(tmp_path):
    p = run_trainfix("rules", cwd=tmp_path, env={**plain_env(), "FORCE_COLOR": "1"})
    assert "\x1b[" in p.out and "TRN005" in p.out


def test_rule_page_is_markdown_when_piped(tmp_path):
    from trainfix.docs import rule_markdown
    from trainfix.rules import BY_CODE

    p = run_trainfix("rule", "trn002", cwd=tmp_path)
    assert p.returncode == 0
    assert p.out == rule_markdown(BY_CODE["TRN002"]) + "\n"
    assert p.out.startswith("# TRN002: trained-model-training-false\n")
    assert run_trainfix("rule", "TRN404", cwd=tmp_path).returncode == 2


# -- progress bar ------------------------------------------------------------------------------
def _run_with_tty_stderr(args, cwd):
    master, slave = pty.openpty()
    proc = subprocess.Popen([trainfix_exe(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=slave,
                            env={**plain_env(), "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_only_on_a_terminal_and_for_many_files(tmp_path):
    for i in range(25):
        write(tmp_path / f"m{i:02}.py", FIXED)
    code, out, err = _run_with_tty_stderr(["check", "--no-cache", "."], tmp_path)
    assert code == 0 and out == "All checks passed!\n"
    assert "/25" in err  # rich's M/N column, on stderr only
    piped = run_trainfix("check", "--no-cache", ".", cwd=tmp_path)
    assert piped.err == ""
    for i in range(10, 25):
        (tmp_path / f"m{i:02}.py").unlink()
    code, out, err = _run_with_tty_stderr(["check", "--no-cache", "."], tmp_path)
    assert "/10" not in err


# -- library API -------------------------------------------------------------------------------
def test_fix_source_is_the_public_api():
    import trainfix

    result = trainfix.fix_source(BUGGY)
    assert result.new_source == FIXED and result.changed
    [finding] = result.findings
    assert (finding.code, finding.line, finding.column, finding.applied) == ("TRN001", 10, 31, True)
    config = trainfix.Config(ignore=("TRN001",))
    assert trainfix.fix_source(BUGGY, config=config).findings == []


def test_pre_commit_hooks_file_declares_both_hooks():
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["trainfix"]["entry"] == "trainfix apply --force-exclude"
    assert hooks["trainfix-check"]["entry"] == "trainfix check --force-exclude"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi", "jupyter"]
        assert hook["require_serial"] is True


# -- notebook locations in every format ----------------------------------------------------------
def test_formats_place_notebook_findings_by_cell():
    """A notebook outcome maps program lines to (cell, line in cell) through its texts' CellMap."""
    from sarif_pydantic import Sarif

    from trainfix import formats, textout
    from trainfix.findings import Finding, Fix
    from trainfix.outcome import CellMap, FileOutcome, Texts, WriteBack
    from trainfix.report import Report

    finding = Finding("TRN001", "Trained model `model` called without `training=True`", 14, 9, 14, 17,
                      Fix("safe", "Add `training=True`", "True"))
    outcome = FileOutcome("nb/train.ipynb", findings=[finding],
                          texts=Texts("x = 1\n" * 20, "x = 1\n" * 20, CellMap({14: (3, 4)}, {})))
    report = Report(WriteBack.CHECK, outcomes=[outcome])
    assert textout.concise(report) == ["nb/train.ipynb:cell 3:4:9: TRN001 Trained model `model` called without "
                                   "`training=True` [*]"]
    [record] = json.loads(formats.render(report, "json"))
    assert (record["cell"], record["line"], record["column"]) == (3, 4, 9)
    assert formats.render(report, "github") == (
        "::error title=trainfix (TRN001),file=nb/train.ipynb::nb/train.ipynb:cell 3:4:9: TRN001 Trained model "
        "`model` called without `training=True` [*]\n")  # cell lines are not lines of the .ipynb file
    raw = json.loads(formats.render(report, "sarif", root=Path.cwd()))
    Sarif.model_validate(raw)
    [result] = raw["runs"][0]["results"]
    assert result["properties"]["cell"] == 3 and result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert result["message"]["text"].startswith("Cell 3, line 4: Trained model")
    assert "fixes" not in result  # a replacement in cell text is not a replacement in the file
